//! The witness rules of `c2sp.org/tlog-witness`, as a pure function from (configured logs,
//! latest view, request) to a new view or a refusal. The caller serialises requests per log
//! and persists the new view before answering, so a witness is never rolled back.

use crate::merkle::{Hash, verify_consistency};
use crate::note::{Checkpoint, Note, NoteVerifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Most consistency proof lines accepted (the protocol's limit).
pub const MAX_PROOF_LINES: usize = 63;

/// A log the witness follows.
#[derive(Debug, Clone)]
pub struct WitnessedLog {
    /// The log's origin line.
    pub origin: String,
    /// Its checkpoint signing key.
    pub verifier: NoteVerifier,
}

/// The latest checkpoint the witness cosigned for a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    /// Origin.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// A parsed `add-checkpoint` request.
#[derive(Debug, Clone)]
pub struct AddCheckpoint {
    /// Size of the previous checkpoint the client believes the witness has.
    pub old: u64,
    /// Consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint.
    pub note: Note,
    /// Its body.
    pub checkpoint: Checkpoint,
}

/// Refusals, each with the HTTP status the protocol prescribes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// 400: malformed request or old size above the checkpoint size.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 403: no valid signature from the log's key.
    #[error("the checkpoint is not signed by the log's key")]
    Forbidden,
    /// 404: unknown origin.
    #[error("unknown log origin")]
    UnknownOrigin,
    /// 409: the old size is not the witness's latest size (body: that size).
    #[error("the witness's latest size is {latest}")]
    Conflict {
        /// The latest cosigned size.
        latest: u64,
    },
    /// 409: same size, different root — a fork.
    #[error("fork: same size as the latest cosigned checkpoint but a different root")]
    Fork,
    /// 422: the consistency proof does not verify — a fork or a rollback.
    #[error("the consistency proof does not verify")]
    InvalidProof,
}

impl WitnessError {
    /// The HTTP status code for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::BadRequest(_) => 400,
            WitnessError::Forbidden => 403,
            WitnessError::UnknownOrigin => 404,
            WitnessError::Conflict { .. } | WitnessError::Fork => 409,
            WitnessError::InvalidProof => 422,
        }
    }
}

impl AddCheckpoint {
    /// Parses the request body.
    pub fn parse(body: &str) -> Result<Self, WitnessError> {
        let bad = |m: &str| WitnessError::BadRequest(m.to_owned());
        let (head, note_text) = body
            .split_once("\n\n")
            .ok_or_else(|| bad("expected the old size and proof, a blank line, then the checkpoint"))?;
        let mut lines = head.split('\n');
        let old_line = lines.next().ok_or_else(|| bad("missing old size line"))?;
        let old_text = old_line
            .strip_prefix("old ")
            .ok_or_else(|| bad("the first line is `old <size>`"))?;
        if old_text.is_empty()
            || (old_text.len() > 1 && old_text.starts_with('0'))
            || !old_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("old size is a decimal without leading zeros"));
        }
        let old: u64 = old_text.parse().map_err(|_| bad("old size too large"))?;
        let proof = lines
            .map(|l| {
                STANDARD
                    .decode(l)
                    .ok()
                    .and_then(|h| Hash::try_from(h).ok())
                    .ok_or_else(|| bad("each proof line is a base64 SHA-256 hash"))
            })
            .collect::<Result<Vec<Hash>, _>>()?;
        if proof.len() > MAX_PROOF_LINES {
            return Err(bad("too many proof lines"));
        }
        let note = Note::parse(note_text).map_err(|e| bad(&e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|e| bad(&e.to_string()))?;
        Ok(Self {
            old,
            proof,
            note,
            checkpoint,
        })
    }

    /// Formats a request body.
    pub fn format(old: u64, proof: &[Hash], signed_checkpoint: &str) -> String {
        let mut out = format!("old {old}\n");
        for h in proof {
            out.push_str(&STANDARD.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(signed_checkpoint);
        out
    }
}

/// Checks a request against the witness's `latest` view of the log; returns the view to
/// persist (atomically, before cosigning) on success.
pub fn check(logs: &[WitnessedLog], latest: Option<&LogView>, req: &AddCheckpoint) -> Result<LogView, WitnessError> {
    let cp = &req.checkpoint;
    let log = logs
        .iter()
        .find(|l| l.origin == cp.origin)
        .ok_or(WitnessError::UnknownOrigin)?;
    log.verifier
        .verify_note(&req.note)
        .map_err(|_| WitnessError::Forbidden)?;
    if req.old > cp.size {
        return Err(WitnessError::BadRequest("old size is above the checkpoint size".into()));
    }
    let (latest_size, latest_root) = latest.map_or((0, None), |v| (v.size, Some(v.root)));
    if req.old != latest_size {
        return Err(WitnessError::Conflict { latest: latest_size });
    }
    match latest_root {
        Some(root) if req.old == cp.size => {
            if root != cp.root || !req.proof.is_empty() {
                return Err(WitnessError::Fork);
            }
        }
        Some(root) => {
            verify_consistency(req.old, cp.size, &root, &cp.root, &req.proof).map_err(|_| WitnessError::InvalidProof)?
        }
        None => {
            if !req.proof.is_empty() {
                return Err(WitnessError::InvalidProof);
            }
        }
    }
    Ok(LogView {
        origin: cp.origin.clone(),
        size: cp.size,
        root: cp.root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MerkleTree, leaf_hash};
    use crate::note::{NoteSigner, TYPE_ED25519};

    fn setup() -> (NoteSigner, Vec<WitnessedLog>, MerkleTree) {
        let log = NoteSigner::from_seed("jsms.test/audit", TYPE_ED25519, [1; 32]).unwrap();
        let logs = vec![WitnessedLog {
            origin: "jsms.test/audit".into(),
            verifier: log.verifier(),
        }];
        let mut tree = MerkleTree::new();
        for i in 0..20u32 {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        (log, logs, tree)
    }

    fn request(log: &NoteSigner, tree: &MerkleTree, old: u64, size: u64, root: Option<Hash>) -> AddCheckpoint {
        let cp = Checkpoint {
            origin: "jsms.test/audit".into(),
            size,
            root: root.unwrap_or(tree.root_at(size).unwrap()),
            extensions: vec![],
        };
        let signed = log.sign_note(&cp.to_text()).unwrap();
        let proof = tree.consistency_proof(old, size).unwrap();
        AddCheckpoint::parse(&AddCheckpoint::format(old, &proof, &signed)).unwrap()
    }

    #[test]
    fn accepts_growth_and_refuses_forks_and_rollbacks() {
        let (log, logs, tree) = setup();
        let first = check(&logs, None, &request(&log, &tree, 0, 10, None)).unwrap();
        assert_eq!(first.size, 10);
        let second = check(&logs, Some(&first), &request(&log, &tree, 10, 15, None)).unwrap();
        assert_eq!(second.size, 15);
        // Rollback: an older size than the latest.
        assert_eq!(
            check(&logs, Some(&second), &request(&log, &tree, 10, 12, None)).unwrap_err(),
            WitnessError::Conflict { latest: 15 }
        );
        let shrunk = Checkpoint {
            origin: "jsms.test/audit".into(),
            size: 12,
            root: tree.root_at(12).unwrap(),
            extensions: vec![],
        };
        let body = AddCheckpoint::format(15, &[], &log.sign_note(&shrunk.to_text()).unwrap());
        assert_eq!(
            check(&logs, Some(&second), &AddCheckpoint::parse(&body).unwrap())
                .unwrap_err()
                .status(),
            400
        );
        // Fork at the same size, and a fork that grows from a different history.
        assert_eq!(
            check(&logs, Some(&second), &request(&log, &tree, 15, 15, Some([7; 32]))).unwrap_err(),
            WitnessError::Fork
        );
        let mut other = MerkleTree::new();
        for i in 0..20u32 {
            other.push(leaf_hash(&(i + 1000).to_be_bytes()));
        }
        let forked = request(&log, &other, 15, 18, None);
        assert_eq!(
            check(&logs, Some(&second), &forked).unwrap_err(),
            WitnessError::InvalidProof
        );
        // Same size and root is fine (idempotent).
        assert!(check(&logs, Some(&second), &request(&log, &tree, 15, 15, None)).is_ok());
    }

    #[test]
    fn refuses_unknown_logs_and_bad_signatures() {
        let (log, logs, tree) = setup();
        let stranger = NoteSigner::from_seed("jsms.test/audit", TYPE_ED25519, [9; 32]).unwrap();
        assert_eq!(
            check(&logs, None, &request(&stranger, &tree, 0, 5, None)).unwrap_err(),
            WitnessError::Forbidden
        );
        let other_origin = NoteSigner::from_seed("elsewhere/log", TYPE_ED25519, [1; 32]).unwrap();
        let cp = Checkpoint {
            origin: "elsewhere/log".into(),
            size: 1,
            root: tree.root_at(1).unwrap(),
            extensions: vec![],
        };
        let req = AddCheckpoint::parse(&AddCheckpoint::format(
            0,
            &[],
            &other_origin.sign_note(&cp.to_text()).unwrap(),
        ))
        .unwrap();
        assert_eq!(check(&logs, None, &req).unwrap_err().status(), 404);
        for bad in ["", "old 1\n", "old 01\n\nx", "new 1\n\nx", "old 1\nnot-base64\n\nx"] {
            assert!(AddCheckpoint::parse(bad).is_err(), "{bad:?}");
        }
        let _ = log;
    }
}
