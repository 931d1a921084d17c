//! The governance policy: tiers of identities (by criticality, tags, environment, provider or
//! kind) and what each tier requires — credential age, inactivity before disabling and before
//! deleting, an owner, a purpose and an expiry, rotation and review cadence, how many approvers
//! a change needs, and which environments an identity may span.
//!
//! Written as TOML (`warrant-policy.toml`, or a `[policy]` table of `warrant.toml`):
//!
//! ```toml
//! fallback_reviewer = "secops@example.com"
//!
//! [defaults]
//! max_credential_age_days = 90
//! disable_after_inactive_days = 90
//! delete_after_inactive_days = 180
//!
//! [[tier]]
//! name = "crown-jewels"
//! match = { criticality = "critical" }
//! max_credential_age_days = 30
//! require_purpose = true
//!
//! [[tier]]
//! name = "prod"
//! match = { tags = { tier = "prod" } }
//! review_every_days = 30
//! ```
//!
//! The first tier whose `match` holds decides; its keys override `[defaults]`, the rest come
//! from them. Unknown keys are errors naming the key and its line, so a typo never silently
//! leaves a default in force.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use warrant_core::{Environment, IdentityKind, Provider};

/// A policy that could not be read: where (the file, and a line and column or a key) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {place}: {message}")]
pub struct PolicyError {
    pub origin: String,
    /// `line L, column C` for syntax and unknown keys, or the key path (`tier "prod"`).
    pub place: String,
    pub message: String,
}

/// How critical an identity is, from its blast radius (0–100).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    #[default]
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    /// Blast radius at or above 75 is critical, 50 high, 25 medium.
    pub fn of_blast_radius(blast_radius: f64) -> Criticality {
        match blast_radius {
            b if b >= 75.0 => Criticality::Critical,
            b if b >= 50.0 => Criticality::High,
            b if b >= 25.0 => Criticality::Medium,
            _ => Criticality::Low,
        }
    }
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        })
    }
}

/// What a tier requires. Days are whole days; 0 is refused (it would make every identity
/// non-compliant at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A credential (access key, token, secret) older than this is due for rotation.
    pub max_credential_age_days: u32,
    /// Unused this long: disable (reversible).
    pub disable_after_inactive_days: u32,
    /// Unused this long: decommission. Not before `disable_after_inactive_days`.
    pub delete_after_inactive_days: u32,
    /// A named owner (a person, never a generic mailbox) is required.
    pub require_owner: bool,
    /// A stated purpose is required.
    pub require_purpose: bool,
    /// An expiry date is required.
    pub require_expiry: bool,
    /// Rotation period of its credentials.
    pub rotation_days: u32,
    /// Access-review cadence (quarterly by default).
    pub review_every_days: u32,
    /// A privilege change calls for a review at once.
    pub review_on_privilege_change: bool,
    /// Approvers other than the requester a change needs (1: four eyes; 0: none, recorded).
    pub approvals: u8,
    /// Environments an identity of the tier may span; empty: any.
    pub environments: Vec<Environment>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_credential_age_days: 90,
            disable_after_inactive_days: 90,
            delete_after_inactive_days: 180,
            require_owner: true,
            require_purpose: false,
            require_expiry: false,
            rotation_days: 90,
            review_every_days: 90,
            review_on_privilege_change: true,
            approvals: 1,
            environments: Vec::new(),
        }
    }
}

/// A tier's overrides of [`Thresholds`]: every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    max_credential_age_days: Option<u32>,
    disable_after_inactive_days: Option<u32>,
    delete_after_inactive_days: Option<u32>,
    require_owner: Option<bool>,
    require_purpose: Option<bool>,
    require_expiry: Option<bool>,
    rotation_days: Option<u32>,
    review_every_days: Option<u32>,
    review_on_privilege_change: Option<bool>,
    approvals: Option<u8>,
    environments: Option<Vec<Environment>>,
}

impl Overrides {
    fn over(&self, base: &Thresholds) -> Thresholds {
        let o = self.clone();
        Thresholds {
            max_credential_age_days: o
                .max_credential_age_days
                .unwrap_or(base.max_credential_age_days),
            disable_after_inactive_days: o
                .disable_after_inactive_days
                .unwrap_or(base.disable_after_inactive_days),
            delete_after_inactive_days: o
                .delete_after_inactive_days
                .unwrap_or(base.delete_after_inactive_days),
            require_owner: o.require_owner.unwrap_or(base.require_owner),
            require_purpose: o.require_purpose.unwrap_or(base.require_purpose),
            require_expiry: o.require_expiry.unwrap_or(base.require_expiry),
            rotation_days: o.rotation_days.unwrap_or(base.rotation_days),
            review_every_days: o.review_every_days.unwrap_or(base.review_every_days),
            review_on_privilege_change: o
                .review_on_privilege_change
                .unwrap_or(base.review_on_privilege_change),
            approvals: o.approvals.unwrap_or(base.approvals),
            environments: o.environments.unwrap_or_else(|| base.environments.clone()),
        }
    }
}

/// Which identities a tier holds. Every condition given must hold; an empty selector holds for
/// every identity (a catch-all last tier).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// At least this critical (from the blast radius).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    /// Tags or labels, each equal (keys compared without case, values as written).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<IdentityKind>,
}

/// What a tier is matched on, for one identity.
#[derive(Debug, Clone, Copy)]
pub struct IdentityFacts<'a> {
    pub tags: &'a BTreeMap<String, String>,
    pub environment: Environment,
    pub provider: Provider,
    pub kind: IdentityKind,
    /// 0–100, as the assessment scored it.
    pub blast_radius: f64,
}

impl Selector {
    pub fn holds(&self, facts: &IdentityFacts<'_>) -> bool {
        self.criticality
            .is_none_or(|c| Criticality::of_blast_radius(facts.blast_radius) >= c)
            && self.environment.is_none_or(|e| facts.environment == e)
            && self.provider.is_none_or(|p| facts.provider == p)
            && self.kind.is_none_or(|k| facts.kind == k)
            && self.tags.iter().all(|(key, value)| {
                facts
                    .tags
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case(key) && v == value)
            })
    }
}

/// A named tier: which identities, and what it requires of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    pub name: String,
    pub selector: Selector,
    /// `[defaults]` with the tier's overrides applied.
    pub thresholds: Thresholds,
}

/// The governance policy in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GovernancePolicy {
    pub defaults: Thresholds,
    /// In the file's order: the first that holds decides.
    pub tiers: Vec<Tier>,
    /// Who reviews what has no owner, and where overdue reviews escalate.
    pub fallback_reviewer: Option<String>,
    /// The longest an exception may be granted for.
    pub max_exception_days: u32,
    pub remediation: Remediation,
}

impl Default for GovernancePolicy {
    fn default() -> Self {
        GovernancePolicy {
            defaults: Thresholds::default(),
            tiers: Vec::new(),
            fallback_reviewer: None,
            max_exception_days: 365,
            remediation: Remediation::default(),
        }
    }
}

/// `[remediation]`: how plans are written and applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Remediation {
    /// The Secrets Manager secret a rotated key goes to when the user carries no
    /// `warrant:secret` tag: `{user}` and `{account}` are replaced.
    pub secret_name: Option<String>,
    /// How long a rotation keeps the old key active when the new one is not used.
    pub grace_hours: u32,
    /// Provider calls per second while applying.
    pub calls_per_second: u32,
    /// Days a decommission plan has to be applied in.
    pub decommission_days: u32,
    /// Containment applies without a second person (break-glass); the waiver is recorded.
    pub containment_without_approval: bool,
}

impl Default for Remediation {
    fn default() -> Self {
        Remediation {
            secret_name: None,
            grace_hours: 24,
            calls_per_second: 5,
            decommission_days: 30,
            containment_without_approval: false,
        }
    }
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    defaults: Thresholds,
    #[serde(default, rename = "tier")]
    tiers: Vec<TierFile>,
    #[serde(default)]
    fallback_reviewer: Option<String>,
    #[serde(default = "default_max_exception_days")]
    max_exception_days: u32,
    #[serde(default)]
    remediation: Remediation,
}

fn default_max_exception_days() -> u32 {
    365
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    name: String,
    #[serde(default, rename = "match")]
    selector: Selector,
    #[serde(flatten)]
    overrides: Overrides,
}

/// Line and column (1-based) of a byte offset in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl GovernancePolicy {
    /// Reads a policy from TOML text; `origin` names where it came from in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<GovernancePolicy, PolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            let place = e.span().map_or_else(
                || "the policy".to_string(),
                |span| {
                    let (line, column) = line_column(text, span.start);
                    format!("line {line}, column {column}")
                },
            );
            PolicyError {
                origin: origin.to_string(),
                place,
                message: e.message().trim().to_string(),
            }
        })?;
        let error = |place: String, message: String| PolicyError {
            origin: origin.to_string(),
            place,
            message,
        };
        check_thresholds(&file.defaults).map_err(|m| error("[defaults]".into(), m))?;
        if file.max_exception_days == 0 {
            return Err(error(
                "max_exception_days".into(),
                "must be at least 1 day".into(),
            ));
        }
        if let Some(reviewer) = &file.fallback_reviewer
            && !reviewer.contains('@')
        {
            return Err(error(
                "fallback_reviewer".into(),
                format!("`{reviewer}` is not an email address"),
            ));
        }
        if file.remediation.calls_per_second == 0 {
            return Err(error(
                "remediation.calls_per_second".into(),
                "must be at least 1".into(),
            ));
        }
        if let Some(name) = &file.remediation.secret_name
            && name.trim().is_empty()
        {
            return Err(error(
                "remediation.secret_name".into(),
                "must not be empty".into(),
            ));
        }
        let mut names = BTreeSet::new();
        let mut tiers = Vec::with_capacity(file.tiers.len());
        for (i, tier) in file.tiers.into_iter().enumerate() {
            let place = format!("tier {} (`{}`)", i + 1, tier.name);
            if tier.name.trim().is_empty() {
                return Err(error(place, "a tier needs a name".into()));
            }
            if !names.insert(tier.name.clone()) {
                return Err(error(place, "another tier has the same name".into()));
            }
            let thresholds = tier.overrides.over(&file.defaults);
            check_thresholds(&thresholds).map_err(|m| error(place, m))?;
            tiers.push(Tier {
                name: tier.name,
                selector: tier.selector,
                thresholds,
            });
        }
        Ok(GovernancePolicy {
            defaults: file.defaults,
            tiers,
            fallback_reviewer: file.fallback_reviewer,
            max_exception_days: file.max_exception_days,
            remediation: file.remediation,
        })
    }

    /// The tier an identity falls in (the first whose selector holds), if any, and the
    /// thresholds that apply to it (the tier's, or the defaults).
    pub fn tier_for(&self, facts: &IdentityFacts<'_>) -> (Option<&Tier>, &Thresholds) {
        match self.tiers.iter().find(|t| t.selector.holds(facts)) {
            Some(tier) => (Some(tier), &tier.thresholds),
            None => (None, &self.defaults),
        }
    }
}

/// Thresholds that contradict themselves, said in one line.
fn check_thresholds(t: &Thresholds) -> Result<(), String> {
    for (key, days) in [
        ("max_credential_age_days", t.max_credential_age_days),
        ("disable_after_inactive_days", t.disable_after_inactive_days),
        ("delete_after_inactive_days", t.delete_after_inactive_days),
        ("rotation_days", t.rotation_days),
        ("review_every_days", t.review_every_days),
    ] {
        if days == 0 {
            return Err(format!("{key} must be at least 1 day"));
        }
    }
    if t.delete_after_inactive_days < t.disable_after_inactive_days {
        return Err(format!(
            "delete_after_inactive_days ({}) comes before disable_after_inactive_days ({}): an \
             identity is disabled before it is deleted",
            t.delete_after_inactive_days, t.disable_after_inactive_days
        ));
    }
    if t.approvals > 5 {
        return Err(format!(
            "approvals ({}) is more than 5 people can practically give",
            t.approvals
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = r#"
fallback_reviewer = "secops@example.com"

[defaults]
max_credential_age_days = 90
disable_after_inactive_days = 60
delete_after_inactive_days = 120

[[tier]]
name = "crown-jewels"
match = { criticality = "critical" }
max_credential_age_days = 30
require_purpose = true
approvals = 2

[[tier]]
name = "prod"
match = { tags = { tier = "prod" }, provider = "aws" }
review_every_days = 30
environments = ["production"]
"#;

    fn facts(tags: &BTreeMap<String, String>, blast_radius: f64) -> IdentityFacts<'_> {
        IdentityFacts {
            tags,
            environment: Environment::Production,
            provider: Provider::Aws,
            kind: IdentityKind::AwsRole,
            blast_radius,
        }
    }

    #[test]
    fn the_first_tier_that_holds_decides_and_overrides_the_defaults() {
        let policy = GovernancePolicy::from_toml(EXAMPLE, "warrant-policy.toml").unwrap();
        assert_eq!(policy.tiers.len(), 2);
        let prod = BTreeMap::from([("Tier".to_string(), "prod".to_string())]);
        let none = BTreeMap::new();

        let (tier, t) = policy.tier_for(&facts(&prod, 90.0));
        assert_eq!(tier.map(|t| t.name.as_str()), Some("crown-jewels"));
        assert_eq!(t.max_credential_age_days, 30);
        assert_eq!(t.disable_after_inactive_days, 60, "from [defaults]");
        assert_eq!((t.require_purpose, t.approvals), (true, 2));

        let (tier, t) = policy.tier_for(&facts(&prod, 10.0));
        assert_eq!(tier.map(|t| t.name.as_str()), Some("prod"));
        assert_eq!(t.review_every_days, 30);
        assert_eq!(t.environments, [Environment::Production]);
        assert_eq!(t.max_credential_age_days, 90);

        let (tier, t) = policy.tier_for(&facts(&none, 10.0));
        assert!(tier.is_none());
        assert_eq!(t, &policy.defaults);
        assert_eq!(
            policy.fallback_reviewer.as_deref(),
            Some("secops@example.com")
        );
    }

    #[test]
    fn an_empty_policy_is_the_defaults() {
        let policy = GovernancePolicy::from_toml("", "p.toml").unwrap();
        assert_eq!(policy, GovernancePolicy::default());
        assert_eq!(policy.defaults.review_every_days, 90, "quarterly");
    }

    #[test]
    fn mistakes_are_refused_naming_the_key_and_place() {
        let cases = [
            (
                "[defaults]\nmax_credential_age_dayz = 30\n",
                "p.toml: line 2, column 1: unknown field `max_credential_age_dayz`",
            ),
            (
                "[[tier]]\nname = \"x\"\nmatch = { criticality = \"severe\" }\n",
                "p.toml: line 3, column 25: unknown variant `severe`",
            ),
            (
                "[defaults]\ndisable_after_inactive_days = 90\ndelete_after_inactive_days = 30\n",
                "p.toml: [defaults]: delete_after_inactive_days (30) comes before",
            ),
            (
                "[[tier]]\nname = \"a\"\n[[tier]]\nname = \"a\"\n",
                "p.toml: tier 2 (`a`): another tier has the same name",
            ),
            (
                "[[tier]]\nname = \"a\"\nrotation_days = 0\n",
                "p.toml: tier 1 (`a`): rotation_days must be at least 1 day",
            ),
            (
                "fallback_reviewer = \"secops\"\n",
                "p.toml: fallback_reviewer: `secops` is not an email address",
            ),
        ];
        for (text, expected) in cases {
            let err = GovernancePolicy::from_toml(text, "p.toml").unwrap_err();
            assert!(
                err.to_string().starts_with(expected),
                "{text:?}: {err} (expected {expected:?})"
            );
        }
    }

    proptest! {
        /// Whatever the blast radius, criticality is monotonic in it, and a tier matched on a
        /// criticality holds exactly from its threshold up.
        #[test]
        fn criticality_grows_with_blast_radius(a in 0.0f64..100.0, b in 0.0f64..100.0) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(Criticality::of_blast_radius(low) <= Criticality::of_blast_radius(high));
            let selector = Selector { criticality: Some(Criticality::High), ..Selector::default() };
            let tags = BTreeMap::new();
            prop_assert_eq!(selector.holds(&facts(&tags, a)), a >= 50.0);
        }

        /// Arbitrary text never panics the reader: it is a policy or an error naming the file.
        #[test]
        fn any_text_is_a_policy_or_a_named_error(text in "\\PC{0,200}") {
            if let Err(e) = GovernancePolicy::from_toml(&text, "p.toml") {
                prop_assert_eq!(e.origin, "p.toml");
            }
        }
    }
}
