//! Warrant's leaked-secret scanner.
//!
//! Rules are data (`rules/*.toml`, compiled in, extendable by the user). Scanning is two-stage:
//! a multi-literal prefilter finds candidate positions, and each rule's exact regex runs only
//! around those positions. Inputs (files, stdin, git history, archives) are turned into
//! [`Blob`]s with an [`Origin`] by the source modules and fed to one engine.

pub mod allow;
pub mod archive;
pub mod codeowners;
pub mod collect;
pub mod context;
pub mod engine;
pub mod examples;
mod fake;
pub mod finding;
pub mod fixtures;
pub mod git;
pub mod link;
pub mod origin;
pub mod output;
pub mod prefilter;
pub mod public_key;
pub mod rules;
pub mod scan;
mod structure;
pub mod validate;
pub mod walk;

pub use allow::{Allowlist, AllowlistConfig, Baseline, SuppressedCounts};
pub use collect::{Collector, Filters, Skipped};
pub use engine::{Match, Scanner};
pub use finding::{FindingGroup, RevealedSecrets, SecretFinding, group_by_fingerprint};
pub use origin::{BlobSink, Origin};
pub use rules::{Confidence, Rule, RuleError, RuleSet};
pub use scan::{
    InputStream, ScanError, ScanOptions, ScanReport, ScanSummary, scan, scan_with_rules,
};
pub use walk::{ArchiveHook, WalkOptions};
