//! JSMS audit log core, with no IO: the RFC 6962 / RFC 9162 Merkle tree with inclusion and
//! consistency proofs and their verification ([`merkle`]), C2SP signed notes, checkpoints and
//! cosignatures ([`note`]), the audit entry format ([`entry`]) and the witness rules
//! ([`witness`]). Storage, scheduling and HTTP live in `jsms-server` and `jsms-cli`.

pub mod entry;
pub mod merkle;
pub mod note;
pub mod verify;
pub mod witness;

pub use merkle::{Hash, MerkleTree, ProofError};
