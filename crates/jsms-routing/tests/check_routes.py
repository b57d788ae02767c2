"""An independent checker of JSMS routes against the OpenStreetMap data they were planned on.

It shares no code with the router: it reads the extract with pyosmium (PyPI `osmium`) and
applies its own reading of the car rules to every route the Rust test wrote:

  python3 check_routes.py EXTRACT.osm.pbf ROUTES.json

ROUTES.json: {"routes": [{"nodes": [osm node id, ...], "coords": [[lat, lon], ...]}]} — the
route's nodes from the tail of its first segment to the head of its last (the route starts
part-way along the first segment and ends part-way along the last, so the first and last
nodes are not passed), with the coordinates JSMS holds for them.

Prints a JSON summary: routes checked, segments, passed nodes, restrictions met, and every
violation with its kind:
  - "coordinates": a node's coordinates differ from the file's;
  - "not_drivable": a segment lies on no drivable way (highway class, not excluded);
  - "oneway": a segment driven against the way's direction;
  - "access": a segment on a way closed to cars (access hierarchy: no, agricultural, …);
  - "barrier": the route crosses a barrier a car cannot pass (turning back in front of it
    is not crossing it);
  - "restriction": a turn restriction (via node or via way, no_* or only_*) broken;
  - "restricted_access": restricted roads or private gates entered more often than the
    route's ends need: each maximal run of restricted elements (ways with access private,
    destination, delivery…, and private gates) entered from an open road counts once; a
    route may make as many such entries as it has ends enclosed behind restricted elements
    (an end is enclosed when its road is not in the largest part of the network that can be
    reached without restricted elements).
"""

import json
import sys
from collections import defaultdict

import osmium

DRIVABLE = {
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "service",
}
OPEN = {"yes", "permissive", "designated", "motorcar", "motor_vehicle", "vehicle", "hov", "discouraged"}
RESTRICTED = {"private", "destination", "delivery", "customers", "permit", "residents", "unknown"}
CLOSED = {"no", "agricultural", "forestry", "emergency", "psv", "taxi", "share_taxi", "minibus", "bus",
          "foot", "bicycle", "emergency_vehicle", "restricted", "military", "official",
          "use_sidepath", "hgv", "goods"}
HIERARCHY = ["motorcar", "motor_vehicle", "vehicle", "access"]
PASSABLE_BARRIERS = {"cattle_grid", "border_control", "toll_booth", "sally_port", "no", "entrance",
                     "height_restrictor", "arch", "gate", "lift_gate", "swing_gate"}


def access_class(value):
    """'open', 'restricted' or 'closed' for one access value (lists: the most permissive)."""
    best = None
    for part in value.split(";"):
        part = part.strip()
        cls = "restricted" if part in RESTRICTED else "closed" if part in CLOSED else "open"
        order = {"closed": 0, "restricted": 1, "open": 2}
        if best is None or order[cls] > order[best]:
            best = cls
    return best or "open"


def way_access(tags, direction):
    for key in HIERARCHY:
        for k in (f"{key}:{direction}", key):
            if k in tags:
                return access_class(tags[k])
    return "open"


def way_directions(tags):
    """(forward, backward) allowed by oneway tags; None when the way is not usable."""
    oneway = tags.get("oneway", "").strip()
    if oneway in ("yes", "true", "1"):
        base = (True, False)
    elif oneway in ("-1", "reverse"):
        base = (False, True)
    elif oneway == "reversible":
        return None
    elif oneway in ("no", "false", "0", "alternating"):
        base = (True, True)
    elif tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        base = (True, False)
    else:
        base = (True, True)
    conditional = tags.get("oneway:conditional")
    if conditional:
        value = conditional.split("@")[0].strip()
        if value in ("yes", "true", "1"):
            base = (base[0], False)
        elif value in ("-1", "reverse"):
            base = (False, base[1])
        elif value == "reversible":
            return None
    return base


def excluded(tags):
    return (tags.get("area") == "yes" or tags.get("impassable") == "yes"
            or tags.get("status") == "impassable" or tags.get("service") == "emergency_access"
            or tags.get("smoothness") == "impassable"
            or ("construction" in tags and tags["construction"] not in ("no", "widening", "minor"))
            or "proposed" in tags)


def barrier_class(tags):
    """'open', 'restricted' or 'blocked' for a node."""
    kind = tags.get("barrier")
    if kind is None:
        return "open"
    for key in HIERARCHY:
        if key in tags:
            cls = access_class(tags[key])
            return {"closed": "blocked", "restricted": "restricted", "open": "open"}[cls]
    if kind == "height_restrictor":
        try:
            return "blocked" if float(tags.get("maxheight", "9").rstrip("m").strip()) < 2.0 else "open"
        except ValueError:
            return "open"
    if kind == "bollard" and tags.get("bollard") == "rising":
        return "open"
    if kind == "kerb" and (tags.get("kerb") in ("lowered", "flush") or tags.get("highway") == "crossing"):
        return "open"
    if kind == "fence" and tags.get("sensory") in ("audible", "audio"):
        return "open"
    return "open" if kind in PASSABLE_BARRIERS else "blocked"


def restriction_kind(tags):
    """'no' / 'only' for a restriction that applies to cars, else None."""
    kind = tags.get("type")
    if kind in ("restriction:motorcar", "restriction:motor_vehicle", "restriction:vehicle"):
        value = tags.get("restriction")
    elif kind == "restriction":
        excepted = {v.strip() for v in tags.get("except", "").split(";")}
        if excepted & {"motorcar", "motor_vehicle", "vehicle"}:
            return None
        value = next((tags[k] for k in ("restriction:motorcar", "restriction:motor_vehicle",
                                         "restriction:vehicle", "restriction") if k in tags), None)
    else:
        return None
    if value is None:
        return None
    value = value.strip()
    if value.startswith("no_"):
        return "no"
    if value.startswith("only_"):
        return "only"
    return None


class Reader(osmium.SimpleHandler):
    def __init__(self):
        super().__init__()
        self.coords = {}
        self.barrier = {}
        self.ways = {}
        self.restrictions = []

    def node(self, n):
        self.coords[n.id] = (n.location.lat, n.location.lon)
        if "barrier" in n.tags:
            cls = barrier_class(dict(n.tags))
            if cls != "open":
                self.barrier[n.id] = cls

    def way(self, w):
        tags = dict(w.tags)
        if tags.get("highway") not in DRIVABLE or len(w.nodes) < 2:
            return
        self.ways[w.id] = ([n.ref for n in w.nodes], tags)

    def relation(self, r):
        tags = dict(r.tags)
        kind = restriction_kind(tags)
        if kind is None:
            return
        rel = {"kind": kind, "from": [], "to": [], "via_node": None, "via_ways": []}
        for m in r.members:
            if m.role == "from" and m.type == "w":
                rel["from"].append(m.ref)
            elif m.role == "to" and m.type == "w":
                rel["to"].append(m.ref)
            elif m.role == "via" and m.type == "n":
                rel["via_node"] = m.ref
            elif m.role == "via" and m.type == "w":
                rel["via_ways"].append(m.ref)
        self.restrictions.append(rel)


def main():
    extract, routes_file = sys.argv[1], sys.argv[2]
    data = Reader()
    data.apply_file(extract)
    # Every segment of a drivable way, by its node pair: (way id, direction allowed, access).
    segments = defaultdict(list)
    for wid, (nodes, tags) in data.ways.items():
        usable = not excluded(tags)
        dirs = way_directions(tags) if usable else None
        for a, b in zip(nodes, nodes[1:]):
            if a == b:
                continue
            for tail, head, forward in ((a, b, True), (b, a, False)):
                if dirs is None:
                    allowed, access = False, "closed"
                else:
                    allowed = dirs[0] if forward else dirs[1]
                    access = way_access(tags, "forward" if forward else "backward")
                segments[(tail, head)].append((wid, allowed, access, usable))
    # Public part: the largest connected part of open ways without passing restricted elements.
    adjacency = defaultdict(set)
    for (tail, head), entries in segments.items():
        if any(e[3] and e[1] and e[2] == "open" for e in entries):
            if data.barrier.get(tail) is None and data.barrier.get(head) is None:
                adjacency[tail].add(head)
                adjacency[head].add(tail)
    seen, largest = set(), set()
    for start in adjacency:
        if start in seen:
            continue
        part, stack = {start}, [start]
        seen.add(start)
        while stack:
            v = stack.pop()
            for w in adjacency[v]:
                if w not in seen:
                    seen.add(w)
                    part.add(w)
                    stack.append(w)
        if len(part) > len(largest):
            largest = part
    via_node = defaultdict(list)
    via_way = []
    for r in data.restrictions:
        if r["via_node"] is not None and not r["via_ways"]:
            via_node[r["via_node"]].append(r)
        elif r["via_ways"]:
            via_way.append(r)
    routes = json.loads(open(routes_file).read())["routes"]
    violations = []
    counts = {"routes": len(routes), "segments": 0, "passed_nodes": 0, "restrictions_met": 0,
              "restricted_entries": 0}

    def violation(kind, i, detail):
        violations.append({"kind": kind, "route": i, "detail": detail})

    for i, route in enumerate(routes):
        nodes = route["nodes"]
        for nid, (lat, lon) in zip(nodes, route["coords"]):
            got = data.coords.get(nid)
            if got is None or abs(got[0] - lat) > 1e-6 or abs(got[1] - lon) > 1e-6:
                violation("coordinates", i, f"node {nid}: {got} vs {lat},{lon}")
        ways = []  # the candidate ways of each segment that are drivable in this direction
        for a, b in zip(nodes, nodes[1:]):
            counts["segments"] += 1
            entries = segments.get((a, b), [])
            if not entries:
                violation("not_drivable", i, f"segment {a}->{b} is on no drivable way")
                ways.append([])
                continue
            usable = [e for e in entries if e[3]]
            if not usable:
                violation("not_drivable", i, f"segment {a}->{b} is on an excluded way")
            directed = [e for e in usable if e[1]]
            if usable and not directed:
                violation("oneway", i, f"segment {a}->{b} against way {usable[0][0]}")
            open_ = [e for e in directed if e[2] != "closed"]
            if directed and not open_:
                violation("access", i, f"segment {a}->{b} on way {directed[0][0]} closed to cars")
            ways.append(open_)
        passed = nodes[1:-1]
        counts["passed_nodes"] += len(passed)
        for k, nid in enumerate(passed):
            # Turning back in front of a barrier (a U-turn at it) does not cross it.
            if data.barrier.get(nid) == "blocked" and nodes[k] != nodes[k + 2]:
                violation("barrier", i, f"passes blocking barrier node {nid}")
        # Turn restrictions via a node: arriving on `from`, leaving on `to`.
        for k, v in enumerate(passed):
            rules = via_node.get(v)
            if not rules:
                continue
            arrive = {e[0] for e in ways[k]}
            leave = {e[0] for e in ways[k + 1]}
            for r in rules:
                if not arrive & set(r["from"]):
                    continue
                counts["restrictions_met"] += 1
                if r["kind"] == "no" and leave and leave <= set(r["to"]):
                    violation("restriction", i, f"no_* at node {v}: way {sorted(arrive)} -> {sorted(leave)}")
                if r["kind"] == "only" and leave and not leave & set(r["to"]):
                    violation("restriction", i, f"only_* at node {v}: way {sorted(arrive)} -> {sorted(leave)}, must take {r['to']}")
        # Via-way restrictions, on the sequence of ways driven (runs of one way).
        runs = []
        for k, cands in enumerate(ways):
            ids = {e[0] for e in cands}
            if runs and runs[-1] & ids:
                runs[-1] &= ids
            else:
                runs.append(set(ids))
        for r in via_way:
            n = len(r["via_ways"])
            for k in range(len(runs) - n):
                if not runs[k] & set(r["from"]):
                    continue
                if not all(r["via_ways"][j] in runs[k + 1 + j] for j in range(n)):
                    continue
                counts["restrictions_met"] += 1
                after = runs[k + 1 + n] if k + 1 + n < len(runs) else None
                if after is None:
                    continue
                if r["kind"] == "no" and after <= set(r["to"]):
                    violation("restriction", i, f"no_* via ways {r['via_ways']}: {sorted(runs[k])} -> {sorted(after)}")
                if r["kind"] == "only" and not after & set(r["to"]):
                    violation("restriction", i, f"only_* via ways {r['via_ways']}: {sorted(runs[k])} -> {sorted(after)}")
        # Restricted access: runs of restricted elements entered from open roads.
        elements = []  # True for restricted, in driving order: segments and private gates
        for k, cands in enumerate(ways):
            elements.append(bool(cands) and all(e[2] == "restricted" for e in cands))
            if k < len(passed) and data.barrier.get(passed[k]) == "restricted":
                elements.append(True)
        entries = sum(1 for k in range(1, len(elements)) if elements[k] and not elements[k - 1])
        counts["restricted_entries"] += entries
        enclosed = sum(1 for end in ((nodes[0], nodes[1]), (nodes[-2], nodes[-1]))
                       if not (end[0] in largest and end[1] in largest))
        if entries > enclosed:
            violation("restricted_access", i, f"{entries} restricted entries, {enclosed} enclosed ends")
    print(json.dumps({"counts": counts, "violations": violations}))


if __name__ == "__main__":
    main()
