//! Warrant's leaked-secret scanner.
//!
//! Rules are data (`rules/*.toml`, compiled in, extendable by the user). Scanning is two-stage:
//! a multi-literal prefilter finds candidate positions, and each rule's exact regex runs only
//! around those positions. Inputs (files, stdin, git history, archives) are turned into
//! [`Blob`]s with an [`Origin`] by the source modules and fed to one engine.

pub mod archive;
pub mod git;
pub mod origin;
pub mod rules;

pub use origin::{BlobSink, Origin};
pub use rules::{Confidence, Rule, RuleError, RuleSet};
