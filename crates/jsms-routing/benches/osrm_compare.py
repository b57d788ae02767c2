"""OSRM beside JSMS in the routing benchmark (crates/jsms-routing/benches/porto.rs).

Usage: python osrm_compare.py EXTRACT.osm.pbf WORK_DIR PAIRS.json OUT.json

Prepares the extract with OSRM's car profile for both of its algorithms (MLD: extract,
partition, customize; CH: contract) in WORK_DIR, reusing a preparation of the same file,
then answers every pair of PAIRS.json ([[lat, lon, lat, lon], ...]) with each, timing each
query in this process, and writes OUT.json: {"version", "prepare_s", "ch": [...],
"mld": [...]} where each entry is {"ms", "duration_s", "distance_m", "snap_m": [start, end]}
(how far OSRM moved each end onto its network) or null when OSRM found no route. Needs the PyPI package osrm-bindings (Python >= 3.12).
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import osrm


def run(*args):
    subprocess.run([sys.executable, "-m", "osrm", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare(pbf: Path, work: Path) -> float:
    digest = hashlib.sha256(pbf.read_bytes()).hexdigest()[:16]
    base = work / f"{digest}.osrm"
    marker = work / f"{digest}.ready"
    if marker.exists():
        return 0.0
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"{digest}.osm.pbf"
    source.write_bytes(pbf.read_bytes())
    profile = Path(osrm.__file__).parent / "share" / "profiles" / "car.lua"
    threads = str(os.cpu_count() or 1)
    started = time.perf_counter()
    run("extract", "-p", str(profile), "-t", threads, str(source))
    # Partitioning renumbers the graph, so the hierarchy is contracted last.
    run("partition", "-t", threads, str(base))
    run("customize", "-t", threads, str(base))
    run("contract", "-t", threads, str(base))
    marker.write_text("ok")
    return time.perf_counter() - started


def answer(base: Path, algorithm: str, pairs):
    engine = osrm.OSRM(storage_config=str(base), algorithm=algorithm, use_shared_memory=False)
    out = []
    for lat1, lon1, lat2, lon2 in pairs:
        params = osrm.RouteParameters(
            coordinates=[(lon1, lat1), (lon2, lat2)],
            overview="false",
            steps=False,
            generate_hints=False,
        )
        started = time.perf_counter()
        try:
            result = engine.Route(params)
        except RuntimeError:
            result = None
        ms = (time.perf_counter() - started) * 1000.0
        if not result or result["code"] != "Ok" or len(result["routes"]) == 0:
            out.append(None)
            continue
        route = result["routes"][0]
        snap_m = [float(w["distance"]) for w in result["waypoints"]]
        out.append({"ms": ms, "duration_s": float(route["duration"]), "distance_m": float(route["distance"]), "snap_m": snap_m})
    return out


def main():
    pbf, work, pairs_file, out_file = (Path(a) for a in sys.argv[1:5])
    pairs = json.loads(pairs_file.read_text())
    prepare_s = prepare(pbf, work)
    digest = hashlib.sha256(pbf.read_bytes()).hexdigest()[:16]
    base = work / f"{digest}.osrm"
    result = {
        "version": metadata.version("osrm-bindings"),
        "prepare_s": prepare_s,
        "ch": answer(base, "CH", pairs),
        "mld": answer(base, "MLD", pairs),
    }
    out_file.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
