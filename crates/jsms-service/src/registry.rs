//! The registry: parties, organisations, protected persons and sites.
//!
//! Persons and sites are protected data: read only through the gate (one entry per person
//! or site disclosed; personal data as a part of its own, decided separately). Parties and
//! organisations are shared knowledge in a joint system: reading them is decided (and a
//! denial recorded) but discloses nothing protected. Every change is decided and recorded
//! before it is made.

use crate::error::{Result, referenced};
use crate::gate::{Change, Disclosed, Part, Protected, Refusal, Resource};
use crate::{Caller, Services};
use jsms_domain::ValidationError;
use jsms_domain::access::{Action, PersonScope};
use jsms_domain::ids::{OrgId, PartyId, PersonId, SiteId};
use jsms_domain::registry::{
    PersonDraft, PersonStatus, PersonalData, ProtectionLevel, SecurityPosture, Site, SiteDraft, SiteKind,
};
use jsms_domain::user::{OrgKind, Organisation, OrganisationDraft, Party};
use jsms_store::{Page, PageRequest, PersonRecord};

/// The parts of a protected person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonPart {
    /// Name, employer, site, protection level, status.
    Record,
    /// Passport number, phone, date of birth, home address.
    PersonalData,
}

/// The fields of a person every reader sees.
pub const PERSON_FIELDS: &[&str] = &[
    "full_name",
    "nationality",
    "employer_org_id",
    "assigned_site_id",
    "protection_level",
    "status",
    "version",
];

impl Protected for PersonRecord {
    type Part = PersonPart;

    fn parts(&self) -> Vec<Part<PersonPart>> {
        let (person, org, party) = (
            self.person.id,
            self.person.draft.employer_org_id,
            self.employer_party_id,
        );
        vec![
            Part {
                part: PersonPart::Record,
                resource: Resource::Person(person),
                action: Action::ReadPerson { person, org, party },
                log: "person.read",
                fields: PERSON_FIELDS,
            },
            Part {
                part: PersonPart::PersonalData,
                resource: Resource::Person(person),
                action: Action::ReadPersonalData { person, org, party },
                log: "person.read",
                fields: &["personal_data"],
            },
        ]
    }

    fn redact(&mut self, allowed: &[PersonPart]) {
        if !allowed.contains(&PersonPart::PersonalData) {
            self.person.draft.personal_data = PersonalData::default();
        }
    }
}

/// The one part of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SitePart {
    /// Everything (its notes included).
    Record,
}

impl Protected for Site {
    type Part = SitePart;

    fn parts(&self) -> Vec<Part<SitePart>> {
        vec![Part {
            part: SitePart::Record,
            resource: Resource::Site(self.id),
            action: Action::ReadSites,
            log: "site.read",
            fields: &["name", "kind", "location", "perimeter", "posture", "notes"],
        }]
    }

    fn redact(&mut self, _allowed: &[SitePart]) {}
}

/// Personal data as entered (validated against the service's date).
#[derive(Debug, Clone, Default)]
pub struct PersonalDataInput {
    /// Passport number.
    pub passport_number: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<time::Date>,
    /// Home address.
    pub home_address: Option<String>,
}

/// A new protected person.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// Full name.
    pub full_name: String,
    /// Nationality.
    pub nationality: Option<String>,
    /// Employer.
    pub employer: OrgId,
    /// Assigned site.
    pub assigned_site: Option<SiteId>,
    /// Protection level.
    pub protection_level: ProtectionLevel,
    /// Status.
    pub status: PersonStatus,
    /// Personal data.
    pub personal_data: Option<PersonalDataInput>,
}

/// Changes to a person; `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct PersonPatch {
    /// Full name.
    pub full_name: Option<String>,
    /// Nationality.
    pub nationality: Option<Option<String>>,
    /// Employer.
    pub employer: Option<OrgId>,
    /// Assigned site.
    pub assigned_site: Option<Option<SiteId>>,
    /// Protection level.
    pub protection_level: Option<ProtectionLevel>,
    /// Status.
    pub status: Option<PersonStatus>,
    /// Personal data (replaced as a whole).
    pub personal_data: Option<Option<PersonalDataInput>>,
}

/// Changes to a site; `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct SitePatch {
    /// Owner.
    pub owner: Option<OrgId>,
    /// Name.
    pub name: Option<String>,
    /// Kind.
    pub kind: Option<SiteKind>,
    /// Location.
    pub location: Option<jsms_domain::geo::Coordinate>,
    /// Perimeter.
    pub perimeter: Option<Option<jsms_domain::geo::Polygon>>,
    /// Posture.
    pub posture: Option<SecurityPosture>,
    /// Notes.
    pub notes: Option<Option<String>>,
}

/// How reading shared registry knowledge (parties, organisations) is refused to a token
/// without the scope.
const NO_REGISTRY: Refusal = Refusal::Forbidden("token lacks registry_read");

impl Services {
    fn personal_data(&self, input: Option<&PersonalDataInput>) -> Result<PersonalData> {
        let Some(w) = input else {
            return Ok(PersonalData::default());
        };
        let today = time::OffsetDateTime::from_unix_timestamp(self.clock.now())
            .map(|t| t.date())
            .map_err(|_| ValidationError::new("", "the server clock is out of range"))?;
        Ok(PersonalData::new(
            w.passport_number.as_deref(),
            w.phone.as_deref(),
            w.date_of_birth,
            w.home_address.as_deref(),
            today,
        )?)
    }

    /// The parties of this deployment.
    pub async fn parties(&self, caller: &Caller) -> Result<Vec<Party>> {
        let read = Change::new("party.list", None, Action::ReadOrganisations, NO_REGISTRY);
        self.gate.check(caller, &read).await?;
        self.db(|s| s.parties()).await
    }

    /// A page of organisations, optionally of one party.
    pub async fn organisations(
        &self,
        caller: &Caller,
        party: Option<PartyId>,
        page: PageRequest,
    ) -> Result<Page<Organisation>> {
        let read = Change::new("organisation.list", None, Action::ReadOrganisations, NO_REGISTRY);
        self.gate.check(caller, &read).await?;
        self.db(move |s| s.orgs(party, &page)).await
    }

    /// One organisation.
    pub async fn organisation(&self, caller: &Caller, id: OrgId) -> Result<Organisation> {
        let read = Change::new(
            "organisation.read",
            Some(Resource::Organisation(id)),
            Action::ReadOrganisations,
            Refusal::Hidden,
        );
        self.gate.check(caller, &read).await?;
        self.db(move |s| s.org(id)).await
    }

    /// Creates an organisation in the caller's party (its administrators).
    pub async fn create_organisation(&self, caller: &Caller, name: &str, kind: OrgKind) -> Result<Organisation> {
        let party = caller.actor.party_id;
        let change = Change::new(
            "organisation.create",
            None,
            Action::ManageOrganisation { party },
            Refusal::Forbidden("only party administrators create organisations"),
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let draft = OrganisationDraft::new(name, kind)?;
        let now = self.clock.now();
        self.write(caller, &change, permit, move |s| s.create_org(party, &draft, now))
            .await
    }

    /// Changes an organisation of the caller's party.
    pub async fn update_organisation(
        &self,
        caller: &Caller,
        id: OrgId,
        version: i64,
        name: Option<&str>,
        kind: Option<OrgKind>,
    ) -> Result<Organisation> {
        let org = self.db(move |s| s.org(id)).await?;
        let change = Change::new(
            "organisation.update",
            Some(Resource::Organisation(id)),
            Action::ManageOrganisation { party: org.party_id },
            Refusal::Forbidden("administrators change only their own party's organisations"),
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        let draft = OrganisationDraft::new(name.unwrap_or(&org.name), kind.unwrap_or(org.kind))?;
        let now = self.clock.now();
        self.write(caller, &change, permit, move |s| s.update_org(id, version, &draft, now))
            .await
    }

    /// Deletes an organisation of the caller's party that nothing refers to.
    pub async fn delete_organisation(&self, caller: &Caller, id: OrgId, version: i64) -> Result<()> {
        let org = self.db(move |s| s.org(id)).await?;
        let change = Change::new(
            "organisation.delete",
            Some(Resource::Organisation(id)),
            Action::ManageOrganisation { party: org.party_id },
            Refusal::Forbidden("administrators delete only their own party's organisations"),
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        self.write(caller, &change, permit, move |s| s.delete_org(id, version))
            .await
    }

    /// The protected persons the caller may see, one page: scanned in id order, bounded work
    /// per request; the cursor continues the scan (a page may hold fewer than asked).
    pub async fn persons(
        &self,
        caller: &Caller,
        page: PageRequest,
        summary: bool,
    ) -> Result<(Vec<Disclosed<PersonRecord>>, Option<uuid::Uuid>)> {
        let limit = page.limit as usize;
        let mut items = Vec::new();
        let mut after = page.after;
        let mut scanned = 0usize;
        let next = loop {
            let request = PageRequest {
                after,
                limit: 200,
                q: page.q.clone(),
            };
            let batch = self.db(move |s| s.persons(PersonScope::All, &request)).await?;
            let exhausted = batch.next.is_none();
            let mut full = false;
            for r in batch.items {
                after = Some(r.person.id.uuid());
                scanned += 1;
                if self.gate.may_see(&caller.actor, &r) {
                    items.push(r);
                    if items.len() == limit {
                        full = true;
                        break;
                    }
                }
            }
            if full || (!exhausted && scanned >= 2000) {
                break after;
            }
            if exhausted {
                break None;
            }
        };
        let wanted: &[PersonPart] = if summary {
            &[PersonPart::Record]
        } else {
            &[PersonPart::Record, PersonPart::PersonalData]
        };
        Ok((self.gate.disclose_all_only(caller, items, wanted).await?, next))
    }

    /// One protected person.
    pub async fn person(&self, caller: &Caller, id: PersonId) -> Result<Disclosed<PersonRecord>> {
        let record = self
            .by_id(caller, "person.read", Resource::Person(id), move |s| s.person(id))
            .await?;
        self.gate.disclose(caller, record).await
    }

    /// One protected person without personal data (name, employer, level, status): for a
    /// page that shows who is concerned, recorded without the `personal_data` field.
    pub async fn person_summary(&self, caller: &Caller, id: PersonId) -> Result<Disclosed<PersonRecord>> {
        let record = self
            .by_id(caller, "person.read", Resource::Person(id), move |s| s.person(id))
            .await?;
        self.gate.disclose_only(caller, record, &[PersonPart::Record]).await
    }

    async fn check_site(&self, site: Option<SiteId>, field: &str) -> Result<()> {
        if let Some(id) = site {
            referenced(self.db(move |s| s.site(id)).await, field, "site")?;
        }
        Ok(())
    }

    /// Registers a protected person (company officers for their company; host coordinators).
    pub async fn create_person(&self, caller: &Caller, new: NewPerson) -> Result<Disclosed<PersonRecord>> {
        let change = Change::new(
            "person.create",
            None,
            Action::WritePerson { org: new.employer },
            Refusal::Forbidden("you may register persons only for your own company"),
        );
        let permit = self.gate.check(caller, &change).await?;
        self.check_site(new.assigned_site, "/assigned_site_id").await?;
        let draft = PersonDraft::new(
            &new.full_name,
            new.nationality.as_deref(),
            new.employer,
            new.assigned_site,
            new.protection_level,
            new.status,
            self.personal_data(new.personal_data.as_ref())?,
        )?;
        let permit = self.gate.record_permit(caller, &change, permit).await?;
        let now = self.clock.now();
        let record = self
            .write(caller, &change, permit, move |s| s.create_person(&draft, now))
            .await?;
        self.gate.disclose(caller, record).await
    }

    /// Changes a protected person the caller may see and write.
    pub async fn update_person(
        &self,
        caller: &Caller,
        id: PersonId,
        version: i64,
        patch: PersonPatch,
    ) -> Result<Disclosed<PersonRecord>> {
        let record = self.db(move |s| s.person(id)).await?;
        self.hidden_unless_visible(caller, &record, "person.update").await?;
        let current = record.person.draft;
        let resource = Some(Resource::Person(id));
        let refusal = Refusal::Forbidden("you may not change this person");
        let change = Change::new(
            "person.update",
            resource,
            Action::WritePerson {
                org: current.employer_org_id,
            },
            refusal,
        );
        let reasons = self.gate.check(caller, &change).await?;
        let employer = patch.employer.unwrap_or(current.employer_org_id);
        if employer != current.employer_org_id {
            let moved = Change::new(
                "person.update",
                resource,
                Action::WritePerson { org: employer },
                Refusal::Forbidden("you may not move persons to that employer"),
            );
            self.gate.check(caller, &moved).await?;
        }
        let assigned = patch.assigned_site.unwrap_or(current.assigned_site_id);
        let new_site = assigned.filter(|s| Some(*s) != current.assigned_site_id);
        self.check_site(new_site, "/assigned_site_id").await?;
        let personal_data = match &patch.personal_data {
            Some(v) => self.personal_data(v.as_ref())?,
            None => current.personal_data.clone(),
        };
        let nationality = patch.nationality.clone().unwrap_or(current.nationality.clone());
        let draft = PersonDraft::new(
            patch.full_name.as_deref().unwrap_or(&current.full_name),
            nationality.as_deref(),
            employer,
            assigned,
            patch.protection_level.unwrap_or(current.protection_level),
            patch.status.unwrap_or(current.status),
            personal_data,
        )?;
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        let updated = self
            .write(caller, &change, permit, move |s| {
                s.update_person(id, version, &draft, now)
            })
            .await?;
        self.gate.disclose(caller, updated).await
    }

    /// Deletes a protected person the caller may see and write.
    pub async fn delete_person(&self, caller: &Caller, id: PersonId, version: i64) -> Result<()> {
        let record = self.db(move |s| s.person(id)).await?;
        self.hidden_unless_visible(caller, &record, "person.delete").await?;
        let change = Change::new(
            "person.delete",
            Some(Resource::Person(id)),
            Action::WritePerson {
                org: record.person.draft.employer_org_id,
            },
            Refusal::Forbidden("you may not delete this person"),
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        self.write(caller, &change, permit, move |s| s.delete_person(id, version))
            .await
    }

    /// Refuses (as not found, recording the denial as `log`) a change of an object the
    /// caller may not even see.
    async fn hidden_unless_visible<T: Protected>(&self, caller: &Caller, value: &T, log: &'static str) -> Result<()> {
        let Some(first) = value.parts().into_iter().next() else {
            return Ok(());
        };
        let change = Change::new(log, Some(first.resource), first.action, Refusal::Hidden);
        self.gate.check(caller, &change).await.map(|_| ())
    }

    /// A page of sites.
    pub async fn sites(&self, caller: &Caller, page: PageRequest) -> Result<Page<Disclosed<Site>>> {
        let list = Change::new(
            "site.list",
            None,
            Action::ReadSites,
            Refusal::Forbidden("your role does not read sites"),
        );
        self.gate.check(caller, &list).await?;
        let result = self.db(move |s| s.sites(&page)).await?;
        Ok(Page {
            items: self.gate.disclose_all(caller, result.items).await?,
            next: result.next,
        })
    }

    /// One site.
    pub async fn site(&self, caller: &Caller, id: SiteId) -> Result<Disclosed<Site>> {
        let site = self.site_record(caller, id, "site.read").await?;
        self.gate.disclose(caller, site).await
    }

    /// A site the caller may see (a denial recorded as `log` and answered as not found).
    async fn site_record(&self, caller: &Caller, id: SiteId, log: &'static str) -> Result<Site> {
        let read = Change::new(log, Some(Resource::Site(id)), Action::ReadSites, Refusal::Hidden);
        self.gate.check(caller, &read).await?;
        self.db(move |s| s.site(id)).await
    }

    async fn check_org(&self, org: OrgId, field: &str) -> Result<()> {
        referenced(self.db(move |s| s.org(org)).await, field, "organisation")?;
        Ok(())
    }

    /// Creates a site (host coordinators; company officers for their own company).
    pub async fn create_site(&self, caller: &Caller, draft: SiteDraft) -> Result<Disclosed<Site>> {
        let change = Change::new(
            "site.create",
            None,
            Action::WriteSite {
                org: draft.owner_org_id,
            },
            Refusal::Forbidden("you may not create sites for that organisation"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        self.check_org(draft.owner_org_id, "/owner_org_id").await?;
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        let site = self
            .write(caller, &change, permit, move |s| s.create_site(&draft, now))
            .await?;
        self.gate.disclose(caller, site).await
    }

    /// Changes a site.
    pub async fn update_site(
        &self,
        caller: &Caller,
        id: SiteId,
        version: i64,
        patch: SitePatch,
    ) -> Result<Disclosed<Site>> {
        let site = self.site_record(caller, id, "site.update").await?;
        let current = site.draft;
        let resource = Some(Resource::Site(id));
        let change = Change::new(
            "site.update",
            resource,
            Action::WriteSite {
                org: current.owner_org_id,
            },
            Refusal::Forbidden("you may not change this site"),
        );
        let reasons = self.gate.check(caller, &change).await?;
        let owner = patch.owner.unwrap_or(current.owner_org_id);
        if owner != current.owner_org_id {
            let given = Change::new(
                "site.update",
                resource,
                Action::WriteSite { org: owner },
                Refusal::Forbidden("you may not give the site to that organisation"),
            );
            self.gate.check(caller, &given).await?;
            self.check_org(owner, "/owner_org_id").await?;
        }
        let notes = patch.notes.clone().unwrap_or(current.notes.clone());
        let draft = SiteDraft::new(
            owner,
            patch.name.as_deref().unwrap_or(&current.name),
            patch.kind.unwrap_or(current.kind),
            patch.location.unwrap_or(current.location),
            patch.perimeter.clone().unwrap_or(current.perimeter.clone()),
            patch.posture.unwrap_or(current.posture),
            notes.as_deref(),
        )?;
        let permit = self.gate.record_permit(caller, &change, reasons).await?;
        let now = self.clock.now();
        let updated = self
            .write(caller, &change, permit, move |s| {
                s.update_site(id, version, &draft, now)
            })
            .await?;
        self.gate.disclose(caller, updated).await
    }

    /// Deletes a site no person is assigned to.
    pub async fn delete_site(&self, caller: &Caller, id: SiteId, version: i64) -> Result<()> {
        let site = self.site_record(caller, id, "site.delete").await?;
        let change = Change::new(
            "site.delete",
            Some(Resource::Site(id)),
            Action::WriteSite {
                org: site.draft.owner_org_id,
            },
            Refusal::Forbidden("you may not delete this site"),
        );
        let permit = self.gate.permit(caller, change.clone()).await?;
        self.write(caller, &change, permit, move |s| s.delete_site(id, version))
            .await
    }
}
