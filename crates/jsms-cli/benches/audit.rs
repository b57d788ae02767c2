//! Audit log benchmarks (PRODUCT §5):
//! 1. durable appends with group commit, from many concurrent requests, against the baseline
//!    of one fsync'd transaction per entry;
//! 2. `jsms audit verify` over 1,000,000 entries (entries read from SQLite, parsed, hashed,
//!    tree rebuilt, checkpoint checked);
//! 3. inclusion proofs at 1,000,000 entries, against recomputing the root from the leaves.
//!
//! Run: `cargo bench -p jsms-cli --bench audit` (env `BENCH_VERIFY_ENTRIES` to change 1M).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_audit::entry::{AuditEntry, Outcome};
use jsms_audit::merkle::{MerkleTree, leaf_hash};
use jsms_audit::note::{Checkpoint, NoteSigner, TYPE_ED25519};
use jsms_audit::verify::LogVerifier;
use jsms_server::audit::AuditLog;
use jsms_server::state::SystemClock;
use jsms_store::audit::{AuditDb, AuditSink};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn entry(seq: u64) -> AuditEntry {
    AuditEntry {
        seq,
        time_ms: 1_800_000_000_000 + seq as i64,
        principal: "user:0193a0b2-7c1e-7d2a-9f00-3b5c6d7e8f90".into(),
        principal_name: Some("hn.coordinator".into()),
        party: Some("HN".into()),
        action: "person.read".into(),
        resource: Some(format!("person:0193a0b2-7c1e-7d2a-9f00-{:012x}", seq % 5000)),
        outcome: Outcome::Allow,
        reasons: vec!["person inside the actor's person scope".into()],
        fields: vec!["full_name".into(), "personal_data".into()],
        request_id: Some("6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f".into()),
        client: Some("127.0.0.1".into()),
        channel: "api".into(),
        justification: None,
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

async fn appends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    // Baseline: one durable transaction per entry.
    let mut db = AuditDb::open(&dir.path().join("baseline.db")).unwrap();
    let key = jsms_audit::tail::TailKey::from_bytes(&[3; 32]).unwrap();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        let e = entry(n);
        let bytes = e.to_bytes();
        let tag = key.tag(n, &bytes);
        db.append(&[jsms_store::audit::NewEntry {
            index: n,
            entry: &e,
            data: &bytes,
            tag: &tag,
        }])
        .unwrap();
        n += 1;
    }
    let baseline = n as f64 / started.elapsed().as_secs_f64();

    let signer = NoteSigner::from_seed("jsms.bench/audit", TYPE_ED25519, [1; 32]).unwrap();
    let log = AuditLog::start(
        Box::new(AuditDb::open(&path).unwrap()),
        AuditDb::open(&path).unwrap(),
        signer,
        key,
        Arc::new(SystemClock),
    )
    .unwrap();
    let writers: usize = std::env::var("BENCH_WRITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let per_writer = 400_000 / writers.max(1) / 4;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let log = Arc::clone(&log);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_writer);
            for i in 0..per_writer {
                let t = Instant::now();
                log.append(entry((w * per_writer + i) as u64)).await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let rate = lat.len() as f64 / elapsed;
    println!("audit appends: {writers} concurrent writers × {per_writer}, synchronous=FULL");
    println!(
        "  group commit: {rate:.0} durable appends/s, p50 {:.2} ms, p99 {:.2} ms",
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    println!("  baseline one transaction per entry: {baseline:.0} appends/s");
    println!("  ratio: {:.1}x", rate / baseline);
}

fn verify_million() {
    let n: u64 = std::env::var("BENCH_VERIFY_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let signer = NoteSigner::from_seed("jsms.bench/audit", TYPE_ED25519, [1; 32]).unwrap();
    let key = jsms_audit::tail::TailKey::from_bytes(&[3; 32]).unwrap();
    let mut db = AuditDb::open(&path).unwrap();
    let mut tree = MerkleTree::new();
    let build = Instant::now();
    let mut seq = 0u64;
    while seq < n {
        let batch: Vec<(AuditEntry, Vec<u8>)> = (seq..(seq + 10_000).min(n))
            .map(|s| {
                let e = entry(s);
                let b = e.to_bytes();
                (e, b)
            })
            .collect();
        let tags: Vec<[u8; 32]> = batch.iter().map(|(e, b)| key.tag(e.seq, b)).collect();
        let rows: Vec<jsms_store::audit::NewEntry<'_>> = batch
            .iter()
            .zip(&tags)
            .map(|((e, b), tag)| jsms_store::audit::NewEntry {
                index: e.seq,
                entry: e,
                data: b,
                tag,
            })
            .collect();
        db.append(&rows).unwrap();
        for (_, b) in &batch {
            tree.push(leaf_hash(b));
        }
        seq += batch.len() as u64;
    }
    let text = Checkpoint {
        origin: "jsms.bench/audit".into(),
        size: n,
        root: tree.root(),
        extensions: vec![],
    }
    .to_text();
    db.save_checkpoint(n, &signer.sign_note(&text).unwrap(), 0).unwrap();
    drop(db);
    println!(
        "audit verify: {n} entries written in {:.1} s",
        build.elapsed().as_secs_f64()
    );

    // What `jsms audit verify` does, timed from opening the database.
    let started = Instant::now();
    let db = AuditDb::open(&path).unwrap();
    let mut v = LogVerifier::with_tail_key(key);
    db.for_each_row(0, |row| {
        v.row(row.index, row.data, row.columns, row.tag);
        Ok(())
    })
    .unwrap();
    let cps: Vec<(u64, String, Vec<String>)> = db
        .checkpoints()
        .unwrap()
        .into_iter()
        .map(|c| (c.size, c.note, vec![]))
        .collect();
    v.checkpoints(&signer.verifier(), &[], &cps);
    let report = v.finish();
    let secs = started.elapsed().as_secs_f64();
    assert!(report.is_intact());
    println!(
        "  verify: {secs:.2} s for {} entries and {} checkpoint ({:.0} entries/s)",
        report.entries,
        report.checkpoints,
        report.entries as f64 / secs
    );

    // Inclusion proofs at this size, against recomputing the root from every leaf.
    let mut lat = Vec::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = x % n;
        let t = Instant::now();
        let p = tree.inclusion_proof(i, n).unwrap();
        lat.push(t.elapsed());
        assert!(!p.is_empty());
    }
    lat.sort_unstable();
    let t = Instant::now();
    let mut naive = MerkleTree::new();
    for i in 0..n {
        naive.push(tree.leaf(i).unwrap());
    }
    assert_eq!(naive.root(), tree.root());
    let naive_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "  inclusion proof at {n}: p50 {:.4} ms, p99 {:.4} ms; baseline rebuilding the tree from the leaves {naive_ms:.0} ms ({:.0}x)",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        naive_ms / pct(&lat, 0.5)
    );
}

#[tokio::main]
async fn main() {
    appends().await;
    verify_million();
}
