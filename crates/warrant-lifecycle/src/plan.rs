//! Remediation plans: what Warrant would change in a provider, written down before anything
//! changes, so a person can read it, approve it, and Warrant can apply exactly that.
//!
//! A plan is an ordered list of [`Step`]s. Each step is one provider call with its arguments
//! ([`Call`]), the state it expects to find first ([`Expect`]: applying refuses when the provider
//! no longer looks like that), and the calls that undo it where the provider allows. A plan's id
//! is the hash of its content, so a plan file edited after it was written is recognised and
//! refused.
//!
//! Steps are ordered so that what cannot be undone comes last (deleting a key, a user): a
//! failure part-way leaves only reversible changes behind, which `rollback` undoes.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warrant_core::Timestamp;

/// An AWS IAM principal a call acts on, by name (IAM's write calls take names, not ARNs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    User(String),
    Role(String),
}

impl Principal {
    pub fn name(&self) -> &str {
        match self {
            Principal::User(name) | Principal::Role(name) => name,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(name) => write!(f, "user {name}"),
            Principal::Role(name) => write!(f, "role {name}"),
        }
    }
}

/// An access key: one that exists when the plan is written, or the one an earlier step of the
/// same plan creates (its id is known only once that step has run).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRef {
    Id(String),
    /// The key created by the step at this index (0-based).
    CreatedByStep(usize),
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRef::Id(id) => f.write_str(id),
            KeyRef::CreatedByStep(step) => write!(f, "the key created by step {}", step + 1),
        }
    }
}

/// One AWS API call (IAM and Secrets Manager), with its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "PascalCase", deny_unknown_fields)]
pub enum AwsCall {
    /// `CreateAccessKey`, then the new key pair written straight into the Secrets Manager secret
    /// (`PutSecretValue`, or `CreateSecret` when it does not exist) as
    /// `{"AccessKeyId": …, "SecretAccessKey": …}`. One step, so the secret half never outlives
    /// the call: Warrant neither prints nor stores it. If the secret cannot be written, the new
    /// key is deleted again.
    CreateAccessKeyIntoSecret {
        user: String,
        secret: String,
    },
    /// Waits until the key is used (`GetAccessKeyLastUsed`) or `grace_hours` have passed since
    /// it was created; until then applying stops here and resumes on the next `apply`.
    AwaitKeyUse {
        user: String,
        key: KeyRef,
        grace_hours: u32,
    },
    /// `UpdateAccessKey`.
    SetAccessKeyStatus {
        user: String,
        key: KeyRef,
        active: bool,
    },
    DeleteAccessKey {
        user: String,
        key: KeyRef,
    },
    /// Moves the secret's `AWSCURRENT` label back to the version it had before the step at
    /// `step` wrote a new one (`UpdateSecretVersionStage`); undoes a rotation's secret write. A
    /// secret that step created is deleted instead, with a recovery window (`DeleteSecret`).
    RestoreSecretVersion {
        secret: String,
        step: usize,
    },
    DeleteLoginProfile {
        user: String,
    },
    AttachPolicy {
        principal: Principal,
        policy_arn: String,
    },
    DetachPolicy {
        principal: Principal,
        policy_arn: String,
    },
    /// `PutUserPolicy` / `PutRolePolicy`.
    PutInlinePolicy {
        principal: Principal,
        name: String,
        document: String,
    },
    DeleteInlinePolicy {
        principal: Principal,
        name: String,
    },
    PutPermissionsBoundary {
        principal: Principal,
        policy_arn: String,
    },
    DeletePermissionsBoundary {
        principal: Principal,
    },
    AddUserToGroup {
        user: String,
        group: String,
    },
    RemoveUserFromGroup {
        user: String,
        group: String,
    },
    AddRoleToInstanceProfile {
        role: String,
        profile: String,
    },
    RemoveRoleFromInstanceProfile {
        role: String,
        profile: String,
    },
    DeleteUser {
        user: String,
    },
    DeleteRole {
        role: String,
    },
}

/// A provider call. AWS calls are applied through the AWS SDK; the other providers' changes are
/// written out for a person to apply (see [`Manual`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum Call {
    Aws(AwsCall),
    /// A change Warrant prints but does not make (a `kubectl` manifest, a GitHub REST call).
    Manual(Manual),
}

/// A change for a person to make, exactly as they would make it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manual {
    /// `kubernetes`, `github`, …
    pub system: String,
    /// What it does, in a sentence.
    pub summary: String,
    /// The command, manifest or HTTP request to run.
    pub instructions: String,
}

/// The state a step expects to find before it runs. Checked against the live provider before
/// anything is applied: a plan written against yesterday's state is not applied to today's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expect", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// The key exists with this status and, when `unused_since` is given, was not used after it.
    AccessKey {
        user: String,
        key: String,
        active: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unused_since: Option<Timestamp>,
    },
    /// The user has room for one more access key (IAM allows two).
    KeySlotFree {
        user: String,
    },
    LoginProfile {
        user: String,
        present: bool,
    },
    PolicyAttached {
        principal: Principal,
        policy_arn: String,
        attached: bool,
    },
    InlinePolicy {
        principal: Principal,
        name: String,
        present: bool,
    },
    /// The principal's permissions boundary is this policy (or none).
    Boundary {
        principal: Principal,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_arn: Option<String>,
    },
    GroupMember {
        user: String,
        group: String,
        member: bool,
    },
    InstanceProfileRole {
        role: String,
        profile: String,
        present: bool,
    },
    Exists {
        principal: Principal,
    },
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::AccessKey {
                user,
                key,
                active,
                unused_since,
            } => {
                write!(
                    f,
                    "key {key} of user {user} is {}",
                    if *active { "Active" } else { "Inactive" }
                )?;
                if let Some(t) = unused_since {
                    write!(f, " and not used since {}", t.format("%Y-%m-%d %H:%M UTC"))?;
                }
                Ok(())
            }
            Expect::KeySlotFree { user } => write!(f, "user {user} has fewer than two keys"),
            Expect::LoginProfile { user, present } => write!(
                f,
                "user {user} {} a console password",
                if *present { "has" } else { "has no" }
            ),
            Expect::PolicyAttached {
                principal,
                policy_arn,
                attached,
            } => write!(
                f,
                "{policy_arn} is {}attached to {principal}",
                if *attached { "" } else { "not " }
            ),
            Expect::InlinePolicy {
                principal,
                name,
                present,
            } => write!(
                f,
                "{principal} {} inline policy {name}",
                if *present { "has" } else { "has no" }
            ),
            Expect::Boundary {
                principal,
                policy_arn,
            } => match policy_arn {
                Some(arn) => write!(f, "{principal} has permissions boundary {arn}"),
                None => write!(f, "{principal} has no permissions boundary"),
            },
            Expect::GroupMember {
                user,
                group,
                member,
            } => write!(
                f,
                "user {user} is {}a member of group {group}",
                if *member { "" } else { "not " }
            ),
            Expect::InstanceProfileRole {
                role,
                profile,
                present,
            } => write!(
                f,
                "instance profile {profile} {} role {role}",
                if *present { "holds" } else { "does not hold" }
            ),
            Expect::Exists { principal } => write!(f, "{principal} exists"),
        }
    }
}

/// One step: a call, what it expects, and how to undo it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub call: Call,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expect>,
    /// The calls that undo this step, in order; empty when it cannot be undone (a deleted key
    /// is gone). `reversible` says which, since a step with nothing to undo (a wait) is
    /// reversible too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undo: Vec<Call>,
    pub reversible: bool,
    /// The state before and after, as a person reads it.
    pub before: String,
    pub after: String,
}

/// What a plan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    RotateKey,
    DisableKey,
    DeleteKey,
    DeleteLoginProfile,
    DetachPolicy,
    Rightsize,
    AddBoundary,
    RevokeSessions,
    Quarantine,
    Decommission,
    Contain,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::RotateKey,
        Action::DisableKey,
        Action::DeleteKey,
        Action::DeleteLoginProfile,
        Action::DetachPolicy,
        Action::Rightsize,
        Action::AddBoundary,
        Action::RevokeSessions,
        Action::Quarantine,
        Action::Decommission,
        Action::Contain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::RotateKey => "rotate-key",
            Action::DisableKey => "disable-key",
            Action::DeleteKey => "delete-key",
            Action::DeleteLoginProfile => "delete-login-profile",
            Action::DetachPolicy => "detach-policy",
            Action::Rightsize => "rightsize",
            Action::AddBoundary => "add-boundary",
            Action::RevokeSessions => "revoke-sessions",
            Action::Quarantine => "quarantine",
            Action::Decommission => "decommission",
            Action::Contain => "contain",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown action `{s}`; one of: {}",
                    Action::ALL.map(Action::as_str).join(", ")
                )
            })
    }
}

/// The content of a plan: what is hashed into its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanContent {
    pub action: Action,
    /// The identity it acts on (its inventory id, e.g. an ARN).
    pub identity: String,
    /// Why: the finding, review decision or request that led to it.
    pub reason: String,
    /// The inventory revision it was written against.
    pub revision: i64,
    pub created: Timestamp,
    /// Who asked for it (the requester; an approver must be someone else).
    pub requested_by: String,
    /// Apply before this, or the plan is stale and must be written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// People or systems to tell (containment: the consumers seen using the credentials).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    pub steps: Vec<Step>,
}

/// A plan: its content and the id that content hashes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// `plan-` and 16 hex digits of the SHA-256 of the content's canonical JSON.
    pub id: String,
    #[serde(flatten)]
    pub content: PlanContent,
}

/// Why a plan file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    #[error("{origin}: line {line}, column {column}: {message}")]
    Malformed {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{origin}: the plan's content hashes to {actual}, not to its id {claimed}: it was changed after it was written; write a new plan instead"
    )]
    HashMismatch {
        origin: String,
        claimed: String,
        actual: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Plan {
    pub fn new(content: PlanContent) -> Plan {
        Plan {
            id: plan_id(&content),
            content,
        }
    }

    /// Reads a plan file (its JSON form), refusing one whose content does not hash to its id.
    pub fn from_json(text: &str, origin: &str) -> Result<Plan, PlanFileError> {
        let plan: Plan = serde_json::from_str(text).map_err(|e| PlanFileError::Malformed {
            origin: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let actual = plan_id(&plan.content);
        if actual != plan.id {
            return Err(PlanFileError::HashMismatch {
                origin: origin.to_string(),
                claimed: plan.id,
                actual,
            });
        }
        plan.validate().map_err(|message| PlanFileError::Invalid {
            origin: origin.to_string(),
            message,
        })?;
        Ok(plan)
    }

    /// References between steps point backwards, to steps that create keys or write secrets.
    pub fn validate(&self) -> Result<(), String> {
        let steps = &self.content.steps;
        if steps.is_empty() {
            return Err("a plan needs at least one step".into());
        }
        for (i, step) in steps.iter().enumerate() {
            // A call needs what earlier steps made; an undo may also name its own step (the
            // key that step created).
            let refs = step.call.step_refs().into_iter().map(|r| (r, r < i)).chain(
                step.undo
                    .iter()
                    .flat_map(Call::step_refs)
                    .map(|r| (r, r <= i)),
            );
            for (r, in_order) in refs {
                if !in_order {
                    return Err(format!(
                        "step {} refers to step {}, which does not come before it",
                        i + 1,
                        r + 1
                    ));
                }
                let creates = steps.get(r).is_some_and(|s| {
                    matches!(s.call, Call::Aws(AwsCall::CreateAccessKeyIntoSecret { .. }))
                });
                if !creates {
                    return Err(format!(
                        "step {} refers to step {}, which creates no key",
                        i + 1,
                        r + 1
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether every step can be undone.
    pub fn reversible(&self) -> bool {
        self.content.steps.iter().all(|s| s.reversible)
    }
}

impl Call {
    /// The steps whose results this call needs.
    pub fn step_refs(&self) -> Vec<usize> {
        let created = |k: &KeyRef| match k {
            KeyRef::CreatedByStep(i) => Some(*i),
            KeyRef::Id(_) => None,
        };
        match self {
            Call::Aws(
                AwsCall::AwaitKeyUse { key, .. }
                | AwsCall::SetAccessKeyStatus { key, .. }
                | AwsCall::DeleteAccessKey { key, .. },
            ) => created(key).into_iter().collect(),
            Call::Aws(AwsCall::RestoreSecretVersion { step, .. }) => vec![*step],
            _ => Vec::new(),
        }
    }

    /// One line naming the call and its target, for tables and logs.
    pub fn summary(&self) -> String {
        match self {
            Call::Aws(call) => call.summary(),
            Call::Manual(m) => format!("{} (by hand): {}", m.system, m.summary),
        }
    }
}

impl AwsCall {
    pub fn name(&self) -> &'static str {
        match self {
            AwsCall::CreateAccessKeyIntoSecret { .. } => "CreateAccessKey+PutSecretValue",
            AwsCall::AwaitKeyUse { .. } => "GetAccessKeyLastUsed (wait)",
            AwsCall::SetAccessKeyStatus { .. } => "UpdateAccessKey",
            AwsCall::DeleteAccessKey { .. } => "DeleteAccessKey",
            AwsCall::RestoreSecretVersion { .. } => "UpdateSecretVersionStage",
            AwsCall::DeleteLoginProfile { .. } => "DeleteLoginProfile",
            AwsCall::AttachPolicy { principal, .. } => match principal {
                Principal::User(_) => "AttachUserPolicy",
                Principal::Role(_) => "AttachRolePolicy",
            },
            AwsCall::DetachPolicy { principal, .. } => match principal {
                Principal::User(_) => "DetachUserPolicy",
                Principal::Role(_) => "DetachRolePolicy",
            },
            AwsCall::PutInlinePolicy { principal, .. } => match principal {
                Principal::User(_) => "PutUserPolicy",
                Principal::Role(_) => "PutRolePolicy",
            },
            AwsCall::DeleteInlinePolicy { principal, .. } => match principal {
                Principal::User(_) => "DeleteUserPolicy",
                Principal::Role(_) => "DeleteRolePolicy",
            },
            AwsCall::PutPermissionsBoundary { principal, .. } => match principal {
                Principal::User(_) => "PutUserPermissionsBoundary",
                Principal::Role(_) => "PutRolePermissionsBoundary",
            },
            AwsCall::DeletePermissionsBoundary { principal } => match principal {
                Principal::User(_) => "DeleteUserPermissionsBoundary",
                Principal::Role(_) => "DeleteRolePermissionsBoundary",
            },
            AwsCall::AddUserToGroup { .. } => "AddUserToGroup",
            AwsCall::RemoveUserFromGroup { .. } => "RemoveUserFromGroup",
            AwsCall::AddRoleToInstanceProfile { .. } => "AddRoleToInstanceProfile",
            AwsCall::RemoveRoleFromInstanceProfile { .. } => "RemoveRoleFromInstanceProfile",
            AwsCall::DeleteUser { .. } => "DeleteUser",
            AwsCall::DeleteRole { .. } => "DeleteRole",
        }
    }

    pub fn summary(&self) -> String {
        let what = match self {
            AwsCall::CreateAccessKeyIntoSecret { user, secret } => {
                format!("new key for user {user}, stored in secret {secret}")
            }
            AwsCall::AwaitKeyUse {
                user,
                key,
                grace_hours,
            } => format!("until {key} of user {user} is used, or {grace_hours} h pass"),
            AwsCall::SetAccessKeyStatus { user, key, active } => format!(
                "{key} of user {user} → {}",
                if *active { "Active" } else { "Inactive" }
            ),
            AwsCall::DeleteAccessKey { user, key } => format!("{key} of user {user}"),
            AwsCall::RestoreSecretVersion { secret, step } => {
                format!(
                    "secret {secret} back to its version before step {}",
                    step + 1
                )
            }
            AwsCall::DeleteLoginProfile { user } => format!("console password of user {user}"),
            AwsCall::AttachPolicy {
                principal,
                policy_arn,
            } => format!("{policy_arn} to {principal}"),
            AwsCall::DetachPolicy {
                principal,
                policy_arn,
            } => format!("{policy_arn} from {principal}"),
            AwsCall::PutInlinePolicy {
                principal, name, ..
            } => format!("inline policy {name} on {principal}"),
            AwsCall::DeleteInlinePolicy { principal, name } => {
                format!("inline policy {name} of {principal}")
            }
            AwsCall::PutPermissionsBoundary {
                principal,
                policy_arn,
            } => format!("boundary {policy_arn} on {principal}"),
            AwsCall::DeletePermissionsBoundary { principal } => {
                format!("boundary of {principal}")
            }
            AwsCall::AddUserToGroup { user, group }
            | AwsCall::RemoveUserFromGroup { user, group } => {
                format!("user {user}, group {group}")
            }
            AwsCall::AddRoleToInstanceProfile { role, profile }
            | AwsCall::RemoveRoleFromInstanceProfile { role, profile } => {
                format!("role {role}, instance profile {profile}")
            }
            AwsCall::DeleteUser { user } => format!("user {user}"),
            AwsCall::DeleteRole { role } => format!("role {role}"),
        };
        format!("{} {what}", self.name())
    }
}

/// `plan-` and 16 hex digits of the SHA-256 of the content's JSON (field order is the struct's,
/// so the same content always serialises, and hashes, the same).
pub fn plan_id(content: &PlanContent) -> String {
    // Serialising plain data into a Vec cannot fail; fall back to the debug form regardless.
    let bytes = serde_json::to_vec(content).unwrap_or_else(|_| format!("{content:?}").into_bytes());
    let digest = Sha256::digest(&bytes);
    format!("plan-{}", &hex::encode(digest)[..16])
}
