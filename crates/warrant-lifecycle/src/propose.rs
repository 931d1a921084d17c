//! Writing plans: from what the inventory knows about an identity (its keys, console password,
//! policies, groups, instance profiles) to the exact calls that carry out an action.
//!
//! Builders are pure: the application layer gathers the identity's neighbourhood from the store
//! and the options from the governance policy and the person asking, and stores the plan.
//! Within a plan, changes that can be undone come before those that cannot, so a failure part-way
//! leaves only reversible changes to roll back.

use chrono::Duration;
use serde_json::{Map, Value, json};
use warrant_core::attribute::{self, AttributesExt};
use warrant_core::{
    Attachment, Credential, CredentialKind, Effect, Identity, IdentityKind, Policy, PolicyKind,
    Statement, Timestamp,
};

use crate::plan::{
    Action, AwsCall, Call, Expect, KeyRef, Manual, Plan, PlanContent, Principal, Step,
};

/// The inline policy quarantine attaches: an explicit deny of everything, which no allow
/// overrides, removed again to lift the quarantine.
pub const QUARANTINE_POLICY: &str = "WarrantQuarantine";
/// The inline policy that revokes a role's sessions issued before an instant (the name the AWS
/// console uses for the same control).
pub const REVOKE_SESSIONS_POLICY: &str = "AWSRevokeOlderSessions";
/// The inline policy `rightsize` puts in place of the policies it replaces.
pub const RIGHTSIZED_POLICY: &str = "WarrantRightsized";

/// An identity and what hangs off it, as the inventory holds them.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub identity: &'a Identity,
    pub credentials: &'a [&'a Credential],
    /// Attachments with their policies (the policy may be unknown to the inventory).
    pub attachments: &'a [(&'a Attachment, Option<&'a Policy>)],
}

/// Who asks, why, and the choices an action needs.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: Action,
    pub reason: String,
    pub requested_by: String,
    pub now: Timestamp,
    pub revision: i64,
    /// The access key to act on (rotate, disable, delete); default: the only active key, or the
    /// oldest when there are several.
    pub key: Option<String>,
    /// The Secrets Manager secret a rotated key is stored in.
    pub secret: Option<String>,
    /// Rotation: how long the old key stays active when the new one is not used.
    pub grace_hours: u32,
    /// detach-policy: the policy (ARN, or the inline policy's name); add-boundary: the boundary.
    pub policy: Option<String>,
    /// rightsize: the right-sized policy document (from usage).
    pub document: Option<String>,
    /// decommission: apply within this many days.
    pub deadline_days: Option<u32>,
    /// contain: consumers seen using the identity's credentials, to tell.
    pub notify: Vec<String>,
}

impl Request {
    pub fn new(action: Action, requested_by: &str, now: Timestamp) -> Request {
        Request {
            action,
            reason: String::new(),
            requested_by: requested_by.to_string(),
            now,
            revision: 0,
            key: None,
            secret: None,
            grace_hours: 24,
            policy: None,
            document: None,
            deadline_days: None,
            notify: Vec::new(),
        }
    }
}

/// Why no plan was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    #[error("{action} applies to AWS IAM users{roles}; {identity} is a {kind}")]
    WrongKind {
        action: Action,
        identity: String,
        kind: IdentityKind,
        roles: &'static str,
    },
    #[error("{identity} has no access key {key}")]
    NoSuchKey { identity: String, key: String },
    #[error("{identity} has no access key to {action}")]
    NoKey { identity: String, action: Action },
    #[error("{identity} has several active keys ({keys}); say which with --key")]
    WhichKey { identity: String, keys: String },
    #[error(
        "{identity} already has two access keys, the most IAM allows: delete or deactivate one before rotating"
    )]
    NoKeySlot { identity: String },
    #[error(
        "no secret to store the new key in: give --secret NAME, tag the user with `warrant:secret`, or set remediation.secret_name in the policy"
    )]
    NoSecret,
    #[error("{0}")]
    Missing(String),
    #[error("nothing to do: {0}")]
    NothingToDo(String),
}

/// Writes the plan for `request` on `subject`.
pub fn propose(subject: Subject<'_>, request: &Request) -> Result<Plan, ProposeError> {
    let identity = subject.identity;
    let principal = principal_of(identity);
    let steps = match (request.action, &principal) {
        (Action::RotateKey, Some(Principal::User(user))) => rotate(subject, request, user)?,
        (Action::DisableKey, Some(Principal::User(user))) => disable_key(subject, request, user)?,
        (Action::DeleteKey, Some(Principal::User(user))) => delete_key(subject, request, user)?,
        (Action::DeleteLoginProfile, Some(Principal::User(user))) => {
            delete_login_profile(identity, user)?
        }
        (Action::DetachPolicy, Some(p)) => detach(subject, request, p)?,
        (Action::Rightsize, Some(p)) => rightsize(subject, request, p)?,
        (Action::AddBoundary, Some(p)) => add_boundary(identity, request, p)?,
        (Action::RevokeSessions, Some(Principal::Role(role))) => {
            vec![revoke_sessions(role, request.now)]
        }
        (Action::Quarantine, Some(p)) => vec![quarantine(p)],
        (Action::Decommission, Some(p)) => decommission(subject, p),
        (Action::Contain, Some(p)) => contain(subject, request, p),
        (Action::Decommission | Action::DisableKey | Action::DeleteKey | Action::Contain, None) => {
            manual_steps(subject, request.action)?
        }
        (action, _) => {
            return Err(ProposeError::WrongKind {
                action,
                identity: identity.id.clone(),
                kind: identity.kind,
                roles: match action {
                    Action::RevokeSessions => " (roles only)",
                    Action::RotateKey
                    | Action::DisableKey
                    | Action::DeleteKey
                    | Action::DeleteLoginProfile => "",
                    _ => " and roles",
                },
            });
        }
    };
    let deadline = request
        .deadline_days
        .map(|days| request.now + Duration::days(i64::from(days)));
    Ok(Plan::new(PlanContent {
        action: request.action,
        identity: identity.id.clone(),
        reason: request.reason.clone(),
        revision: request.revision,
        created: request.now,
        requested_by: request.requested_by.clone(),
        deadline,
        notify: request.notify.clone(),
        steps,
    }))
}

/// The IAM principal an identity is, when it is one Warrant can change.
pub fn principal_of(identity: &Identity) -> Option<Principal> {
    match identity.kind {
        IdentityKind::AwsUser => Some(Principal::User(identity.name.clone())),
        IdentityKind::AwsRole if !identity.attributes.flag(attribute::SERVICE_LINKED) => {
            Some(Principal::Role(identity.name.clone()))
        }
        _ => None,
    }
}

fn access_keys<'a>(subject: &Subject<'a>) -> Vec<&'a Credential> {
    let mut keys: Vec<&Credential> = subject
        .credentials
        .iter()
        .copied()
        .filter(|c| c.kind == CredentialKind::AccessKey)
        .collect();
    keys.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    keys
}

/// The key a request names, or the only (or oldest) active one.
fn chosen_key<'a>(
    subject: &Subject<'a>,
    request: &Request,
    active_only: bool,
) -> Result<&'a Credential, ProposeError> {
    let keys = access_keys(subject);
    let id = &subject.identity.id;
    if let Some(wanted) = &request.key {
        return keys
            .into_iter()
            .find(|k| &k.id == wanted)
            .ok_or_else(|| ProposeError::NoSuchKey {
                identity: id.clone(),
                key: wanted.clone(),
            });
    }
    let candidates: Vec<&Credential> = keys
        .iter()
        .copied()
        .filter(|k| k.active || !active_only)
        .collect();
    match candidates.as_slice() {
        [] => Err(ProposeError::NoKey {
            identity: id.clone(),
            action: request.action,
        }),
        [one] => Ok(one),
        [oldest, ..] if request.action == Action::RotateKey => Ok(oldest),
        several => Err(ProposeError::WhichKey {
            identity: id.clone(),
            keys: several
                .iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn aws(call: AwsCall) -> Call {
    Call::Aws(call)
}

fn key_expect(
    user: &str,
    key: &Credential,
    active: bool,
    unused_since: Option<Timestamp>,
) -> Expect {
    Expect::AccessKey {
        user: user.to_string(),
        key: key.id.clone(),
        active,
        unused_since,
    }
}

fn rotate(subject: Subject<'_>, request: &Request, user: &str) -> Result<Vec<Step>, ProposeError> {
    let old = chosen_key(&subject, request, true)?;
    if access_keys(&subject).len() >= 2 {
        return Err(ProposeError::NoKeySlot {
            identity: subject.identity.id.clone(),
        });
    }
    let secret = request
        .secret
        .clone()
        .or_else(|| subject.identity.tags.get("warrant:secret").cloned())
        .ok_or(ProposeError::NoSecret)?;
    let old_ref = KeyRef::Id(old.id.clone());
    Ok(vec![
        Step {
            call: aws(AwsCall::CreateAccessKeyIntoSecret {
                user: user.to_string(),
                secret: secret.clone(),
            }),
            expect: vec![
                Expect::KeySlotFree {
                    user: user.to_string(),
                },
                key_expect(user, old, true, None),
            ],
            // The secret first: it never names a key that no longer exists.
            undo: vec![
                aws(AwsCall::RestoreSecretVersion {
                    secret: secret.clone(),
                    step: 0,
                }),
                aws(AwsCall::DeleteAccessKey {
                    user: user.to_string(),
                    key: KeyRef::CreatedByStep(0),
                }),
            ],
            reversible: true,
            before: format!(
                "user {user}: key {} Active; secret {secret} as it is",
                old.id
            ),
            after: format!(
                "user {user}: a new Active key, its pair stored in secret {secret} (never shown)"
            ),
        },
        Step {
            call: aws(AwsCall::AwaitKeyUse {
                user: user.to_string(),
                key: KeyRef::CreatedByStep(0),
                grace_hours: request.grace_hours,
            }),
            expect: Vec::new(),
            undo: Vec::new(),
            reversible: true,
            before: "consumers use the old key".into(),
            after: format!(
                "the new key is used, or {} h have passed",
                request.grace_hours
            ),
        },
        Step {
            call: aws(AwsCall::SetAccessKeyStatus {
                user: user.to_string(),
                key: old_ref.clone(),
                active: false,
            }),
            expect: vec![key_expect(user, old, true, None)],
            undo: vec![aws(AwsCall::SetAccessKeyStatus {
                user: user.to_string(),
                key: old_ref.clone(),
                active: true,
            })],
            reversible: true,
            before: format!("key {} Active", old.id),
            after: format!("key {} Inactive", old.id),
        },
        Step {
            call: aws(AwsCall::DeleteAccessKey {
                user: user.to_string(),
                key: old_ref,
            }),
            expect: vec![key_expect(user, old, false, None)],
            undo: Vec::new(),
            reversible: false,
            before: format!("key {} Inactive", old.id),
            after: format!("key {} deleted", old.id),
        },
    ])
}

fn deactivate(user: &str, key: &Credential, unused_since: Option<Timestamp>) -> Step {
    let key_ref = KeyRef::Id(key.id.clone());
    Step {
        call: aws(AwsCall::SetAccessKeyStatus {
            user: user.to_string(),
            key: key_ref.clone(),
            active: false,
        }),
        expect: vec![key_expect(user, key, true, unused_since)],
        undo: vec![aws(AwsCall::SetAccessKeyStatus {
            user: user.to_string(),
            key: key_ref,
            active: true,
        })],
        reversible: true,
        before: format!("key {} Active", key.id),
        after: format!("key {} Inactive", key.id),
    }
}

fn delete_key_step(user: &str, key: &Credential) -> Step {
    Step {
        call: aws(AwsCall::DeleteAccessKey {
            user: user.to_string(),
            key: KeyRef::Id(key.id.clone()),
        }),
        expect: vec![key_expect(user, key, false, None)],
        undo: Vec::new(),
        reversible: false,
        before: format!("key {} Inactive", key.id),
        after: format!("key {} deleted", key.id),
    }
}

fn disable_key(
    subject: Subject<'_>,
    request: &Request,
    user: &str,
) -> Result<Vec<Step>, ProposeError> {
    let key = chosen_key(&subject, request, true)?;
    if !key.active {
        return Err(ProposeError::NothingToDo(format!(
            "key {} is already inactive",
            key.id
        )));
    }
    // Not used since the plan was written: a key someone starts using again is not disabled
    // without a second look.
    Ok(vec![deactivate(user, key, Some(request.now))])
}

fn delete_key(
    subject: Subject<'_>,
    request: &Request,
    user: &str,
) -> Result<Vec<Step>, ProposeError> {
    let key = chosen_key(&subject, request, false)?;
    let mut steps = Vec::new();
    if key.active {
        steps.push(deactivate(user, key, Some(request.now)));
    }
    steps.push(delete_key_step(user, key));
    Ok(steps)
}

fn delete_login_profile(identity: &Identity, user: &str) -> Result<Vec<Step>, ProposeError> {
    if !identity.login.as_ref().is_some_and(|l| l.password_enabled) {
        return Err(ProposeError::NothingToDo(format!(
            "{} has no console password",
            identity.id
        )));
    }
    Ok(vec![login_profile_step(user)])
}

fn login_profile_step(user: &str) -> Step {
    Step {
        call: aws(AwsCall::DeleteLoginProfile {
            user: user.to_string(),
        }),
        expect: vec![Expect::LoginProfile {
            user: user.to_string(),
            present: true,
        }],
        undo: Vec::new(),
        // The password is not known to Warrant, so it cannot be put back.
        reversible: false,
        before: format!("user {user} can sign in to the console"),
        after: format!("user {user} has no console password"),
    }
}

/// An identity's own policies: managed ARNs and inline policy names, not those it gets from a
/// group (changing a group changes its other members).
fn direct_policies<'a>(
    subject: &Subject<'a>,
) -> (Vec<&'a str>, Vec<(&'a str, Option<&'a Policy>)>) {
    let mut managed = Vec::new();
    let mut inline = Vec::new();
    for (attachment, policy) in subject.attachments {
        if attachment.via.is_some() {
            continue;
        }
        match attachment.policy.split_once("#inline/") {
            Some((_, name)) => inline.push((name, *policy)),
            None if policy.is_none_or(|p| p.kind != PolicyKind::Inline) => {
                managed.push(attachment.policy.as_str());
            }
            None => {}
        }
    }
    managed.sort_unstable();
    managed.dedup();
    inline.sort_by(|a, b| a.0.cmp(b.0));
    inline.dedup_by(|a, b| a.0 == b.0);
    (managed, inline)
}

fn detach_step(principal: &Principal, arn: &str) -> Step {
    Step {
        call: aws(AwsCall::DetachPolicy {
            principal: principal.clone(),
            policy_arn: arn.to_string(),
        }),
        expect: vec![Expect::PolicyAttached {
            principal: principal.clone(),
            policy_arn: arn.to_string(),
            attached: true,
        }],
        undo: vec![aws(AwsCall::AttachPolicy {
            principal: principal.clone(),
            policy_arn: arn.to_string(),
        })],
        reversible: true,
        before: format!("{arn} attached to {principal}"),
        after: format!("{arn} not attached to {principal}"),
    }
}

fn delete_inline_step(principal: &Principal, name: &str, policy: Option<&Policy>) -> Step {
    let undo: Vec<Call> = policy
        .map(|p| {
            aws(AwsCall::PutInlinePolicy {
                principal: principal.clone(),
                name: name.to_string(),
                document: policy_document(&p.statements),
            })
        })
        .into_iter()
        .collect();
    Step {
        call: aws(AwsCall::DeleteInlinePolicy {
            principal: principal.clone(),
            name: name.to_string(),
        }),
        expect: vec![Expect::InlinePolicy {
            principal: principal.clone(),
            name: name.to_string(),
            present: true,
        }],
        reversible: !undo.is_empty(),
        undo,
        before: format!("{principal} has inline policy {name}"),
        after: format!("inline policy {name} of {principal} deleted"),
    }
}

fn detach(
    subject: Subject<'_>,
    request: &Request,
    principal: &Principal,
) -> Result<Vec<Step>, ProposeError> {
    let wanted = request
        .policy
        .as_deref()
        .ok_or_else(|| ProposeError::Missing("detach-policy needs --policy ARN or NAME".into()))?;
    let (managed, inline) = direct_policies(&subject);
    if let Some(arn) = managed.iter().find(|arn| **arn == wanted) {
        return Ok(vec![detach_step(principal, arn)]);
    }
    if let Some((name, policy)) = inline.iter().find(|(name, _)| *name == wanted) {
        return Ok(vec![delete_inline_step(principal, name, *policy)]);
    }
    Err(ProposeError::NothingToDo(format!(
        "{wanted} is not attached to {} directly (policies from groups are changed on the group)",
        subject.identity.id
    )))
}

fn rightsize(
    subject: Subject<'_>,
    request: &Request,
    principal: &Principal,
) -> Result<Vec<Step>, ProposeError> {
    let document = request.document.clone().ok_or_else(|| {
        ProposeError::Missing(
            "rightsize needs usage to size from: ingest activity for this identity first".into(),
        )
    })?;
    let (managed, inline) = direct_policies(&subject);
    if managed.is_empty() && inline.iter().all(|(n, _)| *n == RIGHTSIZED_POLICY) {
        return Err(ProposeError::NothingToDo(format!(
            "{} has no policies of its own to replace",
            subject.identity.id
        )));
    }
    // The narrow policy goes in first, so the identity never runs with less than it uses.
    let mut steps = vec![Step {
        call: aws(AwsCall::PutInlinePolicy {
            principal: principal.clone(),
            name: RIGHTSIZED_POLICY.into(),
            document,
        }),
        expect: vec![Expect::InlinePolicy {
            principal: principal.clone(),
            name: RIGHTSIZED_POLICY.into(),
            present: false,
        }],
        undo: vec![aws(AwsCall::DeleteInlinePolicy {
            principal: principal.clone(),
            name: RIGHTSIZED_POLICY.into(),
        })],
        reversible: true,
        before: format!("{principal} has no {RIGHTSIZED_POLICY} policy"),
        after: format!("{principal} has {RIGHTSIZED_POLICY}: the actions it used"),
    }];
    steps.extend(managed.iter().map(|arn| detach_step(principal, arn)));
    steps.extend(
        inline
            .iter()
            .filter(|(name, _)| *name != RIGHTSIZED_POLICY)
            .map(|(name, policy)| delete_inline_step(principal, name, *policy)),
    );
    Ok(steps)
}

fn add_boundary(
    identity: &Identity,
    request: &Request,
    principal: &Principal,
) -> Result<Vec<Step>, ProposeError> {
    let arn = request
        .policy
        .clone()
        .ok_or_else(|| ProposeError::Missing("add-boundary needs --policy ARN".into()))?;
    let current = identity
        .attributes
        .text(attribute::PERMISSIONS_BOUNDARY)
        .map(str::to_string);
    if current.as_deref() == Some(arn.as_str()) {
        return Err(ProposeError::NothingToDo(format!(
            "{} already has the boundary {arn}",
            identity.id
        )));
    }
    let undo = match &current {
        Some(previous) => aws(AwsCall::PutPermissionsBoundary {
            principal: principal.clone(),
            policy_arn: previous.clone(),
        }),
        None => aws(AwsCall::DeletePermissionsBoundary {
            principal: principal.clone(),
        }),
    };
    Ok(vec![Step {
        call: aws(AwsCall::PutPermissionsBoundary {
            principal: principal.clone(),
            policy_arn: arn.clone(),
        }),
        expect: vec![Expect::Boundary {
            principal: principal.clone(),
            policy_arn: current.clone(),
        }],
        undo: vec![undo],
        reversible: true,
        before: match &current {
            Some(b) => format!("{principal} bounded by {b}"),
            None => format!("{principal} has no permissions boundary"),
        },
        after: format!("{principal} bounded by {arn}"),
    }])
}

fn revoke_sessions(role: &str, now: Timestamp) -> Step {
    let principal = Principal::Role(role.to_string());
    let document = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": now.format("%Y-%m-%dT%H:%M:%SZ").to_string()}}
        }]
    })
    .to_string();
    Step {
        call: aws(AwsCall::PutInlinePolicy {
            principal: principal.clone(),
            name: REVOKE_SESSIONS_POLICY.into(),
            document,
        }),
        expect: vec![Expect::Exists {
            principal: principal.clone(),
        }],
        undo: vec![aws(AwsCall::DeleteInlinePolicy {
            principal,
            name: REVOKE_SESSIONS_POLICY.into(),
        })],
        reversible: true,
        before: format!("sessions of role {role} issued before now are valid"),
        after: format!(
            "sessions of role {role} issued before {} are denied everything",
            now.format("%Y-%m-%d %H:%M UTC")
        ),
    }
}

fn quarantine(principal: &Principal) -> Step {
    let document = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "WarrantQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}]
    })
    .to_string();
    Step {
        call: aws(AwsCall::PutInlinePolicy {
            principal: principal.clone(),
            name: QUARANTINE_POLICY.into(),
            document,
        }),
        expect: vec![
            Expect::Exists {
                principal: principal.clone(),
            },
            Expect::InlinePolicy {
                principal: principal.clone(),
                name: QUARANTINE_POLICY.into(),
                present: false,
            },
        ],
        undo: vec![aws(AwsCall::DeleteInlinePolicy {
            principal: principal.clone(),
            name: QUARANTINE_POLICY.into(),
        })],
        reversible: true,
        before: format!("{principal} acts with its policies"),
        after: format!("{principal} is denied every action (explicit deny)"),
    }
}

fn string_list(identity: &Identity, key: &str) -> Vec<String> {
    identity
        .attributes
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The checklist: every key, the console password, group memberships, attached and inline
/// policies, instance profiles, then the principal itself.
fn decommission(subject: Subject<'_>, principal: &Principal) -> Vec<Step> {
    let identity = subject.identity;
    let (managed, inline) = direct_policies(&subject);
    let mut steps = Vec::new();
    match principal {
        Principal::User(user) => {
            let keys = access_keys(&subject);
            steps.extend(
                keys.iter()
                    .filter(|k| k.active)
                    .map(|k| deactivate(user, k, None)),
            );
            let mut groups = string_list(identity, "groups");
            groups.sort();
            groups.dedup();
            steps.extend(groups.iter().map(|group| Step {
                call: aws(AwsCall::RemoveUserFromGroup {
                    user: user.clone(),
                    group: group.clone(),
                }),
                expect: vec![Expect::GroupMember {
                    user: user.clone(),
                    group: group.clone(),
                    member: true,
                }],
                undo: vec![aws(AwsCall::AddUserToGroup {
                    user: user.clone(),
                    group: group.clone(),
                })],
                reversible: true,
                before: format!("user {user} in group {group}"),
                after: format!("user {user} not in group {group}"),
            }));
            steps.extend(managed.iter().map(|arn| detach_step(principal, arn)));
            steps.extend(
                inline
                    .iter()
                    .map(|(name, policy)| delete_inline_step(principal, name, *policy)),
            );
            steps.extend(keys.iter().map(|k| delete_key_step(user, k)));
            if identity.login.as_ref().is_some_and(|l| l.password_enabled) {
                steps.push(login_profile_step(user));
            }
            steps.push(delete_principal_step(principal));
        }
        Principal::Role(role) => {
            let mut profiles = string_list(identity, "instance_profiles");
            profiles.sort();
            profiles.dedup();
            steps.extend(profiles.iter().map(|profile| Step {
                call: aws(AwsCall::RemoveRoleFromInstanceProfile {
                    role: role.clone(),
                    profile: profile.clone(),
                }),
                expect: vec![Expect::InstanceProfileRole {
                    role: role.clone(),
                    profile: profile.clone(),
                    present: true,
                }],
                undo: vec![aws(AwsCall::AddRoleToInstanceProfile {
                    role: role.clone(),
                    profile: profile.clone(),
                })],
                reversible: true,
                before: format!("instance profile {profile} holds role {role}"),
                after: format!("instance profile {profile} holds no role"),
            }));
            steps.extend(managed.iter().map(|arn| detach_step(principal, arn)));
            steps.extend(
                inline
                    .iter()
                    .map(|(name, policy)| delete_inline_step(principal, name, *policy)),
            );
            steps.push(delete_principal_step(principal));
        }
    }
    steps
}

fn delete_principal_step(principal: &Principal) -> Step {
    let call = match principal {
        Principal::User(user) => AwsCall::DeleteUser { user: user.clone() },
        Principal::Role(role) => AwsCall::DeleteRole { role: role.clone() },
    };
    Step {
        call: aws(call),
        expect: vec![Expect::Exists {
            principal: principal.clone(),
        }],
        undo: Vec::new(),
        reversible: false,
        before: format!("{principal} exists"),
        after: format!("{principal} deleted"),
    }
}

/// A suspected compromise: cut every credential off at once, keep it reversible, and give the
/// consumers a fresh credential to move to once the quarantine is lifted.
fn contain(subject: Subject<'_>, request: &Request, principal: &Principal) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Principal::User(user) = principal {
        steps.extend(
            access_keys(&subject)
                .iter()
                .filter(|k| k.active)
                .map(|k| deactivate(user, k, None)),
        );
    }
    if let Principal::Role(role) = principal {
        steps.push(revoke_sessions(role, request.now));
    }
    steps.push(quarantine(principal));
    if let Principal::User(user) = principal {
        let secret = request
            .secret
            .clone()
            .or_else(|| subject.identity.tags.get("warrant:secret").cloned());
        // Rotating needs a free key slot: after deactivation the old keys still count, so only
        // when the user holds fewer than two.
        if let Some(secret) = secret
            && access_keys(&subject).len() < 2
        {
            let at = steps.len();
            steps.push(Step {
                call: aws(AwsCall::CreateAccessKeyIntoSecret {
                    user: user.clone(),
                    secret: secret.clone(),
                }),
                expect: vec![Expect::KeySlotFree { user: user.clone() }],
                undo: vec![
                    aws(AwsCall::RestoreSecretVersion {
                        secret: secret.clone(),
                        step: at,
                    }),
                    aws(AwsCall::DeleteAccessKey {
                        user: user.clone(),
                        key: KeyRef::CreatedByStep(at),
                    }),
                ],
                reversible: true,
                before: format!("secret {secret} holds the suspect key"),
                after: format!(
                    "secret {secret} holds a new key (usable once the quarantine is lifted)"
                ),
            });
        }
    }
    steps
}

/// Identities Warrant cannot change through an SDK here: the change written out for a person.
fn manual_steps(subject: Subject<'_>, action: Action) -> Result<Vec<Step>, ProposeError> {
    let identity = subject.identity;
    let step = |system: &str, summary: String, instructions: String| Step {
        call: Call::Manual(Manual {
            system: system.to_string(),
            summary: summary.clone(),
            instructions,
        }),
        expect: Vec::new(),
        undo: Vec::new(),
        reversible: false,
        before: identity.id.clone(),
        after: summary,
    };
    let mut steps = Vec::new();
    match identity.kind {
        IdentityKind::K8sServiceAccount => {
            let namespace = identity.namespace.as_deref().unwrap_or("default");
            for c in subject.credentials {
                // The connector records where the token lives: `k8s-secret:NS/NAME`.
                let stored = c
                    .storage
                    .as_deref()
                    .and_then(|s| s.strip_prefix("k8s-secret:"))
                    .and_then(|s| s.split_once('/'));
                if c.kind == CredentialKind::ServiceAccountToken
                    && let Some((ns, secret)) = stored
                {
                    steps.push(step(
                        "kubernetes",
                        format!("delete the long-lived token Secret {ns}/{secret}"),
                        format!("kubectl delete secret {secret} --namespace {ns}"),
                    ));
                }
            }
            if action == Action::Decommission {
                for (attachment, _) in subject.attachments {
                    if let Some(binding) = attachment.via.as_deref() {
                        steps.push(step(
                            "kubernetes",
                            format!("delete the binding {binding}"),
                            kubectl_delete_binding(binding, namespace),
                        ));
                    }
                }
                steps.push(step(
                    "kubernetes",
                    format!("delete the service account {namespace}/{}", identity.name),
                    format!(
                        "kubectl delete serviceaccount {} --namespace {namespace}",
                        identity.name
                    ),
                ));
            }
        }
        IdentityKind::GitHubDeployKey => {
            // Deploy keys are recorded as `github:OWNER/REPO/deploy-key/ID`.
            let parts = identity
                .id
                .strip_prefix("github:")
                .and_then(|rest| rest.split_once("/deploy-key/"));
            if let Some((repo, key_id)) = parts {
                steps.push(step(
                    "github",
                    format!("delete deploy key {} of {repo}", identity.name),
                    format!(
                        "gh api --method DELETE /repos/{repo}/keys/{key_id}\n# REST: DELETE https://api.github.com/repos/{repo}/keys/{key_id}"
                    ),
                ));
            }
        }
        IdentityKind::GitHubApp => {
            let installation = identity
                .attributes
                .get("installation_id")
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_else(|| "INSTALLATION_ID".into());
            steps.push(step(
                "github",
                format!("remove the installation of app {}", identity.name),
                format!(
                    "gh api --method DELETE /app/installations/{installation}  # as the app (JWT)\n# or, as an organisation owner: Settings → GitHub Apps → {} → Uninstall",
                    identity.name
                ),
            ));
        }
        _ => {}
    }
    if steps.is_empty() {
        return Err(ProposeError::WrongKind {
            action,
            identity: identity.id.clone(),
            kind: identity.kind,
            roles: " and roles (and, written out for a person, Kubernetes service accounts and GitHub deploy keys and apps)",
        });
    }
    Ok(steps)
}

fn kubectl_delete_binding(binding: &str, namespace: &str) -> String {
    // Bindings are recorded as `rolebinding:NS/NAME` or `clusterrolebinding:NAME`.
    match binding.split_once(':') {
        Some(("clusterrolebinding", name)) => format!("kubectl delete clusterrolebinding {name}"),
        Some((_, rest)) => {
            let (ns, name) = rest.split_once('/').unwrap_or((namespace, rest));
            format!("kubectl delete rolebinding {name} --namespace {ns}")
        }
        None => format!("kubectl delete rolebinding {binding} --namespace {namespace}"),
    }
}

/// An IAM policy document for statements the inventory holds (to put an inline policy back).
pub fn policy_document(statements: &[Statement]) -> String {
    let list: Vec<Value> = statements
        .iter()
        .map(|s| {
            let mut m = Map::new();
            if let Some(sid) = &s.sid {
                m.insert("Sid".into(), Value::String(sid.clone()));
            }
            m.insert(
                "Effect".into(),
                Value::String(
                    match s.effect {
                        Effect::Allow => "Allow",
                        Effect::Deny => "Deny",
                    }
                    .into(),
                ),
            );
            let mut list_field = |key: &str, values: &[String]| {
                if !values.is_empty() {
                    m.insert(key.into(), Value::from(values.to_vec()));
                }
            };
            list_field("Action", &s.actions);
            list_field("NotAction", &s.not_actions);
            list_field("Resource", &s.resources);
            list_field("NotResource", &s.not_resources);
            if let Some(c) = &s.conditions {
                m.insert("Condition".into(), c.clone());
            }
            Value::Object(m)
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": list}).to_string()
}

/// The action whose plan fixes what a finding reports, when a plan can (an owner, a purpose or
/// trust in another account need a person, not a provider call).
pub fn action_for(finding: &warrant_core::Finding) -> Option<Action> {
    action_for_rule(finding.rule, finding.severity)
}

/// [`action_for`] from a finding's rule and severity alone.
pub fn action_for_rule(
    rule: warrant_core::RuleId,
    severity: warrant_core::Severity,
) -> Option<Action> {
    use warrant_core::{RuleId, Severity};
    match rule {
        RuleId::AccessKeyOld | RuleId::LeakedSecret => Some(Action::RotateKey),
        RuleId::CredentialUnused | RuleId::DisabledWithActiveCredentials => {
            Some(Action::DisableKey)
        }
        RuleId::MachineConsolePassword | RuleId::MachinePasswordUsed => {
            Some(Action::DeleteLoginProfile)
        }
        // Past the tier's decommission threshold (the finding is then high): decommission.
        RuleId::IdentityUnused if severity >= Severity::High => Some(Action::Decommission),
        RuleId::AdminEquivalent | RuleId::WildcardPermissions => Some(Action::Rightsize),
        _ => None,
    }
}
