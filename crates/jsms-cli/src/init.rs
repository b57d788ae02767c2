//! `jsms init`: create an instance with its parties and each party's first administrator.

use crate::Failure;
use crate::config::{self, Overrides, PartyFile};
use jsms_domain::ids::PartyId;
use jsms_domain::user::{
    Clearance, OrgKind, OrganisationDraft, Party, PartyCode, PartyKind, Role, UserProfile, Username,
};
use jsms_identity::password;
use jsms_server::instance::DataDir;
use jsms_store::{NewUser, SqliteStore, Store};
use std::path::PathBuf;

/// Arguments of `jsms init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory to create the instance in (must not hold one already).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Configuration file (TOML) with `[[parties]]` and key settings.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A party as CODE:KIND:NAME, e.g. `HN:host:Host Nation` (repeat; exactly one host).
    #[arg(long = "party", value_name = "CODE:KIND:NAME")]
    parties: Vec<String>,
}

/// A party to create, parsed.
#[derive(Debug, Clone)]
pub struct PartySpec {
    /// Code.
    pub code: PartyCode,
    /// Kind.
    pub kind: PartyKind,
    /// Name.
    pub name: String,
}

fn parse_kind(kind: &str) -> Result<PartyKind, Failure> {
    match kind {
        "host" => Ok(PartyKind::Host),
        "partner" => Ok(PartyKind::Partner),
        other => Err(Failure::config(format!("party kind {other:?} must be host or partner"))),
    }
}

fn spec(code: &str, kind: &str, name: &str) -> Result<PartySpec, Failure> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Failure::config(format!(
            "party {code}: the name must be 1 to 200 characters"
        )));
    }
    Ok(PartySpec {
        code: PartyCode::parse(code).map_err(|e| Failure::config(e.message))?,
        kind: parse_kind(kind)?,
        name: name.to_owned(),
    })
}

fn parse_flag(flag: &str) -> Result<PartySpec, Failure> {
    let mut parts = flag.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(code), Some(kind), Some(name)) => spec(code, kind, name),
        _ => Err(Failure::config(format!(
            "--party {flag:?}: expected CODE:KIND:NAME, e.g. HN:host:Host Nation"
        ))),
    }
}

/// Checks the party set: at least two, exactly one host, distinct codes.
pub fn check_parties(parties: &[PartySpec]) -> Result<(), Failure> {
    if parties.len() < 2 {
        return Err(Failure::config(
            "a deployment needs at least two parties (--party CODE:KIND:NAME, repeated)",
        ));
    }
    if parties.iter().filter(|p| p.kind == PartyKind::Host).count() != 1 {
        return Err(Failure::config("exactly one party must be the host"));
    }
    let mut codes: Vec<&str> = parties.iter().map(|p| p.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    if codes.len() != parties.len() {
        return Err(Failure::config("party codes must be distinct"));
    }
    Ok(())
}

/// A login created by `init` or `demo`.
#[derive(Debug, Clone)]
pub struct Login {
    /// Role shown.
    pub role: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// TOTP secret, if pre-enrolled.
    pub totp_secret: Option<String>,
    /// Whether `jsms demo` prints it (one login per role is printed; the rest exist for
    /// two-person rules and tests).
    pub shown: bool,
}

/// A random password of 20 characters from an unambiguous alphabet (~114 bits).
pub fn generate_password() -> Result<String, Failure> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let bytes = jsms_identity::random::bytes::<20>().map_err(Failure::runtime)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET.get(usize::from(*b) % ALPHABET.len()).copied().unwrap_or(b'x')))
        .collect())
}

/// Creates the parties, an administration organisation per party and its administrator.
/// Returns the party ids and the administrators' logins.
pub fn create_parties(
    store: &SqliteStore,
    parties: &[PartySpec],
    now: i64,
) -> Result<(Vec<PartyId>, Vec<Login>), Failure> {
    let mut ids = Vec::new();
    let mut logins = Vec::new();
    for spec in parties {
        let party = Party {
            id: PartyId::generate(),
            code: spec.code.clone(),
            name: spec.name.clone(),
            kind: spec.kind,
        };
        store.create_party(&party, now).map_err(Failure::runtime)?;
        let org = store
            .create_org(
                party.id,
                &OrganisationDraft::new(&format!("{} — JSMS administration", spec.name), OrgKind::Agency)
                    .map_err(Failure::config)?,
                now,
            )
            .map_err(Failure::runtime)?;
        // Two administrators: privilege (a new user, a role, a raised clearance) needs a
        // second one to approve, so a party with one could never grow.
        for (suffix, label, shown) in [
            ("admin", "administrator", true),
            ("admin2", "second administrator", true),
        ] {
            let username =
                Username::parse(&format!("{}.{suffix}", spec.code.as_str().to_lowercase())).map_err(Failure::config)?;
            let pw = generate_password()?;
            let profile = UserProfile::new(
                &format!("{} {label}", spec.code),
                vec![Role::PartyAdmin],
                Clearance::Restricted,
                vec![],
                spec.kind,
            )
            .map_err(Failure::config)?;
            let hash = password::hash(&pw).map_err(Failure::runtime)?;
            store
                .create_user(
                    &NewUser {
                        org_id: org.id,
                        username: username.clone(),
                        profile,
                        password_hash: hash,
                        enrolled_totp: None,
                    },
                    now,
                )
                .map_err(Failure::runtime)?;
            logins.push(Login {
                role: if suffix == "admin" {
                    format!("party_admin ({})", spec.code)
                } else {
                    format!("party_admin ({}, second)", spec.code)
                },
                username: username.to_string(),
                password: pw,
                totp_secret: None,
                shown,
            });
        }
        ids.push(party.id);
    }
    Ok((ids, logins))
}

/// Runs `jsms init`.
pub fn run(args: InitArgs) -> Result<(), Failure> {
    let file = config::read_file(args.config.as_deref())?;
    let cfg = config::resolve(
        &file,
        Overrides {
            data_dir: args.data_dir,
            addr: None,
        },
    )?;
    let parties: Vec<PartySpec> = if args.parties.is_empty() {
        file.parties
            .iter()
            .map(|p: &PartyFile| spec(&p.code, &p.kind, &p.name))
            .collect::<Result<_, _>>()?
    } else {
        args.parties.iter().map(|p| parse_flag(p)).collect::<Result<_, _>>()?
    };
    check_parties(&parties)?;
    let dir = DataDir::new(&cfg.data_dir);
    dir.create(&cfg.key_source)?;
    let store = dir.create_store(&cfg.key_source)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (_, logins) = create_parties(&store, &parties, now)?;
    println!("Created a JSMS instance in {}", cfg.data_dir.display());
    println!(
        "The sealing key for personal data is in {}: back it up apart from the database.",
        dir.pii_key().display()
    );
    println!();
    println!("Each party's two administrators (privilege needs both: one asks, the other approves; they enrol a");
    println!("TOTP app at first sign-in; change these passwords):");
    for l in &logins {
        println!("  {:<24} {:<16} {}", l.role, l.username, l.password);
    }
    println!();
    let log_key = dir.checkpoint_signer()?.verifier_text();
    if cfg.witnesses.is_empty() {
        println!("Attach the other party's witness, so that neither party alone can rewrite the audit log:");
        println!("  on the other party's machine:");
        println!("    jsms witness keygen --name partner.example/witness --key-file witness.key");
        println!("    jsms witness serve --key-file witness.key --state witness.json --addr 0.0.0.0:9090 \\");
        println!("        --log {log_key}");
        println!("  then here, in jsms.toml:");
        println!("    [[witnesses]]");
        println!("    url = \"https://witness.partner.example:9090\"");
        println!("    key = \"<the verifier key `jsms witness keygen` printed>\"");
        println!("  (or JSMS_WITNESSES=URL=KEY). Until one is configured, /readyz and the log warn.");
        println!();
    }
    println!("Start it with: jsms serve --data-dir {}", cfg.data_dir.display());
    Ok(())
}
