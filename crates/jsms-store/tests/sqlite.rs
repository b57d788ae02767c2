//! The SQLite store through its public trait: migrations, sealing, concurrency, scopes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_domain::access::PersonScope;
use jsms_domain::geo::Coordinate;
use jsms_domain::ids::{PartyId, UserId};
use jsms_domain::registry::{
    PersonDraft, PersonStatus, PersonalData, ProtectionLevel, SecurityPosture, SiteDraft, SiteKind,
};
use jsms_domain::user::{
    Clearance, OrgKind, OrganisationDraft, Party, PartyCode, PartyKind, Role, UserProfile, Username,
};
use jsms_identity::seal::SealingKey;
use jsms_identity::totp::TotpSecret;
use jsms_store::{NewUser, PageRequest, SessionRecord, SqliteStore, Store, StoreError};

fn key(byte: u8) -> SealingKey {
    SealingKey::from_bytes(&[byte; 32]).unwrap()
}

fn party(store: &SqliteStore, code: &str, kind: PartyKind) -> PartyId {
    let p = Party {
        id: PartyId::generate(),
        code: PartyCode::parse(code).unwrap(),
        name: code.into(),
        kind,
    };
    store.create_party(&p, 0).unwrap();
    p.id
}

#[test]
fn a_wrong_key_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jsms.db");
    drop(SqliteStore::open(&path, key(1)).unwrap());
    assert!(matches!(SqliteStore::open(&path, key(2)), Err(StoreError::WrongKey)));
    assert!(
        SqliteStore::open(&path, key(1)).is_ok(),
        "reopening with the right key works and migrations are idempotent"
    );
}

#[test]
fn optimistic_concurrency_and_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("jsms.db"), key(1)).unwrap();
    let p = party(&store, "HN", PartyKind::Host);
    let draft = OrganisationDraft::new("Directorate", OrgKind::Agency).unwrap();
    let org = store.create_org(p, &draft, 1).unwrap();
    assert!(matches!(store.create_org(p, &draft, 1), Err(StoreError::Conflict(_))));
    let renamed = OrganisationDraft::new("Directorate 2", OrgKind::Agency).unwrap();
    assert_eq!(store.update_org(org.id, 1, &renamed, 2).unwrap().version, 2);
    assert!(matches!(
        store.update_org(org.id, 1, &renamed, 3),
        Err(StoreError::Stale { current: 2 })
    ));
    assert!(matches!(
        store.delete_org(org.id, 1),
        Err(StoreError::Stale { current: 2 })
    ));
    assert!(matches!(
        store.update_org(jsms_domain::ids::OrgId::generate(), 1, &renamed, 3),
        Err(StoreError::NotFound)
    ));
}

#[test]
fn totp_steps_cannot_be_replayed_and_disable_ends_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("jsms.db"), key(1)).unwrap();
    let p = party(&store, "HN", PartyKind::Host);
    let org = store
        .create_org(p, &OrganisationDraft::new("D", OrgKind::Agency).unwrap(), 0)
        .unwrap();
    let profile = UserProfile::new(
        "C",
        vec![Role::MovementCoordinator],
        Clearance::Secret,
        vec![],
        PartyKind::Host,
    )
    .unwrap();
    let secret = TotpSecret::generate().unwrap();
    let user = store
        .create_user(
            &NewUser {
                org_id: org.id,
                username: Username::parse("hn.c").unwrap(),
                profile,
                password_hash: "x".into(),
                enrolled_totp: Some(secret.clone()),
            },
            0,
        )
        .unwrap();
    assert!(user.mfa_enrolled);
    let creds = store.user_credentials("hn.c").unwrap().unwrap();
    assert_eq!(
        creds.totp_secret.unwrap().as_bytes(),
        secret.as_bytes(),
        "sealed and opened"
    );
    assert!(store.user_credentials("nobody").unwrap().is_none());
    assert!(store.record_totp_step(user.id, 10).unwrap());
    assert!(!store.record_totp_step(user.id, 10).unwrap(), "same step twice");
    assert!(!store.record_totp_step(user.id, 9).unwrap(), "an older step");
    assert!(store.record_totp_step(user.id, 11).unwrap());

    let session = SessionRecord {
        token_hash: [7; 32],
        user_id: user.id,
        mfa_verified: true,
        csrf_token: "c".into(),
        created_at: 0,
        last_seen_at: 0,
        expires_at: 100,
    };
    store.create_session(&session).unwrap();
    assert!(store.session(&[7; 32]).unwrap().is_some());
    store.set_user_disabled(user.id, true, 1).unwrap();
    assert!(store.session(&[7; 32]).unwrap().is_none());
    assert!(matches!(
        store.set_user_disabled(UserId::generate(), true, 1),
        Err(StoreError::NotFound)
    ));

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
            ..session
        })
        .unwrap();
    assert_eq!(store.purge_sessions(10, 20).unwrap(), 1, "only the idle one");
    assert_eq!(
        store.purge_sessions(10, 100).unwrap(),
        1,
        "then the one past absolute expiry"
    );
}

#[test]
fn persons_are_sealed_and_listed_by_scope() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("jsms.db"), key(1)).unwrap();
    let hn = party(&store, "HN", PartyKind::Host);
    let pn = party(&store, "PN", PartyKind::Partner);
    let agency = store
        .create_org(hn, &OrganisationDraft::new("Agency", OrgKind::Agency).unwrap(), 0)
        .unwrap();
    let a = store
        .create_org(pn, &OrganisationDraft::new("A Co", OrgKind::Company).unwrap(), 0)
        .unwrap();
    let b = store
        .create_org(pn, &OrganisationDraft::new("B Co", OrgKind::Company).unwrap(), 0)
        .unwrap();
    let site = store
        .create_site(
            &SiteDraft::new(
                a.id,
                "S",
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
    let today = time::macros::date!(2026 - 11 - 29);
    let pd = PersonalData::new(
        Some("AB1234567"),
        None,
        Some(time::macros::date!(1980 - 01 - 01)),
        None,
        today,
    )
    .unwrap();
    let mk = |name: &str, org| {
        PersonDraft::new(
            name,
            None,
            org,
            Some(site.id),
            ProtectionLevel::A,
            PersonStatus::InCountry,
            pd.clone(),
        )
        .unwrap()
    };
    let pa = store.create_person(&mk("Person A", a.id), 0).unwrap();
    store.create_person(&mk("Person B", b.id), 0).unwrap();
    assert_eq!(store.person(pa.person.id).unwrap().person.draft.personal_data, pd);
    assert_eq!(pa.employer_party_id, pn);
    assert!(matches!(
        store.create_person(&mk("Not a company", agency.id), 0),
        Err(StoreError::UnknownReference(_))
    ));
    assert!(matches!(store.delete_site(site.id, 1), Err(StoreError::InUse(_))));

    let page = PageRequest {
        after: None,
        limit: 10,
        q: None,
    };
    let names = |scope| -> Vec<String> {
        store
            .persons(scope, &page)
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.person.draft.full_name)
            .collect()
    };
    assert_eq!(names(PersonScope::All), ["Person A", "Person B"]);
    assert_eq!(names(PersonScope::Organisation(a.id)), ["Person A"]);
    assert_eq!(names(PersonScope::Party(pn)), ["Person A", "Person B"]);
    assert!(names(PersonScope::Party(hn)).is_empty());
    assert!(names(PersonScope::Nothing).is_empty());

    // Sealed at rest: the raw database never holds the passport number.
    drop(store);
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!bytes.windows(9).any(|w| w == b"AB1234567"));
    }
}
