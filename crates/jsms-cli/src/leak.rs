//! `jsms leak trace`: which recipients' copies of a movement brief explain a leaked text, or
//! the facts the attackers knew, read straight from the instance's database and audit log
//! (auditors, on the server's machine).

use crate::Failure;
use crate::config::{self, Overrides};
use jsms_audit::entry::{AuditEntry, Outcome};
use jsms_domain::ids::MovementId;
use jsms_server::instance::DataDir;
use jsms_server::routes::briefs::{FactIn, LeakError, LeakIn, LeakTrace, fact_error, leak_input, trace_leak};
use std::path::{Path, PathBuf};

/// `jsms leak` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LeakCommand {
    /// Name every recipient of a movement's brief whose copy explains a leaked text (partial,
    /// reformatted, retyped, translated, retold) or the facts the attackers knew.
    Trace {
        /// The movement.
        #[arg(long)]
        movement: String,
        /// The leaked text (a file; `-` for standard input).
        #[arg(required_unless_present = "facts", conflicts_with = "facts")]
        file: Option<PathBuf>,
        /// What the attackers knew instead of a leaked text: a JSON list of
        /// `{"fact": "ready", "value": "07:52"}` (facts: ready, arrival, staging_code,
        /// fallback, radio_check, route, duration), or free text from which facts are read.
        #[arg(long, value_name = "FILE")]
        facts: Option<PathBuf>,
        /// The leak had reached the attackers by then (RFC 3339): later recipients are not
        /// candidates.
        #[arg(long, value_name = "TIME")]
        leaked_before: Option<String>,
        /// The instance's data directory (or JSMS_DATA_DIR, or data_dir in --config).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn read(path: &Path) -> Result<String, Failure> {
    if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(Failure::runtime)
    } else {
        std::fs::read_to_string(path).map_err(|e| Failure::config(format!("{}: {e}", path.display())))
    }
}

/// Who accessed the movement's plan, from the audit log: (principal, name, Unix seconds).
fn who_knew(audit_db: &Path, movement: MovementId) -> Result<Vec<(String, Option<String>, i64)>, Failure> {
    let db = jsms_store::audit::AuditDb::open(audit_db).map_err(Failure::runtime)?;
    let stored = db
        .entries_about(&format!("movement:{movement}:plan"), 0, i64::MAX)
        .map_err(Failure::runtime)?;
    let mut out = Vec::new();
    for s in stored {
        let e = AuditEntry::from_bytes(&s.data).map_err(|err| Failure::runtime(format!("entry {}: {err}", s.idx)))?;
        if e.outcome == Outcome::Allow {
            out.push((e.principal, e.principal_name, e.time_ms.div_euclid(1000)));
        }
    }
    Ok(out)
}

/// Runs `jsms leak …` (exit code 0 whatever the verdict; `--json` for scripts).
pub fn run(command: LeakCommand) -> Result<(), Failure> {
    let LeakCommand::Trace {
        movement,
        file,
        facts,
        leaked_before,
        data_dir,
        config,
        json,
    } = command;
    let id = jsms_server::extract::path_id(&movement).map_err(|_| Failure {
        code: 2,
        message: format!("--movement {movement:?} is not a movement id"),
    })?;
    let request = match (&file, &facts) {
        (Some(f), None) => LeakIn {
            text: Some(read(f)?),
            facts: None,
            facts_text: None,
            leaked_before,
        },
        (None, Some(f)) => {
            let content = read(f)?;
            match serde_json::from_str::<Vec<FactIn>>(&content) {
                Ok(list) => LeakIn {
                    text: None,
                    facts: Some(list),
                    facts_text: None,
                    leaked_before,
                },
                Err(_) if !content.trim_start().starts_with('[') => LeakIn {
                    text: None,
                    facts: None,
                    facts_text: Some(content),
                    leaked_before,
                },
                Err(e) => {
                    return Err(Failure {
                        code: 2,
                        message: format!(
                            "--facts {}: not a JSON list of {{\"fact\", \"value\"}}: {e}",
                            f.display()
                        ),
                    });
                }
            }
        }
        _ => {
            return Err(Failure {
                code: 2,
                message: "give a leaked text FILE or --facts FILE".into(),
            });
        }
    };
    let (input, before) = leak_input(request).map_err(|e| Failure {
        code: 2,
        message: e.to_string(),
    })?;
    let file_cfg = config::read_file(config.as_deref())?;
    let cfg = config::resolve(&file_cfg, Overrides { data_dir, addr: None })?;
    let dir = DataDir::new(&cfg.data_dir);
    let store = dir.open_store(&cfg.key_source)?;
    let movement = MovementId::from_uuid(id);
    let knew = who_knew(&dir.audit_database(), movement)?;
    let result = trace_leak(&store, movement, &input, before, &knew).map_err(|e| match e {
        LeakError::Store(jsms_store::StoreError::NotFound) => Failure::not_found(format!("no planned movement {id}")),
        LeakError::Store(other) => Failure::runtime(other),
        LeakError::Facts(f) => Failure {
            code: 2,
            message: fact_error(&f).to_string(),
        },
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result).map_err(Failure::runtime)?);
    } else {
        print_report(&result);
    }
    Ok(())
}

fn print_report(r: &LeakTrace) {
    println!(
        "{} choice points recognised; {} recipients on record, {} considered; bar {:.1e} per test",
        r.observed, r.recipients, r.candidates, r.bar
    );
    if r.named.is_empty() {
        println!("named: none of the recipients explains this text");
    }
    for n in &r.named {
        match n.kind.as_str() {
            "group" => println!(
                "named (group sharing operative facts — one of them, or someone they told): {}  p ≤ {:.1e}",
                n.usernames.join(", "),
                n.p_value
            ),
            _ => println!("named: {}  p ≤ {:.1e}", n.usernames.join(", "), n.p_value),
        }
    }
    if let Some(v) = &r.verdict {
        println!("verdict: {} ({}), confidence {:.6}", v.username, v.user, r.confidence);
    }
    for c in &r.ranking {
        println!(
            "  {:<24} {:<8} agrees on {:>3} of {:<3} p ≤ {:.1e}",
            c.username, c.audience, c.agreeing, c.scored, c.p_value
        );
        for e in &c.evidence {
            println!(
                "      {:<18} leaked {:<30} theirs {:<30} {}{}",
                e.fact.as_deref().unwrap_or(&e.label),
                e.leaked.join(" | "),
                e.received,
                if e.agrees { "agrees" } else { "differs" },
                if e.shared { " (shared by their audience)" } else { "" }
            );
        }
    }
    for k in &r.knew_without_copy {
        println!(
            "  knew the plan without a traceable copy: {} {} (first {})",
            k.principal,
            k.name.as_deref().unwrap_or(""),
            k.first_access
        );
    }
}
