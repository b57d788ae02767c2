//! The instance's data directory: the database file and the keys beside it, with strict
//! permissions checked at start-up.
//!
//! ```text
//! DATA_DIR/            0700
//!   jsms.db            SQLite database (WAL)
//!   keys/              0700
//!     pii.key          32 random bytes, base64, 0600: seals personal data
//!     checkpoint.key   Ed25519 note key (its name is the log origin), 0600: signs checkpoints
//!     audit.key        32 random bytes, base64, 0600: tags entries not yet under a checkpoint
//!   audit.db           the audit log (SQLite, WAL, synchronous=FULL)
//!   map/graph.bin      the imported road graph (checksummed; replaced atomically)
//! ```

use crate::audit::AuditLog;
use crate::config::KeySource;
use crate::state::Clock;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsms_audit::note::{NoteSigner, TYPE_ED25519};
use jsms_audit::tail::TailKey;
use jsms_identity::seal::SealingKey;
use jsms_store::SqliteStore;
use jsms_store::audit::AuditDb;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Errors opening or creating an instance.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Filesystem problem, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A key file or directory is readable by others.
    #[error("{path} is accessible to other users (mode {mode:o}); run `chmod {want:o} {path}`")]
    Permissions {
        /// The path.
        path: PathBuf,
        /// Its mode.
        mode: u32,
        /// The mode wanted.
        want: u32,
    },
    /// A key is missing or malformed.
    #[error("sealing key: {0}")]
    Key(String),
    /// The directory is not an instance, or already is one.
    #[error("{0}")]
    Layout(String),
    /// The audit log could not be opened or is not intact.
    #[error("audit log: {0}")]
    Audit(String),
    /// The database failed to open or migrate.
    #[error("database: {0}")]
    Store(#[from] jsms_store::StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstanceError + '_ {
    move |source| InstanceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Paths inside a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Wraps a directory path.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database file.
    pub fn database(&self) -> PathBuf {
        self.root.join("jsms.db")
    }

    /// The keys directory.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// The imported road graph (`jsms map import`).
    pub fn road_graph(&self) -> PathBuf {
        self.root.join("map").join("graph.bin")
    }

    /// The audit database file.
    pub fn audit_database(&self) -> PathBuf {
        self.root.join("audit.db")
    }

    /// The checkpoint signing key file.
    pub fn checkpoint_key(&self) -> PathBuf {
        self.keys().join("checkpoint.key")
    }

    /// The audit tail key file.
    pub fn audit_key(&self) -> PathBuf {
        self.keys().join("audit.key")
    }

    /// Loads the audit tail key, checking permissions; creates it when the instance has
    /// none yet (instances made before tail tags existed). Entries after the last
    /// checkpoint must verify under it, so a new key opens no door.
    pub fn tail_key(&self) -> Result<TailKey, InstanceError> {
        if let Some(key) = self.existing_tail_key()? {
            return Ok(key);
        }
        let key = jsms_identity::random::bytes::<32>().map_err(|e| InstanceError::Key(e.to_string()))?;
        write_private_file(&self.audit_key(), STANDARD.encode(key).as_bytes())?;
        TailKey::from_bytes(&key).map_err(|e| InstanceError::Key(e.to_string()))
    }

    /// The audit tail key, if the instance has one (read-only: for verification).
    pub fn existing_tail_key(&self) -> Result<Option<TailKey>, InstanceError> {
        let path = self.audit_key();
        if !path.exists() {
            return Ok(None);
        }
        let text = read_private_file(&path)?;
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| InstanceError::Key(format!("{}: not base64: {e}", path.display())))?;
        TailKey::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| InstanceError::Key(format!("{}: {e}", path.display())))
    }

    /// Loads the checkpoint signing key, checking permissions.
    pub fn checkpoint_signer(&self) -> Result<NoteSigner, InstanceError> {
        let text = read_private_file(&self.checkpoint_key())?;
        NoteSigner::from_text(&text).map_err(|e| InstanceError::Key(format!("checkpoint key: {e}")))
    }

    /// Opens the audit log: its database, tree and writer, checked against the last
    /// signed checkpoint.
    pub fn open_audit(&self, clock: Arc<dyn Clock>) -> Result<Arc<AuditLog>, InstanceError> {
        let signer = self.checkpoint_signer()?;
        let tail_key = self.tail_key()?;
        let sink = AuditDb::open(&self.audit_database())?;
        let reader = AuditDb::open(&self.audit_database())?;
        AuditLog::start(Box::new(sink), reader, signer, tail_key, clock)
            .map_err(|e| InstanceError::Audit(e.to_string()))
    }

    /// The default sealing-key file.
    pub fn pii_key(&self) -> PathBuf {
        self.keys().join("pii.key")
    }

    /// Creates a new instance layout: directories with mode 0700 and a fresh sealing key
    /// (mode 0600) unless `key_source` points elsewhere. Refuses a directory that already
    /// holds a database.
    pub fn create(&self, key_source: &KeySource) -> Result<(), InstanceError> {
        if self.database().exists() {
            return Err(InstanceError::Layout(format!(
                "{} already holds an instance; choose an empty directory",
                self.root.display()
            )));
        }
        create_private_dir(&self.root)?;
        create_private_dir(&self.keys())?;
        let seed = jsms_identity::random::bytes::<32>().map_err(|e| InstanceError::Key(e.to_string()))?;
        let id = jsms_identity::random::bytes::<8>().map_err(|e| InstanceError::Key(e.to_string()))?;
        let origin = format!(
            "jsms.instance/{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let signer =
            NoteSigner::from_seed(&origin, TYPE_ED25519, seed).map_err(|e| InstanceError::Key(e.to_string()))?;
        write_private_file(&self.checkpoint_key(), signer.to_text().as_bytes())?;
        let tail = jsms_identity::random::bytes::<32>().map_err(|e| InstanceError::Key(e.to_string()))?;
        write_private_file(&self.audit_key(), STANDARD.encode(tail).as_bytes())?;
        if *key_source == KeySource::DataDir {
            let key = SealingKey::generate().map_err(|e| InstanceError::Key(e.to_string()))?;
            write_private_file(&self.pii_key(), STANDARD.encode(key.as_bytes()).as_bytes())?;
        }
        Ok(())
    }

    /// Loads the sealing key from `source`, checking file permissions.
    pub fn sealing_key(&self, source: &KeySource) -> Result<SealingKey, InstanceError> {
        let text = match source {
            KeySource::Base64(b64) => b64.clone(),
            KeySource::DataDir => read_private_file(&self.pii_key())?,
            KeySource::File(path) => read_private_file(path)?,
        };
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| InstanceError::Key(format!("the key is not base64: {e}")))?;
        SealingKey::from_bytes(&bytes).map_err(|e| InstanceError::Key(e.to_string()))
    }

    /// Opens the database of an existing instance.
    pub fn open_store(&self, source: &KeySource) -> Result<SqliteStore, InstanceError> {
        if !self.database().exists() {
            return Err(InstanceError::Layout(format!(
                "{} is not a JSMS instance (no jsms.db); create one with `jsms init --data-dir {}`",
                self.root.display(),
                self.root.display()
            )));
        }
        check_private(&self.root, 0o700)?;
        let key = self.sealing_key(source)?;
        Ok(SqliteStore::open(&self.database(), key)?)
    }

    /// Creates the database of a new instance (after [`DataDir::create`]).
    pub fn create_store(&self, source: &KeySource) -> Result<SqliteStore, InstanceError> {
        let key = self.sealing_key(source)?;
        Ok(SqliteStore::open(&self.database(), key)?)
    }
}

fn create_private_dir(path: &Path) -> Result<(), InstanceError> {
    fs::create_dir_all(path).map_err(io(path))?;
    set_mode(path, 0o700)
}

fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), InstanceError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(contents).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn read_private_file(path: &Path) -> Result<String, InstanceError> {
    check_private(path, 0o600)?;
    fs::read_to_string(path).map_err(io(path))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), InstanceError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), InstanceError> {
    Ok(())
}

#[cfg(unix)]
fn check_private(path: &Path, want: u32) -> Result<(), InstanceError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).map_err(io(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(InstanceError::Permissions {
            path: path.to_owned(),
            mode,
            want,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _want: u32) -> Result<(), InstanceError> {
    Ok(())
}
