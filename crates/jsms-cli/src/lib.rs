//! The `jsms` command line: the one binary of the Joint Security Management System.
//!
//! Arguments are parsed first (clap), then configuration is loaded (file, then `JSMS_*`
//! environment, then flags), then stores are opened. Exit codes are stable:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command failed at run time (database, network, I/O) |
//! | 2 | bad usage (unknown flag, missing argument) |
//! | 3 | bad configuration or data directory (unreadable config, wrong key permissions, no instance) |
//! | 4 | the named object does not exist (e.g. `jsms user disable` of an unknown user) |
//!
//! `jsms audit verify` exits 1 when the log is not intact.

pub mod audit;
pub mod config;
pub mod convoy;
pub mod decision;
pub mod demo;
pub mod init;
pub mod leak;
pub mod map;
pub mod serve;
pub mod simulate;
pub mod user;
pub mod witness;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Joint Security Management System.
#[derive(Debug, Parser)]
#[command(name = "jsms", version, about, long_about = None)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "JSMS_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a complete fictional scenario on 127.0.0.1 and print the demo logins.
    Demo(demo::DemoArgs),
    /// Run an instance.
    Serve(serve::ServeArgs),
    /// Create an instance: data directory, keys, parties and their first administrators.
    Init(init::InitArgs),
    /// Manage users from the command line (on the server's machine).
    User {
        /// What to do.
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Import the road network from an OpenStreetMap extract.
    Map {
        /// What to do.
        #[command(subcommand)]
        command: map::MapCommand,
    },
    /// Risk-aware routes between two points, as GeoJSON.
    Route(map::RouteArgs),
    /// Verify the audit log offline, print its key, or ask who knew about a resource.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Drive a tracking device along its escort team's planned route, with faults.
    Simulate(simulate::SimulateArgs),
    /// Verify an exported bilateral decision offline.
    Decision {
        /// What to do.
        #[command(subcommand)]
        command: decision::DecisionCommand,
    },
    /// Trace a leaked movement brief back to its recipient.
    Leak {
        /// What to do.
        #[command(subcommand)]
        command: leak::LeakCommand,
    },
    /// Run a witness for the other party's audit log.
    Witness {
        /// What to do.
        #[command(subcommand)]
        command: witness::WitnessCommand,
    },
}

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// The exit code.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Run-time failure (exit 1).
    pub fn runtime(message: impl std::fmt::Display) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }
    /// Configuration or data-directory failure (exit 3).
    pub fn config(message: impl std::fmt::Display) -> Self {
        Self {
            code: 3,
            message: message.to_string(),
        }
    }
    /// Unknown object (exit 4).
    pub fn not_found(message: impl std::fmt::Display) -> Self {
        Self {
            code: 4,
            message: message.to_string(),
        }
    }
}

impl From<jsms_server::instance::InstanceError> for Failure {
    fn from(e: jsms_server::instance::InstanceError) -> Self {
        match e {
            jsms_server::instance::InstanceError::Store(jsms_store::StoreError::WrongKey) => {
                Failure::config(jsms_store::StoreError::WrongKey)
            }
            jsms_server::instance::InstanceError::Store(s) => Failure::runtime(s),
            other => Failure::config(other),
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JSMS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main_entry() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Init(args) => init::run(args),
        Command::User { command } => user::run(command),
        Command::Audit { command } => audit::run(command),
        Command::Map { command } => map::run(command),
        Command::Route(args) => map::route(args),
        Command::Witness { command } => witness::run(command),
        Command::Leak { command } => leak::run(command),
        Command::Decision { command } => decision::run(command),
        Command::Simulate(args) => simulate::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("jsms: error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
