//! `jsms audit …`: offline verification of the audit log, its identity, and "who knew".
//!
//! These commands read the data directory directly (they work with the server stopped or
//! running) and never write to the log: only the server appends, so its tree and the file
//! never disagree.

use crate::Failure;
use crate::config::{self, Overrides};
use jsms_audit::entry::{AuditEntry, Outcome};
use jsms_audit::note::NoteVerifier;
use jsms_audit::verify::LogVerifier;
use jsms_server::instance::DataDir;
use jsms_server::witness::WitnessState;
use jsms_store::audit::AuditDb;
use std::path::PathBuf;

/// `jsms audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the Merkle tree from the stored entries and check every signed checkpoint,
    /// every cosignature and, with --witness-state, the witness's view (which catches
    /// truncation). Exit code 0 when intact, 1 otherwise.
    Verify {
        /// The instance's data directory (or JSMS_DATA_DIR, or data_dir in --config).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Configuration file (TOML); its [[witnesses]] keys are used.
        #[arg(long)]
        config: Option<PathBuf>,
        /// A witness's state file (from `jsms witness serve --state`); repeat for several.
        #[arg(long = "witness-state")]
        witness_states: Vec<PathBuf>,
        /// A witness's verifier key, in addition to those in the configuration; repeatable.
        #[arg(long = "witness-key")]
        witness_keys: Vec<String>,
    },
    /// Print the log's origin and checkpoint verifier key (give it to the witnesses).
    Key {
        /// The instance's data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Every principal who accessed a resource's protected fields, when and through which
    /// channel.
    WhoKnew {
        /// The instance's data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The resource, e.g. `person:0193…`.
        #[arg(long)]
        resource: String,
    },
}

fn data_dir(
    data_dir: Option<PathBuf>,
    config: Option<&std::path::Path>,
    need_log: bool,
) -> Result<(DataDir, config::FileConfig), Failure> {
    let file = config::read_file(config)?;
    let cfg = config::resolve(&file, Overrides { data_dir, addr: None })?;
    let dir = DataDir::new(&cfg.data_dir);
    if need_log && !dir.audit_database().exists() {
        return Err(Failure::config(format!(
            "{} holds no audit log",
            cfg.data_dir.display()
        )));
    }
    Ok((dir, file))
}

/// Runs a `jsms audit` subcommand.
pub fn run(command: AuditCommand) -> Result<(), Failure> {
    match command {
        AuditCommand::Verify {
            data_dir: d,
            config: c,
            witness_states,
            witness_keys,
        } => {
            let (dir, file) = data_dir(d.clone(), c.as_deref(), true)?;
            let cfg = config::resolve(
                &file,
                Overrides {
                    data_dir: d,
                    addr: None,
                },
            )?;
            let log_key = dir.checkpoint_signer()?.verifier();
            let mut witnesses: Vec<NoteVerifier> = cfg.witnesses.iter().map(|w| w.verifier.clone()).collect();
            for k in &witness_keys {
                witnesses.push(NoteVerifier::from_text(k).map_err(|e| Failure::config(format!("--witness-key: {e}")))?);
            }
            let db = AuditDb::open(&dir.audit_database()).map_err(Failure::runtime)?;
            let tail_key = dir.existing_tail_key()?;
            if tail_key.is_none() {
                println!(
                    "note: {} is missing: entries after the last checkpoint cannot be authenticated",
                    dir.audit_key().display()
                );
            }
            let mut v = tail_key.map_or_else(LogVerifier::new, LogVerifier::with_tail_key);
            db.for_each_row(0, |row| {
                v.row(row.index, row.data, row.columns, row.tag);
                Ok(())
            })
            .map_err(Failure::runtime)?;
            let cosigs = db.cosignatures(None).map_err(Failure::runtime)?;
            let checkpoints: Vec<(u64, String, Vec<String>)> = db
                .checkpoints()
                .map_err(Failure::runtime)?
                .into_iter()
                .map(|c| {
                    let lines = cosigs
                        .iter()
                        .filter(|s| s.size == c.size)
                        .map(|s| s.line.clone())
                        .collect();
                    (c.size, c.note, lines)
                })
                .collect();
            v.checkpoints(&log_key, &witnesses, &checkpoints);
            for path in &witness_states {
                let state =
                    WitnessState::load(path).map_err(|e| Failure::config(format!("{}: {e}", path.display())))?;
                match state.view(log_key.name()) {
                    Some(view) => v.witness_view(view.size, &view.root),
                    None => println!("note: {} holds no view of {}", path.display(), log_key.name()),
                }
            }
            let report = v.finish();
            if report.is_intact() {
                println!(
                    "audit log intact: {} entries, {} checkpoints, {} cosignatures verified, {} ({})",
                    report.entries,
                    report.checkpoints,
                    report.cosignatures,
                    report.tail.map_or_else(
                        || "tail not authenticated (no key)".to_owned(),
                        |n| format!("{n} entries after the last checkpoint authenticated")
                    ),
                    log_key.name()
                );
                if report.cosignatures == 0 {
                    println!(
                        "warning: no checkpoint is cosigned by a witness: a truncation that also removed \
                         checkpoints would go unnoticed (attach one: `jsms witness --help`)"
                    );
                }
                Ok(())
            } else {
                for f in &report.findings {
                    println!("TAMPERED: {f}");
                }
                let first = report
                    .first_bad_entry()
                    .map_or_else(|| "unknown".to_owned(), |i| i.to_string());
                Err(Failure {
                    code: 1,
                    message: format!("the audit log is not intact; first bad entry: {first}"),
                })
            }
        }
        AuditCommand::Key { data_dir: d, config: c } => {
            let (dir, _) = data_dir(d, c.as_deref(), false)?;
            let signer = dir.checkpoint_signer()?;
            println!("origin: {}", signer.name());
            println!("verifier key: {}", signer.verifier_text());
            Ok(())
        }
        AuditCommand::WhoKnew {
            data_dir: d,
            config: c,
            resource,
        } => {
            let (dir, _) = data_dir(d, c.as_deref(), true)?;
            let db = AuditDb::open(&dir.audit_database()).map_err(Failure::runtime)?;
            let stored = db.entries_about(&resource, 0, i64::MAX).map_err(Failure::runtime)?;
            println!(
                "{:<26} {:<44} {:<20} {:<6} {:<8} fields",
                "time (UTC)", "principal", "name", "party", "channel"
            );
            let mut n = 0;
            for s in stored {
                let e = AuditEntry::from_bytes(&s.data)
                    .map_err(|err| Failure::runtime(format!("entry {}: {err}", s.idx)))?;
                if e.outcome != Outcome::Allow || e.fields.is_empty() {
                    continue;
                }
                n += 1;
                println!(
                    "{:<26} {:<44} {:<20} {:<6} {:<8} {}",
                    jsms_server::wire::rfc3339(e.time_ms.div_euclid(1000)),
                    e.principal,
                    e.principal_name.unwrap_or_default(),
                    e.party.unwrap_or_default(),
                    e.channel,
                    e.fields.join(",")
                );
            }
            println!("{n} accesses to {resource}");
            Ok(())
        }
    }
}
