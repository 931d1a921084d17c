//! What a governance policy adds to posture: per-tier thresholds and requirements, and
//! exceptions that cover findings. Posture does not read the policy itself (that is the
//! lifecycle engine's); the application layer answers these questions for it.

use warrant_core::{Environment, ExceptionRef, Finding, Identity, Timestamp};

use crate::config::PostureConfig;

/// A governance tier as posture applies it.
#[derive(Debug, Clone)]
pub struct TierRules {
    /// The tier's name (`defaults` for identities no tier matches).
    pub name: String,
    /// The posture configuration with the tier's thresholds in place of the file's (credential
    /// age, rotation, inactivity).
    pub config: PostureConfig,
    /// Identities unused this long are past the decommission threshold (a higher severity).
    pub delete_after_days: Option<i64>,
    pub require_owner: bool,
    pub require_purpose: bool,
    pub require_expiry: bool,
    /// Environments its identities may be in (empty: any).
    pub environments: Vec<Environment>,
    /// An access review is due this many days after the last one (or after creation).
    pub review_every_days: Option<i64>,
    /// A change of the policies an identity holds calls for a review at once.
    pub review_on_privilege_change: bool,
}

/// An identity's latest access-review decision, as posture judges review cadence by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    /// The campaign it was decided in.
    pub campaign: String,
    pub at: Timestamp,
    /// What it held when it was reviewed ([`crate::holdings`]), when the review recorded it.
    pub holdings: Option<String>,
}

/// The governance questions posture asks, per identity and per finding.
pub trait Governance: Sync {
    /// The tier an identity with this blast radius falls in (`None`: judge it by the posture
    /// configuration alone, as without a governance policy).
    fn tier(&self, identity: &Identity, blast_radius: f64) -> Option<&TierRules>;

    /// The exception in force that covers `finding` (on `identity`, when it is in the
    /// inventory).
    fn exception(&self, finding: &Finding, identity: Option<&Identity>) -> Option<ExceptionRef>;

    /// The identity's latest access-review decision, if it was ever reviewed.
    fn last_review(&self, _identity: &Identity) -> Option<&ReviewRecord> {
        None
    }

    /// Since when the organisation has known the identity (its first import). A review is due
    /// a cadence after this, not after a creation that may predate any review process.
    fn known_since(&self, _identity: &Identity) -> Option<Timestamp> {
        None
    }
}

/// No governance policy: the posture configuration decides, nothing is excepted.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGovernance;

impl Governance for NoGovernance {
    fn tier(&self, _: &Identity, _: f64) -> Option<&TierRules> {
        None
    }
    fn exception(&self, _: &Finding, _: Option<&Identity>) -> Option<ExceptionRef> {
        None
    }
}

/// The expiry an identity records: an `expires`, `expiry` or `warrant:expires` tag or label
/// holding a date (YYYY-MM-DD or RFC 3339).
pub fn recorded_expiry(identity: &Identity) -> Option<warrant_core::Timestamp> {
    ["warrant:expires", "expires", "expiry", "expiration"]
        .iter()
        .find_map(|key| {
            identity
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim())
        })
        .and_then(|text| {
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&chrono::Utc))
                .ok()
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc())
                })
        })
}
