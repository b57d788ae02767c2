//! The store conformance suite: the contract every backend of [`Store`] keeps, checked only
//! through the trait. A backend's test calls [`run`] with a function that opens a fresh,
//! empty store (SQLite: `tests/sqlite.rs`; a PostgreSQL backend includes this file with
//! `#[path]` and runs the same cases).
//!
//! The contract, as the service layer relies on it:
//! - every record carries a version starting at 1; an update or delete with another version
//!   fails with `Stale { current }` and changes nothing; a missing record is `NotFound`;
//! - names that must be unique (organisations of a party, usernames) fail with `Conflict`;
//!   references to missing or wrong records with `UnknownReference`; deleting a referenced
//!   record with `InUse`;
//! - pages are in id order, complete (every item exactly once across the pages), and end
//!   with no cursor; `q` matches a case-insensitive substring;
//! - personal data and TOTP secrets round-trip exactly (sealing is the backend's duty: it
//!   never stores them in plaintext);
//! - a TOTP step is accepted once and never an older one;
//! - approving a privilege request applies its change and marks it decided in one
//!   transaction: a request whose change no longer applies (a stale version) is refused
//!   and stays pending, and the user is unchanged;
//! - sequences (`position_events_after`, `alerts_after`) are strictly increasing and
//!   resumable: reading after the last one seen returns exactly the later items — whatever
//!   the backend uses to number them (no SQLite rowid semantics are assumed);
//! - duplicate positions (same device and time) are dropped; a second open alert of the
//!   same kind on a movement is suppressed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use jsms_domain::access::PersonScope;
use jsms_domain::geo::Coordinate;
use jsms_domain::ids::{EscortTeamId, MovementId, OrgId, PartyId, UserId};
use jsms_domain::movement::{Endpoint, Leg, MovementRequest, MovementState};
use jsms_domain::registry::{
    PersonDraft, PersonStatus, PersonalData, ProtectionLevel, SecurityPosture, SiteDraft, SiteKind,
};
use jsms_domain::tracking::Position;
use jsms_domain::user::{
    Clearance, OrgKind, OrganisationDraft, Party, PartyCode, PartyKind, Role, UserProfile, Username,
};
use jsms_identity::totp::TotpSecret;
use jsms_store::{
    AlertRecord, Device, EscortTeam, MovementBody, MovementRecord, NewGrant, NewPositions, NewUser, PageRequest,
    PrivilegeChange, PrivilegeRequest, PrivilegeState, SessionRecord, Store, StoreError,
};

/// One case of the contract.
pub type Case = fn(&dyn Store);

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    ("versions and unique names", versions_and_unique_names),
    ("references and deletions", references_and_deletions),
    ("pages are complete and ordered", pages_are_complete_and_ordered),
    ("secrets round-trip, steps once, sessions", secrets_steps_and_sessions),
    ("privilege approval is atomic", privilege_approval_is_atomic),
    ("position sequence is resumable", position_sequence_is_resumable),
    (
        "alerts are deduplicated and sequenced",
        alerts_are_deduplicated_and_sequenced,
    ),
];

/// Runs every case, each on a fresh store from `open`.
pub fn run(open: &dyn Fn() -> Box<dyn Store>) {
    for (name, case) in CASES {
        eprintln!("conformance: {name}");
        let store = open();
        case(store.as_ref());
    }
}

fn party(store: &dyn Store, code: &str, kind: PartyKind) -> PartyId {
    let p = Party {
        id: PartyId::generate(),
        code: PartyCode::parse(code).unwrap(),
        name: code.into(),
        kind,
    };
    store.create_party(&p, 0).unwrap();
    p.id
}

fn org(store: &dyn Store, party: PartyId, name: &str, kind: OrgKind) -> OrgId {
    store
        .create_org(party, &OrganisationDraft::new(name, kind).unwrap(), 0)
        .unwrap()
        .id
}

fn user(store: &dyn Store, org: OrgId, name: &str, roles: Vec<Role>, totp: Option<TotpSecret>) -> UserId {
    let profile = UserProfile::new(name, roles, Clearance::Confidential, vec![], PartyKind::Host).unwrap();
    store
        .create_user(
            &NewUser {
                org_id: org,
                username: Username::parse(name).unwrap(),
                profile,
                password_hash: "argon2id$test".into(),
                enrolled_totp: totp,
            },
            0,
        )
        .unwrap()
        .id
}

fn personal() -> PersonalData {
    PersonalData::new(
        Some("XK0000001"),
        Some("+00 000 0000"),
        Some(time::macros::date!(1979 - 05 - 17)),
        Some("1 Test Street"),
        time::macros::date!(2026 - 11 - 29),
    )
    .unwrap()
}

fn person(name: &str, employer: OrgId) -> PersonDraft {
    PersonDraft::new(
        name,
        Some("Testland"),
        employer,
        None,
        ProtectionLevel::B,
        PersonStatus::InCountry,
        personal(),
    )
    .unwrap()
}

fn versions_and_unique_names(store: &dyn Store) {
    let p = party(store, "HN", PartyKind::Host);
    let draft = OrganisationDraft::new("Directorate", OrgKind::Agency).unwrap();
    let o = store.create_org(p, &draft, 1).unwrap();
    assert_eq!(o.version, 1);
    assert!(matches!(store.create_org(p, &draft, 1), Err(StoreError::Conflict(_))));
    let renamed = OrganisationDraft::new("Directorate 2", OrgKind::Agency).unwrap();
    assert_eq!(store.update_org(o.id, 1, &renamed, 2).unwrap().version, 2);
    assert!(matches!(
        store.update_org(o.id, 1, &draft, 3),
        Err(StoreError::Stale { current: 2 })
    ));
    assert_eq!(
        store.org(o.id).unwrap().name,
        "Directorate 2",
        "a stale update changes nothing"
    );
    assert!(matches!(
        store.delete_org(o.id, 1),
        Err(StoreError::Stale { current: 2 })
    ));
    assert!(matches!(
        store.update_org(OrgId::generate(), 1, &renamed, 3),
        Err(StoreError::NotFound)
    ));
    user(store, o.id, "hn.one", vec![Role::MovementCoordinator], None);
    let dup = NewUser {
        org_id: o.id,
        username: Username::parse("hn.one").unwrap(),
        profile: UserProfile::new("x", vec![Role::Auditor], Clearance::Restricted, vec![], PartyKind::Host).unwrap(),
        password_hash: "x".into(),
        enrolled_totp: None,
    };
    assert!(matches!(store.create_user(&dup, 0), Err(StoreError::Conflict(_))));

    let company = org(store, p, "Works Co", OrgKind::Company);
    let created = store.create_person(&person("Ana Test", company), 0).unwrap();
    assert_eq!(created.person.version, 1);
    let mut changed = person("Ana Test", company);
    changed.status = PersonStatus::OnLeave;
    assert_eq!(
        store
            .update_person(created.person.id, 1, &changed, 1)
            .unwrap()
            .person
            .version,
        2
    );
    assert!(matches!(
        store.update_person(created.person.id, 1, &person("Other", company), 2),
        Err(StoreError::Stale { current: 2 })
    ));
    assert_eq!(
        store.person(created.person.id).unwrap().person.draft.full_name,
        "Ana Test"
    );
}

fn references_and_deletions(store: &dyn Store) {
    let hn = party(store, "HN", PartyKind::Host);
    let agency = org(store, hn, "Agency", OrgKind::Agency);
    let company = org(store, hn, "Company", OrgKind::Company);
    assert!(matches!(
        store.create_person(&person("Not a company", agency), 0),
        Err(StoreError::UnknownReference(_))
    ));
    assert!(matches!(
        store.create_person(&person("Nobody's", OrgId::generate()), 0),
        Err(StoreError::UnknownReference(_))
    ));
    let site = store
        .create_site(
            &SiteDraft::new(
                company,
                "Works",
                SiteKind::Office,
                Coordinate::new(24.86, 67.0).unwrap(),
                None,
                SecurityPosture::Normal,
                None,
            )
            .unwrap(),
            0,
        )
        .unwrap();
    let mut draft = person("Assigned", company);
    draft.assigned_site_id = Some(site.id);
    let p = store.create_person(&draft, 0).unwrap();
    assert!(matches!(store.delete_site(site.id, 1), Err(StoreError::InUse(_))));
    assert!(matches!(store.delete_org(company, 1), Err(StoreError::InUse(_))));
    store.delete_person(p.person.id, 1).unwrap();
    assert!(matches!(store.person(p.person.id), Err(StoreError::NotFound)));
    store.delete_site(site.id, 1).unwrap();
    assert!(matches!(store.site(site.id), Err(StoreError::NotFound)));
}

fn pages_are_complete_and_ordered(store: &dyn Store) {
    let hn = party(store, "HN", PartyKind::Host);
    let company = org(store, hn, "Company", OrgKind::Company);
    let mut created = Vec::new();
    for i in 0..11 {
        let name = if i % 3 == 0 {
            format!("Kestrel {i}")
        } else {
            format!("Person {i}")
        };
        created.push(store.create_person(&person(&name, company), i).unwrap().person.id);
    }
    created.sort_by_key(|id| id.uuid());
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .persons(
                PersonScope::All,
                &PageRequest {
                    after,
                    limit: 4,
                    q: None,
                },
            )
            .unwrap();
        assert!(page.items.len() <= 4);
        seen.extend(page.items.iter().map(|r| r.person.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, created, "every person once, in id order");
    let matched = store
        .persons(
            PersonScope::All,
            &PageRequest {
                after: None,
                limit: 50,
                q: Some("kEsTrEl".into()),
            },
        )
        .unwrap();
    assert_eq!(matched.items.len(), 4, "case-insensitive substring");
    assert!(matched.next.is_none());
    assert!(
        store
            .persons(
                PersonScope::Organisation(OrgId::generate()),
                &PageRequest {
                    after: None,
                    limit: 50,
                    q: None
                }
            )
            .unwrap()
            .items
            .is_empty()
    );
}

fn secrets_steps_and_sessions(store: &dyn Store) {
    let hn = party(store, "HN", PartyKind::Host);
    let agency = org(store, hn, "Agency", OrgKind::Agency);
    let company = org(store, hn, "Company", OrgKind::Company);
    let p = store.create_person(&person("Sealed", company), 0).unwrap();
    assert_eq!(
        store.person(p.person.id).unwrap().person.draft.personal_data,
        personal()
    );
    let secret = TotpSecret::generate().unwrap();
    let id = user(
        store,
        agency,
        "hn.c",
        vec![Role::MovementCoordinator],
        Some(secret.clone()),
    );
    let creds = store.user_credentials("hn.c").unwrap().unwrap();
    assert_eq!(creds.totp_secret.unwrap().as_bytes(), secret.as_bytes());
    assert!(store.user_credentials("nobody").unwrap().is_none());
    assert!(store.record_totp_step(id, 10).unwrap());
    assert!(!store.record_totp_step(id, 10).unwrap(), "the same step twice");
    assert!(!store.record_totp_step(id, 9).unwrap(), "an older step");
    assert!(store.record_totp_step(id, 11).unwrap());

    let session = SessionRecord {
        token_hash: [7; 32],
        user_id: id,
        mfa_verified: true,
        csrf_token: "c".into(),
        created_at: 0,
        last_seen_at: 0,
        expires_at: 100,
    };
    store.create_session(&session).unwrap();
    assert_eq!(store.session(&[7; 32]).unwrap().unwrap().0, session);
    store.touch_session(&[7; 32], 5).unwrap();
    assert_eq!(store.session(&[7; 32]).unwrap().unwrap().0.last_seen_at, 5);
    store.delete_session(&[7; 32]).unwrap();
    assert!(store.session(&[7; 32]).unwrap().is_none());
    store
        .create_session(&SessionRecord {
            token_hash: [8; 32],
            ..session.clone()
        })
        .unwrap();
    store
        .create_session(&SessionRecord {
            token_hash: [9; 32],
            last_seen_at: 50,
            ..session.clone()
        })
        .unwrap();
    assert_eq!(store.purge_sessions(10, 20).unwrap(), 1, "only the idle one");
    assert_eq!(store.purge_sessions(10, 100).unwrap(), 1, "then the one past its end");
    store
        .create_session(&SessionRecord {
            token_hash: [6; 32],
            ..session
        })
        .unwrap();
    store.set_user_disabled(id, true, 1).unwrap();
    assert!(
        store.session(&[6; 32]).unwrap().is_none(),
        "a disabled user has no session"
    );
    assert!(matches!(
        store.set_user_disabled(UserId::generate(), true, 1),
        Err(StoreError::NotFound)
    ));
}

fn privilege_approval_is_atomic(store: &dyn Store) {
    let hn = party(store, "HN", PartyKind::Host);
    let admins = org(store, hn, "Administration", OrgKind::Agency);
    let requester = user(store, admins, "hn.admin", vec![Role::PartyAdmin], None);
    let approver = user(store, admins, "hn.admin2", vec![Role::PartyAdmin], None);
    let subject = user(store, admins, "hn.analyst", vec![Role::IntelligenceAnalyst], None);
    let raised = UserProfile::new(
        "hn.analyst",
        vec![Role::IntelligenceAnalyst],
        Clearance::Secret,
        vec![],
        PartyKind::Host,
    )
    .unwrap();
    let request = |version: i64| PrivilegeRequest {
        id: uuid::Uuid::now_v7(),
        party: hn,
        change: PrivilegeChange::UpdateProfile {
            user: subject,
            version,
            profile: raised.clone(),
        },
        reasons: vec!["clearance raised".into()],
        requested_by: requester,
        created_at: 0,
        expires_at: 1000,
        state: PrivilegeState::Pending,
        decided_by: None,
        decided_at: None,
        note: None,
    };
    let good = request(1);
    store.create_privilege_request(&good).unwrap();
    assert_eq!(store.privilege_requests(hn, 10).unwrap().len(), 1);
    let (decided, updated) = store.approve_privilege_request(good.id, approver, 5).unwrap();
    assert_eq!(decided.state, PrivilegeState::Approved);
    assert_eq!(decided.decided_by, Some(approver));
    assert_eq!(updated.clearance, Clearance::Secret);
    assert_eq!(store.user(subject).unwrap().clearance, Clearance::Secret);
    assert_eq!(
        store.privilege_request(good.id).unwrap().state,
        PrivilegeState::Approved
    );
    assert!(
        matches!(
            store.approve_privilege_request(good.id, approver, 6),
            Err(StoreError::Conflict(_))
        ),
        "decided once"
    );
    // The user changed since this one was asked: it no longer applies, and nothing changes.
    let stale = request(1);
    store.create_privilege_request(&stale).unwrap();
    assert!(matches!(
        store.approve_privilege_request(stale.id, approver, 7),
        Err(StoreError::Stale { .. })
    ));
    assert_eq!(
        store.privilege_request(stale.id).unwrap().state,
        PrivilegeState::Pending
    );
    let lapsed = request(2);
    store.create_privilege_request(&lapsed).unwrap();
    assert!(matches!(
        store.approve_privilege_request(lapsed.id, approver, 1000),
        Err(StoreError::Conflict(_))
    ));
    let rejected = store.reject_privilege_request(lapsed.id, approver, "no", 8).unwrap();
    assert_eq!(rejected.state, PrivilegeState::Rejected);
    assert!(matches!(
        store.privilege_request(uuid::Uuid::now_v7()),
        Err(StoreError::NotFound)
    ));
}

fn movement(store: &dyn Store) -> (MovementId, uuid::Uuid) {
    let hn = party(store, "HN", PartyKind::Host);
    let company = org(store, hn, "Company", OrgKind::Company);
    let agency = org(store, hn, "Agency", OrgKind::Agency);
    let requester = user(store, agency, "hn.coordinator", vec![Role::MovementCoordinator], None);
    let p = store.create_person(&person("Traveller", company), 0).unwrap();
    let team = EscortTeam {
        id: EscortTeamId::generate(),
        party: hn,
        unit: "Unit".into(),
        call_sign: "TEST 1".into(),
        members: Vec::new(),
        vehicles: vec!["SUV".into()],
        version: 1,
    };
    store.create_escort_team(&team, 0).unwrap();
    let point = |lat, lon| Endpoint::Point(Coordinate::new(lat, lon).unwrap());
    let request = MovementRequest::new(
        vec![p.person.id],
        vec![Leg {
            from: point(24.86, 67.0),
            to: point(24.87, 67.01),
        }],
        "conformance",
        (3600, 7200),
        Vec::new(),
        0,
    )
    .unwrap();
    let id = MovementId::generate();
    store
        .create_movement(
            &MovementRecord {
                id,
                org: company,
                party: hn,
                requester,
                state: MovementState::Draft,
                body: MovementBody {
                    request,
                    assessment: None,
                    approvals: Vec::new(),
                    rejection: None,
                    planners: Vec::new(),
                    disclosed_to: Vec::new(),
                    released_at: None,
                    history: Vec::new(),
                },
                plan: None,
                release_at: None,
                ends_at: None,
                version: 1,
            },
            0,
        )
        .unwrap();
    let device = Device {
        id: uuid::Uuid::now_v7(),
        team: team.id,
        name: "phone".into(),
    };
    store.create_device(&device, &[1; 32], 0).unwrap();
    (id, device.id)
}

fn position_sequence_is_resumable(store: &dyn Store) {
    let (m, device) = movement(store);
    let start = store.position_events_after(i64::MAX, 10).unwrap();
    assert!(start.is_empty());
    let at = |t: i64| Position::new(t, (24.86 + t as f64 * 1e-5, 67.0), Some(10.0), None, None, None, 10_000).unwrap();
    let batch = |ts: &[i64]| NewPositions {
        movement: m,
        device,
        positions: ts.iter().map(|t| at(*t)).collect(),
    };
    let first = store.insert_positions(&[batch(&[100, 110, 120])], 200).unwrap();
    let first = first.into_iter().next().unwrap().unwrap();
    assert_eq!(first.len(), 3);
    let again = store.insert_positions(&[batch(&[110, 120, 130])], 200).unwrap();
    let again = again.into_iter().next().unwrap().unwrap();
    assert_eq!(again.len(), 1, "duplicates (same device and time) are dropped");
    let seqs: Vec<i64> = first.iter().chain(&again).map(|(s, _)| *s).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "strictly increasing: {seqs:?}");
    let all = store.position_events_after(0, 100).unwrap();
    let from_zero: Vec<i64> = all.iter().map(|(s, _, _)| *s).collect();
    assert!(from_zero.ends_with(&seqs), "{from_zero:?} vs {seqs:?}");
    let after_first = store.position_events_after(seqs[2], 100).unwrap();
    assert_eq!(after_first.len(), 1, "resuming after the third returns only the fourth");
    assert_eq!(after_first[0].0, seqs[3]);
    assert_eq!(after_first[0].1, m);
    assert!(store.position_events_after(seqs[3], 100).unwrap().is_empty());
    let track = store.track(m).unwrap();
    assert_eq!(track.iter().map(|p| p.at).collect::<Vec<_>>(), [100, 110, 120, 130]);
}

fn alerts_are_deduplicated_and_sequenced(store: &dyn Store) {
    let (m, _) = movement(store);
    let alert = |kind: &str| AlertRecord {
        seq: 0,
        id: uuid::Uuid::now_v7(),
        movement: m,
        kind: kind.into(),
        severity: "warning".into(),
        message: format!("{kind} on the test movement"),
        at: 100,
        evidence: serde_json::json!({}),
        state: "open".into(),
        log: serde_json::json!([]),
    };
    let a = store.open_alert(&alert("deviation"), &[], 100).unwrap().unwrap();
    assert!(
        store.open_alert(&alert("deviation"), &[], 101).unwrap().is_none(),
        "a second open alert of the same kind is suppressed"
    );
    let b = store.open_alert(&alert("stop"), &[], 102).unwrap().unwrap();
    assert!(a.seq < b.seq);
    assert_eq!(
        store
            .alerts_after(a.seq, 10)
            .unwrap()
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        [b.id]
    );
    assert_eq!(store.alerts_after(0, 10).unwrap().len(), 2);
    assert_eq!(store.alert(a.id).unwrap().kind, "deviation");
    assert!(matches!(store.alert(uuid::Uuid::now_v7()), Err(StoreError::NotFound)));
}

fn movement_change_and_grants_are_one(store: &dyn Store) {
    let (m, _) = movement(store);
    let record = store.movement(m).unwrap();
    let someone = record.requester;
    let resource = format!("movement:{}:plan", m.uuid());
    let grant = NewGrant {
        user: someone,
        resource: resource.clone(),
        source: "conformance".into(),
        expires_at: 10_000,
    };
    // A stale change writes no grant either.
    assert!(matches!(
        store.update_movement_with_grants(&record, record.version + 5, std::slice::from_ref(&grant), 10),
        Err(StoreError::Stale { .. })
    ));
    assert!(
        store.grants_on(&resource).unwrap().is_empty(),
        "no grant without its change"
    );
    let updated = store
        .update_movement_with_grants(&record, record.version, std::slice::from_ref(&grant), 11)
        .unwrap();
    assert_eq!(updated.version, record.version + 1);
    let grants = store.grants_on(&resource).unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].0, someone);
}
