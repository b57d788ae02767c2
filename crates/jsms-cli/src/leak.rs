//! `jsms leak trace`: which recipient's copy of a movement brief a leaked text is, read
//! straight from the instance's database (auditors, on the server's machine).

use crate::Failure;
use crate::config::{self, Overrides};
use jsms_domain::ids::MovementId;
use jsms_server::instance::DataDir;
use std::path::PathBuf;

/// `jsms leak` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LeakCommand {
    /// Rank the recipients of a movement's brief by how well their copy explains a leaked
    /// text (partial, reformatted, retyped, lower-cased or stripped of invisible marks).
    Trace {
        /// The movement.
        #[arg(long)]
        movement: String,
        /// The leaked text (a file; `-` for standard input).
        file: PathBuf,
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

/// Runs `jsms leak …` (exit code 0 whatever the verdict; `--json` for scripts).
pub fn run(command: LeakCommand) -> Result<(), Failure> {
    let LeakCommand::Trace {
        movement,
        file,
        data_dir,
        config,
        json,
    } = command;
    let id = jsms_server::extract::path_id(&movement).map_err(|_| Failure {
        code: 2,
        message: format!("--movement {movement:?} is not a movement id"),
    })?;
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(Failure::runtime)?
    } else {
        std::fs::read_to_string(&file).map_err(|e| Failure::config(format!("{}: {e}", file.display())))?
    };
    let file_cfg = config::read_file(config.as_deref())?;
    let cfg = config::resolve(&file_cfg, Overrides { data_dir, addr: None })?;
    let store = DataDir::new(&cfg.data_dir).open_store(&cfg.key_source)?;
    let result =
        jsms_server::routes::briefs::trace_leak(&store, MovementId::from_uuid(id), &text).map_err(|e| match e {
            jsms_store::StoreError::NotFound => Failure::not_found(format!("no planned movement {id}")),
            other => Failure::runtime(other),
        })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result).map_err(Failure::runtime)?);
    } else {
        println!(
            "{} choice points recognised; {} recipients on record",
            result.observed, result.recipients
        );
        match &result.verdict {
            Some(v) => println!(
                "verdict: {} ({}), confidence {:.6}",
                v.username, v.user, result.confidence
            ),
            None => println!("verdict: none of the recipients explains this text"),
        }
        for c in &result.ranking {
            println!(
                "  {:<24} agrees on {:>3} of {}  p = {:.2e}",
                c.username, c.agreeing, result.observed, c.p_value
            );
        }
    }
    Ok(())
}
