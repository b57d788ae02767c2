//! `jsms decision verify FILE` on exports signed with real Ed25519 keys: in force, tampered,
//! short of a party's approval, not an export.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_decision::{Act, Decision, DecisionKind, Export, Proposal, Rules};
use jsms_domain::ids::{PartyId, UserId};
use ring::signature::{Ed25519KeyPair, KeyPair};
use std::process::Command;

fn jsms(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_jsms")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn decisions_verify_offline() {
    let rng = ring::rand::SystemRandom::new();
    let (hn, pn) = (PartyId::generate(), PartyId::generate());
    let (proposer, a, b) = (UserId::generate(), UserId::generate(), UserId::generate());
    let keys: Vec<(UserId, Ed25519KeyPair)> = [a, b]
        .into_iter()
        .map(|u| {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            (u, Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
        })
        .collect();
    let public = |u: UserId| {
        keys.iter()
            .find(|(k, _)| *k == u)
            .map(|(_, k)| k.public_key().as_ref().to_vec())
    };
    let rules = Rules::default_for(DecisionKind::TechnicalAssistance, &[(hn, vec![a]), (pn, vec![b])]).unwrap();
    let mut d = Decision::propose(
        Proposal {
            id: uuid::Uuid::now_v7(),
            revision: 1,
            kind: DecisionKind::TechnicalAssistance,
            title: "Forensic support".into(),
            text: "The partner sends two forensic examiners for ten days.".into(),
            attachments: Vec::new(),
            proposer,
            proposing_party: hn,
            rules,
        },
        &[hn, pn],
    )
    .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (user, party) in [(a, hn), (b, pn)] {
        let m = d.proposal.approval_message(user, party, now);
        let key = &keys.iter().find(|(k, _)| *k == user).unwrap().1;
        let act = Act::Approve {
            at: now,
            signature: STANDARD.encode(key.sign(&m).as_ref()),
        };
        d.apply(user, party, act, &public, now).unwrap();
    }
    let export = Export {
        keys: keys
            .iter()
            .map(|(u, k)| (u.to_string(), STANDARD.encode(k.public_key().as_ref())))
            .collect(),
        decision: d,
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("decision.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&export).unwrap()).unwrap();
    let (code, out) = jsms(&["decision", "verify", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("IN FORCE") && out.contains("sha256:"), "{out}");

    let mut tampered = export.clone();
    tampered.decision.proposal.text = "The partner sends twenty examiners.".into();
    std::fs::write(&file, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let (code, out) = jsms(&["decision", "verify", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BAD SIGNATURE") && out.contains("NOT IN FORCE"), "{out}");

    let mut short = export.clone();
    short.decision.approvals.pop();
    std::fs::write(&file, serde_json::to_vec(&short).unwrap()).unwrap();
    let (code, out) = jsms(&["decision", "verify", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("0 valid approval(s) of 1 required"), "{out}");

    std::fs::write(&file, b"{\"not\": \"an export\"}").unwrap();
    let (code, out) = jsms(&["decision", "verify", file.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("not a decision export"), "{out}");
}
