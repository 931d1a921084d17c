//! Connectors: each turns what a provider's own tool emits into [`warrant_core::Inventory`]
//! records. Parsing only: no network, no store. Live discovery lives in `warrant-aws-live`.
//!
//! Every parser has the shape
//! `fn parse(origin: &Path, bytes: &[u8], ctx: &ImportContext) -> Result<Inventory, ConnectorError>`
//! and [`detect`] finds the right one for each file under a directory.

pub mod aws;
pub mod common;
pub mod context;
pub mod detect;
pub mod directory;
pub mod error;
pub mod github;
pub mod k8s;
pub mod mcp;

pub use context::ImportContext;
pub use detect::{FileFormat, FileReport, ImportOutcome, import_path, import_path_observed, sniff};
pub use error::ConnectorError;
