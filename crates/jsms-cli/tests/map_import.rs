//! `jsms map import` with bad and suspicious files: XML, gzip, empty and truncated files are
//! refused with an error naming the problem, on its own line after the progress bar, and the
//! current map stays; a file cut at a block boundary (it parses) or a much smaller map
//! replaces the current one only with `--replace`; the summary tells what the router obeys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::run_cli;
use std::path::{Path, PathBuf};

fn init(dir: &Path) {
    let (code, _, err) = run_cli(&[
        "init",
        "--data-dir",
        dir.to_str().unwrap(),
        "--party",
        "HN:host:Host Nation",
        "--party",
        "PN:partner:Partner Nation",
    ]);
    assert_eq!(code, 0, "{err}");
}

fn extract(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/osm").join(name)
}

/// The byte offsets where the blobs of a PBF file start (read from the file format's
/// framing: a 4-byte length, a BlobHeader whose field 3 is the blob's size).
fn blob_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        out.push(at);
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let header = &bytes[at + 4..at + 4 + len];
        let mut i = 0;
        let mut size = 0usize;
        while i < header.len() {
            let key = header[i];
            i += 1;
            let varint = |i: &mut usize| {
                let (mut v, mut shift) = (0usize, 0);
                loop {
                    let b = header[*i];
                    *i += 1;
                    v |= usize::from(b & 0x7f) << shift;
                    shift += 7;
                    if b & 0x80 == 0 {
                        return v;
                    }
                }
            };
            match key & 7 {
                0 => {
                    let v = varint(&mut i);
                    if key >> 3 == 3 {
                        size = v;
                    }
                }
                2 => {
                    let l = varint(&mut i);
                    i += l;
                }
                _ => panic!("unexpected wire type in a BlobHeader"),
            }
        }
        at += 4 + len + size;
    }
    out
}

#[test]
fn bad_and_suspicious_files_keep_the_current_map() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    init(&dir);
    let d = dir.to_str().unwrap();
    let import = |file: &Path, extra: &[&str]| {
        let mut argv = vec!["map", "import", file.to_str().unwrap(), "--data-dir", d];
        argv.extend_from_slice(extra);
        run_cli(&argv)
    };
    let monaco = extract("monaco.osm.pbf");
    let (code, out, err) = import(&monaco, &[]);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "turn restrictions for cars",
        "applied",
        "barriers:",
        "chains",
        "strongly connected components",
    ] {
        assert!(out.contains(needle), "the summary says {needle:?}: {out}");
    }
    let graph = dir.join("map/graph.bin");
    let before = std::fs::read(&graph).unwrap();
    // The hierarchy's order stored at import is the one used: routing does not rewrite it.
    let order = dir.join("map/graph.order");
    let stamp = std::fs::metadata(&order).unwrap().modified().unwrap();
    let (code, _, err) = run_cli(&[
        "route",
        "--data-dir",
        d,
        "--from",
        "43.7310,7.4150",
        "--to",
        "43.7460,7.4320",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::metadata(&order).unwrap().modified().unwrap(),
        stamp,
        "order reused"
    );
    let kept = || assert_eq!(std::fs::read(&graph).unwrap(), before, "the current map stays");

    // Not PBF: named, refused, nothing changed.
    let bytes = std::fs::read(&monaco).unwrap();
    for (name, content, needle) in [
        (
            "map.osm",
            b"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\"/>\n".to_vec(),
            "XML",
        ),
        ("map.osm.pbf.gz", vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2], "gzip"),
        ("empty.osm.pbf", Vec::new(), "empty"),
        ("half.osm.pbf", bytes[..bytes.len() / 2].to_vec(), "truncated"),
    ] {
        let file = tmp.path().join(name);
        std::fs::write(&file, content).unwrap();
        let (code, _, err) = import(&file, &[]);
        assert_eq!(code, 3, "{name}: {err}");
        let line = err
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{name}: {err}"));
        assert!(!line.contains("importing ["), "the error has its own line: {err:?}");
        kept();
    }

    // Cut at a block boundary before the relations: it parses, but looks cut short.
    let offsets = blob_offsets(&bytes);
    let cut = tmp.path().join("cut.osm.pbf");
    std::fs::write(&cut, &bytes[..*offsets.last().unwrap()]).unwrap();
    let (code, _, err) = import(&cut, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("current map was kept") && err.contains("no relation") && err.contains("--replace"),
        "{err}"
    );
    assert!(err.contains("ways"), "says what it read: {err}");
    kept();
    let (code, out, err) = import(&cut, &["--replace"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("warning:"), "{out}");
    assert_ne!(std::fs::read(&graph).unwrap(), before);

    // A much smaller map: only with --replace.
    let (code, _, _) = import(&monaco, &[]);
    assert_eq!(code, 0);
    let karachi = extract("karachi-old-city.osm.pbf");
    let (code, _, err) = import(&karachi, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("road segments against"), "{err}");
    let (code, out, err) = import(&karachi, &["--replace"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("left-hand traffic"), "Karachi keeps left: {out}");
}
