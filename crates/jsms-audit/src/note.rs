//! C2SP signed notes (`c2sp.org/signed-note`), checkpoints (`c2sp.org/tlog-checkpoint`) and
//! timestamped Ed25519 cosignatures (`c2sp.org/tlog-cosignature`).
//!
//! Keys are written in the textual forms of Go's `golang.org/x/mod/sumdb/note` package, which
//! the transparency-log tools share: a verifier key is `<name>+<hex key ID>+<base64(type ||
//! public key)>`, a private key `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>`.

use crate::merkle::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};

/// Signature type of plain Ed25519 note signatures (log checkpoints).
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type of timestamped Ed25519 cosignatures (witnesses).
pub const TYPE_COSIGNATURE: u8 = 0x04;
/// Most signature lines accepted in one note.
pub const MAX_SIGNATURES: usize = 64;

/// Errors parsing or verifying notes, keys and checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The text is not a well-formed note, key or checkpoint.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// No signature from the expected key, or it does not verify.
    #[error("no valid signature from {0}")]
    BadSignature(String),
    /// Key generation or signing failed.
    #[error("crypto failure: {0}")]
    Crypto(&'static str),
}

fn key_id(name: &str, kind: u8, public: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind]);
    h.update(public);
    let d = h.finalize();
    d.as_slice().first_chunk::<4>().copied().map_or(0, u32::from_be_bytes)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(char::is_whitespace) && !name.contains('+')
}

/// An Ed25519 signing key for notes (`TYPE_ED25519`) or cosignatures (`TYPE_COSIGNATURE`).
pub struct NoteSigner {
    name: String,
    kind: u8,
    id: u32,
    seed: [u8; 32],
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A signer from a 32-byte seed.
    pub fn from_seed(name: &str, kind: u8, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Malformed("key names are non-empty, without spaces or '+'"));
        }
        if kind != TYPE_ED25519 && kind != TYPE_COSIGNATURE {
            return Err(NoteError::Malformed("unsupported signature type"));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| NoteError::Crypto("bad Ed25519 seed"))?;
        let id = key_id(name, kind, pair.public_key().as_ref());
        Ok(Self {
            name: name.to_owned(),
            kind,
            id,
            seed,
            pair,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`.
    pub fn from_text(text: &str) -> Result<Self, NoteError> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::Malformed("a private key starts with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Malformed("private key: expected name+id+key"));
        };
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::Malformed("private key: bad base64"))?;
        let (kind, seed) = raw.split_first().ok_or(NoteError::Malformed("private key: empty"))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::Malformed("private key: seed must be 32 bytes"))?;
        let signer = Self::from_seed(name, *kind, seed)?;
        if format!("{:08x}", signer.id) != hex {
            return Err(NoteError::Malformed("private key: key ID does not match"));
        }
        Ok(signer)
    }

    /// The private key text (keep secret).
    pub fn to_text(&self) -> String {
        let mut raw = vec![self.kind];
        raw.extend_from_slice(&self.seed);
        format!("PRIVATE+KEY+{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }

    /// The verifier key text to give to others.
    pub fn verifier_text(&self) -> String {
        let mut raw = vec![self.kind];
        raw.extend_from_slice(self.pair.public_key().as_ref());
        format!("{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }

    /// The verifier for this key.
    pub fn verifier(&self) -> NoteVerifier {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        NoteVerifier {
            name: self.name.clone(),
            kind: self.kind,
            id: self.id,
            public,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn line(&self, payload: &[u8]) -> String {
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(payload);
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(raw))
    }

    /// Signs note text (which must end in a newline) with a plain Ed25519 note signature;
    /// returns the complete signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        if self.kind != TYPE_ED25519 {
            return Err(NoteError::Crypto("this key makes cosignatures, not note signatures"));
        }
        check_text(text)?;
        let sig = self.pair.sign(text.as_bytes());
        Ok(format!("{text}\n{}", self.line(sig.as_ref())))
    }

    /// A cosignature line over checkpoint body `text` at `timestamp` (Unix seconds).
    pub fn cosign(&self, text: &str, timestamp: u64) -> Result<String, NoteError> {
        if self.kind != TYPE_COSIGNATURE {
            return Err(NoteError::Crypto("this key makes note signatures, not cosignatures"));
        }
        check_text(text)?;
        let sig = self.pair.sign(cosigned_message(text, timestamp).as_bytes());
        let mut payload = timestamp.to_be_bytes().to_vec();
        payload.extend_from_slice(sig.as_ref());
        Ok(self.line(&payload))
    }
}

fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("note text must end with a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed("note text must not contain control characters"));
    }
    Ok(())
}

/// An Ed25519 public key for notes or cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    kind: u8,
    id: u32,
    public: [u8; 32],
}

impl NoteVerifier {
    /// Parses `<name>+<hex id>+<base64(type || public key)>`.
    pub fn from_text(text: &str) -> Result<Self, NoteError> {
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Malformed("verifier key: expected name+id+key"));
        };
        if !valid_name(name) {
            return Err(NoteError::Malformed("verifier key: bad name"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::Malformed("verifier key: bad base64"))?;
        let (kind, public) = raw.split_first().ok_or(NoteError::Malformed("verifier key: empty"))?;
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| NoteError::Malformed("verifier key: 32-byte Ed25519 key expected"))?;
        if *kind != TYPE_ED25519 && *kind != TYPE_COSIGNATURE {
            return Err(NoteError::Malformed("verifier key: unsupported signature type"));
        }
        let id = key_id(name, *kind, &public);
        if format!("{id:08x}") != hex {
            return Err(NoteError::Malformed("verifier key: key ID does not match"));
        }
        Ok(Self {
            name: name.to_owned(),
            kind: *kind,
            id,
            public,
        })
    }

    /// The verifier key text.
    pub fn to_text(&self) -> String {
        let mut raw = vec![self.kind];
        raw.extend_from_slice(&self.public);
        format!("{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn matches(&self, line: &SignatureLine) -> bool {
        line.name == self.name && line.key_id == self.id
    }

    fn check(&self, message: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.public)
            .verify(message, sig)
            .is_ok()
    }

    /// Verifies a note signed by this (plain Ed25519) key; returns the note text. A matching
    /// signature that fails is an error, as is the absence of any.
    pub fn verify_note<'a>(&self, note: &'a Note) -> Result<&'a str, NoteError> {
        let mut ok = false;
        for line in note.signatures.iter().filter(|l| self.matches(l)) {
            if self.kind != TYPE_ED25519 || !self.check(note.text.as_bytes(), &line.payload) {
                return Err(NoteError::BadSignature(self.name.clone()));
            }
            ok = true;
        }
        if ok {
            Ok(&note.text)
        } else {
            Err(NoteError::BadSignature(self.name.clone()))
        }
    }

    /// Verifies this witness's cosignature on `note`; returns its timestamp.
    pub fn verify_cosignature(&self, note: &Note) -> Result<u64, NoteError> {
        let line = note
            .signatures
            .iter()
            .find(|l| self.matches(l))
            .ok_or_else(|| NoteError::BadSignature(self.name.clone()))?;
        self.verify_cosignature_line(&note.text, line)
    }

    /// Verifies one cosignature line over checkpoint body `text`.
    pub fn verify_cosignature_line(&self, text: &str, line: &SignatureLine) -> Result<u64, NoteError> {
        if self.kind != TYPE_COSIGNATURE || !self.matches(line) || line.payload.len() != 72 {
            return Err(NoteError::BadSignature(self.name.clone()));
        }
        let (ts, sig) = line.payload.split_at(8);
        let timestamp = u64::from_be_bytes(ts.try_into().map_err(|_| NoteError::Malformed("timestamp"))?);
        if timestamp > i64::MAX as u64 || !self.check(cosigned_message(text, timestamp).as_bytes(), sig) {
            return Err(NoteError::BadSignature(self.name.clone()));
        }
        Ok(timestamp)
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub payload: Vec<u8>,
}

impl SignatureLine {
    /// Parses `— <name> <base64>` (without the newline).
    pub fn parse(line: &str) -> Result<Self, NoteError> {
        let rest = line.strip_prefix("\u{2014} ").ok_or(NoteError::Malformed(
            "a signature line starts with an em dash and a space",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("signature line: name and signature"))?;
        if !valid_name(name) {
            return Err(NoteError::Malformed("signature line: bad key name"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature line: bad base64"))?;
        if raw.len() < 5 {
            return Err(NoteError::Malformed("signature line: too short"));
        }
        let (id, payload) = raw.split_at(4);
        let key_id = u32::from_be_bytes(id.try_into().map_err(|_| NoteError::Malformed("key id"))?);
        Ok(Self {
            name: name.to_owned(),
            key_id,
            payload: payload.to_vec(),
        })
    }

    /// The line, with its newline.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.payload);
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(raw))
    }
}

/// A parsed signed note: text (with its final newline) and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text.
    pub text: String,
    /// The signatures.
    pub signatures: Vec<SignatureLine>,
}

impl Note {
    /// Parses a signed note; the text ends at the last blank line.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed("notes must not contain control characters"));
        }
        let split = note.rfind("\n\n").ok_or(NoteError::Malformed(
            "a signed note needs a blank line before its signatures",
        ))?;
        let text = &note[..=split];
        let sigs = &note[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed("signature lines end with a newline"));
        }
        let signatures = sigs.lines().map(SignatureLine::parse).collect::<Result<Vec<_>, _>>()?;
        if signatures.is_empty() || signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed("a note has 1 to 64 signatures"));
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note as text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.text);
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out
    }
}

/// A checkpoint body: origin, tree size, root hash, and extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique origin line.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Merkle root.
    pub root: Hash,
    /// Extension lines (without newlines).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root));
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint body.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(NoteError::Malformed("a checkpoint ends with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed("checkpoint: origin line"))?;
        let size_text = lines.next().ok_or(NoteError::Malformed("checkpoint: size line"))?;
        if size_text.is_empty()
            || (size_text.len() > 1 && size_text.starts_with('0'))
            || !size_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(NoteError::Malformed(
                "checkpoint: size is a decimal without leading zeros",
            ));
        }
        let size = size_text
            .parse()
            .map_err(|_| NoteError::Malformed("checkpoint: size too large"))?;
        let root_text = lines.next().ok_or(NoteError::Malformed("checkpoint: root line"))?;
        let root: Hash = STANDARD
            .decode(root_text)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(NoteError::Malformed("checkpoint: root is 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::Malformed("checkpoint: empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, kind: u8, byte: u8) -> NoteSigner {
        NoteSigner::from_seed(name, kind, [byte; 32]).unwrap()
    }

    #[test]
    fn keys_round_trip_through_text() {
        let s = signer("jsms.example/audit", TYPE_ED25519, 7);
        let again = NoteSigner::from_text(&s.to_text()).unwrap();
        assert_eq!(again.verifier_text(), s.verifier_text());
        let v = NoteVerifier::from_text(&s.verifier_text()).unwrap();
        assert_eq!(v, s.verifier());
        assert!(NoteVerifier::from_text("name+00000000+AQ==").is_err());
        let mut wrong_id = s.verifier_text();
        wrong_id.replace_range(wrong_id.find('+').unwrap() + 1..wrong_id.find('+').unwrap() + 3, "zz");
        assert!(NoteVerifier::from_text(&wrong_id).is_err());
    }

    #[test]
    fn checkpoints_sign_cosign_and_verify() {
        let log = signer("jsms.example/audit", TYPE_ED25519, 1);
        let witness = signer("partner.example/witness", TYPE_COSIGNATURE, 2);
        let cp = Checkpoint {
            origin: "jsms.example/audit".into(),
            size: 20852163,
            root: [9; 32],
            extensions: vec![],
        };
        let text = cp.to_text();
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
        let signed = log.sign_note(&text).unwrap();
        let mut note = Note::parse(&signed).unwrap();
        assert_eq!(log.verifier().verify_note(&note).unwrap(), text);
        assert!(
            signer("jsms.example/audit", TYPE_ED25519, 3)
                .verifier()
                .verify_note(&note)
                .is_err()
        );

        let line = witness.cosign(&text, 1_700_000_000).unwrap();
        note.signatures.push(SignatureLine::parse(line.trim_end()).unwrap());
        assert_eq!(witness.verifier().verify_cosignature(&note).unwrap(), 1_700_000_000);
        let reparsed = Note::parse(&note.to_text()).unwrap();
        assert_eq!(reparsed, note);
        // A cosignature over another checkpoint does not verify.
        let other = Checkpoint {
            size: 20852164,
            ..cp.clone()
        }
        .to_text();
        let l = SignatureLine::parse(line.trim_end()).unwrap();
        assert!(witness.verifier().verify_cosignature_line(&other, &l).is_err());
        // A tampered note text fails the log signature.
        let tampered = signed.replace("20852163", "20852162");
        assert!(log.verifier().verify_note(&Note::parse(&tampered).unwrap()).is_err());
    }

    #[test]
    fn malformed_inputs_are_refused() {
        for bad in [
            "",
            "a\n",
            "a\n01\nAAAA\n",
            "a\n1\nnotbase64\n",
            "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Note::parse("text\n").is_err());
        assert!(Note::parse("text\n\n— name AAAA\n").is_err());
        assert!(Note::parse("text\n\nnot a signature\n").is_err());
        assert!(NoteSigner::from_seed("bad name", TYPE_ED25519, [0; 32]).is_err());
        assert!(signer("a", TYPE_ED25519, 1).sign_note("no newline").is_err());
    }
}
