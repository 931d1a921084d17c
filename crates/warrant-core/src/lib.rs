//! Warrant's domain core.
//!
//! Everything here is pure data and pure functions: no files, no network, no database, and no
//! reading of the wall clock except through [`clock::Clock`]. Connectors turn outside input into
//! these types; the store persists them; the posture engine reasons over them.

pub mod access;
pub mod arn;
pub mod attribute;
pub mod canonical;
pub mod clock;
pub mod entropy;
pub mod finding;
pub mod fingerprint;
pub mod inventory;
pub mod model;
pub mod risk;
pub mod rules;
pub mod sarif;

pub use access::{
    AccessLevel, CONTROL_SERVICES, Confidence, Escalation, Grant, PrivilegeSummary, ResourceAccess,
};
pub use attribute::AttributesExt;
pub use canonical::canonical_json;
pub use clock::{Clock, FixedClock, SystemClock};
pub use entropy::shannon_entropy;
pub use finding::{ExceptionRef, Finding, FindingSource, OwaspNhi, Severity};
pub use fingerprint::{
    FINGERPRINT_CREDENTIAL_ID_PREFIX, FINGERPRINT_PREFIX, Fingerprinter,
    credential_id_from_fingerprint, is_fingerprint, is_fingerprint_credential_id, redact,
};
pub use inventory::{Inventory, SourceScope};
pub use model::*;
pub use risk::{RiskComponent, RiskScore};
pub use rules::{RuleId, RuleSpec, Tactic, Technique, UnknownRuleError};

/// A parse error for one of the closed vocabularies below (severity, status, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected one of: {expected}")]
pub struct UnknownValueError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}
