//! Offline verification of a stored audit log: every entry in place, the tree recomputed,
//! every signed checkpoint and cosignature checked against it, and optionally a witness's
//! view (which is what catches a truncation that also removed the checkpoints).

use crate::entry::{AuditEntry, IndexColumns};
use crate::merkle::{Hash, MerkleTree, leaf_hash};
use crate::note::{Checkpoint, Note, NoteVerifier, SignatureLine};
use crate::tail::TailKey;
use std::fmt;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// An index with no entry.
    Missing {
        /// The first missing index.
        index: u64,
    },
    /// An entry that does not parse.
    Malformed {
        /// Its index.
        index: u64,
    },
    /// An entry whose `seq` is not its index (moved, inserted or reordered).
    OutOfPlace {
        /// Where it is.
        index: u64,
        /// Where it says it belongs.
        seq: u64,
    },
    /// A checkpoint whose signature does not verify.
    BadCheckpointSignature {
        /// Its size.
        size: u64,
    },
    /// A checkpoint larger than the log: entries were removed.
    Truncated {
        /// The size signed or cosigned.
        size: u64,
        /// Entries present.
        entries: u64,
    },
    /// Entries in `(after, size]` do not match the checkpoint signed at `size`.
    RootMismatch {
        /// The last size known good (0 if none).
        after: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// A cosignature that does not verify.
    BadCosignature {
        /// The checkpoint size.
        size: u64,
        /// The witness.
        witness: String,
    },
    /// The witness's view at `size` has a different root: a fork.
    WitnessFork {
        /// The size.
        size: u64,
    },
    /// The columns stored beside an entry (resource, principal, time, action, outcome) do
    /// not match the entry: an edit aimed at the answers of "who knew".
    IndexMismatch {
        /// The entry.
        index: u64,
    },
    /// The witness cosigned a checkpoint at `size` that the log no longer holds: checkpoints
    /// were deleted.
    CheckpointMissing {
        /// The size the witness cosigned.
        size: u64,
    },
    /// An entry after the last good checkpoint whose tag does not verify under the tail
    /// key: appended or changed outside the server.
    Unauthenticated {
        /// The entry.
        index: u64,
    },
}

impl Finding {
    /// The first entry index this finding implicates.
    pub fn first_bad_entry(&self) -> Option<u64> {
        match self {
            Finding::Missing { index }
            | Finding::Malformed { index }
            | Finding::OutOfPlace { index, .. }
            | Finding::IndexMismatch { index }
            | Finding::Unauthenticated { index } => Some(*index),
            Finding::Truncated { entries, .. } => Some(*entries),
            Finding::RootMismatch { after, .. } => Some(*after),
            Finding::WitnessFork { .. }
            | Finding::BadCheckpointSignature { .. }
            | Finding::BadCosignature { .. }
            | Finding::CheckpointMissing { .. } => None,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Missing { index } => write!(f, "entry {index} is missing (deleted?)"),
            Finding::Malformed { index } => write!(f, "entry {index} is not a valid audit entry (edited?)"),
            Finding::OutOfPlace { index, seq } => write!(
                f,
                "entry {index} says it is entry {seq} (inserted, deleted or reordered)"
            ),
            Finding::BadCheckpointSignature { size } => {
                write!(f, "the checkpoint at size {size} is not signed by this log's key")
            }
            Finding::Truncated { size, entries } => {
                write!(
                    f,
                    "a checkpoint at size {size} exists but the log has only {entries} entries (truncated from entry {entries})"
                )
            }
            Finding::RootMismatch { after, size } => write!(
                f,
                "entries {after}..{size} do not match the checkpoint signed at size {size} (first bad entry in that range)"
            ),
            Finding::BadCosignature { size, witness } => {
                write!(f, "the cosignature of {witness} on size {size} does not verify")
            }
            Finding::WitnessFork { size } => write!(
                f,
                "the witness cosigned a different root at size {size}: the log was rewritten"
            ),
            Finding::CheckpointMissing { size } => write!(
                f,
                "the witness cosigned a checkpoint at size {size} that the log no longer holds (checkpoints deleted)"
            ),
            Finding::IndexMismatch { index } => write!(
                f,
                "the index columns of entry {index} differ from the entry (edited to change who-knew answers?)"
            ),
            Finding::Unauthenticated { index } => write!(
                f,
                "entry {index} is not under a checkpoint and its tag does not verify under the tail key \
                 (appended or changed outside the server)"
            ),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Entries read.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Cosignatures checked.
    pub cosignatures: usize,
    /// Entries after the last good checkpoint, each checked against the tail key (`None`
    /// when no tail key was given: the tail was not checked).
    pub tail: Option<u64>,
    /// Everything wrong, in the order found.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }

    /// The first bad entry: the lowest index an entry-level finding names exactly, or else
    /// the start of the lowest range a checkpoint or witness proves wrong.
    pub fn first_bad_entry(&self) -> Option<u64> {
        let exact = |f: &&Finding| {
            matches!(
                f,
                Finding::Missing { .. }
                    | Finding::Malformed { .. }
                    | Finding::OutOfPlace { .. }
                    | Finding::Truncated { .. }
                    | Finding::IndexMismatch { .. }
                    | Finding::Unauthenticated { .. }
            )
        };
        let precise = self
            .findings
            .iter()
            .filter(exact)
            .filter_map(Finding::first_bad_entry)
            .min();
        precise.or_else(|| self.findings.iter().filter_map(Finding::first_bad_entry).min())
    }
}

/// Streams entries in, then checks checkpoints, cosignatures and witness views.
#[derive(Debug, Default)]
pub struct LogVerifier {
    tree: MerkleTree,
    report: Report,
    broken_at: Option<u64>,
    tail_key: Option<TailKey>,
    /// Entries whose tag is missing or does not verify (only those after the last good
    /// checkpoint are findings).
    untagged: Vec<u64>,
    /// The largest checkpoint size whose root matched.
    covered: u64,
    /// Sizes of the signed checkpoints read.
    signed: Vec<u64>,
}

impl LogVerifier {
    /// A verifier with nothing read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A verifier that also checks the tags of entries after the last good checkpoint.
    pub fn with_tail_key(key: TailKey) -> Self {
        Self {
            tail_key: Some(key),
            ..Self::default()
        }
    }

    /// Reads one stored row: the entry at `index`, the index columns stored beside it, and
    /// its tail tag (rows must come in increasing index order).
    pub fn row(&mut self, index: u64, data: &[u8], columns: &IndexColumns, tag: Option<&[u8]>) {
        if let Ok(e) = AuditEntry::from_bytes(data)
            && e.index_columns() != *columns
        {
            self.report.findings.push(Finding::IndexMismatch { index });
        }
        if let Some(key) = &self.tail_key
            && !tag.is_some_and(|t| key.verify(index, data, t))
        {
            self.untagged.push(index);
        }
        self.entry(index, data);
    }

    /// Reads the entry stored at `index` (entries must come in increasing index order).
    pub fn entry(&mut self, index: u64, data: &[u8]) {
        self.report.entries += 1;
        let expected = self.tree.len();
        if index != expected && self.broken_at.is_none() {
            self.report.findings.push(Finding::Missing { index: expected });
            self.broken_at = Some(expected);
        }
        match AuditEntry::from_bytes(data) {
            Err(_) => self.report.findings.push(Finding::Malformed { index }),
            Ok(e) if e.seq != index => self.report.findings.push(Finding::OutOfPlace { index, seq: e.seq }),
            Ok(_) => {}
        }
        self.tree.push(leaf_hash(data));
    }

    /// The recomputed root at `size`, if the log has that many entries.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        self.tree.root_at(size).ok()
    }

    /// Checks the signed checkpoints (any order) and their cosignature lines, given as
    /// `(size, signed note, [(witness name, cosignature line)])`.
    pub fn checkpoints(
        &mut self,
        log: &NoteVerifier,
        witnesses: &[NoteVerifier],
        checkpoints: &[(u64, String, Vec<String>)],
    ) {
        let mut sorted: Vec<&(u64, String, Vec<String>)> = checkpoints.iter().collect();
        sorted.sort_by_key(|c| c.0);
        let mut last_good = 0u64;
        for (size, note_text, cosigs) in sorted {
            self.report.checkpoints += 1;
            self.signed.push(*size);
            let parsed = Note::parse(note_text).ok().and_then(|note| {
                let text = log.verify_note(&note).ok()?.to_owned();
                Checkpoint::parse(&text)
                    .ok()
                    .filter(|cp| cp.size == *size && cp.origin == log.name())
                    .map(|cp| (text, cp))
            });
            let Some((text, cp)) = parsed else {
                self.report
                    .findings
                    .push(Finding::BadCheckpointSignature { size: *size });
                continue;
            };
            match self.tree.root_at(cp.size) {
                Err(_) => self.report.findings.push(Finding::Truncated {
                    size: cp.size,
                    entries: self.tree.len(),
                }),
                Ok(root) if root != cp.root => self.report.findings.push(Finding::RootMismatch {
                    after: last_good,
                    size: cp.size,
                }),
                Ok(_) => {
                    last_good = cp.size;
                    self.covered = self.covered.max(cp.size);
                }
            }
            for line in cosigs {
                self.report.cosignatures += 1;
                let sig = SignatureLine::parse(line.trim_end());
                let ok = sig.as_ref().ok().is_some_and(|sig| {
                    witnesses
                        .iter()
                        .any(|w| w.name() == sig.name && w.verify_cosignature_line(&text, sig).is_ok())
                });
                if !ok {
                    let witness = sig.map(|s| s.name).unwrap_or_else(|_| "unparseable line".into());
                    self.report
                        .findings
                        .push(Finding::BadCosignature { size: cp.size, witness });
                }
            }
        }
    }

    /// Checks a witness's latest cosigned view of this log (after [`Self::checkpoints`]: the
    /// log must still hold the checkpoint the witness cosigned).
    pub fn witness_view(&mut self, size: u64, root: &Hash) {
        if !self.signed.contains(&size) {
            self.report.findings.push(Finding::CheckpointMissing { size });
        }
        match self.tree.root_at(size) {
            Err(_) => self.report.findings.push(Finding::Truncated {
                size,
                entries: self.tree.len(),
            }),
            Ok(r) if r != *root => self.report.findings.push(Finding::WitnessFork { size }),
            Ok(_) => {}
        }
    }

    /// The report.
    pub fn finish(mut self) -> Report {
        if self.tail_key.is_some() {
            let covered = self.covered;
            self.report.tail = Some(self.tree.len().saturating_sub(covered));
            for index in self.untagged.into_iter().filter(|i| *i >= covered) {
                self.report.findings.push(Finding::Unauthenticated { index });
            }
        }
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Outcome;
    use crate::note::{NoteSigner, TYPE_COSIGNATURE, TYPE_ED25519};

    fn entry(seq: u64) -> Vec<u8> {
        AuditEntry {
            seq,
            time_ms: 1_000 + seq as i64,
            principal: "user:x".into(),
            principal_name: None,
            party: None,
            action: "person.read".into(),
            resource: Some("person:y".into()),
            outcome: Outcome::Allow,
            reasons: vec![],
            fields: vec![],
            request_id: None,
            client: None,
            channel: "api".into(),
            justification: None,
        }
        .to_bytes()
    }

    struct Fixture {
        log: NoteSigner,
        witness: NoteSigner,
        entries: Vec<Vec<u8>>,
        checkpoints: Vec<(u64, String, Vec<String>)>,
    }

    fn fixture(n: u64, every: u64) -> Fixture {
        let log = NoteSigner::from_seed("jsms.test/audit", TYPE_ED25519, [1; 32]).unwrap();
        let witness = NoteSigner::from_seed("partner.test/witness", TYPE_COSIGNATURE, [2; 32]).unwrap();
        let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
        let mut tree = MerkleTree::new();
        let mut checkpoints = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            tree.push(leaf_hash(e));
            let size = i as u64 + 1;
            if size.is_multiple_of(every) || size == n {
                let text = Checkpoint {
                    origin: "jsms.test/audit".into(),
                    size,
                    root: tree.root(),
                    extensions: vec![],
                }
                .to_text();
                let cosig = witness.cosign(&text, 1_700_000_000).unwrap();
                checkpoints.push((size, log.sign_note(&text).unwrap(), vec![cosig]));
            }
        }
        Fixture {
            log,
            witness,
            entries,
            checkpoints,
        }
    }

    fn run(f: &Fixture, entries: &[(u64, Vec<u8>)], checkpoints: &[(u64, String, Vec<String>)]) -> Report {
        let mut v = LogVerifier::new();
        for (i, d) in entries {
            v.entry(*i, d);
        }
        v.checkpoints(&f.log.verifier(), &[f.witness.verifier()], checkpoints);
        v.finish()
    }

    fn indexed(entries: &[Vec<u8>]) -> Vec<(u64, Vec<u8>)> {
        entries
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, e)| (i as u64, e))
            .collect()
    }

    #[test]
    fn an_intact_log_verifies() {
        let f = fixture(50, 10);
        let r = run(&f, &indexed(&f.entries), &f.checkpoints);
        assert!(r.is_intact(), "{:?}", r.findings);
        assert_eq!((r.entries, r.checkpoints, r.cosignatures), (50, 5, 5));
    }

    #[test]
    fn every_kind_of_tampering_is_found_at_its_place() {
        let f = fixture(50, 10);
        // Edit entry 23 keeping valid JSON and seq: only the checkpoint at 30 can tell.
        let mut edited = indexed(&f.entries);
        edited[23].1 = String::from_utf8(edited[23].1.clone())
            .unwrap()
            .replace("person.read", "person.list")
            .into_bytes();
        let r = run(&f, &edited, &f.checkpoints);
        assert_eq!(r.first_bad_entry(), Some(20));
        assert!(r.findings.contains(&Finding::RootMismatch { after: 20, size: 30 }));
        // Delete entry 17.
        let mut deleted = indexed(&f.entries);
        deleted.remove(17);
        assert_eq!(run(&f, &deleted, &f.checkpoints).first_bad_entry(), Some(17));
        // Insert at 5 (renumbering the rest).
        let mut inserted = f.entries.clone();
        inserted.insert(5, entry(5));
        assert_eq!(run(&f, &indexed(&inserted), &f.checkpoints).first_bad_entry(), Some(6));
        // Reorder 31 and 32.
        let mut reordered = f.entries.clone();
        reordered.swap(31, 32);
        assert_eq!(
            run(&f, &indexed(&reordered), &f.checkpoints).first_bad_entry(),
            Some(31)
        );
        // Truncate to 44, leaving the checkpoint at 50.
        let truncated = indexed(&f.entries[..44]);
        assert_eq!(run(&f, &truncated, &f.checkpoints).first_bad_entry(), Some(44));
        // Truncate to 44 and delete the checkpoint at 50 too: only the witness can tell.
        let r = run(&f, &truncated, &f.checkpoints[..4]);
        assert!(r.is_intact());
        let mut v = LogVerifier::new();
        for (i, d) in &truncated {
            v.entry(*i, d);
        }
        let mut t = MerkleTree::new();
        f.entries.iter().for_each(|e| {
            t.push(leaf_hash(e));
        });
        v.witness_view(50, &t.root());
        assert_eq!(v.finish().first_bad_entry(), Some(44));
        // A forged cosignature and a forged checkpoint.
        let mut cps = f.checkpoints.clone();
        cps[1].2[0] = cps[0].2[0].clone();
        assert!(
            run(&f, &indexed(&f.entries), &cps)
                .findings
                .contains(&Finding::BadCosignature {
                    size: 20,
                    witness: "partner.test/witness".into()
                })
        );
        let mut cps = f.checkpoints.clone();
        cps[2].1 = cps[2].1.replace("\n30\n", "\n31\n");
        assert!(!run(&f, &indexed(&f.entries), &cps).is_intact());
    }

    #[test]
    fn edited_index_columns_and_forged_tail_rows_are_found() {
        use crate::tail::TailKey;
        let f = fixture(25, 10); // checkpoints at 10, 20, 25
        let key = TailKey::from_bytes(&[9; 32]).unwrap();
        // 3 entries after the last checkpoint, the last one forged without the key.
        let mut entries = f.entries.clone();
        entries.extend((25..28).map(entry));
        type Row = (u64, Vec<u8>, IndexColumns, Option<[u8; 32]>);
        let run_rows = |rows: &[Row]| {
            let mut v = LogVerifier::with_tail_key(key.clone());
            for (i, d, c, t) in rows {
                v.row(*i, d, c, t.as_ref().map(|t| t.as_slice()));
            }
            v.checkpoints(&f.log.verifier(), &[f.witness.verifier()], &f.checkpoints);
            v.finish()
        };
        let mut rows: Vec<Row> = entries
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let e = AuditEntry::from_bytes(d).unwrap();
                (i as u64, d.clone(), e.index_columns(), Some(key.tag(i as u64, d)))
            })
            .collect();
        let r = run_rows(&rows);
        assert!(r.is_intact(), "{:?}", r.findings);
        assert_eq!(r.tail, Some(3));
        // A forged tail row: wrong tag, or none.
        rows[27].3 = Some([0; 32]);
        assert_eq!(run_rows(&rows).findings, vec![Finding::Unauthenticated { index: 27 }]);
        rows[27].3 = None;
        assert_eq!(run_rows(&rows).first_bad_entry(), Some(27));
        rows[27].3 = Some(key.tag(27, &rows[27].1));
        // Untagged entries under a good checkpoint are covered by its signature.
        rows[3].3 = None;
        assert!(run_rows(&rows).is_intact());
        // A resource column changed to hide a reader from who-knew.
        rows[12].2.resource = Some("person:someone-else".into());
        assert_eq!(run_rows(&rows).findings, vec![Finding::IndexMismatch { index: 12 }]);
        rows[12].2 = AuditEntry::from_bytes(&rows[12].1).unwrap().index_columns();
        rows[26].2.time_ms += 1;
        assert_eq!(run_rows(&rows).first_bad_entry(), Some(26));
    }
}
