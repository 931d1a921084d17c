//! Known AWS privilege-escalation techniques (a catalogue kept as data in
//! `data/escalation-techniques.toml`) and the action lists that make a policy dangerous.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::catalog::catalog;

/// Actions that let a principal attach or write arbitrary policies, i.e. become administrator.
pub(super) const SELF_GRANT: &[&str] = &[
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutGroupPolicy",
    "iam:CreatePolicyVersion",
];

pub(super) const SECRET_ACTIONS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "kms:Decrypt",
    "sts:GetFederationToken",
];

pub(super) const PASS_ROLE: &str = "iam:PassRole";

const TECHNIQUES_TOML: &str = include_str!("../../data/escalation-techniques.toml");

/// A family of techniques: what kind of step the escalation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Grants itself (or anyone) permissions by writing or attaching policies.
    SelfGrant,
    /// Creates credentials for another principal.
    Credentials,
    /// Changes who a role trusts (trust policies, identity providers).
    Trust,
    /// Changes group membership.
    Group,
    /// Removes or replaces a permissions boundary.
    Boundary,
    /// Starts new compute that runs as a role it passes.
    PassRole,
    /// Takes over a resource that already runs as a role.
    ExistingResource,
}

/// What the IAM actions of a technique must be able to reach for it to be a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Any resource pattern with a wildcard.
    #[default]
    Any,
    /// A customer-managed policy: AWS-managed policies cannot be changed by anyone.
    CustomerPolicy,
    /// A user other than the caller: a resource scoped to `${aws:username}` is only itself.
    OtherUser,
}

/// One technique as the catalogue describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Technique {
    pub name: String,
    pub family: Family,
    /// All of these are needed…
    #[serde(default)]
    pub all: Vec<String>,
    /// …plus at least one of these (when not empty).
    #[serde(default)]
    pub any: Vec<String>,
    #[serde(default)]
    pub target: Target,
    /// `iam:PassRole` on some role is needed too.
    #[serde(default)]
    pub pass_role: bool,
    /// The `iam:PassedToService` values the pass is made to; empty when not known for sure.
    #[serde(default)]
    pub passed_to: Vec<String>,
    /// Needs a resource that already exists and runs as a role.
    #[serde(default)]
    pub existing_resource: bool,
    /// For existing-resource techniques: the kind of resource taken over, as connectors name
    /// resource kinds (`lambda-function`, `ec2-instance`, `cloudformation-stack` …).
    #[serde(default)]
    pub resource_kind: Option<String>,
    pub explanation: String,
    pub references: Vec<String>,
}

impl Technique {
    /// Every action that must be allowed, `iam:PassRole` included when the technique passes a
    /// role.
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.pass_role
            .then_some(PASS_ROLE)
            .into_iter()
            .chain(self.all.iter().map(String::as_str))
    }

    /// Every action the technique names.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.required().chain(self.any.iter().map(String::as_str))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    technique: Vec<Technique>,
}

/// Why the embedded technique catalogue is unusable (a build-time fact: the tests check it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TechniqueCatalogueError {
    #[error("escalation-techniques.toml does not parse: {0}")]
    Toml(String),
    #[error("technique {technique}: {message}")]
    Invalid { technique: String, message: String },
}

/// Parses and checks a technique catalogue: names unique, every action in the action catalogue,
/// something required, references present.
pub fn parse_techniques(text: &str) -> Result<Vec<Technique>, TechniqueCatalogueError> {
    let file: CatalogueFile =
        toml::from_str(text).map_err(|e| TechniqueCatalogueError::Toml(e.to_string()))?;
    let c = catalog();
    let mut seen = std::collections::HashSet::new();
    for t in &file.technique {
        let invalid = |message: String| TechniqueCatalogueError::Invalid {
            technique: t.name.clone(),
            message,
        };
        if !seen.insert(t.name.as_str()) {
            return Err(invalid("named twice".into()));
        }
        if t.all.is_empty() && t.any.is_empty() {
            return Err(invalid("needs no action".into()));
        }
        if t.references.is_empty() {
            return Err(invalid("has no reference".into()));
        }
        if !t.passed_to.is_empty() && !t.pass_role {
            return Err(invalid("names passed_to without pass_role".into()));
        }
        if t.family == Family::ExistingResource && t.resource_kind.is_none() {
            return Err(invalid(
                "takes over an existing resource of no resource_kind".into(),
            ));
        }
        if let Some(unknown) = t.actions().find(|a| c.index_of(a).is_none()) {
            return Err(invalid(format!("{unknown} is not in the action catalogue")));
        }
    }
    Ok(file.technique)
}

/// The compiled-in technique catalogue. An invalid catalogue is a build defect the tests
/// catch; should one ship anyway, analysis goes on with no techniques rather than panicking.
pub fn techniques() -> &'static [Technique] {
    static TECHNIQUES: OnceLock<Vec<Technique>> = OnceLock::new();
    TECHNIQUES.get_or_init(|| parse_techniques(TECHNIQUES_TOML).unwrap_or_default())
}

/// Every action some technique (or the self-grant list) names, as a set.
pub(super) fn technique_action_set() -> &'static crate::catalog::ActionSet {
    static SET: OnceLock<crate::catalog::ActionSet> = OnceLock::new();
    SET.get_or_init(|| {
        let c = catalog();
        let mut set = c.empty_set();
        let named = techniques()
            .iter()
            .flat_map(|t| t.actions())
            .chain(SELF_GRANT.iter().copied());
        for action in named {
            if let Some(i) = c.index_of(action) {
                set.insert(i);
            }
        }
        set
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_is_valid_and_names_only_known_actions() {
        let parsed = parse_techniques(TECHNIQUES_TOML).unwrap();
        assert_eq!(parsed.len(), techniques().len());
        assert!(parsed.len() >= 45, "{}", parsed.len());
        // Names that findings and exceptions already carry stay.
        for old in [
            "create-policy-version",
            "attach-policy",
            "passrole-lambda",
            "passrole-ec2",
            "lambda-update-code",
            "ssm-command",
            "update-assume-role-policy",
        ] {
            assert!(parsed.iter().any(|t| t.name == old), "{old}");
        }
        for family in [
            Family::SelfGrant,
            Family::Credentials,
            Family::Trust,
            Family::Group,
            Family::Boundary,
            Family::PassRole,
            Family::ExistingResource,
        ] {
            assert!(parsed.iter().any(|t| t.family == family), "{family:?}");
        }
        for t in &parsed {
            assert_eq!(
                t.pass_role,
                t.family == Family::PassRole,
                "{}: pass_role and the pass-role family go together",
                t.name
            );
            assert!(t.references.iter().all(|r| r.starts_with("https://")));
        }
    }

    #[test]
    fn unknown_actions_and_duplicates_are_rejected() {
        let bad = r#"
[[technique]]
name = "x"
family = "self-grant"
all = ["iam:MakeMeAdmin"]
explanation = "."
references = ["https://example.com"]
"#;
        assert!(matches!(
            parse_techniques(bad),
            Err(TechniqueCatalogueError::Invalid { .. })
        ));
        let twice = r#"
[[technique]]
name = "x"
family = "self-grant"
all = ["iam:AttachUserPolicy"]
explanation = "."
references = ["https://example.com"]
[[technique]]
name = "x"
family = "self-grant"
all = ["iam:AttachUserPolicy"]
explanation = "."
references = ["https://example.com"]
"#;
        assert!(parse_techniques(twice).is_err());
    }
}
