//! Expectations checked against live state. A principal that no longer exists is drift, not an
//! error: the plan was written against a world that has changed, which is what a check is for.

use warrant_lifecycle::{Check, Expect, Principal};

use crate::{AwsExecutor, WriteError, show_time};

/// The plan's "call" named in errors raised while checking.
const CHECK: &str = "check";

fn missing(principal: &Principal) -> Check {
    Check::Drift(format!("{principal} does not exist"))
}

fn missing_user(user: &str) -> Check {
    Check::Drift(format!("user {user} does not exist"))
}

impl AwsExecutor {
    pub(crate) async fn check_expect(&self, expect: &Expect) -> Result<Check, WriteError> {
        match expect {
            Expect::AccessKey {
                user,
                key,
                active,
                unused_since,
            } => {
                let Some(keys) = self.keys_of(CHECK, user).await? else {
                    return Ok(missing_user(user));
                };
                let Some(found) = keys.iter().find(|k| k.id == *key) else {
                    return Ok(Check::Drift(format!(
                        "key {key} of user {user} no longer exists"
                    )));
                };
                if found.active != *active {
                    return Ok(Check::Drift(format!(
                        "key {key} of user {user} is {}",
                        found.status()
                    )));
                }
                if let Some(since) = unused_since {
                    let used = self.last_use(CHECK, key).await?.and_then(|u| u.at);
                    if let Some(at) = used.filter(|at| at > since) {
                        return Ok(Check::Drift(format!(
                            "key {key} of user {user} was used at {}, after {}",
                            show_time(&at),
                            show_time(since)
                        )));
                    }
                }
                Ok(Check::Holds)
            }
            Expect::KeySlotFree { user } => {
                let Some(keys) = self.keys_of(CHECK, user).await? else {
                    return Ok(missing_user(user));
                };
                // IAM allows two access keys per user.
                if keys.len() >= 2 {
                    let listed: Vec<String> = keys.iter().map(ToString::to_string).collect();
                    return Ok(Check::Drift(format!(
                        "user {user} has {} keys: {}",
                        keys.len(),
                        listed.join(", ")
                    )));
                }
                Ok(Check::Holds)
            }
            Expect::LoginProfile { user, present } => {
                let found = match self.iam.get_login_profile().user_name(user).send().await {
                    Ok(_) => true,
                    Err(e) if crate::has_code(&e, crate::NO_SUCH_ENTITY) => {
                        // The same error says the user is missing: tell the two apart.
                        if !self.exists(CHECK, &Principal::User(user.clone())).await? {
                            return Ok(missing_user(user));
                        }
                        false
                    }
                    Err(e) => {
                        return Err(WriteError::call(
                            CHECK,
                            "GetLoginProfile",
                            format!("user {user}"),
                            e,
                        ));
                    }
                };
                Ok(if found == *present {
                    Check::Holds
                } else if found {
                    Check::Drift(format!("user {user} has a console password"))
                } else {
                    Check::Drift(format!("user {user} has no console password"))
                })
            }
            Expect::PolicyAttached {
                principal,
                policy_arn,
                attached,
            } => {
                let Some(arns) = self.attached_policies(CHECK, principal).await? else {
                    return Ok(missing(principal));
                };
                let found = arns.iter().any(|a| a == policy_arn);
                Ok(if found == *attached {
                    Check::Holds
                } else if found {
                    Check::Drift(format!("{policy_arn} is attached to {principal}"))
                } else {
                    Check::Drift(format!(
                        "{policy_arn} is not attached to {principal} (attached: {})",
                        list_or_none(&arns)
                    ))
                })
            }
            Expect::InlinePolicy {
                principal,
                name,
                present,
            } => {
                let Some(names) = self.inline_policies(CHECK, principal).await? else {
                    return Ok(missing(principal));
                };
                let found = names.iter().any(|n| n == name);
                Ok(if found == *present {
                    Check::Holds
                } else if found {
                    Check::Drift(format!("{principal} has inline policy {name}"))
                } else {
                    Check::Drift(format!(
                        "{principal} has no inline policy {name} (inline: {})",
                        list_or_none(&names)
                    ))
                })
            }
            Expect::Boundary {
                principal,
                policy_arn,
            } => {
                let Some(found) = self.boundary_of(CHECK, principal).await? else {
                    return Ok(missing(principal));
                };
                Ok(if found == *policy_arn {
                    Check::Holds
                } else {
                    match found {
                        Some(arn) => {
                            Check::Drift(format!("{principal} has permissions boundary {arn}"))
                        }
                        None => Check::Drift(format!("{principal} has no permissions boundary")),
                    }
                })
            }
            Expect::GroupMember {
                user,
                group,
                member,
            } => {
                let Some(groups) = self.groups_of(CHECK, user).await? else {
                    return Ok(missing_user(user));
                };
                let found = groups.iter().any(|g| g == group);
                Ok(if found == *member {
                    Check::Holds
                } else if found {
                    Check::Drift(format!("user {user} is a member of group {group}"))
                } else {
                    Check::Drift(format!(
                        "user {user} is not a member of group {group} (groups: {})",
                        list_or_none(&groups)
                    ))
                })
            }
            Expect::InstanceProfileRole {
                role,
                profile,
                present,
            } => {
                // A vanished profile is drift either way: the plan was written while it existed.
                let Some(roles) = self.instance_profile_roles(CHECK, profile).await? else {
                    return Ok(Check::Drift(format!(
                        "instance profile {profile} does not exist"
                    )));
                };
                let found = roles.iter().any(|r| r == role);
                Ok(if found == *present {
                    Check::Holds
                } else if found {
                    Check::Drift(format!("instance profile {profile} holds role {role}"))
                } else {
                    Check::Drift(format!(
                        "instance profile {profile} does not hold role {role} (roles: {})",
                        list_or_none(&roles)
                    ))
                })
            }
            Expect::Exists { principal } => Ok(if self.exists(CHECK, principal).await? {
                Check::Holds
            } else {
                missing(principal)
            }),
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
