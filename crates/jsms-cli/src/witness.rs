//! `jsms witness …`: run a witness for the other party's audit log with this party's own key
//! and state (`c2sp.org/tlog-witness`).

use crate::Failure;
use jsms_audit::note::{Checkpoint, Note};
use jsms_audit::note::{NoteSigner, NoteVerifier, TYPE_COSIGNATURE};
use jsms_audit::witness::{AddCheckpoint, WitnessedLog};
use jsms_server::state::SystemClock;
use jsms_server::witness::{AddError, Witness};
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
    /// Fetch the log's latest checkpoint and a consistency proof from its instance, verify
    /// them against this witness's view, persist the new view, and post the cosignature back.
    Pull {
        /// The witness's private key (from `jsms witness keygen`).
        #[arg(long)]
        key_file: PathBuf,
        /// The witness's state file (created if missing).
        #[arg(long)]
        state: PathBuf,
        /// The log's checkpoint verifier key (`jsms audit key` on the log's side).
        #[arg(long)]
        log: String,
        /// The instance's base URL, e.g. https://jsms.host.example.
        #[arg(long)]
        url: String,
        /// A file holding an API token of the instance (any scope); or set JSMS_WITNESS_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Seconds between rounds.
        #[arg(long, default_value_t = 5)]
        interval: u64,
        /// Stop after one round that cosigned (or found nothing new).
        #[arg(long)]
        once: bool,
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
        WitnessCommand::Pull {
            key_file,
            state,
            log,
            url,
            token_file,
            interval,
            once,
        } => {
            let signer = read_key(&key_file)?;
            let verifier = NoteVerifier::from_text(&log).map_err(|e| Failure::config(format!("--log: {e}")))?;
            let origin = verifier.name().to_owned();
            let token = match (token_file, std::env::var("JSMS_WITNESS_TOKEN").ok()) {
                (Some(f), _) => {
                    std::fs::read_to_string(&f).map_err(|e| Failure::config(format!("{}: {e}", f.display())))?
                }
                (None, Some(t)) => t,
                (None, None) => {
                    return Err(Failure::config(
                        "give an API token with --token-file or JSMS_WITNESS_TOKEN",
                    ));
                }
            };
            let token = token.trim().to_owned();
            let logs = vec![WitnessedLog {
                origin: origin.clone(),
                verifier,
            }];
            let witness = Witness::new(signer, logs, state, Arc::new(SystemClock))
                .map_err(|e| Failure::config(format!("witness state: {e}")))?;
            let url = url.trim_end_matches('/').to_owned();
            crate::serve::runtime()?.block_on(async move {
                let client = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(15))
                    .build()
                    .map_err(Failure::runtime)?;
                loop {
                    match pull_round(&client, &witness, &origin, &url, &token).await {
                        Ok(Round::Cosigned(size)) => println!("cosigned {origin} at size {size}"),
                        Ok(Round::UpToDate) => tracing::debug!("up to date"),
                        Ok(Round::NothingYet) => tracing::info!("the log has no checkpoint yet"),
                        Err(e) if once => return Err(Failure::runtime(e)),
                        Err(e) => tracing::error!(error = %e, "witness round failed"),
                    }
                    if once {
                        return Ok(());
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(interval.max(1))).await;
                }
            })
        }
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

/// What one pull round did.
enum Round {
    Cosigned(u64),
    UpToDate,
    NothingYet,
}

async fn pull_round(
    client: &reqwest::Client,
    witness: &Witness,
    origin: &str,
    url: &str,
    token: &str,
) -> Result<Round, String> {
    let get = |path: String| client.get(format!("{url}{path}")).bearer_auth(token).send();
    let resp = get("/api/v1/audit/checkpoint".into())
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    if resp.status().as_u16() == 404 {
        return Ok(Round::NothingYet);
    }
    if !resp.status().is_success() {
        return Err(format!("checkpoint: HTTP {}", resp.status()));
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    let note = Note::parse(&text).map_err(|e| format!("checkpoint: {e}"))?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|e| format!("checkpoint: {e}"))?;
    if checkpoint.origin != origin {
        return Err(format!(
            "the instance serves the log {:?}, not {origin:?}",
            checkpoint.origin
        ));
    }
    let old = witness.view(origin).await.map_or(0, |v| v.size);
    if old == checkpoint.size {
        return Ok(Round::UpToDate);
    }
    let mut proof = Vec::new();
    if old > 0 && old < checkpoint.size {
        let r = get(format!("/api/v1/audit/consistency?old={old}&new={}", checkpoint.size))
            .await
            .map_err(|e| e.to_string())?;
        let body: serde_json::Value = r.json().await.map_err(|e| format!("consistency proof: {e}"))?;
        for h in body
            .get("proof")
            .and_then(|p| p.as_array())
            .ok_or("consistency proof: no proof")?
        {
            let bytes = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                h.as_str().unwrap_or_default(),
            )
            .map_err(|e| format!("consistency proof: {e}"))?;
            proof.push(
                bytes
                    .try_into()
                    .map_err(|_| "consistency proof: a hash is 32 bytes".to_owned())?,
            );
        }
    }
    let size = checkpoint.size;
    let request = AddCheckpoint {
        old,
        proof,
        note,
        checkpoint,
    };
    let line = match witness.add(&request).await {
        Ok(line) => line,
        Err(AddError::Refused(e)) => return Err(format!("REFUSED the log's checkpoint at size {size}: {e}")),
        Err(AddError::NotPersisted(e)) => return Err(format!("state not persisted: {e}")),
    };
    let posted = client
        .post(format!("{url}/api/v1/audit/cosignatures?size={size}"))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(line)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !posted.status().is_success() {
        return Err(format!(
            "the instance did not accept the cosignature: HTTP {}",
            posted.status()
        ));
    }
    Ok(Round::Cosigned(size))
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) -> Result<(), Failure> {
    jsms_server::run(listener, router, None, crate::serve::shutdown_signal())
        .await
        .map_err(Failure::runtime)
}
