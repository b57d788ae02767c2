//! `jsms witness …`: run a witness for the other party's audit log with this party's own key
//! and state (`c2sp.org/tlog-witness`).

use crate::Failure;
use jsms_audit::note::{NoteSigner, NoteVerifier, TYPE_COSIGNATURE};
use jsms_audit::witness::WitnessedLog;
use jsms_server::state::SystemClock;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// `jsms witness` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum WitnessCommand {
    /// Create a witness key (mode 0600) and print its verifier key.
    Keygen {
        /// The witness's name, a schema-less URL such as `partner.example/witness`.
        #[arg(long)]
        name: String,
        /// Where to write the private key (must not exist).
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Serve `POST /add-checkpoint` for the logs given.
    Serve {
        /// The witness's private key (from `jsms witness keygen`).
        #[arg(long)]
        key_file: PathBuf,
        /// The witness's state file (created if missing): its latest view of each log.
        #[arg(long)]
        state: PathBuf,
        /// A log's checkpoint verifier key (`jsms audit key` on the log's side); repeatable.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9090")]
        addr: SocketAddr,
    },
}

fn read_key(path: &std::path::Path) -> Result<NoteSigner, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| Failure::config(format!("{}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Failure::config(format!(
                "{} is accessible to other users (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| Failure::config(format!("{}: {e}", path.display())))?;
    NoteSigner::from_text(&text).map_err(|e| Failure::config(format!("{}: {e}", path.display())))
}

/// Runs a `jsms witness` subcommand.
pub fn run(command: WitnessCommand) -> Result<(), Failure> {
    match command {
        WitnessCommand::Keygen { name, key_file } => {
            let seed = jsms_identity::random::bytes::<32>().map_err(Failure::runtime)?;
            let signer = NoteSigner::from_seed(&name, TYPE_COSIGNATURE, seed)
                .map_err(|e| Failure::config(format!("--name: {e}")))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options
                .open(&key_file)
                .map_err(|e| Failure::config(format!("{}: {e}", key_file.display())))?;
            f.write_all(signer.to_text().as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(Failure::runtime)?;
            println!("{}", signer.verifier_text());
            Ok(())
        }
        WitnessCommand::Serve {
            key_file,
            state,
            logs,
            addr,
        } => {
            let signer = read_key(&key_file)?;
            let logs = logs
                .iter()
                .map(|k| {
                    let verifier =
                        NoteVerifier::from_text(k).map_err(|e| Failure::config(format!("--log {k:?}: {e}")))?;
                    Ok(WitnessedLog {
                        origin: verifier.name().to_owned(),
                        verifier,
                    })
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            let vkey = signer.verifier_text();
            let router = jsms_server::witness::router(signer, logs, state, Arc::new(SystemClock))
                .map_err(|e| Failure::config(format!("witness state: {e}")))?;
            crate::serve::runtime()?.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| Failure::runtime(format!("cannot listen on {addr}: {e}")))?;
                let local = listener.local_addr().map_err(Failure::runtime)?;
                println!("JSMS witness serving on http://{local} with key {vkey}");
                axum_serve(listener, router).await
            })
        }
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) -> Result<(), Failure> {
    jsms_server::run(listener, router, None, crate::serve::shutdown_signal())
        .await
        .map_err(Failure::runtime)
}
