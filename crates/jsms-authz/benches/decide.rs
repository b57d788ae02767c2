//! Authorization decisions (PRODUCT §5: p50 ≤ 5 µs, p99 ≤ 20 µs with 10,000 entities).
//!
//! Measures `Authz::decide` — what every request pays: principal and resource entities built
//! from their attributes, the request validated against the schema, the policies evaluated —
//! for random pairs from 10,000 principals and 10,000 persons. Baseline, in the same process:
//! plain Cedar `is_authorized` over the same policies with all 20,000 entities preloaded into
//! one `Entities` store (the setup of the Cedar paper's figures), which skips the per-request
//! entity construction.
//!
//! Run: `cargo bench -p jsms-authz --bench decide`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, PolicySet, Request, RestrictedExpression, Schema,
};
use jsms_authz::{Authz, RequestContext};
use jsms_domain::access::{Action, Actor, ActorKind};
use jsms_domain::ids::{OrgId, PartyId, PersonId, UserId};
use jsms_domain::user::{Clearance, PartyKind, Role};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::{Duration, Instant};

const N: usize = 10_000;
const ROLES: [Role; 4] = [
    Role::MovementCoordinator,
    Role::CompanySecurityOfficer,
    Role::LiaisonOfficer,
    Role::EscortCommander,
];

fn pct(v: &[Duration], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e6
}

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn main() {
    let authz = Authz::builtin().unwrap();
    let (host, partner) = (PartyId::generate(), PartyId::generate());
    let orgs: Vec<OrgId> = (0..50).map(|_| OrgId::generate()).collect();
    let actors: Vec<Actor> = (0..N)
        .map(|i| {
            let role = ROLES[i % ROLES.len()];
            let (party, kind) = if matches!(role, Role::MovementCoordinator | Role::EscortCommander) {
                (host, PartyKind::Host)
            } else {
                (partner, PartyKind::Partner)
            };
            Actor {
                party_id: party,
                party_kind: kind,
                org_id: orgs[i % orgs.len()],
                kind: ActorKind::Human {
                    user_id: UserId::generate(),
                    roles: vec![role],
                },
                clearance: Clearance::Confidential,
                compartments: vec![],
                grants: vec![],
                break_glass: vec![],
            }
        })
        .collect();
    let persons: Vec<(PersonId, OrgId)> = (0..N)
        .map(|i| (PersonId::generate(), orgs[(i * 7) % orgs.len()]))
        .collect();
    let ctx = RequestContext {
        now: 1_800_000_000,
        channel: "api",
    };

    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut lat = Vec::with_capacity(200_000);
    let mut allowed = 0usize;
    for _ in 0..200_000 {
        let a = &actors[rng.next(N)];
        let (person, org) = persons[rng.next(N)];
        let t = Instant::now();
        let d = authz.decide(
            a,
            Action::ReadPersonalData {
                person,
                org,
                party: partner,
            },
            ctx,
        );
        lat.push(t.elapsed());
        allowed += usize::from(d.is_allow());
    }
    lat.sort_unstable();

    // The same decisions again through the cache, as a busy operator's repeated reads are.
    let mut warm = Vec::with_capacity(200_000);
    let pairs: Vec<(usize, usize)> = (0..1000).map(|_| (rng.next(N), rng.next(N))).collect();
    for (ai, pi) in &pairs {
        let (person, org) = persons[*pi];
        authz.decide(
            &actors[*ai],
            Action::ReadPersonalData {
                person,
                org,
                party: partner,
            },
            ctx,
        );
    }
    for i in 0..200_000 {
        let (ai, pi) = pairs[i % pairs.len()];
        let (person, org) = persons[pi];
        let t = Instant::now();
        std::hint::black_box(authz.decide(
            &actors[ai],
            Action::ReadPersonalData {
                person,
                org,
                party: partner,
            },
            ctx,
        ));
        warm.push(t.elapsed());
    }
    warm.sort_unstable();

    // Baseline: plain Cedar over a preloaded store of 20,000 entities.
    let (schema, _) = Schema::from_cedarschema_str(jsms_authz::SCHEMA).unwrap();
    let policies = PolicySet::from_str(jsms_authz::POLICIES).unwrap();
    let s = |v: &str| RestrictedExpression::new_string(v.to_owned());
    let set = |v: Vec<String>| RestrictedExpression::new_set(v.into_iter().map(RestrictedExpression::new_string));
    let mut entities = Vec::with_capacity(2 * N);
    let mut principal_uids = Vec::with_capacity(N);
    for (i, a) in actors.iter().enumerate() {
        let uid = EntityUid::from_str(&format!("Jsms::Principal::\"p{i}\"")).unwrap();
        let ActorKind::Human { roles, .. } = &a.kind else {
            unreachable!()
        };
        let attrs = HashMap::from([
            ("kind".into(), s("human")),
            ("party".into(), s(&a.party_id.to_string())),
            (
                "party_kind".into(),
                s(if a.party_kind == PartyKind::Host {
                    "host"
                } else {
                    "partner"
                }),
            ),
            ("org".into(), s(&a.org_id.to_string())),
            (
                "roles".into(),
                set(roles.iter().map(|r| r.as_str().to_owned()).collect()),
            ),
            ("scopes".into(), set(vec![])),
            ("clearance".into(), RestrictedExpression::new_long(2)),
            ("compartments".into(), set(vec![])),
            ("mfa".into(), RestrictedExpression::new_bool(true)),
            ("grants".into(), set(vec![])),
            ("break_glass".into(), set(vec![])),
        ]);
        entities.push(Entity::new(uid.clone(), attrs, HashSet::new()).unwrap());
        principal_uids.push(uid);
    }
    let mut person_uids = Vec::with_capacity(N);
    for (i, (p, org)) in persons.iter().enumerate() {
        let uid = EntityUid::from_str(&format!("Jsms::Person::\"r{i}\"")).unwrap();
        let attrs = HashMap::from([
            ("id".into(), s(&format!("person:{p}"))),
            ("employer_org".into(), s(&org.to_string())),
            ("employer_party".into(), s(&partner.to_string())),
        ]);
        entities.push(Entity::new(uid.clone(), attrs, HashSet::new()).unwrap());
        person_uids.push(uid);
    }
    let store = Entities::from_entities(entities, Some(&schema)).unwrap();
    let action = EntityUid::from_str("Jsms::Action::\"ReadPersonalData\"").unwrap();
    let authorizer = Authorizer::new();
    let mut base = Vec::with_capacity(200_000);
    let mut eval = Vec::with_capacity(200_000);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..200_000 {
        let p = principal_uids[rng.next(N)].clone();
        let r = person_uids[rng.next(N)].clone();
        let t = Instant::now();
        let context = Context::from_pairs([
            ("now".to_owned(), RestrictedExpression::new_long(1_800_000_000)),
            ("channel".to_owned(), s("api")),
        ])
        .unwrap();
        let req = Request::new(p, action.clone(), r, context, None).unwrap();
        let t2 = Instant::now();
        let resp = authorizer.is_authorized(&req, &policies, &store);
        eval.push(t2.elapsed());
        base.push(t.elapsed());
        std::hint::black_box(resp);
    }
    base.sort_unstable();
    eval.sort_unstable();

    println!(
        "authorization decisions: {N} principals × {N} persons, 200,000 random requests, {} policies",
        authz.len()
    );
    println!(
        "  Authz::decide_uncached (entities built per request): p50 {:.2} µs, p99 {:.2} µs ({:.0} % allowed)",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        100.0 * allowed as f64 / lat.len() as f64
    );
    println!(
        "  Authz::decide, repeated questions (cache hit): p50 {:.2} µs, p99 {:.2} µs",
        pct(&warm, 0.5),
        pct(&warm, 0.99)
    );
    println!(
        "  baseline Cedar is_authorized, 20,000 entities preloaded: p50 {:.2} µs, p99 {:.2} µs",
        pct(&base, 0.5),
        pct(&base, 0.99)
    );
    println!(
        "    of which Authorizer::is_authorized alone: p50 {:.2} µs",
        pct(&eval, 0.5)
    );
    println!(
        "  ratio (decide / preloaded, p50): {:.2}x",
        pct(&lat, 0.5) / pct(&base, 0.5)
    );
}
