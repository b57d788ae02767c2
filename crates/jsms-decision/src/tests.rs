//! Tests of the decision rules: both parties bring a decision into force, each rule is
//! enforced, unsafe rules are refused, and (property test) no single principal decides alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use proptest::prelude::*;
use ring::signature::{Ed25519KeyPair, KeyPair};
use std::collections::HashMap;

const NOW: i64 = 1_900_000_000;

struct People {
    keys: HashMap<UserId, Ed25519KeyPair>,
}

impl People {
    fn new(users: &[UserId]) -> Self {
        let rng = ring::rand::SystemRandom::new();
        let keys = users
            .iter()
            .map(|u| {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
                (*u, Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
            })
            .collect();
        Self { keys }
    }

    fn key(&self) -> impl Fn(UserId) -> Option<Vec<u8>> + '_ {
        |u| self.keys.get(&u).map(|k| k.public_key().as_ref().to_vec())
    }

    fn approve(&self, d: &Decision, user: UserId, party: PartyId, at: i64) -> Act {
        let m = d.proposal.approval_message(user, party, at);
        Act::Approve {
            at,
            signature: STANDARD.encode(self.keys[&user].sign(&m).as_ref()),
        }
    }
}

struct World {
    hn: PartyId,
    pn: PartyId,
    hn_auth: Vec<UserId>,
    pn_auth: Vec<UserId>,
    proposer: UserId,
    people: People,
}

fn world() -> World {
    let (hn, pn) = (PartyId::generate(), PartyId::generate());
    let hn_auth = vec![UserId::generate(), UserId::generate()];
    let pn_auth = vec![UserId::generate(), UserId::generate()];
    let proposer = UserId::generate();
    let mut all = hn_auth.clone();
    all.extend(&pn_auth);
    all.push(proposer);
    World {
        hn,
        pn,
        people: People::new(&all),
        hn_auth,
        pn_auth,
        proposer,
    }
}

fn decision(w: &World, kind: DecisionKind) -> Decision {
    let rules = Rules::default_for(kind, &[(w.hn, w.hn_auth.clone()), (w.pn, w.pn_auth.clone())]).unwrap();
    Decision::propose(
        Proposal {
            id: Uuid::now_v7(),
            revision: 1,
            kind,
            title: "Joint patrol on the port road".into(),
            text: "Both parties patrol the port road on Fridays for four weeks.".into(),
            attachments: Vec::new(),
            proposer: w.proposer,
            proposing_party: w.hn,
            rules,
        },
        &[w.hn, w.pn],
    )
    .unwrap()
}

#[test]
fn both_parties_approving_bring_it_into_force() {
    let w = world();
    let key = w.people.key();
    let mut d = decision(&w, DecisionKind::JointOperation);
    let a = w.people.approve(&d, w.hn_auth[0], w.hn, NOW);
    d.apply(w.hn_auth[0], w.hn, a, &key, NOW).unwrap();
    assert_eq!(d.state, DecisionState::Proposed, "one party is not enough");
    let b = w.people.approve(&d, w.pn_auth[1], w.pn, NOW + 60);
    d.apply(w.pn_auth[1], w.pn, b, &key, NOW + 60).unwrap();
    assert_eq!(d.state, DecisionState::InForce);
    // Offline verification of the export.
    let export = Export {
        keys: w
            .people
            .keys
            .iter()
            .map(|(u, k)| (u.to_string(), STANDARD.encode(k.public_key().as_ref())))
            .collect(),
        decision: d.clone(),
    };
    let v = export.verify(None);
    assert!(v.in_force && v.bad_signatures.is_empty(), "{v:?}");
    let mut tampered = export.clone();
    tampered.decision.proposal.text.push_str(" And on Saturdays.");
    let v = tampered.verify(None);
    assert!(!v.in_force && v.bad_signatures.len() == 2, "{v:?}");
}

#[test]
fn the_rules_are_enforced() {
    let w = world();
    let key = w.people.key();
    // Deployments need two per party.
    let mut d = decision(&w, DecisionKind::Deployment);
    for (u, p) in [(w.hn_auth[0], w.hn), (w.pn_auth[0], w.pn), (w.pn_auth[1], w.pn)] {
        let a = w.people.approve(&d, u, p, NOW);
        d.apply(u, p, a, &key, NOW).unwrap();
    }
    assert_eq!(d.state, DecisionState::Proposed);
    let a = w.people.approve(&d, w.hn_auth[1], w.hn, NOW);
    d.apply(w.hn_auth[1], w.hn, a, &key, NOW).unwrap();
    assert_eq!(d.state, DecisionState::InForce);

    let mut d = decision(&w, DecisionKind::Other);
    // Self-approval, a stranger, a wrong party, a forged signature, a stale time: refused.
    let own = w.people.approve(&d, w.proposer, w.hn, NOW);
    assert!(matches!(
        d.apply(w.proposer, w.hn, own, &key, NOW),
        Err(DecisionError::Refused(_))
    ));
    let as_other = w.people.approve(&d, w.hn_auth[0], w.pn, NOW);
    assert!(d.apply(w.hn_auth[0], w.pn, as_other, &key, NOW).is_err());
    let forged = w.people.approve(&d, w.pn_auth[0], w.pn, NOW);
    assert!(matches!(
        d.apply(w.pn_auth[1], w.pn, forged, &key, NOW),
        Err(DecisionError::BadSignature)
    ));
    let old = w.people.approve(&d, w.pn_auth[0], w.pn, NOW - 3600);
    assert!(d.apply(w.pn_auth[0], w.pn, old, &key, NOW).is_err());
    assert!(d.approvals.is_empty(), "refusals change nothing");

    // A changed text invalidates earlier approvals.
    let a = w.people.approve(&d, w.hn_auth[0], w.hn, NOW);
    d.apply(w.hn_auth[0], w.hn, a, &key, NOW).unwrap();
    d.apply(
        w.proposer,
        w.hn,
        Act::Revise {
            text: "Fridays and Saturdays.".into(),
        },
        &key,
        NOW,
    )
    .unwrap();
    assert_eq!(d.proposal.revision, 2);
    let b = w.people.approve(&d, w.pn_auth[0], w.pn, NOW);
    d.apply(w.pn_auth[0], w.pn, b, &key, NOW).unwrap();
    assert_eq!(
        d.state,
        DecisionState::Proposed,
        "the host's approval was of revision 1"
    );

    // So does an added attachment; only the proposer adds one, once, named by its hash.
    let mut d = decision(&w, DecisionKind::Other);
    let a = w.people.approve(&d, w.hn_auth[0], w.hn, NOW);
    d.apply(w.hn_auth[0], w.hn, a, &key, NOW).unwrap();
    let annex = "ab".repeat(32);
    let attach = |h: &str| Act::Attach { sha256: h.to_owned() };
    assert!(d.apply(w.pn_auth[0], w.pn, attach(&annex), &key, NOW).is_err());
    assert!(d.apply(w.proposer, w.hn, attach("not-a-hash"), &key, NOW).is_err());
    assert!(d.apply(w.proposer, w.hn, attach(&"AB".repeat(32)), &key, NOW).is_err());
    let before = d.proposal.digest();
    d.apply(w.proposer, w.hn, attach(&annex), &key, NOW).unwrap();
    assert!(
        d.approvals.is_empty(),
        "the attachment voids the approval of revision 1"
    );
    assert_ne!(d.proposal.digest(), before, "attachments are part of what is signed");
    assert!(d.apply(w.proposer, w.hn, attach(&annex), &key, NOW).is_err());
    for n in 1..MAX_ATTACHMENTS {
        d.apply(w.proposer, w.hn, attach(&format!("{n:064x}")), &key, NOW)
            .unwrap();
    }
    assert!(d.apply(w.proposer, w.hn, attach(&"cd".repeat(32)), &key, NOW).is_err());

    // Approvals expire.
    let mut d = decision(&w, DecisionKind::Other);
    let a = w.people.approve(&d, w.hn_auth[0], w.hn, NOW);
    d.apply(w.hn_auth[0], w.hn, a, &key, NOW).unwrap();
    let later = NOW + APPROVAL_VALID_S + 1;
    let b = w.people.approve(&d, w.pn_auth[0], w.pn, later);
    d.apply(w.pn_auth[0], w.pn, b, &key, later).unwrap();
    assert_eq!(d.state, DecisionState::Proposed, "the host's approval expired");

    // Rejection needs a reason; withdrawal is the proposer's.
    let mut d = decision(&w, DecisionKind::Other);
    assert!(
        d.apply(w.pn_auth[0], w.pn, Act::Reject { reason: " ".into() }, &key, NOW)
            .is_err()
    );
    assert!(d.apply(w.pn_auth[0], w.pn, Act::Withdraw, &key, NOW).is_err());
    d.apply(
        w.pn_auth[0],
        w.pn,
        Act::Reject {
            reason: "Not in our mandate.".into(),
        },
        &key,
        NOW,
    )
    .unwrap();
    assert_eq!(d.state, DecisionState::Rejected);
    let mut d = decision(&w, DecisionKind::Other);
    d.apply(w.proposer, w.hn, Act::Withdraw, &key, NOW).unwrap();
    assert_eq!(d.state, DecisionState::Withdrawn);
}

#[test]
fn rules_that_would_let_one_side_decide_are_refused() {
    let w = world();
    let one_party = Rules {
        parties: vec![PartyRule {
            party: w.hn,
            required: 1,
            authorities: w.hn_auth.clone(),
        }],
        approval_valid_s: APPROVAL_VALID_S,
    };
    assert!(one_party.validate(&[w.hn, w.pn]).is_err());
    let shared_authority = Rules {
        parties: vec![
            PartyRule {
                party: w.hn,
                required: 1,
                authorities: vec![w.hn_auth[0]],
            },
            PartyRule {
                party: w.pn,
                required: 1,
                authorities: vec![w.hn_auth[0]],
            },
        ],
        approval_valid_s: APPROVAL_VALID_S,
    };
    assert!(shared_authority.validate(&[w.hn, w.pn]).is_err());
    let too_many = Rules::default_for(
        DecisionKind::Deployment,
        &[(w.hn, vec![w.hn_auth[0]]), (w.pn, w.pn_auth.clone())],
    );
    assert!(too_many.is_err(), "two approvals need two authorities");
    // The canonical encoding separates fields unambiguously.
    let d = decision(&w, DecisionKind::Other);
    let mut p = d.proposal.clone();
    p.title = format!("{}\ntext 3 abc", p.title);
    assert_ne!(p.canonical(), d.proposal.canonical());
    assert_eq!(d.proposal.digest().len(), 64);
}

/// Every action one principal can take on a decision.
#[derive(Debug, Clone)]
enum Try {
    ApproveAs(bool),
    ApproveStale,
    Reject,
    Withdraw,
    Revise(u8),
    Attach(u8),
}

fn tries() -> impl Strategy<Value = Try> {
    prop_oneof![
        any::<bool>().prop_map(Try::ApproveAs),
        Just(Try::ApproveStale),
        Just(Try::Reject),
        Just(Try::Withdraw),
        any::<u8>().prop_map(Try::Revise),
        any::<u8>().prop_map(Try::Attach),
    ]
}

proptest! {
    /// No single person — proposer or not, authority or not, of either party, with a valid
    /// key — brings a decision into force alone, whatever they do in whatever order.
    #[test]
    fn one_principal_never_brings_a_decision_into_force(
        who in 0usize..5,
        kind in prop_oneof![Just(DecisionKind::Other), Just(DecisionKind::Deployment), Just(DecisionKind::JointOperation)],
        acts in proptest::collection::vec(tries(), 1..25),
    ) {
        let w = world();
        let key = w.people.key();
        let mut d = decision(&w, kind);
        let (user, party) = match who {
            0 => (w.proposer, w.hn),
            1 => (w.hn_auth[0], w.hn),
            2 => (w.hn_auth[1], w.hn),
            3 => (w.pn_auth[0], w.pn),
            _ => (w.pn_auth[1], w.pn),
        };
        let other = if party == w.hn { w.pn } else { w.hn };
        for (k, t) in acts.into_iter().enumerate() {
            let now = NOW + k as i64 * 60;
            let act = match t {
                // Signing for its own party, or claiming the other's.
                Try::ApproveAs(own) => w.people.approve(&d, user, if own { party } else { other }, now),
                Try::ApproveStale => w.people.approve(&d, user, party, now - 10 * CLOCK_SKEW_S),
                Try::Reject => Act::Reject { reason: "no".into() },
                Try::Withdraw => Act::Withdraw,
                Try::Revise(n) => Act::Revise { text: format!("text {n}") },
                Try::Attach(n) => Act::Attach { sha256: format!("{n:064x}") },
            };
            let claimed = match &t { Try::ApproveAs(false) => other, _ => party };
            let _ = d.apply(user, claimed, act, &key, now);
            prop_assert_ne!(d.state, DecisionState::InForce);
            prop_assert!(!d.satisfied(&key, now));
        }
    }
}
