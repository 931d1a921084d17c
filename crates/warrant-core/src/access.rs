//! What an identity can do, summarised provider-neutrally. Provider analysers (AWS IAM,
//! Kubernetes RBAC, GitHub permissions) produce these; posture rules and risk scoring read them.

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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Escalation {
    /// Short name, e.g. `passrole-compute`, `create-access-key`.
    pub technique: String,
    /// The allowed actions that together enable it.
    pub actions: Vec<String>,
    pub explanation: String,
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
