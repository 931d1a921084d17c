//! What the use-case tests share: a store, the demo organisation, settings and a fixed time.

use std::path::PathBuf;

use chrono::TimeZone;
use warrant_app::{ActivityConfig, Cancel, ImportConfig, NoProgress, PostureConfig, Settings};
use warrant_core::{Fingerprinter, Timestamp};
use warrant_store::Store;

pub fn demo_org() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-org")
}

/// The demo organisation's assessment date.
pub fn now() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

pub struct Config {
    pub import: ImportConfig,
    pub posture: PostureConfig,
    pub activity: ActivityConfig,
}

impl Config {
    pub fn settings(&self) -> Settings<'_> {
        Settings {
            import: &self.import,
            posture: &self.posture,
            activity: &self.activity,
            governance: None,
        }
    }
}

pub fn config() -> Config {
    Config {
        import: ImportConfig::default(),
        posture: PostureConfig::default(),
        activity: ActivityConfig::default(),
    }
}

pub fn fingerprinter() -> Fingerprinter {
    Fingerprinter::new(b"warrant-app-test-key")
}

pub async fn store() -> Store {
    Store::open_url("sqlite::memory:").await.unwrap()
}

/// A store holding the demo organisation.
pub async fn demo_store() -> Store {
    let store = store().await;
    let config = config();
    warrant_app::import_paths(
        &store,
        config.settings(),
        &fingerprinter(),
        &[demo_org()],
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    store
}
