//! Typed identifiers. Ids are UUIDv7, so they sort by creation time and serve as cursors.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
            /// Wraps an existing UUID (from storage or a parsed path).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            /// The UUID inside.
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// Identifies a party (a sovereign participant, e.g. the host nation).
    PartyId,
    /// Identifies an organisation (agency, embassy office, company).
    OrgId,
    /// Identifies a user.
    UserId,
    /// Identifies a protected person.
    PersonId,
    /// Identifies a site.
    SiteId,
    /// Identifies an API token.
    ApiTokenId,
    /// Identifies a movement.
    MovementId,
    /// Identifies an escort team.
    EscortTeamId,
);
