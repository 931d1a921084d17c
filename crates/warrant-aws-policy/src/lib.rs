//! AWS IAM policy analysis.
//!
//! PUBLIC API (other crates rely on these signatures):
//! - [`parse_policy_document`] / [`parse_policy_document_str`]: a policy document (JSON object or
//!   URL-encoded JSON string, `Statement` as object or array, `Action` as string or array) into
//!   core [`Statement`]s.
//! - [`summarize`]: the effective privilege of one identity from the policies it holds.

pub mod document;

pub use document::{PolicyParseError, parse_policy_document, parse_policy_document_str};

use warrant_core::{Attachment, Policy, PrivilegeSummary};

/// Effective privilege of one identity holding `policies` (each with the attachment that grants
/// it), limited by an optional permissions boundary.
pub fn summarize(policies: &[(&Attachment, &Policy)], boundary: Option<&Policy>) -> PrivilegeSummary {
    let _ = (policies, boundary);
    PrivilegeSummary::default()
}
