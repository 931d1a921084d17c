//! Findings: what is wrong with an identity, why it matters (OWASP NHI) and how to fix it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UnknownValueError;
use crate::model::closed_enum;
use crate::rules::{RuleId, Tactic, Technique};

closed_enum!(
    /// Ordered from least to most severe, so `>=` compares severities.
    Severity, "severity" {
        Info => "info",
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

impl Severity {
    /// Exposure points a finding of this severity contributes to an identity's risk.
    pub fn exposure_points(self) -> f64 {
        match self {
            Severity::Info => 0.0,
            Severity::Low => 2.0,
            Severity::Medium => 5.0,
            Severity::High => 10.0,
            Severity::Critical => 20.0,
        }
    }
}

/// The OWASP Top 10 Non-Human Identities Risks (2025).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OwaspNhi {
    #[serde(rename = "NHI1")]
    Nhi1,
    #[serde(rename = "NHI2")]
    Nhi2,
    #[serde(rename = "NHI3")]
    Nhi3,
    #[serde(rename = "NHI4")]
    Nhi4,
    #[serde(rename = "NHI5")]
    Nhi5,
    #[serde(rename = "NHI6")]
    Nhi6,
    #[serde(rename = "NHI7")]
    Nhi7,
    #[serde(rename = "NHI8")]
    Nhi8,
    #[serde(rename = "NHI9")]
    Nhi9,
    #[serde(rename = "NHI10")]
    Nhi10,
}

impl OwaspNhi {
    pub const ALL: [OwaspNhi; 10] = [
        OwaspNhi::Nhi1,
        OwaspNhi::Nhi2,
        OwaspNhi::Nhi3,
        OwaspNhi::Nhi4,
        OwaspNhi::Nhi5,
        OwaspNhi::Nhi6,
        OwaspNhi::Nhi7,
        OwaspNhi::Nhi8,
        OwaspNhi::Nhi9,
        OwaspNhi::Nhi10,
    ];

    /// `"NHI1"` … `"NHI10"`.
    pub fn code(self) -> &'static str {
        match self {
            OwaspNhi::Nhi1 => "NHI1",
            OwaspNhi::Nhi2 => "NHI2",
            OwaspNhi::Nhi3 => "NHI3",
            OwaspNhi::Nhi4 => "NHI4",
            OwaspNhi::Nhi5 => "NHI5",
            OwaspNhi::Nhi6 => "NHI6",
            OwaspNhi::Nhi7 => "NHI7",
            OwaspNhi::Nhi8 => "NHI8",
            OwaspNhi::Nhi9 => "NHI9",
            OwaspNhi::Nhi10 => "NHI10",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            OwaspNhi::Nhi1 => "Improper Offboarding",
            OwaspNhi::Nhi2 => "Secret Leakage",
            OwaspNhi::Nhi3 => "Vulnerable Third-Party NHI",
            OwaspNhi::Nhi4 => "Insecure Authentication",
            OwaspNhi::Nhi5 => "Overprivileged NHI",
            OwaspNhi::Nhi6 => "Insecure Cloud Deployment Configurations",
            OwaspNhi::Nhi7 => "Long-Lived Secrets",
            OwaspNhi::Nhi8 => "Environment Isolation",
            OwaspNhi::Nhi9 => "NHI Reuse",
            OwaspNhi::Nhi10 => "Human Use of NHI",
        }
    }
}

impl fmt::Display for OwaspNhi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for OwaspNhi {
    type Err = UnknownValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OwaspNhi::ALL
            .into_iter()
            .find(|nhi| nhi.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownValueError {
                what: "OWASP NHI risk",
                value: s.to_string(),
                expected: "NHI1 … NHI10",
            })
    }
}

closed_enum!(
    /// Which engine raised a finding.
    FindingSource, "finding source" {
        Posture => "posture",
        Secret => "secret",
        Activity => "activity",
    }
);

/// One problem with one identity.
///
/// The JSON form is part of `warrant assess --format json`'s documented schema: keep field names
/// stable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The registered rule that fired, e.g. `access-key-old`.
    pub rule: RuleId,
    pub title: String,
    /// The primary OWASP NHI risk.
    pub owasp: OwaspNhi,
    /// Other OWASP NHI risks the same problem also is (a never-expiring legacy token is insecure
    /// authentication, NHI4, and a long-lived secret, NHI7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<OwaspNhi>,
    pub severity: Severity,
    /// External id of the identity concerned.
    pub identity: String,
    /// Facts that made the rule fire, one sentence each.
    pub evidence: Vec<String>,
    pub remediation: String,
    pub source: FindingSource,
    /// MITRE ATT&CK techniques where they apply, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack: Vec<Technique>,
    /// MITRE ATT&CK tactics where they apply, most relevant first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tactics: Vec<Tactic>,
    /// Stable id of this finding: the same problem on the same identity keeps its id across runs.
    pub id: String,
    /// The governance policy tier whose thresholds the identity was judged by (absent without
    /// a governance policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The exception in force that covers this finding: it stays on record but counts neither
    /// towards exposure nor among the open findings until the exception expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<ExceptionRef>,
}

/// The exception covering a finding, as findings carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRef {
    pub id: String,
    /// Who answers for it (an email address).
    pub owner: String,
    pub expires: crate::Timestamp,
    pub reason: String,
}

impl Finding {
    /// Builds a finding of a registered rule whose `id` is derived from rule, identity and a
    /// discriminator (for rules that can fire several times on one identity, such as one per
    /// access key). OWASP risks, engine and ATT&CK mapping come from the registry; callers may
    /// narrow `attack` and `tactics` afterwards.
    pub fn new(
        rule: RuleId,
        title: impl Into<String>,
        severity: Severity,
        identity: &str,
        discriminator: &str,
        evidence: Vec<String>,
        remediation: impl Into<String>,
    ) -> Finding {
        let spec = rule.spec();
        Finding {
            rule,
            title: title.into(),
            owasp: spec.owasp,
            related: spec.related.to_vec(),
            severity,
            identity: identity.to_string(),
            evidence,
            remediation: remediation.into(),
            source: spec.engine,
            attack: spec.techniques.to_vec(),
            tactics: spec.tactics.to_vec(),
            id: Finding::id_of(rule, identity, discriminator),
            tier: None,
            exception: None,
        }
    }

    /// The id [`Finding::new`] gives a finding of `rule` on `identity` with `discriminator`,
    /// so a caller can name a finding (to resolve it) without building it.
    pub fn id_of(rule: RuleId, identity: &str, discriminator: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in [rule.as_str(), identity, discriminator] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        // A fixed-size array: slicing it by constants is checked at compile time.
        let digest: [u8; 32] = hasher.finalize().into();
        hex::encode(&digest[..10])
    }

    /// A finding with the rule's registered title and remediation.
    pub fn of_rule(
        rule: RuleId,
        severity: Severity,
        identity: &str,
        discriminator: &str,
        evidence: Vec<String>,
    ) -> Finding {
        let spec = rule.spec();
        Finding::new(
            rule,
            spec.title,
            severity,
            identity,
            discriminator,
            evidence,
            spec.remediation,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_codes_serialise_as_written_by_owasp() {
        assert_eq!(
            serde_json::to_string(&OwaspNhi::Nhi10).ok().as_deref(),
            Some("\"NHI10\"")
        );
        assert_eq!("nhi7".parse::<OwaspNhi>(), Ok(OwaspNhi::Nhi7));
    }

    #[test]
    fn severities_are_ordered() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
    }

    #[test]
    fn finding_ids_are_stable_and_distinct() {
        let make =
            |disc: &str| Finding::of_rule(RuleId::NoOwner, Severity::Low, "id", disc, vec![]).id;
        assert_eq!(make("a"), make("a"));
        assert_ne!(make("a"), make("b"));
    }

    #[test]
    fn findings_take_risks_engine_and_attack_mapping_from_the_registry() {
        let f = Finding::of_rule(RuleId::LegacySaToken, Severity::Medium, "sa", "s", vec![]);
        assert_eq!(
            (f.owasp, f.related.as_slice()),
            (OwaspNhi::Nhi4, &[OwaspNhi::Nhi7][..])
        );
        assert_eq!(f.source, FindingSource::Posture);
        let json = serde_json::to_value(&f).unwrap_or_default();
        assert_eq!(json["rule"], "legacy-sa-token");
        assert_eq!(json["related"], serde_json::json!(["NHI7"]));
        assert!(json.get("attack").is_none() && json.get("tactics").is_none());
        let leak = Finding::of_rule(RuleId::LeakedSecret, Severity::Critical, "u", "fp", vec![]);
        let json = serde_json::to_value(&leak).unwrap_or_default();
        assert_eq!(json["attack"], serde_json::json!(["T1552.001"]));
        assert_eq!(json["tactics"], serde_json::json!(["credential-access"]));
        assert_eq!(serde_json::from_value::<Finding>(json).ok(), Some(leak));
    }
}
