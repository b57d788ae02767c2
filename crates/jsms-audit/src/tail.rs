//! The authenticated tail. Entries are covered by a signed checkpoint only once the
//! checkpointer has run; between two checkpoints (and while the server is stopped) a row
//! appended to `audit.db` by someone with write access to the file would otherwise be
//! indistinguishable from a real one, and the server would sign over it. Every entry is
//! therefore stored with a tag: HMAC-SHA256 under a key kept outside the database
//! (`keys/audit.key`), over the entry's index and leaf hash. The server refuses to start on
//! a tail whose tags do not verify, and `jsms audit verify` reports it.
//!
//! The tag proves an entry was written by a holder of the key; it does not prove that no
//! entry after the last checkpoint was deleted (only the next checkpoint and the witness
//! fix the size).

use crate::merkle::leaf_hash;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Domain separation for the tag.
const CONTEXT: &[u8] = b"jsms-audit-tail/v1\n";

/// The key that authenticates entries not yet covered by a checkpoint.
#[derive(Clone)]
pub struct TailKey {
    key: [u8; 32],
}

impl std::fmt::Debug for TailKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TailKey(…)")
    }
}

/// A key of the wrong length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit tail key must be 32 bytes, got {0}")]
pub struct TailKeyError(pub usize);

impl TailKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TailKeyError> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| TailKeyError(bytes.len()))?;
        Ok(Self { key })
    }

    /// The key's bytes (to write the key file).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    fn mac(&self, index: u64, data: &[u8]) -> HmacSha256 {
        // PANIC SAFETY: HMAC accepts keys of any length.
        #[allow(clippy::expect_used)]
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(CONTEXT);
        mac.update(&index.to_be_bytes());
        mac.update(&leaf_hash(data));
        mac
    }

    /// The tag of the entry `data` stored at `index`.
    pub fn tag(&self, index: u64, data: &[u8]) -> [u8; 32] {
        self.mac(index, data).finalize().into_bytes().into()
    }

    /// Whether `tag` authenticates `data` at `index` (constant time).
    pub fn verify(&self, index: u64, data: &[u8], tag: &[u8]) -> bool {
        self.mac(index, data).verify_slice(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_binds_key_index_and_data() {
        let k = TailKey::from_bytes(&[7; 32]).unwrap();
        let t = k.tag(5, b"entry");
        assert!(k.verify(5, b"entry", &t));
        assert!(!k.verify(6, b"entry", &t), "moved");
        assert!(!k.verify(5, b"entrY", &t), "edited");
        assert!(!k.verify(5, b"entry", &t[..31]), "truncated tag");
        let other = TailKey::from_bytes(&[8; 32]).unwrap();
        assert!(!other.verify(5, b"entry", &t), "another key");
        assert_eq!(TailKey::from_bytes(&[0; 31]).unwrap_err(), TailKeyError(31));
    }
}
