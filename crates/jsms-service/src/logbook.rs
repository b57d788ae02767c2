//! Reading the audit log (auditors of either party; checkpoints and proofs for anyone): the
//! latest checkpoint with its cosignatures, consistency and inclusion proofs, entries by
//! range, and "who knew" — answered from the entries' own, hash-covered data (the index
//! columns only find candidates; `audit verify` proves they match). Reads of the log are
//! themselves recorded.

use crate::error::{Error, Result};
use crate::gate::{Change, Refusal, Resource};
use crate::{Caller, Services};
use jsms_audit::entry::{AuditEntry, Outcome};
use jsms_audit::merkle::Hash;
use jsms_domain::access::Action;
use jsms_store::audit::StoredEntry;
use std::sync::Arc;

/// One access to a resource's protected fields.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Access {
    /// Who (`user:<id>`, `token:<id>`, `device:<id>`).
    pub principal: String,
    /// Their name at the time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their party.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// When (RFC 3339).
    pub time: String,
    /// What (`person.read`, …).
    pub action: String,
    /// Channel (`api`, `cli`, …).
    pub channel: String,
    /// Fields disclosed.
    pub fields: Vec<String>,
    /// The audit entry, for an inclusion proof.
    pub index: u64,
}

const AUDITORS: Refusal = Refusal::Forbidden("only auditors read the audit log");

/// Whether an entry records a disclosure of protected fields (or a plan opened).
fn is_access(e: &AuditEntry) -> bool {
    let plan = e.resource.as_deref().is_some_and(|r| r.ends_with(":plan"));
    e.outcome == Outcome::Allow && (!e.fields.is_empty() || plan)
}

impl Services {
    /// Runs `f` with the audit log's reader on a blocking thread.
    async fn log_read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&jsms_store::audit::AuditDb) -> jsms_store::StoreResult<T> + Send + 'static,
    ) -> Result<T> {
        let audit = Arc::clone(&self.audit);
        tokio::task::spawn_blocking(move || audit.with_reader(f))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(Error::from)
    }

    /// The latest signed checkpoint with every cosignature stored for it.
    pub async fn checkpoint_note(&self, caller: &Caller) -> Result<Option<String>> {
        let read = Change::new("audit.checkpoint", None, Action::ReadCheckpoints, Refusal::Hidden);
        self.gate.check(caller, &read).await?;
        let audit = Arc::clone(&self.audit);
        tokio::task::spawn_blocking(move || audit.checkpoint_with_cosignatures())
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(Error::from)
    }

    /// The log's origin, checkpoint verifier key and size.
    pub async fn log_key(&self, caller: &Caller) -> Result<(String, String, u64)> {
        let read = Change::new("audit.key", None, Action::ReadCheckpoints, Refusal::Hidden);
        self.gate.check(caller, &read).await?;
        Ok((
            self.audit.origin().to_owned(),
            self.audit.verifier_text(),
            self.audit.size(),
        ))
    }

    /// A consistency proof between two tree sizes (hashes only).
    pub async fn consistency_proof(&self, caller: &Caller, old: u64, new: u64) -> Result<Vec<Hash>> {
        let read = Change::new("audit.consistency", None, Action::ReadCheckpoints, Refusal::Hidden);
        self.gate.check(caller, &read).await?;
        self.audit
            .consistency_proof(old, new)
            .map_err(|e| Error::InvalidParameter {
                field: "/new".into(),
                detail: e.to_string(),
            })
    }

    /// The inclusion proof of entry `index` in the tree of `size` (default: now): the size,
    /// leaf hash, audit path and root.
    pub async fn inclusion_proof(
        &self,
        caller: &Caller,
        index: u64,
        size: Option<u64>,
    ) -> Result<(u64, Hash, Vec<Hash>, Hash)> {
        let read = Change::new("audit.inclusion", None, Action::ReadAuditLog, AUDITORS);
        self.gate.check(caller, &read).await?;
        let size = size.unwrap_or_else(|| self.audit.size());
        let (leaf, proof, root) = self
            .audit
            .inclusion_proof(index, size)
            .map_err(|e| Error::InvalidParameter {
                field: "/size".into(),
                detail: e.to_string(),
            })?;
        Ok((size, leaf, proof, root))
    }

    /// Accepts a witness's cosignature line on the checkpoint signed at `size` (witnesses
    /// that pull); only configured witness keys count.
    pub async fn add_cosignature(&self, caller: &Caller, size: u64, line: String) -> Result<String> {
        let change = Change::new("audit.cosignature", None, Action::ReadCheckpoints, Refusal::Hidden);
        let reasons = self.gate.check(caller, &change).await?;
        let (audit, witnesses) = (Arc::clone(&self.audit), Arc::clone(&self.witnesses));
        let accepted = tokio::task::spawn_blocking(move || audit.accept_cosignature(size, &line, &witnesses))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| jsms_domain::ValidationError::new("", e))?;
        let mut record = change;
        record.justification = Some(format!("checkpoint {size} cosigned by {accepted}"));
        self.gate.record_permit(caller, &record, reasons).await.map(drop)?;
        Ok(accepted)
    }

    /// Entries `from` onwards, at most `limit` (1–1000), and the log's size now.
    pub async fn log_entries(&self, caller: &Caller, from: u64, limit: u64) -> Result<(Vec<StoredEntry>, u64)> {
        let read = Change::new("audit.entries", None, Action::ReadAuditLog, AUDITORS);
        self.gate.permit(caller, read).await.map(drop)?;
        if !(1..=1000).contains(&limit) {
            return Err(Error::InvalidParameter {
                field: "/limit".into(),
                detail: "limit must be 1 to 1000".into(),
            });
        }
        let size = self.audit.size();
        let to = from.saturating_add(limit).min(size);
        let stored = self.log_read(move |db| db.entries(from, to)).await?;
        Ok((stored, size))
    }

    /// Who accessed `resource`'s protected fields between two times (Unix ms), oldest
    /// first (auditors). A movement's details are its sealed plan: who knew the movement is
    /// who read either.
    pub async fn who_knew(&self, caller: &Caller, resource: Resource, from_ms: i64, to_ms: i64) -> Result<Vec<Access>> {
        let read = Change::new("audit.who_knew", Some(resource), Action::ReadAuditLog, AUDITORS);
        self.gate.permit(caller, read).await.map(drop)?;
        let mut resources = vec![resource];
        if let Resource::Movement(m) = resource {
            resources.push(Resource::MovementPlan(m));
        }
        self.accesses(resources, from_ms, to_ms).await
    }

    /// The accesses to `resources` between two times (Unix ms), in log order, each checked
    /// against the entry's own data.
    pub(crate) async fn accesses(&self, resources: Vec<Resource>, from_ms: i64, to_ms: i64) -> Result<Vec<Access>> {
        let names: Vec<String> = resources.iter().map(ToString::to_string).collect();
        let stored = self
            .log_read(move |db| {
                let mut all = Vec::new();
                for r in &names {
                    all.extend(db.entries_about(r, from_ms, to_ms)?);
                }
                all.sort_by_key(|e| e.idx);
                Ok(all)
            })
            .await?;
        let mut out = Vec::new();
        for s in stored {
            let e = AuditEntry::from_bytes(&s.data)
                .map_err(|err| Error::Internal(format!("audit entry {}: {err}", s.idx)))?;
            if !is_access(&e) {
                continue;
            }
            let fields = if e.fields.is_empty() {
                vec!["plan".to_owned()]
            } else {
                e.fields
            };
            out.push(Access {
                principal: e.principal,
                name: e.principal_name,
                party: e.party,
                time: crate::rfc3339(e.time_ms.div_euclid(1000)),
                action: e.action,
                channel: e.channel,
                fields,
                index: s.idx,
            });
        }
        Ok(out)
    }
}
