//! The settings the use cases read, as serde structs. Loading them (files, environment) is the
//! front end's business; these types only say what the keys are and their defaults.

use serde::{Deserialize, Serialize};

/// Posture thresholds, sensitivity rules and rule overrides (owned by `warrant-posture`).
pub use warrant_posture::PostureConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// Files larger than this many MiB are refused (named in the report).
    pub max_file_mib: u64,
    /// Tag, label and annotation keys that name an identity's owner (compared without their
    /// namespace, `acme.com/owner` → `owner`, and without case).
    pub owner_keys: Vec<String>,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            max_file_mib: 512,
            owner_keys: warrant_connectors::common::OWNER_KEYS
                .iter()
                .map(|k| k.to_string())
                .collect(),
        }
    }
}

impl ImportConfig {
    /// The per-file size limit in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_mib.saturating_mul(1024 * 1024)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityConfig {
    /// Detection window in hours, ending at the newest event ingested: events before it teach
    /// the baselines, events inside it are checked against them.
    pub detection_window_hours: u32,
    /// Baselines forget nothing older than this many days before the detection window.
    pub learning_days: u32,
    /// Log read into memory at once, in MiB: larger inputs are ingested in batches of files in
    /// path order (chronological for CloudTrail trees), each judged before the next is read.
    /// 0 reads one file at a time.
    pub batch_mib: u32,
    pub detect: warrant_activity::detect::DetectConfig,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        ActivityConfig {
            detection_window_hours: 24,
            learning_days: 30,
            batch_mib: 512,
            detect: Default::default(),
        }
    }
}
