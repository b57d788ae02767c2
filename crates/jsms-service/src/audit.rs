//! The running audit log: group commit of entries into `audit.db` on a dedicated writer
//! thread, the in-memory Merkle tree of everything durable, periodic signed checkpoints
//! (never one inconsistent with an earlier one), and their submission to witnesses.
//!
//! Fail closed: [`AuditLog::append`] returns only once the entry's transaction committed with
//! `synchronous=FULL`; if it cannot, the caller gets an error and must not return protected
//! data or make the change.

use crate::clock::Clock;
use crate::error::Error;
use jsms_audit::entry::AuditEntry;
use jsms_audit::merkle::{Hash, MerkleTree, leaf_hash, verify_consistency};
use jsms_audit::note::{Checkpoint, Note, NoteSigner, NoteVerifier, SignatureLine};
use jsms_audit::tail::TailKey;
use jsms_audit::witness::AddCheckpoint;
use jsms_store::audit::{AuditDb, AuditSink, NewEntry};
use jsms_store::{StoreError, StoreResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::oneshot;

/// Most entries committed in one transaction.
const MAX_BATCH: usize = 4096;

struct Pending {
    entry: AuditEntry,
    reply: oneshot::Sender<Result<u64, String>>,
}

/// A witness of this log: the log submits its checkpoints to `url` when there is one (push);
/// a witness without a URL pulls them and posts its cosignatures back.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Base URL; requests go to `<url>/add-checkpoint`.
    pub url: Option<String>,
    /// The witness's cosignature key.
    pub verifier: NoteVerifier,
}

/// Why the log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AuditOpenError {
    /// Storage failed.
    #[error("audit database: {0}")]
    Store(#[from] StoreError),
    /// The stored log is not intact: the server must not start on it.
    #[error("the audit log is not intact: {0}; run `jsms audit verify` for details")]
    Tampered(String),
}

/// The audit log service.
pub struct AuditLog {
    queue: Mutex<mpsc::Sender<Pending>>,
    tree: Arc<RwLock<MerkleTree>>,
    reader: Mutex<AuditDb>,
    signer: NoteSigner,
    clock: Arc<dyn Clock>,
    /// Appends that could not be made durable.
    pub failures: AtomicU64,
    /// Whether the last append was made durable (readiness: while it was not, every
    /// protected request is refused, so the instance is not ready).
    pub writable: std::sync::atomic::AtomicBool,
    /// Entries appended since start.
    pub appended: Arc<AtomicU64>,
    latest: Mutex<Option<(u64, Hash)>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens the log: rebuilds the tree from `reader`'s entries (each in its place, its
    /// index columns equal to its contents), checks them against the latest signed
    /// checkpoint, authenticates every entry after it with `tail_key`, and starts the writer
    /// thread over `sink`. A log that fails any of these is refused: the server must not
    /// serve, nor sign a checkpoint over, entries it cannot vouch for.
    pub fn start(
        sink: Box<dyn AuditSink>,
        reader: AuditDb,
        signer: NoteSigner,
        tail_key: TailKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, AuditOpenError> {
        let mut tree = MerkleTree::new();
        // Entries whose tag does not verify; fatal only after the last checkpoint.
        let mut untagged: Vec<u64> = Vec::new();
        reader
            .for_each_row(0, |row| {
                let idx = row.index;
                if idx != tree.len() {
                    return Err(StoreError::Internal(format!("entry {} is missing", tree.len())));
                }
                match AuditEntry::from_bytes(row.data) {
                    Ok(e) if e.seq == idx => {
                        if e.index_columns() != *row.columns {
                            return Err(StoreError::Internal(format!(
                                "the index columns of entry {idx} differ from the entry"
                            )));
                        }
                    }
                    _ => {
                        return Err(StoreError::Internal(format!(
                            "entry {idx} is malformed or out of place"
                        )));
                    }
                }
                if !row.tag.is_some_and(|t| tail_key.verify(idx, row.data, t)) {
                    untagged.push(idx);
                }
                tree.push(leaf_hash(row.data));
                Ok(())
            })
            .map_err(|e| AuditOpenError::Tampered(e.to_string()))?;
        let latest = match reader.latest_checkpoint()? {
            None => None,
            Some(stored) => {
                let note = Note::parse(&stored.note).map_err(|e| AuditOpenError::Tampered(e.to_string()))?;
                let text = signer
                    .verifier()
                    .verify_note(&note)
                    .map_err(|e| AuditOpenError::Tampered(e.to_string()))?;
                let cp = Checkpoint::parse(text).map_err(|e| AuditOpenError::Tampered(e.to_string()))?;
                let root = tree.root_at(cp.size).map_err(|_| {
                    AuditOpenError::Tampered(format!(
                        "the log has {} entries but a checkpoint was signed at {}",
                        tree.len(),
                        cp.size
                    ))
                })?;
                if root != cp.root {
                    return Err(AuditOpenError::Tampered(format!(
                        "the entries do not match the checkpoint signed at size {}",
                        cp.size
                    )));
                }
                Some((cp.size, cp.root))
            }
        };
        let covered = latest.map_or(0, |(size, _)| size);
        if let Some(first) = untagged.iter().find(|i| **i >= covered) {
            return Err(AuditOpenError::Tampered(format!(
                "entry {first} is not under a signed checkpoint and its tag does not verify under the \
                 tail key (keys/audit.key): it was appended or changed outside the server; refusing to \
                 sign a checkpoint over it"
            )));
        }
        let tree = Arc::new(RwLock::new(tree));
        let (tx, rx) = mpsc::channel::<Pending>();
        let appended = Arc::new(AtomicU64::new(0));
        spawn_writer(sink, rx, Arc::clone(&tree), Arc::clone(&appended), tail_key);
        Ok(Arc::new(Self {
            queue: Mutex::new(tx),
            tree,
            reader: Mutex::new(reader),
            signer,
            clock,
            failures: AtomicU64::new(0),
            writable: std::sync::atomic::AtomicBool::new(true),
            appended,
            latest: Mutex::new(latest),
        }))
    }

    /// Appends `entry` durably; returns its index. The `seq` field is assigned here.
    pub async fn append(&self, entry: AuditEntry) -> Result<u64, Error> {
        let (reply, rx) = oneshot::channel();
        let sent = self
            .queue
            .lock()
            .ok()
            .map(|q| q.send(Pending { entry, reply }).is_ok())
            .unwrap_or(false);
        let result = if sent {
            rx.await.unwrap_or_else(|_| Err("audit writer stopped".into()))
        } else {
            Err("audit writer stopped".into())
        };
        self.writable.store(result.is_ok(), Ordering::Relaxed);
        result.map_err(|e| {
            self.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "audit append failed: refusing the request");
            Error::Unavailable(format!("audit log unavailable: {e}"))
        })
    }

    /// Appends several entries; all must be durable.
    pub async fn append_all(&self, entries: Vec<AuditEntry>) -> Result<(), Error> {
        let mut waits = Vec::with_capacity(entries.len());
        {
            let queue = self
                .queue
                .lock()
                .map_err(|_| Error::Unavailable("audit queue poisoned".into()))?;
            for entry in entries {
                let (reply, rx) = oneshot::channel();
                if queue.send(Pending { entry, reply }).is_err() {
                    self.failures.fetch_add(1, Ordering::Relaxed);
                    self.writable.store(false, Ordering::Relaxed);
                    return Err(Error::Unavailable("audit writer stopped".into()));
                }
                waits.push(rx);
            }
        }
        for w in waits {
            if let Err(e) = w.await.unwrap_or_else(|_| Err("audit writer stopped".into())) {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.writable.store(false, Ordering::Relaxed);
                tracing::error!(error = %e, "audit append failed: refusing the request");
                return Err(Error::Unavailable(format!("audit log unavailable: {e}")));
            }
        }
        self.writable.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        self.tree.read().map(|t| t.len()).unwrap_or(0)
    }

    /// The instance's checkpoint verifier key text.
    pub fn verifier_text(&self) -> String {
        self.signer.verifier_text()
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// Runs `f` with the read connection (blocking: call from a blocking thread).
    pub fn with_reader<T>(&self, f: impl FnOnce(&AuditDb) -> StoreResult<T>) -> StoreResult<T> {
        let db = self
            .reader
            .lock()
            .map_err(|_| StoreError::Internal("audit reader poisoned".into()))?;
        f(&db)
    }

    /// Inclusion proof of `index` in the tree of `size` (defaults to the current size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<(Hash, Vec<Hash>, Hash), jsms_audit::ProofError> {
        let tree = self.tree.read().map_err(|_| jsms_audit::ProofError::Mismatch)?;
        let proof = tree.inclusion_proof(index, size)?;
        let leaf = tree
            .leaf(index)
            .ok_or(jsms_audit::ProofError::OutOfRange { index, size })?;
        Ok((leaf, proof, tree.root_at(size)?))
    }

    /// Consistency proof between two sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, jsms_audit::ProofError> {
        self.tree
            .read()
            .map_err(|_| jsms_audit::ProofError::Mismatch)?
            .consistency_proof(old, new)
    }

    /// Signs a checkpoint for the current size if it grew. Refuses to sign one that is not
    /// consistent with the last it signed. Returns the new signed note, if any.
    pub fn sign_checkpoint(&self) -> Result<Option<(u64, String)>, String> {
        let (size, root, proof, previous) = {
            let tree = self.tree.read().map_err(|_| "tree lock poisoned".to_owned())?;
            let previous = *self.latest.lock().map_err(|_| "checkpoint lock poisoned".to_owned())?;
            let size = tree.len();
            if previous.is_some_and(|(s, _)| s >= size) || size == 0 {
                return Ok(None);
            }
            let root = tree.root_at(size).map_err(|e| e.to_string())?;
            let proof = match previous {
                Some((s, _)) => tree.consistency_proof(s, size).map_err(|e| e.to_string())?,
                None => Vec::new(),
            };
            (size, root, proof, previous)
        };
        if let Some((old_size, old_root)) = previous {
            verify_consistency(old_size, size, &old_root, &root, &proof)
                .map_err(|e| format!("refusing to sign a checkpoint inconsistent with size {old_size}: {e}"))?;
        }
        let cp = Checkpoint {
            origin: self.signer.name().to_owned(),
            size,
            root,
            extensions: vec![],
        };
        let note = self.signer.sign_note(&cp.to_text()).map_err(|e| e.to_string())?;
        let now = self.clock.now();
        self.with_reader(|db| db.save_checkpoint(size, &note, now))
            .map_err(|e| e.to_string())?;
        if let Ok(mut l) = self.latest.lock() {
            *l = Some((size, root));
        }
        Ok(Some((size, note)))
    }

    /// Stores a cosignature line on the checkpoint signed at `size`, if it verifies with one
    /// of `witnesses`; returns the witness's name.
    pub fn accept_cosignature(&self, size: u64, line: &str, witnesses: &[WitnessEndpoint]) -> Result<String, String> {
        let sig = SignatureLine::parse(line.trim_end()).map_err(|e| e.to_string())?;
        let witness = witnesses
            .iter()
            .find(|w| w.verifier.name() == sig.name)
            .ok_or_else(|| format!("{} is not a configured witness of this log", sig.name))?;
        let note = self
            .with_reader(|db| Ok(db.checkpoints()?.into_iter().find(|c| c.size == size)))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no checkpoint was signed at size {size}"))?;
        let parsed = Note::parse(&note.note).map_err(|e| e.to_string())?;
        witness
            .verifier
            .verify_cosignature_line(&parsed.text, &sig)
            .map_err(|e| e.to_string())?;
        let now = self.clock.now();
        let name = witness.verifier.name().to_owned();
        self.with_reader(|db| db.save_cosignature(size, &name, &sig.to_line(), now))
            .map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// The latest signed checkpoint with every stored cosignature appended.
    pub fn checkpoint_with_cosignatures(&self) -> StoreResult<Option<String>> {
        self.with_reader(|db| {
            let Some(cp) = db.latest_checkpoint()? else {
                return Ok(None);
            };
            let mut note = cp.note;
            for c in db.cosignatures(Some(cp.size))? {
                note.push_str(&c.line);
                if !c.line.ends_with('\n') {
                    note.push('\n');
                }
            }
            Ok(Some(note))
        })
    }
}

fn spawn_writer(
    mut sink: Box<dyn AuditSink>,
    rx: mpsc::Receiver<Pending>,
    tree: Arc<RwLock<MerkleTree>>,
    appended: Arc<AtomicU64>,
    tail_key: TailKey,
) {
    let spawned = std::thread::Builder::new().name("audit-writer".into()).spawn(move || {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let base = tree.read().map(|t| t.len()).unwrap_or(0);
            let mut datas = Vec::with_capacity(batch.len());
            let mut tags = Vec::with_capacity(batch.len());
            for (i, p) in batch.iter_mut().enumerate() {
                p.entry.seq = base + i as u64;
                let data = p.entry.to_bytes();
                tags.push(tail_key.tag(p.entry.seq, &data));
                datas.push(data);
            }
            let rows: Vec<NewEntry<'_>> = batch
                .iter()
                .zip(&datas)
                .zip(&tags)
                .map(|((p, data), tag)| NewEntry {
                    index: p.entry.seq,
                    entry: &p.entry,
                    data,
                    tag,
                })
                .collect();
            let result = sink.append(&rows);
            drop(rows);
            match result {
                Ok(()) => {
                    if let Ok(mut t) = tree.write() {
                        for d in &datas {
                            t.push(leaf_hash(d));
                        }
                    }
                    appended.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    for p in batch {
                        let _ = p.reply.send(Ok(p.entry.seq));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for p in batch {
                        let _ = p.reply.send(Err(msg.clone()));
                    }
                }
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the audit writer; every audited request will fail");
    }
}

/// Signs checkpoints every `interval` while entries arrive, and submits each to the
/// witnesses, storing their cosignatures. Runs until the process ends.
pub fn spawn_checkpointer(log: Arc<AuditLog>, witnesses: Vec<WitnessEndpoint>, interval: Duration) {
    tokio::spawn(async move {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().ok();
        let mut known: Vec<Option<u64>> = vec![None; witnesses.len()];
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            let signer_log = Arc::clone(&log);
            let signed = tokio::task::spawn_blocking(move || signer_log.sign_checkpoint()).await;
            let (size, note) = match signed {
                Ok(Ok(Some(s))) => s,
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "checkpoint not signed");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "checkpoint task failed");
                    continue;
                }
            };
            tracing::debug!(size, "checkpoint signed");
            let Some(client) = &client else { continue };
            for (w, last) in witnesses.iter().zip(known.iter_mut()).filter(|(w, _)| w.url.is_some()) {
                match submit(client, &log, w, *last, size, &note).await {
                    Ok(()) => *last = Some(size),
                    Err(Resubmit(latest)) if latest.is_some() => {
                        *last = latest;
                        match submit(client, &log, w, *last, size, &note).await {
                            Ok(()) => *last = Some(size),
                            Err(_) => {
                                tracing::warn!(witness = w.verifier.name(), size, "witness refused the checkpoint")
                            }
                        }
                    }
                    Err(_) => {
                        tracing::warn!(witness = w.verifier.name(), size, "witness did not cosign")
                    }
                }
            }
        }
    });
}

/// A failed submission; carries the witness's latest size when it answered 409.
struct Resubmit(Option<u64>);

async fn submit(
    client: &reqwest::Client,
    log: &AuditLog,
    w: &WitnessEndpoint,
    old: Option<u64>,
    size: u64,
    note: &str,
) -> Result<(), Resubmit> {
    let old = old.unwrap_or(0).min(size);
    let proof = log.consistency_proof(old, size).map_err(|_| Resubmit(None))?;
    let body = AddCheckpoint::format(old, &proof, note);
    let Some(base) = &w.url else { return Err(Resubmit(None)) };
    let url = format!("{}/add-checkpoint", base.trim_end_matches('/'));
    let resp = client.post(&url).body(body).send().await.map_err(|e| {
        tracing::warn!(witness = w.verifier.name(), error = %e, "witness unreachable");
        Resubmit(None)
    })?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if status == 409 {
        return Err(Resubmit(text.trim().parse().ok()));
    }
    if status != 200 {
        tracing::warn!(witness = w.verifier.name(), status, body = %text.trim(), "witness refused the checkpoint");
        return Err(Resubmit(None));
    }
    let parsed = Note::parse(note).map_err(|_| Resubmit(None))?;
    let now = log.clock.now();
    for line in text.lines() {
        let Ok(sig) = SignatureLine::parse(line) else {
            continue;
        };
        if w.verifier.verify_cosignature_line(&parsed.text, &sig).is_ok() {
            let name = w.verifier.name().to_owned();
            let line = sig.to_line();
            log.with_reader(|db| db.save_cosignature(size, &name, &line, now))
                .map_err(|_| Resubmit(None))?;
            return Ok(());
        }
    }
    tracing::warn!(
        witness = w.verifier.name(),
        "witness answered without a valid cosignature"
    );
    Err(Resubmit(None))
}
