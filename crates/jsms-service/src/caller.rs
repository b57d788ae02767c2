//! Who is calling, as the service sees it: the attributes the authorization component
//! decides on ([`Actor`]), the user behind a human caller, how the audit log names the
//! caller ([`Who`]) and where the request came from ([`Origin`]).

use crate::error::{Error, Result};
use jsms_domain::access::Actor;
use jsms_domain::user::User;

/// How an audit entry names its principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// `user:<id>`, `token:<id>`, `system:<what>`, `anonymous`.
    pub principal: String,
    /// Username or token name.
    pub name: Option<String>,
    /// Party code.
    pub party: Option<String>,
}

impl Who {
    /// A part of the server acting on its own (`system:<what>`), e.g. the release scheduler.
    pub fn system(what: &str, name: &str) -> Self {
        Self {
            principal: format!("system:{what}"),
            name: Some(name.to_owned()),
            party: None,
        }
    }

    /// An unauthenticated caller that claimed `name` (e.g. a failed sign-in).
    pub fn anonymous(name: Option<&str>) -> Self {
        Self {
            principal: "anonymous".into(),
            name: name.map(str::to_owned),
            party: None,
        }
    }
}

/// Where a request came from, for the audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The request id (also in the response header and the logs).
    pub request_id: Option<String>,
    /// The client's address.
    pub client: String,
    /// `api`, `system`, …
    pub channel: &'static str,
}

impl Origin {
    /// Work the server does on its own (schedulers, detectors).
    pub fn internal() -> Self {
        Self {
            request_id: None,
            client: "internal".into(),
            channel: "system",
        }
    }

    /// A tracking device reporting over the tracking API (token-authenticated).
    pub fn device() -> Self {
        Self {
            request_id: None,
            client: "device".into(),
            channel: "tracking",
        }
    }
}

/// An authenticated caller: a user whose session passed MFA, or an API token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Attributes for access decisions.
    pub actor: Actor,
    /// The user, for human callers.
    pub user: Option<User>,
    /// How audit entries name the caller.
    pub who: Who,
    /// Where the request came from.
    pub origin: Origin,
}

impl Caller {
    /// The human user, or a refusal for machine callers.
    pub fn human(&self) -> Result<&User> {
        self.user
            .as_ref()
            .ok_or(Error::Forbidden("this endpoint is for signed-in users, not API tokens"))
    }
}
