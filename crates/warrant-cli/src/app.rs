//! What every command shares: configuration, the clock, the store, the fingerprint key.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use warrant_core::{Clock, Fingerprinter, FixedClock, SystemClock, Timestamp};

use crate::GlobalArgs;
use crate::config::Config;
use crate::output::{ColorChoice, Format};

/// The store used when neither `--store`, `WARRANT_STORE` nor the config names one.
pub const DEFAULT_STORE: &str = ".warrant/warrant.db";

pub struct App {
    pub config: Config,
    pub store_path: PathBuf,
    pub format: Option<Format>,
    pub color: ColorChoice,
    clock: Box<dyn Clock>,
    runtime: tokio::runtime::Runtime,
}

impl App {
    pub fn new(global: &GlobalArgs) -> anyhow::Result<App> {
        let config = Config::load(global.config.as_deref())?;
        let store_path = global
            .store
            .clone()
            .or_else(|| config.store.as_ref().map(|s| PathBuf::from(s.location())))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE));
        let clock: Box<dyn Clock> = match global.as_of {
            Some(instant) => Box::new(FixedClock(instant)),
            None => Box::new(SystemClock),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok(App {
            config,
            store_path,
            format: global.format,
            color: global.color,
            clock,
            runtime,
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `store_path` holds a path or a URL (`sqlite://…`, `postgres://…`).
    pub fn open_store(&self) -> anyhow::Result<warrant_store::Store> {
        let location = self.store_path.to_string_lossy();
        self.block_on(warrant_store::Store::open_url(&location))
            .with_context(|| format!("opening the store {}", self.store_display()))
    }

    /// The store location fit to print (a URL's password hidden).
    pub fn store_display(&self) -> String {
        warrant_store::redacted_location(&self.store_path.to_string_lossy())
    }

    /// Whether the store exists: its file for SQLite, always for a database server.
    pub fn store_exists(&self) -> bool {
        warrant_store::sqlite_file(&self.store_path.to_string_lossy()).is_none_or(|f| f.exists())
    }

    /// Opens the store only if it exists: read-only commands on a fresh machine should say so
    /// rather than create an empty database.
    pub fn open_existing_store(&self) -> anyhow::Result<warrant_store::Store> {
        if !self.store_exists() {
            bail!(
                "no store at {} yet: run `warrant import DIR` (or `warrant assess DIR`) first, or point --store at one",
                self.store_display()
            );
        }
        self.open_store()
    }

    /// The key for secret fingerprints: `WARRANT_FINGERPRINT_KEY` (hex), else a key file created
    /// once beside the store with owner-only permissions. It lives outside the database so a
    /// leaked database does not let anyone test guesses against stored fingerprints.
    pub fn fingerprinter(&self) -> anyhow::Result<Fingerprinter> {
        if let Ok(hex_key) = std::env::var("WARRANT_FINGERPRINT_KEY") {
            let key = hex::decode(hex_key.trim())
                .context("WARRANT_FINGERPRINT_KEY must be hex digits")?;
            if key.len() < 16 {
                bail!("WARRANT_FINGERPRINT_KEY must hold at least 16 bytes (32 hex digits)");
            }
            return Ok(Fingerprinter::new(&key));
        }
        // A database server has no directory: its key defaults to the default store's.
        let store_file = warrant_store::sqlite_file(&self.store_path.to_string_lossy())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE));
        let path = self.config.fingerprint_key_file.clone().unwrap_or_else(|| {
            store_file
                .parent()
                .unwrap_or(Path::new("."))
                .join("fingerprint.key")
        });
        Ok(Fingerprinter::new(&load_or_create_key(&path)?))
    }

    pub fn import_context(&self) -> anyhow::Result<warrant_connectors::ImportContext> {
        let mut ctx = warrant_connectors::ImportContext::new(self.fingerprinter()?);
        ctx.max_file_bytes = self.config.import.max_file_mib.saturating_mul(1024 * 1024);
        Ok(ctx)
    }
}

fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the fingerprint key {}", path.display()))?;
        return hex::decode(text.trim())
            .with_context(|| format!("{} does not hold a hex key", path.display()));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| anyhow::anyhow!("no randomness for the fingerprint key: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the fingerprint key {}", path.display()))?;
    writeln!(file, "{}", hex::encode(key))
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "Created a new fingerprint key.");
    Ok(key.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/fingerprint.key");
        let first = load_or_create_key(&path).unwrap();
        let second = load_or_create_key(&path).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
