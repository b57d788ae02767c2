//! The audit entry: one JSON object per leaf. The leaf data is exactly the stored bytes, so
//! verification never depends on re-serialising; `seq` inside the entry binds it to its
//! position, so reordered or inserted rows are caught even before the tree is recomputed.

use serde::{Deserialize, Serialize};

/// The decision recorded with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Access allowed or action succeeded.
    Allow,
    /// Access denied or action refused.
    Deny,
    /// An event without a decision (e.g. a sign-out).
    Info,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Position in the log (0-based), equal to the leaf index.
    pub seq: u64,
    /// Time in Unix milliseconds.
    pub time_ms: i64,
    /// Who: `user:<id>`, `token:<id>`, `anonymous`, `system`, `cli`.
    pub principal: String,
    /// The principal's username or token name at the time, for readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// The principal's party code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// What: `person.read`, `auth.sign_in`, `user.disable`, …
    pub action: String,
    /// On what: `person:<id>`, `user:<id>`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The decision.
    pub outcome: Outcome,
    /// Policies or rules that decided, and other reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Fields of the resource disclosed by an allowed read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Channel: `api`, `cli`, `system`.
    pub channel: String,
    /// A justification given by the principal (break-glass reasons, rejections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

impl Outcome {
    /// The name stored in the index column.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Info => "info",
        }
    }
}

/// The columns stored beside an entry so that the log can be searched by resource and
/// principal. The Merkle tree covers only the entry itself: verification and start-up
/// compare these columns with the entry, and queries re-check every row they return
/// against the entry's own data, so an edited column cannot change an answer unnoticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexColumns {
    /// As in the entry.
    pub time_ms: i64,
    /// As in the entry.
    pub principal: String,
    /// As in the entry.
    pub action: String,
    /// As in the entry.
    pub resource: Option<String>,
    /// [`Outcome::as_str`] of the entry's outcome.
    pub outcome: String,
}

impl AuditEntry {
    /// The index columns this entry must be stored with.
    pub fn index_columns(&self) -> IndexColumns {
        IndexColumns {
            time_ms: self.time_ms,
            principal: self.principal.clone(),
            action: self.action.clone(),
            resource: self.resource.clone(),
            outcome: self.outcome.as_str().to_owned(),
        }
    }

    /// The leaf data.
    pub fn to_bytes(&self) -> Vec<u8> {
        // PANIC SAFETY: serialising a struct of strings and numbers to JSON cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses leaf data.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
