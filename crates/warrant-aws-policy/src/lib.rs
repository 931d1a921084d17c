//! AWS IAM policy analysis.
//!
//! - [`parse_policy_document`] / [`parse_policy_document_str`]: a policy document (JSON object or
//!   URL-encoded JSON string, `Statement` as object or array, `Action` as string or array) into
//!   core [`warrant_core::Statement`]s.
//! - [`catalog`]: every IAM action with its access level, compiled in from AWS's Service
//!   Authorization Reference (`data/NOTICE`).
//! - [`summarize`] / [`Analyzer`]: the effective privilege of one identity from the policies it
//!   holds — wildcards, `NotAction`/`NotResource`, `Deny`, permissions boundaries,
//!   administrator-equivalence, privilege-escalation paths and secrets access.

pub mod analyze;
pub mod catalog;
pub mod document;

pub use analyze::{Analyzer, Capability, HOLDS_CAPABILITY, PolicyAnalysis, Reach, summarize};
pub use catalog::{ActionCatalog, ActionSet, catalog, infer_level};
pub use document::{PolicyParseError, parse_policy_document, parse_policy_document_str};
