//! Posture configuration: the `[posture]` table of `warrant.toml`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use warrant_core::rules::{rule_list_of, rule_map_of};
use warrant_core::{FindingSource, RuleId, Sensitivity, Severity};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostureConfig {
    /// Access keys and other rotatable secrets older than this many days are findings (NHI7).
    pub key_max_age_days: i64,
    /// Identities and credentials not used for this many days are findings (NHI1).
    pub unused_days: i64,
    /// Identities not used for this many days are reported with status `dormant`.
    pub dormant_days: i64,
    /// Stored secrets (CI secrets, deploy keys) not rotated for this many days are findings (NHI7).
    pub secret_max_age_days: i64,
    /// Identities and credentials younger than this are never "unused" (they may not have run yet).
    pub new_identity_grace_days: i64,
    /// Owner addresses whose local part (before `@`) is one of these are shared mailboxes (NHI1).
    /// `*` matches any run of characters (`team-*`, `*-team`).
    ///
    /// INVARIANT: this is the only list of shared-mailbox patterns. Connectors record an owner as
    /// a shared mailbox only when the export says so (Okta `userType`, a CSV `kind` column), so
    /// removing a pattern here is enough to stop it classifying anyone.
    pub shared_mailboxes: Vec<String>,
    /// AWS account ids outside the organisation that are trusted on purpose (vendors you vetted).
    pub trusted_accounts: Vec<String>,
    /// GitHub App slugs that are trusted on purpose.
    pub trusted_github_apps: Vec<String>,
    /// Resource sensitivity by pattern (`*` wildcards) on resource ids/ARNs.
    pub sensitivity: Vec<SensitivityRule>,
    /// Named sensitive capabilities (`[[posture.capability]]`): who can reach one through
    /// other principals is reported as a privilege-escalation path, like administrator.
    #[serde(rename = "capability", deserialize_with = "capability_list")]
    pub capabilities: Vec<CapabilityRule>,
    /// Rule ids to skip; each must be a registered posture rule.
    #[serde(deserialize_with = "posture_rule_list")]
    pub disabled_rules: Vec<RuleId>,
    /// Severity overrides by rule id; each must be a registered posture rule.
    #[serde(deserialize_with = "posture_rule_map")]
    pub severity: BTreeMap<RuleId, Severity>,
}

fn posture_rule_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<RuleId>, D::Error> {
    rule_list_of(FindingSource::Posture, d)
}

fn posture_rule_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<RuleId, Severity>, D::Error> {
    rule_map_of(FindingSource::Posture, d)
}

/// ```toml
/// [[posture.capability]]
/// name = "prod-secrets"
/// actions = ["secretsmanager:GetSecretValue", "ssm:GetParameter*"]
/// resources = ["arn:aws:secretsmanager:*:*:secret:prod/*", "arn:aws:ssm:*:*:parameter/prod/*"]
/// level = "critical"   # how much reaching it weighs in blast radius (default critical)
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityRule {
    pub name: String,
    /// AWS action patterns (`service:Action`, `*` wildcards).
    pub actions: Vec<String>,
    /// Resource ARN patterns (`*` wildcards).
    pub resources: Vec<String>,
    #[serde(default = "critical")]
    pub level: Sensitivity,
}

fn critical() -> Sensitivity {
    Sensitivity::Critical
}

impl CapabilityRule {
    pub fn to_capability(&self) -> warrant_aws_policy::Capability {
        warrant_aws_policy::Capability {
            name: self.name.clone(),
            actions: self.actions.clone(),
            resources: self.resources.clone(),
        }
    }
}

/// Capabilities with a name each, and actions that name something: a typo would otherwise
/// make a capability nobody holds, and its paths would silently never show.
fn capability_list<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<CapabilityRule>, D::Error> {
    use serde::de::Error;
    let rules = Vec::<CapabilityRule>::deserialize(d)?;
    let mut names = std::collections::BTreeSet::new();
    for rule in &rules {
        if rule.name.trim().is_empty() {
            return Err(D::Error::custom("a capability needs a name"));
        }
        if !names.insert(rule.name.as_str()) {
            return Err(D::Error::custom(format!(
                "capability {:?} is defined twice",
                rule.name
            )));
        }
        if rule.resources.is_empty() {
            return Err(D::Error::custom(format!(
                "capability {:?} names no resources (use \"*\" for all)",
                rule.name
            )));
        }
        if rule.actions.is_empty() {
            return Err(D::Error::custom(format!(
                "capability {:?} names no actions",
                rule.name
            )));
        }
        let catalog = warrant_aws_policy::catalog();
        for action in &rule.actions {
            if !catalog.expand_into(action, &mut catalog.empty_set()) {
                return Err(D::Error::custom(format!(
                    "capability {:?}: {action:?} is no AWS action",
                    rule.name
                )));
            }
        }
    }
    Ok(rules)
}

/// `[[posture.sensitivity]] pattern = "arn:aws:s3:::*customer*" level = "critical"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivityRule {
    pub pattern: String,
    pub level: Sensitivity,
}

impl Default for PostureConfig {
    fn default() -> Self {
        PostureConfig {
            key_max_age_days: 90,
            unused_days: 90,
            dormant_days: 90,
            secret_max_age_days: 365,
            new_identity_grace_days: 7,
            shared_mailboxes: [
                "admin",
                "administrator",
                "devops",
                "ops",
                "operations",
                "platform",
                "security",
                "secops",
                "noreply",
                "no-reply",
                "it",
                "helpdesk",
                "support",
                "infra",
                "infrastructure",
                "engineering",
                "dev",
                "developers",
                "sre",
                "cloud",
                "aws",
                "root",
                "billing",
                "alerts",
                "info",
                "team",
                "team-*",
                "team.*",
                "*-team",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            trusted_accounts: Vec::new(),
            trusted_github_apps: Vec::new(),
            sensitivity: vec![
                SensitivityRule {
                    pattern: "*customer*".into(),
                    level: Sensitivity::Critical,
                },
                SensitivityRule {
                    pattern: "*pii*".into(),
                    level: Sensitivity::Critical,
                },
                SensitivityRule {
                    pattern: "*payment*".into(),
                    level: Sensitivity::Critical,
                },
                SensitivityRule {
                    pattern: "*backup*".into(),
                    level: Sensitivity::High,
                },
                SensitivityRule {
                    pattern: "arn:aws:secretsmanager:*".into(),
                    level: Sensitivity::High,
                },
                SensitivityRule {
                    pattern: "arn:aws:kms:*".into(),
                    level: Sensitivity::High,
                },
            ],
            capabilities: Vec::new(),
            disabled_rules: Vec::new(),
            severity: BTreeMap::new(),
        }
    }
}

impl PostureConfig {
    pub fn is_shared_mailbox(&self, address: &str) -> bool {
        if !address.contains('@') {
            return false;
        }
        let local = address
            .split('@')
            .next()
            .unwrap_or(address)
            .to_ascii_lowercase();
        self.shared_mailboxes
            .iter()
            .any(|pattern| glob(&pattern.to_ascii_lowercase(), &local))
    }

    /// Highest sensitivity any rule gives a resource pattern.
    pub fn sensitivity_of(&self, resource: &str) -> Option<Sensitivity> {
        let resource = resource.to_ascii_lowercase();
        self.sensitivity
            .iter()
            .filter(|rule| glob(&rule.pattern.to_ascii_lowercase(), &resource))
            .map(|rule| rule.level)
            .max()
    }
}

/// `*` matches any run of characters.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_mailboxes_and_sensitivity() {
        let c = PostureConfig::default();
        assert!(c.is_shared_mailbox("DevOps@acme.example"));
        assert!(c.is_shared_mailbox("team-payments@acme.example"));
        assert!(c.is_shared_mailbox("payments-team@acme.example"));
        assert!(c.is_shared_mailbox("dev@acme.example"));
        assert!(!c.is_shared_mailbox("dana@acme.example"));
        assert!(
            !c.is_shared_mailbox("devops"),
            "a team handle is not a mailbox"
        );
        assert_eq!(
            c.sensitivity_of("arn:aws:s3:::acme-customer-exports/*"),
            Some(Sensitivity::Critical)
        );
        assert_eq!(c.sensitivity_of("arn:aws:s3:::logs"), None);
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b", "ab c"));
    }
}
