//! What an identity can do, summarised provider-neutrally. Provider analysers (AWS IAM,
//! Kubernetes RBAC, GitHub permissions) produce these; posture rules and risk scoring read them.
//!
//! Also what a person (or an API token) signed in to Warrant itself may do: its [`Role`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UnknownValueError;
use crate::model::{Effect, closed_enum};

closed_enum!(
    /// AWS's access levels (Service Authorization Reference), used for every provider. Ordered by
    /// power: `PermissionsManagement` is the most dangerous.
    AccessLevel, "access level" {
        List => "list",
        Read => "read",
        Tagging => "tagging",
        Write => "write",
        PermissionsManagement => "permissions_management",
    }
);

impl AccessLevel {
    /// AWS spells these "List", "Read", "Write", "Permissions management", "Tagging".
    pub fn from_aws(text: &str) -> Option<AccessLevel> {
        match text.trim().to_ascii_lowercase().as_str() {
            "list" => Some(AccessLevel::List),
            "read" => Some(AccessLevel::Read),
            "write" => Some(AccessLevel::Write),
            "tagging" => Some(AccessLevel::Tagging),
            "permissions management" | "permissions_management" => {
                Some(AccessLevel::PermissionsManagement)
            }
            _ => None,
        }
    }
}

/// One analysed policy statement as held by one identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Policy id the statement came from.
    pub policy: String,
    /// Group or binding the policy came through, `None` if attached directly.
    pub via: Option<String>,
    pub effect: Effect,
    /// Actions as written (wildcards kept); `NotAction` statements are written `!ACTION`.
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub conditions: Option<serde_json::Value>,
    /// Highest access level among the actions this statement allows, `None` if unknown.
    pub access_level: Option<AccessLevel>,
    /// Number of concrete actions the statement covers after wildcard expansion.
    pub n_actions: usize,
    /// The statement alone makes its holder an administrator.
    pub admin: bool,
}

/// A way an identity could raise its own privileges.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Escalation {
    /// Short name, e.g. `passrole-compute`, `create-access-key`.
    pub technique: String,
    /// The allowed actions that together enable it.
    pub actions: Vec<String>,
    pub explanation: String,
    /// `low` when the path rests on conditions the analyser could not decide (stored data from
    /// before this field reads as `high`).
    #[serde(default, skip_serializing_if = "Confidence::is_high")]
    pub confidence: Confidence,
    /// Why confidence is low, or what else the path needs (one sentence each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// For a path through other identities: each step, identity → how → identity …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
}

/// How sure an escalation is: `high` when every permission it uses is allowed outright.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    #[default]
    High,
    Low,
}

impl Confidence {
    pub fn is_high(&self) -> bool {
        *self == Confidence::High
    }
}

/// Access to a resource (or resource pattern) at a level.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceAccess {
    /// ARN or pattern, `*` for everything.
    pub resource: String,
    pub level: AccessLevel,
    /// Service or API group, e.g. `s3`, `secretsmanager`, `core`.
    pub service: String,
}

/// Effective privilege of one identity (after Deny and wildcard expansion).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PrivilegeSummary {
    pub admin_equivalent: bool,
    /// Why the identity counts as an administrator (one sentence each).
    pub admin_evidence: Vec<String>,
    /// Distinct allowed actions per access level.
    pub actions_by_level: BTreeMap<AccessLevel, usize>,
    /// Services (AWS prefixes, Kubernetes API groups, GitHub permission names) with any access.
    /// Compact AWS summaries (bulk assessments) keep only the [`CONTROL_SERVICES`]: a full set
    /// per identity costs hundreds of strings each, and the risk model weighs only these.
    pub services: BTreeSet<String>,
    /// Statements with wildcard actions or resources (one sentence each).
    pub wildcard_evidence: Vec<String>,
    pub escalations: Vec<Escalation>,
    /// Access to secrets stores (Secrets Manager, SSM parameters, KMS decrypt, Kubernetes
    /// secrets), one sentence each.
    pub secrets_evidence: Vec<String>,
    /// What it can reach, at the highest level per resource pattern.
    pub resource_access: Vec<ResourceAccess>,
    /// Actions the analyser could not classify (typos, unknown services).
    pub unclassified_actions: Vec<String>,
    /// True when some allows depend on conditions the analyser could not evaluate.
    pub conditional: bool,
    pub grants: Vec<Grant>,
}

/// Services that control identity, keys, secrets or the organisation itself: write access to
/// any of them makes a resource set sensitive, and `sts` lets an identity become others.
pub const CONTROL_SERVICES: &[&str] = &[
    "iam",
    "kms",
    "secretsmanager",
    "sts",
    "organizations",
    "rbac.authorization.k8s.io",
];

impl PrivilegeSummary {
    pub fn n_actions(&self) -> usize {
        self.actions_by_level.values().sum()
    }

    pub fn max_level(&self) -> Option<AccessLevel> {
        self.actions_by_level
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(level, _)| *level)
            .max()
    }
}

/// What a user of Warrant itself (a person signed in to the server, or one of their API tokens)
/// may do. Front ends decide which role each operation needs; the store keeps the role as
/// [`Role::as_str`] text.
///
/// Ordered from least to most trusted, so `max`/`min` and sorting read naturally; the roles
/// between viewer and admin are different duties, not a ladder (an approver is not a reviewer).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads inventory, findings, reviews and plans; changes nothing.
    Viewer,
    /// Answers for identities: sees and acts on what they own.
    Owner,
    /// Decides access-review items.
    Reviewer,
    /// Approves or rejects remediation plans.
    Approver,
    /// Everything, including Warrant's own users and tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Owner,
        Role::Reviewer,
        Role::Approver,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Owner => "owner",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// The role a text names, ignoring case and surrounding space; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        let wanted = s.trim();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(wanted))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so tables can align it (`{:<9}`).
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse(s).ok_or_else(|| UnknownValueError {
            what: "role",
            value: s.to_string(),
            expected: "viewer, owner, reviewer, approver, admin",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text_and_json() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
    }

    #[test]
    fn role_parsing_ignores_case_and_space_only() {
        assert_eq!(Role::parse("ADMIN"), Some(Role::Admin));
        assert_eq!(Role::parse(" Approver "), Some(Role::Approver));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse(""), None);
        assert_eq!(Role::parse("admins"), None);
    }

    #[test]
    fn an_unknown_role_names_the_valid_ones() {
        let error = "superuser".parse::<Role>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown role `superuser`; expected one of: viewer, owner, reviewer, approver, admin"
        );
    }

    #[test]
    fn roles_order_from_least_to_most_trusted() {
        let mut sorted = Role::ALL;
        sorted.sort();
        assert_eq!(sorted, Role::ALL);
        assert_eq!(Role::ALL.iter().max(), Some(&Role::Admin));
        assert_eq!(Role::ALL.iter().min(), Some(&Role::Viewer));
        assert_eq!(format!("{:<8}|", Role::Owner), "owner   |");
    }
}
