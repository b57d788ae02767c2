//! The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1): leaf hash `SHA-256(0x00 || data)`,
//! node hash `SHA-256(0x01 || left || right)`, with inclusion and consistency proofs and
//! the verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
//!
//! [`MerkleTree`] keeps the hash of every perfect, aligned subtree (2n hashes for n leaves),
//! so any root or proof costs O(log n) lookups and hashes.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Why a proof or request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// An index or size outside the tree.
    #[error("index {index} is not below size {size}")]
    OutOfRange {
        /// The index or smaller size asked for.
        index: u64,
        /// The size it must be below (or at most).
        size: u64,
    },
    /// The proof has the wrong number of hashes.
    #[error("the proof has the wrong length")]
    WrongLength,
    /// The proof does not lead to the expected root.
    #[error("the proof does not match the root")]
    Mismatch,
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// An append-only Merkle tree holding every perfect aligned subtree hash.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    /// `levels[h][i]` is the hash of leaves `[i·2^h, (i+1)·2^h)`.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether there are no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a leaf by its leaf hash; returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.len();
        let mut hash = leaf;
        let mut level = 0usize;
        let mut i = index;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                break;
            };
            row.push(hash);
            if i.is_multiple_of(2) {
                break;
            }
            // The new node completes a pair: its parent is perfect too.
            let Some(left) = row.get(row.len().wrapping_sub(2)).copied() else {
                break;
            };
            hash = node_hash(&left, &hash);
            i /= 2;
            level += 1;
        }
        index
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
    }

    fn perfect(&self, start: u64, size: u64) -> Hash {
        let level = size.trailing_zeros() as usize;
        let index = usize::try_from(start >> level).unwrap_or(usize::MAX);
        // PANIC SAFETY: callers only ask for aligned perfect subtrees inside the tree, which
        // `push` has stored; a miss would be a bug in this module, answered with zeros that
        // then fail every verification rather than panicking in production.
        self.levels
            .get(level)
            .and_then(|row| row.get(index))
            .copied()
            .unwrap_or([0; 32])
    }

    /// MTH of leaves `[start, end)` (end > start).
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let size = end - start;
        if size.is_power_of_two() && start.is_multiple_of(size) {
            return self.perfect(start, size);
        }
        let k = split(size);
        node_hash(&self.subtree(start, start + k), &self.subtree(start + k, end))
    }

    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.len() {
            return Err(ProofError::OutOfRange {
                index: size,
                size: self.len(),
            });
        }
        Ok(if size == 0 { empty_root() } else { self.subtree(0, size) })
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.root_at(self.len()).unwrap_or_else(|_| empty_root())
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        if size > self.len() || index >= size {
            return Err(ProofError::OutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.subtree(start, start + k));
        }
    }

    /// The consistency proof from the tree of `old` leaves to the tree of `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        if new > self.len() || old > new {
            return Err(ProofError::OutOfRange { index: old, size: new });
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn subproof(&self, m: u64, start: u64, end: u64, complete: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !complete {
                out.push(self.subtree(start, end));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree(start, start + k));
        }
    }
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// Verifies that the tree of `old` leaves with `old_root` is a prefix of the tree of `new`
/// leaves with `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::OutOfRange { index: old, size: new });
    }
    if old == new {
        return if !proof.is_empty() {
            Err(ProofError::WrongLength)
        } else if old_root != new_root {
            Err(ProofError::Mismatch)
        } else {
            Ok(())
        };
    }
    if old == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let mut f = old - 1;
    let mut s = new - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definitions of RFC 6962 §2.1, computed naively from the leaves.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n as u64) as usize;
        if m < k {
            let mut p = naive_path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = naive_path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn naive_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b { vec![] } else { vec![mth(leaves)] };
        }
        let k = split(n as u64) as usize;
        if m <= k {
            let mut p = naive_subproof(m, &leaves[..k], b);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = naive_subproof(m - k, &leaves[k..], false);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
    }

    fn tree(leaves: &[Hash]) -> MerkleTree {
        let mut t = MerkleTree::new();
        for l in leaves {
            t.push(*l);
        }
        t
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The test leaves of the certificate-transparency reference implementations.
    #[test]
    fn rfc6962_reference_vectors() {
        let data: [&[u8]; 8] = [
            b"",
            &[0x00],
            &[0x10],
            &[0x20, 0x21],
            &[0x30, 0x31],
            &[0x40, 0x41, 0x42, 0x43],
            &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            &[
                0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
            ],
        ];
        let t = tree(&data.iter().map(|d| leaf_hash(d)).collect::<Vec<_>>());
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&t.root_at(1).unwrap()),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex(&t.root_at(8).unwrap()),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
    }

    #[test]
    fn known_roots() {
        // RFC 6962 test vector shape: the empty tree and a one-leaf tree.
        let t = MerkleTree::new();
        assert_eq!(t.root(), empty_root());
        let l = leaves(1);
        assert_eq!(tree(&l).root(), leaf_hash(b"entry 0"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn roots_and_proofs_match_the_definitions(n in 1usize..300, m_seed in any::<u64>(), size_seed in any::<u64>()) {
            let l = leaves(n);
            let t = tree(&l);
            let size = 1 + (size_seed % n as u64);
            let m = m_seed % size;
            let root = mth(&l[..size as usize]);
            prop_assert_eq!(t.root_at(size).unwrap(), root);
            let proof = t.inclusion_proof(m, size).unwrap();
            prop_assert_eq!(&proof, &naive_path(m as usize, &l[..size as usize]));
            prop_assert!(verify_inclusion(&l[m as usize], m, size, &proof, &root).is_ok());

            let old = m_seed % (size + 1);
            let cproof = t.consistency_proof(old, size).unwrap();
            if old > 0 && old < size {
                prop_assert_eq!(&cproof, &naive_subproof(old as usize, &l[..size as usize], true));
            }
            let old_root = mth(&l[..old as usize]);
            prop_assert!(verify_consistency(old, size, &old_root, &root, &cproof).is_ok());
        }

        #[test]
        fn tampered_proofs_are_rejected(n in 2usize..200, m_seed in any::<u64>(), bit in 0usize..256) {
            let l = leaves(n);
            let t = tree(&l);
            let size = n as u64;
            let m = m_seed % size;
            let root = t.root();
            let proof = t.inclusion_proof(m, size).unwrap();
            let leaf = l[m as usize];
            // Flipped bit in the leaf, in a proof hash, in the root.
            let mut bad_leaf = leaf;
            bad_leaf[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_inclusion(&bad_leaf, m, size, &proof, &root).is_err());
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let i = bit % bad.len();
                bad[i][bit / 8] ^= 1 << (bit % 8);
                prop_assert!(verify_inclusion(&leaf, m, size, &bad, &root).is_err());
                // Too short.
                prop_assert!(verify_inclusion(&leaf, m, size, &proof[..proof.len() - 1], &root).is_err());
            }
            // Extra hash, wrong index, wrong size.
            let mut extra = proof.clone();
            extra.push(leaf);
            prop_assert!(verify_inclusion(&leaf, m, size, &extra, &root).is_err());
            let other = (m + 1) % size;
            if l[other as usize] != leaf {
                prop_assert!(verify_inclusion(&leaf, other, size, &proof, &root).is_err());
            }
            prop_assert!(verify_inclusion(&leaf, size, size, &proof, &root).is_err());
            // Wrong size: the proof for `size` does not verify in a smaller tree (with that
            // tree's own root) unless both trees give the leaf the very same path.
            if m + 1 < size {
                let smaller = m + 1 + m_seed % (size - m - 1);
                if t.inclusion_proof(m, smaller).unwrap() != proof {
                    prop_assert!(verify_inclusion(&leaf, m, smaller, &proof, &t.root_at(smaller).unwrap()).is_err());
                }
            }

            // Consistency: flipped bit, extra hash, wrong old size, swapped roots.
            let old = 1 + m_seed % (size - 1);
            let old_root = t.root_at(old).unwrap();
            let cproof = t.consistency_proof(old, size).unwrap();
            prop_assert!(verify_consistency(old, size, &old_root, &root, &cproof).is_ok());
            let mut bad = cproof.clone();
            let i = bit % bad.len();
            bad[i][bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err());
            let mut extra = cproof.clone();
            extra.push(root);
            prop_assert!(verify_consistency(old, size, &old_root, &root, &extra).is_err());
            if old + 1 < size {
                prop_assert!(verify_consistency(old + 1, size, &old_root, &root, &cproof).is_err());
            }
            prop_assert!(verify_consistency(size, old, &root, &old_root, &cproof).is_err());
            let mut bad_old = old_root;
            bad_old[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_consistency(old, size, &bad_old, &root, &cproof).is_err());
        }
    }

    #[test]
    fn out_of_range_requests_are_errors() {
        let t = tree(&leaves(5));
        assert!(t.root_at(6).is_err());
        assert!(t.inclusion_proof(5, 5).is_err());
        assert!(t.inclusion_proof(0, 6).is_err());
        assert!(t.consistency_proof(4, 6).is_err());
        assert!(t.consistency_proof(5, 4).is_err());
        assert_eq!(t.consistency_proof(5, 5).unwrap(), Vec::<Hash>::new());
        assert!(verify_consistency(3, 3, &t.root_at(3).unwrap(), &t.root_at(3).unwrap(), &[]).is_ok());
        assert!(verify_consistency(3, 3, &t.root_at(3).unwrap(), &t.root_at(4).unwrap(), &[]).is_err());
    }
}
