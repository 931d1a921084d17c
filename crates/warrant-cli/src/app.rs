//! What every command shares: configuration, the clock, the store, the fingerprint key.

use std::path::PathBuf;

use anyhow::{Context, bail};
use warrant_app::FingerprintKey;
use warrant_core::{Clock, Fingerprinter, FixedClock, SystemClock, Timestamp};

use crate::GlobalArgs;
use crate::config::Config;
use crate::output::{self, ColorChoice, Format};

/// The store used when neither `--store`, `WARRANT_STORE` nor the config names one.
pub const DEFAULT_STORE: &str = ".warrant/warrant.db";

pub struct App {
    pub config: Config,
    pub store_path: PathBuf,
    pub format: Option<Format>,
    pub color: ColorChoice,
    clock: Box<dyn Clock>,
    /// The instant `--as-of` asked for, if any.
    asked: Option<Timestamp>,
    runtime: tokio::runtime::Runtime,
    /// Read on first use, so a command that does not assess never reads it.
    governance: std::sync::OnceLock<Option<warrant_lifecycle::GovernancePolicy>>,
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
            asked: global.as_of,
            runtime,
            governance: std::sync::OnceLock::new(),
        })
    }

    /// The clock as a shareable handle (for the server, whose requests outlive a borrow).
    pub fn shared_clock(&self) -> std::sync::Arc<dyn Clock> {
        match self.asked {
            Some(instant) => std::sync::Arc::new(FixedClock(instant)),
            None => std::sync::Arc::new(SystemClock),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The instant a query over the store is about: `--as-of` if given, otherwise now (and
    /// then the saved assessment answers, whatever its instant).
    pub fn when(&self) -> warrant_app::query::When {
        warrant_app::query::When {
            asked: self.asked,
            now: self.now(),
        }
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

    /// The key for secret fingerprints: `WARRANT_FINGERPRINT_KEY` (hex), else the configured key
    /// file, else `fingerprint.key` beside the store (created once, owner-only).
    pub fn fingerprinter(&self) -> anyhow::Result<Fingerprinter> {
        let key = match std::env::var("WARRANT_FINGERPRINT_KEY") {
            Ok(hex_key) => FingerprintKey::Hex(hex_key),
            Err(_) => match &self.config.fingerprint_key_file {
                Some(path) => FingerprintKey::File(path.clone()),
                // A database server has no directory: its key defaults to the default store's.
                None => FingerprintKey::beside_store(
                    &warrant_store::sqlite_file(&self.store_path.to_string_lossy())
                        .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE)),
                ),
            },
        };
        Ok(key.fingerprinter()?)
    }

    /// The configuration the use cases read.
    /// The governance policy: the configured file, else ./warrant-policy.toml when it exists,
    /// else none (posture then judges by `[posture]` alone).
    pub fn governance(&self) -> anyhow::Result<Option<&warrant_lifecycle::GovernancePolicy>> {
        if let Some(loaded) = self.governance.get() {
            return Ok(loaded.as_ref());
        }
        let path = self.config.governance_policy.clone().or_else(|| {
            let default = PathBuf::from(crate::cmd::policy::DEFAULT_POLICY);
            default.exists().then_some(default)
        });
        let policy = match path {
            Some(path) => Some(crate::cmd::policy::load(Some(&path))?),
            None => None,
        };
        Ok(self.governance.get_or_init(|| policy).as_ref())
    }

    pub fn settings(&self) -> anyhow::Result<warrant_app::Settings<'_>> {
        Ok(warrant_app::Settings {
            import: &self.config.import,
            posture: &self.config.posture,
            activity: &self.config.activity,
            governance: self.governance()?,
        })
    }

    /// Sends `events` to the configured notification targets, saying on stderr what was
    /// delivered and what failed (a failed notification does not fail the command).
    pub fn notify(&self, events: &[warrant_notify::Event]) -> anyhow::Result<()> {
        if self.config.notify.targets.is_empty() || events.is_empty() {
            return Ok(());
        }
        let notifier = warrant_notify::Notifier::new(&self.config.notify)
            .context("setting up notifications")?;
        let deliveries = self.block_on(warrant_app::notify::send(&notifier, events));
        let delivered = deliveries.iter().filter(|d| d.is_delivered()).count();
        for d in deliveries.iter().filter(|d| !d.is_delivered()) {
            if let warrant_notify::Outcome::Failed { error } = &d.outcome {
                eprintln!(
                    "warning: notification to {} failed after {} attempt(s): {error}",
                    d.target, d.attempts
                );
            }
        }
        if delivered > 0 {
            eprintln!("Notified: {delivered} delivery(ies).");
        }
        Ok(())
    }

    /// What posture judges by: `[posture]` and the governance policy.
    pub fn rules(&self) -> anyhow::Result<warrant_app::Rules<'_>> {
        Ok(warrant_app::Rules {
            posture: &self.config.posture,
            governance: self.governance()?,
        })
    }

    /// Progress of a use case on the terminal (a bar on stderr when it is one).
    pub fn progress(&self) -> output::BarProgress {
        output::BarProgress::new()
    }

    /// Runs a use case to completion on the runtime.
    pub fn run<T>(
        &self,
        use_case: impl std::future::Future<Output = Result<T, warrant_app::AppError>>,
    ) -> anyhow::Result<T> {
        Ok(self.block_on(use_case)?)
    }
}
