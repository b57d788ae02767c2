//! `jsms decision verify FILE`: checks an exported bilateral decision offline — every
//! approval's Ed25519 signature over the canonical proposal, each party's M-of-N rule — with
//! nothing but the file (it carries the approvers' public keys; compare them with the keys
//! each party published).

use crate::Failure;
use std::path::PathBuf;

/// `jsms decision` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DecisionCommand {
    /// Verify an exported decision (JSON): signatures, rules, whether it is in force.
    Verify {
        /// The export (a file; `-` for standard input).
        file: PathBuf,
        /// Judge expiry at this time (Unix seconds) instead of the last approval's.
        #[arg(long)]
        at: Option<i64>,
    },
}

/// Runs `jsms decision …`: exit code 0 when the decision is in force and every signature
/// verifies, 1 otherwise, 3 when the file is not an export.
pub fn run(command: DecisionCommand) -> Result<(), Failure> {
    let DecisionCommand::Verify { file, at } = command;
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(Failure::runtime)?
    } else {
        std::fs::read_to_string(&file).map_err(|e| Failure::config(format!("{}: {e}", file.display())))?
    };
    let export: jsms_decision::Export = serde_json::from_str(&text)
        .map_err(|e| Failure::config(format!("{}: not a decision export: {e}", file.display())))?;
    let v = export.verify(at);
    let p = &export.decision.proposal;
    println!("decision {} revision {} ({})", p.id, p.revision, p.kind.as_str());
    println!("  title: {}", p.title);
    println!("  canonical digest: sha256:{}", v.digest);
    for (party, valid, required) in &v.parties {
        println!("  party {party}: {valid} valid approval(s) of {required} required");
    }
    for u in &v.bad_signatures {
        println!("  BAD SIGNATURE: the approval of user {u} does not verify");
    }
    if v.in_force && v.bad_signatures.is_empty() {
        println!("  verdict: IN FORCE — every rule met by valid signatures");
        Ok(())
    } else {
        println!("  verdict: NOT IN FORCE");
        Err(Failure {
            code: 1,
            message: "the decision is not in force by its signatures".into(),
        })
    }
}
