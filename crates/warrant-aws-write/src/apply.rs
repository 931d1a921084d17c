//! One call per plan step, made idempotently: where AWS would fail on an effect already in place
//! (deleting what is gone) that failure is success, and where it would silently repeat it
//! (attaching what is attached) the state is read first, so the step can say nothing changed.
//!
//! A removal whose principal no longer exists is "already in place" (what was to be removed is
//! gone with it); an addition to a principal that does not exist is refused.

use warrant_lifecycle::{Applied, AwsCall, Principal, StepContext};

use crate::{AwsExecutor, NO_SUCH_ENTITY, WriteError, already, changed, has_code};

/// The outcome of a removal: success, or AWS saying there is nothing to remove.
fn removed<T, E>(
    result: Result<T, E>,
    call: &'static str,
    operation: &'static str,
    target: &str,
    gone: impl FnOnce() -> String,
) -> Result<Applied, WriteError>
where
    E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    match result {
        Ok(_) => {
            tracing::info!(call, resource = target, "Applied the AWS call.");
            Ok(changed())
        }
        Err(e) if has_code(&e, NO_SUCH_ENTITY) => Ok(already(gone())),
        Err(e) => Err(WriteError::call(call, operation, target, e)),
    }
}

fn done(call: &'static str, target: &str) -> Applied {
    tracing::info!(call, resource = target, "Applied the AWS call.");
    changed()
}

/// Two policy documents say the same thing (IAM may reformat what it was given).
fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl AwsExecutor {
    pub(crate) async fn apply_call(
        &self,
        call: &AwsCall,
        ctx: StepContext<'_>,
    ) -> Result<Applied, WriteError> {
        let name = call.name();
        match call {
            AwsCall::CreateAccessKeyIntoSecret { user, secret } => {
                self.create_key_into_secret(name, user, secret, ctx).await
            }
            AwsCall::AwaitKeyUse {
                user,
                key,
                grace_hours,
            } => self.await_key_use(name, user, key, *grace_hours, ctx).await,
            AwsCall::SetAccessKeyStatus { user, key, active } => {
                self.set_key_status(name, user, key, *active, ctx).await
            }
            AwsCall::DeleteAccessKey { user, key } => self.delete_key(name, user, key, ctx).await,
            AwsCall::RestoreSecretVersion { secret, step } => {
                self.restore_secret_version(name, secret, *step, ctx).await
            }
            AwsCall::DeleteLoginProfile { user } => {
                let target = format!("user {user}");
                let result = self.iam.delete_login_profile().user_name(user).send().await;
                removed(result, name, "DeleteLoginProfile", &target, || {
                    format!("{target} has no console password")
                })
            }
            AwsCall::AttachPolicy {
                principal,
                policy_arn,
            } => self.attach_policy(name, principal, policy_arn).await,
            AwsCall::DetachPolicy {
                principal,
                policy_arn,
            } => {
                let target = format!("{policy_arn} on {principal}");
                let gone = || format!("{policy_arn} is not attached to {principal}");
                match principal {
                    Principal::User(user) => {
                        let result = self
                            .iam
                            .detach_user_policy()
                            .user_name(user)
                            .policy_arn(policy_arn)
                            .send()
                            .await;
                        removed(result, name, name, &target, gone)
                    }
                    Principal::Role(role) => {
                        let result = self
                            .iam
                            .detach_role_policy()
                            .role_name(role)
                            .policy_arn(policy_arn)
                            .send()
                            .await;
                        removed(result, name, name, &target, gone)
                    }
                }
            }
            AwsCall::PutInlinePolicy {
                principal,
                name: policy,
                document,
            } => {
                self.put_inline_policy(name, principal, policy, document)
                    .await
            }
            AwsCall::DeleteInlinePolicy {
                principal,
                name: policy,
            } => {
                let target = format!("inline policy {policy} of {principal}");
                let gone = || format!("{principal} has no inline policy {policy}");
                match principal {
                    Principal::User(user) => {
                        let result = self
                            .iam
                            .delete_user_policy()
                            .user_name(user)
                            .policy_name(policy)
                            .send()
                            .await;
                        removed(result, name, name, &target, gone)
                    }
                    Principal::Role(role) => {
                        let result = self
                            .iam
                            .delete_role_policy()
                            .role_name(role)
                            .policy_name(policy)
                            .send()
                            .await;
                        removed(result, name, name, &target, gone)
                    }
                }
            }
            AwsCall::PutPermissionsBoundary {
                principal,
                policy_arn,
            } => self.put_boundary(name, principal, policy_arn).await,
            AwsCall::DeletePermissionsBoundary { principal } => {
                self.delete_boundary(name, principal).await
            }
            AwsCall::AddUserToGroup { user, group } => {
                let target = format!("user {user}, group {group}");
                let Some(groups) = self.groups_of(name, user).await? else {
                    return Err(WriteError::refused(
                        name,
                        &target,
                        format!("user {user} does not exist"),
                    ));
                };
                if groups.iter().any(|g| g == group) {
                    return Ok(already(format!("user {user} is a member of group {group}")));
                }
                self.iam
                    .add_user_to_group()
                    .user_name(user)
                    .group_name(group)
                    .send()
                    .await
                    .map_err(|e| WriteError::call(name, name, &target, e))?;
                Ok(done(name, &target))
            }
            AwsCall::RemoveUserFromGroup { user, group } => {
                let target = format!("user {user}, group {group}");
                let result = self
                    .iam
                    .remove_user_from_group()
                    .user_name(user)
                    .group_name(group)
                    .send()
                    .await;
                removed(result, name, name, &target, || {
                    format!("user {user} is not a member of group {group}")
                })
            }
            AwsCall::AddRoleToInstanceProfile { role, profile } => {
                let target = format!("role {role}, instance profile {profile}");
                let Some(roles) = self.instance_profile_roles(name, profile).await? else {
                    return Err(WriteError::refused(
                        name,
                        &target,
                        format!("instance profile {profile} does not exist"),
                    ));
                };
                // Checked, not left to AWS: a profile holds one role, so adding it again fails
                // with LimitExceeded rather than succeeding.
                if roles.iter().any(|r| r == role) {
                    return Ok(already(format!(
                        "instance profile {profile} holds role {role}"
                    )));
                }
                self.iam
                    .add_role_to_instance_profile()
                    .role_name(role)
                    .instance_profile_name(profile)
                    .send()
                    .await
                    .map_err(|e| WriteError::call(name, name, &target, e))?;
                Ok(done(name, &target))
            }
            AwsCall::RemoveRoleFromInstanceProfile { role, profile } => {
                let target = format!("role {role}, instance profile {profile}");
                let roles = self.instance_profile_roles(name, profile).await?;
                if !roles.iter().flatten().any(|r| r == role) {
                    return Ok(already(format!(
                        "instance profile {profile} does not hold role {role}"
                    )));
                }
                let result = self
                    .iam
                    .remove_role_from_instance_profile()
                    .role_name(role)
                    .instance_profile_name(profile)
                    .send()
                    .await;
                removed(result, name, name, &target, || {
                    format!("instance profile {profile} does not hold role {role}")
                })
            }
            AwsCall::DeleteUser { user } => {
                let target = format!("user {user}");
                let result = self.iam.delete_user().user_name(user).send().await;
                removed(result, name, name, &target, || {
                    format!("user {user} does not exist")
                })
            }
            AwsCall::DeleteRole { role } => {
                let target = format!("role {role}");
                let result = self.iam.delete_role().role_name(role).send().await;
                removed(result, name, name, &target, || {
                    format!("role {role} does not exist")
                })
            }
        }
    }

    async fn attach_policy(
        &self,
        call: &'static str,
        principal: &Principal,
        policy_arn: &str,
    ) -> Result<Applied, WriteError> {
        let target = format!("{policy_arn} on {principal}");
        let Some(attached) = self.attached_policies(call, principal).await? else {
            return Err(WriteError::refused(
                call,
                &target,
                format!("{principal} does not exist"),
            ));
        };
        if attached.iter().any(|a| a == policy_arn) {
            return Ok(already(format!("{policy_arn} is attached to {principal}")));
        }
        match principal {
            Principal::User(user) => self
                .iam
                .attach_user_policy()
                .user_name(user)
                .policy_arn(policy_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| WriteError::call(call, call, &target, e))?,
            Principal::Role(role) => self
                .iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(policy_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| WriteError::call(call, call, &target, e))?,
        }
        Ok(done(call, &target))
    }

    async fn put_inline_policy(
        &self,
        call: &'static str,
        principal: &Principal,
        policy: &str,
        document: &str,
    ) -> Result<Applied, WriteError> {
        let target = format!("inline policy {policy} of {principal}");
        if let Some(existing) = self.inline_policy_document(call, principal, policy).await?
            && same_document(&existing, document)
        {
            return Ok(already(format!(
                "{principal} has inline policy {policy} with this document"
            )));
        }
        match principal {
            Principal::User(user) => self
                .iam
                .put_user_policy()
                .user_name(user)
                .policy_name(policy)
                .policy_document(document)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| WriteError::call(call, call, &target, e))?,
            Principal::Role(role) => self
                .iam
                .put_role_policy()
                .role_name(role)
                .policy_name(policy)
                .policy_document(document)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| WriteError::call(call, call, &target, e))?,
        }
        Ok(done(call, &target))
    }

    async fn put_boundary(
        &self,
        call: &'static str,
        principal: &Principal,
        policy_arn: &str,
    ) -> Result<Applied, WriteError> {
        let target = format!("boundary {policy_arn} on {principal}");
        let Some(current) = self.boundary_of(call, principal).await? else {
            return Err(WriteError::refused(
                call,
                &target,
                format!("{principal} does not exist"),
            ));
        };
        if current.as_deref() == Some(policy_arn) {
            return Ok(already(format!(
                "{principal} has permissions boundary {policy_arn}"
            )));
        }
        match principal {
            Principal::User(user) => self
                .iam
                .put_user_permissions_boundary()
                .user_name(user)
                .permissions_boundary(policy_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| WriteError::call(call, call, &target, e))?,
            Principal::Role(role) => self
                .iam
                .put_role_permissions_boundary()
                .role_name(role)
                .permissions_boundary(policy_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| WriteError::call(call, call, &target, e))?,
        }
        Ok(done(call, &target))
    }

    async fn delete_boundary(
        &self,
        call: &'static str,
        principal: &Principal,
    ) -> Result<Applied, WriteError> {
        let target = format!("boundary of {principal}");
        match self.boundary_of(call, principal).await? {
            None => return Ok(already(format!("{principal} does not exist"))),
            Some(None) => {
                return Ok(already(format!("{principal} has no permissions boundary")));
            }
            Some(Some(_)) => {}
        }
        let gone = || format!("{principal} has no permissions boundary");
        match principal {
            Principal::User(user) => {
                let result = self
                    .iam
                    .delete_user_permissions_boundary()
                    .user_name(user)
                    .send()
                    .await;
                removed(result, call, call, &target, gone)
            }
            Principal::Role(role) => {
                let result = self
                    .iam
                    .delete_role_permissions_boundary()
                    .role_name(role)
                    .send()
                    .await;
                removed(result, call, call, &target, gone)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_document;

    #[test]
    fn documents_compare_as_json() {
        assert!(same_document(
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            r#"{ "Statement": [], "Version": "2012-10-17" }"#
        ));
        assert!(!same_document(
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            r#"{"Version":"2008-10-17","Statement":[]}"#
        ));
        assert!(same_document("not json", "not json"));
    }
}
