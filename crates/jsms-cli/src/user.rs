//! `jsms user …`: user management on the server's machine (operators with access to the data
//! directory). The running server sees changes at once: disabling ends sessions immediately.

use crate::Failure;
use crate::config::{self, Overrides};
use crate::init::generate_password;
use jsms_domain::user::{Clearance, Compartment, Organisation, Role, User, UserProfile, Username};
use jsms_identity::password;
use jsms_server::instance::DataDir;
use jsms_store::{NewUser, PageRequest, SqliteStore, Store};
use std::path::PathBuf;

/// Where the instance is.
#[derive(Debug, clap::Args)]
pub struct InstanceArgs {
    /// The instance's data directory (or JSMS_DATA_DIR, or data_dir in --config).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
}

impl InstanceArgs {
    fn open(self) -> Result<SqliteStore, Failure> {
        let file = config::read_file(self.config.as_deref())?;
        let cfg = config::resolve(
            &file,
            Overrides {
                data_dir: self.data_dir,
                addr: None,
            },
        )?;
        Ok(DataDir::new(&cfg.data_dir).open_store(&cfg.key_source)?)
    }
}

/// `jsms user` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a generated initial password. TOTP is enrolled at first sign-in.
    Add {
        /// Where the instance is.
        #[command(flatten)]
        instance: InstanceArgs,
        /// Username: 3–64 of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        username: String,
        /// Name shown to others.
        #[arg(long)]
        display_name: String,
        /// Organisation: its id or exact name.
        #[arg(long)]
        org: String,
        /// Role (repeat for several): company_security_officer, movement_coordinator,
        /// escort_commander, liaison_officer, intelligence_analyst, auditor, party_admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Clearance: unclassified, restricted, confidential, secret.
        #[arg(long, default_value = "restricted")]
        clearance: String,
        /// Compartment (repeat for several).
        #[arg(long = "compartment")]
        compartments: Vec<String>,
    },
    /// List users.
    List {
        /// Where the instance is.
        #[command(flatten)]
        instance: InstanceArgs,
        /// Only this party (code).
        #[arg(long)]
        party: Option<String>,
    },
    /// Disable a user: sign-in refused, every session ended at once.
    Disable {
        /// Where the instance is.
        #[command(flatten)]
        instance: InstanceArgs,
        /// Username.
        username: String,
    },
    /// Re-enable a disabled user.
    Enable {
        /// Where the instance is.
        #[command(flatten)]
        instance: InstanceArgs,
        /// Username.
        username: String,
    },
    /// Set a new generated password (printed once) and end every session of the user.
    ResetPassword {
        /// Where the instance is.
        #[command(flatten)]
        instance: InstanceArgs,
        /// Username.
        username: String,
    },
    /// Remove a user's TOTP enrolment; the user enrols again at next sign-in.
    ResetMfa {
        /// Where the instance is.
        #[command(flatten)]
        instance: InstanceArgs,
        /// Username.
        username: String,
    },
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn find_user(store: &SqliteStore, username: &str) -> Result<User, Failure> {
    store
        .user_credentials(username)
        .map_err(Failure::runtime)?
        .map(|c| c.user)
        .ok_or_else(|| Failure::not_found(format!("no user named {username:?}")))
}

fn all_orgs(store: &SqliteStore) -> Result<Vec<Organisation>, Failure> {
    let mut out = Vec::new();
    let mut page = PageRequest {
        after: None,
        limit: 500,
        q: None,
    };
    loop {
        let p = store.orgs(None, &page).map_err(Failure::runtime)?;
        out.extend(p.items);
        match p.next {
            Some(next) => page.after = Some(next),
            None => return Ok(out),
        }
    }
}

/// Runs a `jsms user` subcommand.
pub fn run(command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add {
            instance,
            username,
            display_name,
            org,
            roles,
            clearance,
            compartments,
        } => {
            let store = instance.open()?;
            let username = Username::parse(&username).map_err(|e| Failure::config(e.message))?;
            let orgs = all_orgs(&store)?;
            let org = orgs
                .iter()
                .find(|o| o.id.to_string() == org || o.name == org)
                .ok_or_else(|| Failure::not_found(format!("no organisation with id or name {org:?}")))?;
            let party = store.party(org.party_id).map_err(Failure::runtime)?;
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::config(e.message))?;
            let clearance: Clearance = clearance
                .parse()
                .map_err(|e: jsms_domain::ValidationError| Failure::config(e.message))?;
            let compartments = compartments
                .iter()
                .map(|c| Compartment::parse(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::config(e.message))?;
            let profile = UserProfile::new(&display_name, roles, clearance, compartments, party.kind)
                .map_err(|e| Failure::config(format!("{e}")))?;
            let pw = generate_password()?;
            let hash = password::hash(&pw).map_err(Failure::runtime)?;
            let user = store
                .create_user(
                    &NewUser {
                        org_id: org.id,
                        username,
                        profile,
                        password_hash: hash,
                        enrolled_totp: None,
                    },
                    now(),
                )
                .map_err(Failure::runtime)?;
            println!(
                "Created {} ({}) in {} / {}",
                user.username, user.id, party.code, org.name
            );
            println!("Initial password: {pw}");
            println!("The user enrols a TOTP app at first sign-in and should change this password.");
            Ok(())
        }
        UserCommand::List { instance, party } => {
            let store = instance.open()?;
            let parties = store.parties().map_err(Failure::runtime)?;
            let filter = match party {
                None => None,
                Some(code) => Some(
                    parties
                        .iter()
                        .find(|p| p.code.as_str() == code)
                        .map(|p| p.id)
                        .ok_or_else(|| Failure::not_found(format!("no party with code {code:?}")))?,
                ),
            };
            println!(
                "{:<24} {:<6} {:<40} {:<8} {:<4} roles",
                "username", "party", "display name", "state", "mfa"
            );
            let mut page = PageRequest {
                after: None,
                limit: 500,
                q: None,
            };
            loop {
                let p = store.users(filter, &page).map_err(Failure::runtime)?;
                for u in &p.items {
                    let code = parties
                        .iter()
                        .find(|x| x.id == u.party_id)
                        .map(|x| x.code.to_string())
                        .unwrap_or_default();
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                    println!(
                        "{:<24} {:<6} {:<40} {:<8} {:<4} {}",
                        u.username.as_str(),
                        code,
                        u.display_name,
                        if u.disabled { "disabled" } else { "active" },
                        if u.mfa_enrolled { "yes" } else { "no" },
                        roles.join(",")
                    );
                }
                match p.next {
                    Some(next) => page.after = Some(next),
                    None => return Ok(()),
                }
            }
        }
        UserCommand::Disable { instance, username } => {
            let store = instance.open()?;
            let user = find_user(&store, &username)?;
            store
                .set_user_disabled(user.id, true, now())
                .map_err(Failure::runtime)?;
            println!("Disabled {username}; every session of the user has ended.");
            Ok(())
        }
        UserCommand::Enable { instance, username } => {
            let store = instance.open()?;
            let user = find_user(&store, &username)?;
            store
                .set_user_disabled(user.id, false, now())
                .map_err(Failure::runtime)?;
            println!("Enabled {username}.");
            Ok(())
        }
        UserCommand::ResetPassword { instance, username } => {
            let store = instance.open()?;
            let user = find_user(&store, &username)?;
            let pw = generate_password()?;
            let hash = password::hash(&pw).map_err(Failure::runtime)?;
            store.set_password(user.id, &hash, now()).map_err(Failure::runtime)?;
            println!("New password for {username}: {pw}");
            println!("Every session of the user has ended; give the password over a trusted channel.");
            Ok(())
        }
        UserCommand::ResetMfa { instance, username } => {
            let store = instance.open()?;
            let user = find_user(&store, &username)?;
            store.reset_mfa(user.id, now()).map_err(Failure::runtime)?;
            println!("Reset the second factor of {username}; the user enrols again at next sign-in.");
            Ok(())
        }
    }
}
