//! Warrant's application layer: what the product *does*, as one async entry per use case, for
//! every front end (the `warrant` command, stream consumers ([`stream`]), and the coming server, lifecycle
//! engine and gateway).
//!
//! The use cases compose the libraries (connectors, scan, activity, posture, store) and nothing
//! else: no terminal, no HTTP, no environment variables, no wall clock. Time comes in as a
//! `now` the caller chose, configuration as the serde structs of [`config`], progress and
//! cancellation as a [`Progress`] and a [`Cancel`] token. Front ends parse their input, call one
//! use case and render what it returns.
//!
//! The use cases run their CPU-bound steps (parsing, scanning, assessing) inline: a front end
//! that serves other requests on the same runtime runs them on a blocking thread.

pub mod accounts;
pub mod activity;
pub mod assess;
pub mod config;
pub mod control;
pub mod discover;
pub mod error;
pub mod gateway;
pub mod import;
pub mod keys;
pub mod lifecycle;
pub mod notify;
pub mod ownership;
pub mod query;
pub mod remediation;
pub mod review;
pub mod scan;
pub mod store;
pub mod stream;
pub mod upload;

pub use activity::{
    ActivityOutcome, BatchOutcome, ingest_paths, process_delivered, process_events,
};
pub use assess::{Assessed, Evaluation, assess, evaluate, identity_views, save};
pub use config::{ActivityConfig, ImportConfig, PostureConfig};
pub use control::{Cancel, NoProgress, Phase, Progress};
pub use error::AppError;
pub use import::{ImportOutcome, import_context, import_paths};
pub use keys::{FingerprintKey, load_or_create_key};
pub use scan::{ScanOutcome, scan};
pub use stream::{ConsumeOutcome, IngestProcessor, StreamTotals};

/// The configuration the use cases read, borrowed from wherever the front end loaded it.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub import: &'a ImportConfig,
    pub posture: &'a PostureConfig,
    pub activity: &'a ActivityConfig,
    /// The governance policy, when the organisation has one: its tiers' thresholds replace
    /// the posture configuration's, and exceptions apply.
    pub governance: Option<&'a warrant_lifecycle::GovernancePolicy>,
}

impl<'a> Settings<'a> {
    pub fn rules(&self) -> Rules<'a> {
        Rules {
            posture: self.posture,
            governance: self.governance,
        }
    }
}

/// What posture judges by: the posture configuration and, when there is one, the governance
/// policy (tiers and exceptions).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub posture: &'a PostureConfig,
    pub governance: Option<&'a warrant_lifecycle::GovernancePolicy>,
}
