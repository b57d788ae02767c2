//! Threat zones (PRODUCT §3.3): each party changes only the zones it created; every zone
//! read is a disclosure through the gate; a change reaches the trackers of movements under
//! way and re-evaluates every watched route before the call returns.

use crate::error::{Result, referenced};
use crate::gate::{Change, Disclosed, Part, Protected, Refusal, Resource};
use crate::{Caller, Services};
use jsms_domain::ValidationError;
use jsms_domain::access::Action;
use jsms_domain::zone::ThreatZone;
use jsms_store::ZoneRecord;
use uuid::Uuid;

/// The one part of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZonePart {
    /// Shape, severity, kind, validity, source, notes.
    Record,
}

impl Protected for ZoneRecord {
    type Part = ZonePart;

    fn parts(&self) -> Vec<Part<ZonePart>> {
        vec![Part {
            part: ZonePart::Record,
            resource: Resource::Zone(self.id),
            action: Action::ReadZones,
            log: "zone.read",
            fields: &["shape", "severity", "kind", "validity", "source", "notes"],
        }]
    }

    fn redact(&mut self, _allowed: &[ZonePart]) {}
}

/// A zone as entered.
#[derive(Debug, Clone)]
pub struct ZoneInput {
    /// Shape, severity, kind, validity.
    pub zone: ThreatZone,
    /// Where the information comes from.
    pub source: String,
    /// Notes.
    pub notes: Option<String>,
}

fn create_change(caller: &Caller, id: Option<Uuid>) -> Change {
    Change::new(
        "zone.create",
        id.map(Resource::Zone),
        Action::WriteZone {
            party: caller.actor.party_id,
        },
        Refusal::Forbidden("only analysts and host coordinators create threat zones"),
    )
}

const WRITERS_ONLY: Refusal = Refusal::Forbidden("only the party that created a zone changes it");

impl Services {
    /// Every zone, each disclosed.
    pub async fn zones(&self, caller: &Caller) -> Result<Vec<Disclosed<ZoneRecord>>> {
        let list = Change::new(
            "zone.list",
            None,
            Action::ReadZones,
            Refusal::Forbidden("your role does not read threat zones"),
        );
        self.gate.check(caller, &list).await?;
        let zones = self.db(|s| s.zones()).await?;
        self.gate.disclose_all(caller, zones).await
    }

    /// A zone the caller may read (a denial recorded as `log`, answered as not found).
    async fn zone_record(&self, caller: &Caller, id: Uuid, log: &'static str) -> Result<ZoneRecord> {
        let read = Change::new(log, Some(Resource::Zone(id)), Action::ReadZones, Refusal::Hidden);
        self.gate.check(caller, &read).await?;
        self.db(move |s| s.zone(id)).await
    }

    /// One zone.
    pub async fn zone(&self, caller: &Caller, id: Uuid) -> Result<Disclosed<ZoneRecord>> {
        let z = self.zone_record(caller, id, "zone.read").await?;
        self.gate.disclose(caller, z).await
    }

    /// Creates a zone of the caller's party; the watched routes it crosses are flagged
    /// before this returns.
    pub async fn create_zone(&self, caller: &Caller, input: ZoneInput) -> Result<Disclosed<ZoneRecord>> {
        let record = self.store_new_zone(caller, input).await?;
        self.gate.disclose(caller, record).await
    }

    /// Decides, records and stores a new zone, and re-evaluates (no disclosure: for callers
    /// that answer with something else, e.g. a threat report that created it).
    pub async fn store_new_zone(&self, caller: &Caller, input: ZoneInput) -> Result<ZoneRecord> {
        let party = caller.actor.party_id;
        let id = Uuid::now_v7();
        let change = create_change(caller, Some(id));
        let permit = self.gate.permit(caller, change.clone()).await?;
        let record = ZoneRecord {
            id,
            owner_party: party,
            zone: input.zone,
            source: input.source,
            notes: input.notes,
            version: 1,
        };
        let now = self.clock.now();
        let r = record.clone();
        self.write(caller, &change, permit, move |s| s.create_zone(&r, now))
            .await?;
        self.reevaluate(&record, now).await?;
        Ok(record)
    }

    /// Decides whether `caller` may create a zone, before its input is validated (a denial
    /// is recorded and answered; nothing else happens).
    pub async fn check_zone_write(&self, caller: &Caller) -> Result<()> {
        self.gate.check(caller, &create_change(caller, None)).await.map(drop)
    }

    /// Replaces a zone (its owning party only).
    pub async fn replace_zone(
        &self,
        caller: &Caller,
        id: Uuid,
        version: i64,
        input: ZoneInput,
    ) -> Result<Disclosed<ZoneRecord>> {
        let current = self.zone_record(caller, id, "zone.update").await?;
        let change = Change::new(
            "zone.update",
            Some(Resource::Zone(id)),
            Action::WriteZone {
                party: current.owner_party,
            },
            WRITERS_ONLY,
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let record = ZoneRecord {
            zone: input.zone,
            source: input.source,
            notes: input.notes,
            ..current
        };
        let now = self.clock.now();
        let updated = self
            .write(caller, &change, permit, move |s| s.update_zone(&record, version, now))
            .await?;
        self.reevaluate(&updated, now).await?;
        self.gate.disclose(caller, updated).await
    }

    /// Deletes a zone (its owning party only).
    pub async fn delete_zone(&self, caller: &Caller, id: Uuid, version: i64) -> Result<()> {
        let current = self.zone_record(caller, id, "zone.delete").await?;
        let change = Change::new(
            "zone.delete",
            Some(Resource::Zone(id)),
            Action::WriteZone {
                party: current.owner_party,
            },
            Refusal::Forbidden("only the party that created a zone deletes it"),
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        self.write(caller, &change, permit, move |s| s.delete_zone(id, version))
            .await?;
        self.refresh_trackers().await
    }

    /// Checks that `caller` may raise zone `id` to `severity` (authorized, above its current
    /// severity) without changing anything; errors name `field`. Returns the zone and the
    /// allowing policies.
    pub async fn check_raise(
        &self,
        caller: &Caller,
        id: Uuid,
        severity: u8,
        field: &str,
    ) -> Result<(ZoneRecord, Vec<String>)> {
        let current = referenced(self.db(move |s| s.zone(id)).await, field, "threat zone")?;
        let change = Change::new(
            "zone.update",
            Some(Resource::Zone(id)),
            Action::WriteZone {
                party: current.owner_party,
            },
            WRITERS_ONLY,
        );
        let reasons = self.gate.check(caller, &change).await?;
        if !(1..=5).contains(&severity) {
            return Err(ValidationError::new(format!("{field}/raise_to"), "severity is 1 (low) to 5 (extreme)").into());
        }
        if severity <= current.zone.severity {
            return Err(ValidationError::new(
                format!("{field}/raise_to"),
                format!(
                    "the zone is at severity {} already: raise it above",
                    current.zone.severity
                ),
            )
            .into());
        }
        Ok((current, reasons))
    }

    /// Raises a zone's severity (never lowers it): the owning party only, recorded with
    /// `why`, the watched routes re-evaluated. Errors name `field`.
    pub async fn raise_zone(
        &self,
        caller: &Caller,
        id: Uuid,
        severity: u8,
        field: &str,
        why: &str,
    ) -> Result<ZoneRecord> {
        let (current, mut reasons) = self.check_raise(caller, id, severity, field).await?;
        reasons.push(format!("severity {} → {severity}: {why}", current.zone.severity));
        let change = Change::new(
            "zone.update",
            Some(Resource::Zone(id)),
            Action::WriteZone {
                party: current.owner_party,
            },
            WRITERS_ONLY,
        );
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let mut record = current.clone();
        record.zone.severity = severity;
        let (now, version) = (self.clock.now(), current.version);
        let updated = self
            .write(caller, &change, permit, move |s| s.update_zone(&record, version, now))
            .await?;
        self.reevaluate(&updated, now).await?;
        Ok(updated)
    }

    /// Hands the current zones to the trackers of movements under way.
    async fn refresh_trackers(&self) -> Result<()> {
        let zones = self.db(|s| s.zones()).await?;
        self.tracking.refresh_zones(&zones);
        Ok(())
    }

    /// Flags the watched routes a stored zone now crosses ([`crate::reeval`]), on the
    /// movements themselves, and alerts movements under way, before the call returns.
    async fn reevaluate(&self, record: &ZoneRecord, now: i64) -> Result<()> {
        self.refresh_trackers().await?;
        let affected = self
            .route_watch
            .zone_changed(record.id, record.version, &record.zone, now);
        for a in &affected {
            tracing::warn!(owner = %a.owner, zone = %a.zone_id, severity = a.severity, inside_m = a.inside_m, "a planned route crosses a changed threat zone");
        }
        self.flag_affected(&affected).await?;
        self.route_affected_alerts(&affected).await
    }
}
