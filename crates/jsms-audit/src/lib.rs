//! JSMS audit log core, with no IO: the RFC 6962 / RFC 9162 Merkle tree with inclusion and
//! consistency proofs and their verification ([`merkle`]), C2SP signed notes, checkpoints and
//! cosignatures ([`note`]), the audit entry format ([`entry`]), the key that authenticates
//! entries not yet under a checkpoint ([`tail`]), the witness rules ([`witness`]) and the
//! offline verifier ([`verify`]). Storage, scheduling and HTTP live in `jsms-server` and `jsms-cli`.

pub mod entry;
pub mod merkle;
pub mod note;
pub mod tail;
pub mod verify;
pub mod witness;

pub use merkle::{Hash, MerkleTree, ProofError};
