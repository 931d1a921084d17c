//! Warrant's activity engine: what identities do.
//!
//! Logs are parsed as streams into [`Event`]s (constant memory per file, files in parallel),
//! attributed to inventory identities, folded into per-identity baselines, checked by
//! detections, and compared with granted permissions for right-sizing.

pub mod actions;
pub mod attribution;
pub mod baseline;
pub mod creation;
pub mod detect;
pub mod event;
pub mod ingest;
pub mod rightsize;

pub use attribution::{Attribution, Attributor, UsageAccumulator, usage_records};
pub use creation::{Created, Creation, creation};
pub use event::{Actor, Event, Facts, LogKind, Outcome, Principal, PrincipalKind};
pub use ingest::{
    BadRecord, FileReport, IngestOptions, IngestReport, ingest_file, ingest_paths, ingest_reader,
};
