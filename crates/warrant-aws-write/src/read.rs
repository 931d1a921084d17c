//! Reads of live state that checks and idempotent calls share. Each returns `Ok(None)` when the
//! principal (or instance profile, or secret) it reads does not exist, so the caller decides
//! whether that is drift, "already in place" or a refusal.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_iam::types::StatusType;
use warrant_core::Timestamp;
use warrant_lifecycle::Principal;

use crate::{
    AwsExecutor, NO_SUCH_ENTITY, SECRET_INVALID_REQUEST, SECRET_NOT_FOUND, WriteError, has_code,
    timestamp,
};

/// One of a user's access keys, as `ListAccessKeys` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub id: String,
    pub active: bool,
    pub created: Option<Timestamp>,
}

impl KeyInfo {
    pub fn status(&self) -> &'static str {
        if self.active { "Active" } else { "Inactive" }
    }
}

impl fmt::Display for KeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.status())
    }
}

/// What `GetAccessKeyLastUsed` says about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LastUse {
    /// The user the key belongs to.
    pub user: Option<String>,
    pub at: Option<Timestamp>,
}

/// A secret's labels, as `DescribeSecret` describes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SecretState {
    /// Scheduled for deletion (`DeleteSecret` with a recovery window).
    pub deleted: bool,
    /// Version id → staging labels.
    pub stages: HashMap<String, Vec<String>>,
}

impl SecretState {
    /// The version holding `label` (`AWSCURRENT`, `AWSPREVIOUS`).
    pub fn version_with(&self, label: &str) -> Option<String> {
        self.stages
            .iter()
            .find(|(_, labels)| labels.iter().any(|l| l == label))
            .map(|(version, _)| version.clone())
    }
}

pub(crate) const CURRENT: &str = "AWSCURRENT";
pub(crate) const PREVIOUS: &str = "AWSPREVIOUS";

impl AwsExecutor {
    /// The user's access keys.
    pub(crate) async fn keys_of(
        &self,
        call: &'static str,
        user: &str,
    ) -> Result<Option<Vec<KeyInfo>>, WriteError> {
        let listed = self
            .iam
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        match listed {
            Ok(keys) => Ok(Some(
                keys.iter()
                    .filter_map(|k| {
                        Some(KeyInfo {
                            id: k.access_key_id()?.to_string(),
                            active: k.status() == Some(&StatusType::Active),
                            created: k.create_date().and_then(timestamp),
                        })
                    })
                    .collect(),
            )),
            Err(e) if has_code(&e, NO_SUCH_ENTITY) => Ok(None),
            Err(e) => Err(WriteError::call(
                call,
                "ListAccessKeys",
                format!("user {user}"),
                e,
            )),
        }
    }

    /// When the key was last used; `None` when the key does not exist.
    pub(crate) async fn last_use(
        &self,
        call: &'static str,
        key: &str,
    ) -> Result<Option<LastUse>, WriteError> {
        match self
            .iam
            .get_access_key_last_used()
            .access_key_id(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(LastUse {
                user: out.user_name().map(str::to_string),
                at: out
                    .access_key_last_used()
                    .and_then(|u| u.last_used_date())
                    .and_then(timestamp),
            })),
            Err(e) if has_code(&e, NO_SUCH_ENTITY) => Ok(None),
            Err(e) => Err(WriteError::call(
                call,
                "GetAccessKeyLastUsed",
                format!("key {key}"),
                e,
            )),
        }
    }

    /// The ARNs of the managed policies attached to the principal.
    pub(crate) async fn attached_policies(
        &self,
        call: &'static str,
        principal: &Principal,
    ) -> Result<Option<Vec<String>>, WriteError> {
        let arns = |list: Vec<aws_sdk_iam::types::AttachedPolicy>| {
            list.iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect::<Vec<_>>()
        };
        match principal {
            Principal::User(user) => match self
                .iam
                .list_attached_user_policies()
                .user_name(user)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
            {
                Ok(list) => Ok(Some(arns(list))),
                Err(e) if has_code(&e, NO_SUCH_ENTITY) => Ok(None),
                Err(e) => Err(WriteError::call(
                    call,
                    "ListAttachedUserPolicies",
                    principal,
                    e,
                )),
            },
            Principal::Role(role) => match self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
            {
                Ok(list) => Ok(Some(arns(list))),
                Err(e) if has_code(&e, NO_SUCH_ENTITY) => Ok(None),
                Err(e) => Err(WriteError::call(
                    call,
                    "ListAttachedRolePolicies",
                    principal,
                    e,
                )),
            },
        }
    }

    /// The names of the principal's inline policies.
    pub(crate) async fn inline_policies(
        &self,
        call: &'static str,
        principal: &Principal,
    ) -> Result<Option<Vec<String>>, WriteError> {
        let listed = match principal {
            Principal::User(user) => self
                .iam
                .list_user_policies()
                .user_name(user)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| (has_code(&e, NO_SUCH_ENTITY), "ListUserPolicies", e.into())),
            Principal::Role(role) => self
                .iam
                .list_role_policies()
                .role_name(role)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| (has_code(&e, NO_SUCH_ENTITY), "ListRolePolicies", e.into())),
        };
        match listed {
            Ok(names) => Ok(Some(names)),
            Err((true, _, _)) => Ok(None),
            Err((false, operation, e)) => Err(boxed_error(call, operation, principal, e)),
        }
    }

    /// The principal's inline policy document (URL-decoded); `Ok(None)` when the policy or the
    /// principal does not exist.
    pub(crate) async fn inline_policy_document(
        &self,
        call: &'static str,
        principal: &Principal,
        name: &str,
    ) -> Result<Option<String>, WriteError> {
        let document = match principal {
            Principal::User(user) => self
                .iam
                .get_user_policy()
                .user_name(user)
                .policy_name(name)
                .send()
                .await
                .map(|out| out.policy_document().to_string())
                .map_err(|e| (has_code(&e, NO_SUCH_ENTITY), "GetUserPolicy", e.into())),
            Principal::Role(role) => self
                .iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map(|out| out.policy_document().to_string())
                .map_err(|e| (has_code(&e, NO_SUCH_ENTITY), "GetRolePolicy", e.into())),
        };
        match document {
            // IAM returns documents URL-encoded (RFC 3986).
            Ok(text) => Ok(Some(
                percent_encoding::percent_decode_str(&text)
                    .decode_utf8_lossy()
                    .into_owned(),
            )),
            Err((true, _, _)) => Ok(None),
            Err((false, operation, e)) => Err(boxed_error(
                call,
                operation,
                format!("inline policy {name} of {principal}"),
                e,
            )),
        }
    }

    /// The principal's permissions boundary: `Ok(None)` when the principal does not exist,
    /// `Ok(Some(None))` when it has no boundary.
    pub(crate) async fn boundary_of(
        &self,
        call: &'static str,
        principal: &Principal,
    ) -> Result<Option<Option<String>>, WriteError> {
        let boundary = match principal {
            Principal::User(user) => self
                .iam
                .get_user()
                .user_name(user)
                .send()
                .await
                .map(|out| {
                    out.user()
                        .and_then(|u| u.permissions_boundary())
                        .and_then(|b| b.permissions_boundary_arn())
                        .map(str::to_string)
                })
                .map_err(|e| (has_code(&e, NO_SUCH_ENTITY), "GetUser", e.into())),
            Principal::Role(role) => self
                .iam
                .get_role()
                .role_name(role)
                .send()
                .await
                .map(|out| {
                    out.role()
                        .and_then(|r| r.permissions_boundary())
                        .and_then(|b| b.permissions_boundary_arn())
                        .map(str::to_string)
                })
                .map_err(|e| (has_code(&e, NO_SUCH_ENTITY), "GetRole", e.into())),
        };
        match boundary {
            Ok(arn) => Ok(Some(arn)),
            Err((true, _, _)) => Ok(None),
            Err((false, operation, e)) => Err(boxed_error(call, operation, principal, e)),
        }
    }

    /// The names of the groups the user is a member of.
    pub(crate) async fn groups_of(
        &self,
        call: &'static str,
        user: &str,
    ) -> Result<Option<Vec<String>>, WriteError> {
        match self
            .iam
            .list_groups_for_user()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
        {
            Ok(groups) => Ok(Some(
                groups.iter().map(|g| g.group_name().to_string()).collect(),
            )),
            Err(e) if has_code(&e, NO_SUCH_ENTITY) => Ok(None),
            Err(e) => Err(WriteError::call(
                call,
                "ListGroupsForUser",
                format!("user {user}"),
                e,
            )),
        }
    }

    /// The names of the roles in the instance profile.
    pub(crate) async fn instance_profile_roles(
        &self,
        call: &'static str,
        profile: &str,
    ) -> Result<Option<Vec<String>>, WriteError> {
        match self
            .iam
            .get_instance_profile()
            .instance_profile_name(profile)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.instance_profile()
                    .map(|p| {
                        p.roles()
                            .iter()
                            .map(|r| r.role_name().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            )),
            Err(e) if has_code(&e, NO_SUCH_ENTITY) => Ok(None),
            Err(e) => Err(WriteError::call(
                call,
                "GetInstanceProfile",
                format!("instance profile {profile}"),
                e,
            )),
        }
    }

    /// Whether the principal exists.
    pub(crate) async fn exists(
        &self,
        call: &'static str,
        principal: &Principal,
    ) -> Result<bool, WriteError> {
        Ok(self.boundary_of(call, principal).await?.is_some())
    }

    /// The secret's version labels; `Ok(None)` when it does not exist.
    pub(crate) async fn secret_state(
        &self,
        call: &'static str,
        secret: &str,
    ) -> Result<Option<SecretState>, WriteError> {
        match self
            .secrets
            .describe_secret()
            .secret_id(secret)
            .send()
            .await
        {
            Ok(out) => Ok(Some(SecretState {
                deleted: out.deleted_date().is_some(),
                stages: out.version_ids_to_stages().cloned().unwrap_or_default(),
            })),
            Err(e) if has_code(&e, SECRET_NOT_FOUND) => Ok(None),
            Err(e) => Err(WriteError::call(
                call,
                "DescribeSecret",
                format!("secret {secret}"),
                e,
            )),
        }
    }

    /// The access key id that the secret's current value names, with that value's version id;
    /// `Ok(None)` when the secret does not exist, is scheduled for deletion, or does not hold a
    /// JSON object with an `AccessKeyId`.
    pub(crate) async fn secret_key_id(
        &self,
        call: &'static str,
        secret: &str,
    ) -> Result<Option<(String, Option<String>)>, WriteError> {
        let out = match self
            .secrets
            .get_secret_value()
            .secret_id(secret)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if has_code(&e, SECRET_NOT_FOUND) || has_code(&e, SECRET_INVALID_REQUEST) => {
                return Ok(None);
            }
            Err(e) => {
                return Err(WriteError::call(
                    call,
                    "GetSecretValue",
                    format!("secret {secret}"),
                    e,
                ));
            }
        };
        // Only `AccessKeyId` is taken. A parse error is dropped unread: serde_json's messages
        // can quote the text they failed on, which is secret.
        let key_id = out
            .secret_string()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|value| {
                value
                    .get("AccessKeyId")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            });
        Ok(key_id.map(|id| (id, out.version_id().map(str::to_string))))
    }
}

type BoxedError = Box<dyn std::error::Error + Send + Sync>;

/// For reads whose user and role variants fail with different error types.
fn boxed_error(
    call: &'static str,
    operation: &'static str,
    target: impl fmt::Display,
    error: BoxedError,
) -> WriteError {
    WriteError::call(call, operation, target, &*error)
}
