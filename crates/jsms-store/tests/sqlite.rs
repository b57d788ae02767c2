//! The SQLite store through its public trait: migrations, sealing, concurrency, scopes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use jsms_domain::access::PersonScope;
use jsms_domain::ids::PartyId;
use jsms_domain::registry::{PersonDraft, PersonStatus, PersonalData, ProtectionLevel};
use jsms_domain::user::{OrgKind, OrganisationDraft, Party, PartyCode, PartyKind};
use jsms_identity::seal::SealingKey;
use jsms_store::{PageRequest, SqliteStore, Store, StoreError};

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

mod conformance;

#[test]
fn the_sqlite_backend_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let n = std::cell::Cell::new(0);
    conformance::run(&|| {
        n.set(n.get() + 1);
        Box::new(SqliteStore::open(&dir.path().join(format!("jsms-{}.db", n.get())), key(1)).unwrap())
    });
}

#[test]
fn personal_data_is_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("jsms.db"), key(1)).unwrap();
    let hn = party(&store, "HN", PartyKind::Host);
    let company = store
        .create_org(hn, &OrganisationDraft::new("A Co", OrgKind::Company).unwrap(), 0)
        .unwrap();
    let pd = PersonalData::new(
        Some("AB1234567"),
        None,
        Some(time::macros::date!(1980 - 01 - 01)),
        None,
        time::macros::date!(2026 - 11 - 29),
    )
    .unwrap();
    let draft = PersonDraft::new(
        "Person A",
        None,
        company.id,
        None,
        ProtectionLevel::A,
        PersonStatus::InCountry,
        pd,
    )
    .unwrap();
    store.create_person(&draft, 0).unwrap();
    assert_eq!(
        store
            .persons(
                PersonScope::All,
                &PageRequest {
                    after: None,
                    limit: 10,
                    q: None
                }
            )
            .unwrap()
            .items
            .len(),
        1
    );
    // The raw database never holds the passport number.
    drop(store);
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!bytes.windows(9).any(|w| w == b"AB1234567"));
    }
}
