//! The posture rules. Each has an id, an OWASP NHI mapping, a default severity and a fix; each
//! finding says which facts made it fire.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use warrant_core::attribute;
use warrant_core::{
    ActorKind, CredentialKind, Environment, Finding, FindingSource, Identity, IdentityKind,
    IdentityStatus, OwaspNhi, OwnerKind, OwnerStatus, PrincipalKind, PrivilegeSummary, Severity,
    Timestamp, inventory::InventoryIndex,
};

use crate::config::PostureConfig;

/// What a rule is, for `warrant rules`, SARIF and docs.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub title: &'static str,
    pub owasp: OwaspNhi,
    pub default_severity: Severity,
    pub description: &'static str,
    pub remediation: &'static str,
}

macro_rules! rules {
    ($($id:literal, $nhi:ident, $sev:ident, $title:literal, $desc:literal, $fix:literal;)+) => {
        pub const RULES: &[RuleInfo] = &[$(RuleInfo {
            id: $id, title: $title, owasp: OwaspNhi::$nhi, default_severity: Severity::$sev,
            description: $desc, remediation: $fix,
        }),+];
    };
}

rules! {
    "no-owner", Nhi1, Medium, "Identity has no owner",
        "No tag, label, annotation or directory record names a person or team accountable for this identity.",
        "Name an accountable owner (an `owner` tag, label or annotation with a person's email) or decommission the identity.";
    "owner-shared-mailbox", Nhi1, Low, "Owner is a shared mailbox",
        "The only owners are role mailboxes such as devops@, which nobody is individually accountable for.",
        "Add a named person as owner next to the team mailbox.";
    "owner-suspended", Nhi1, Medium, "Owner is suspended in the directory",
        "Every person named as owner is suspended in the identity provider.",
        "Hand the identity to an active owner, or disable it until someone takes it over.";
    "owner-deprovisioned", Nhi1, High, "Owner has left the organisation",
        "Every person named as owner is deprovisioned in the identity provider: the identity is orphaned.",
        "Reassign the identity to an active owner now, or disable and decommission it.";
    "owner-unknown", Nhi1, Low, "Owner is not in the directory",
        "An owner email is not found in the imported directory (typo, former employee, or outside person).",
        "Correct the owner reference to a person in the directory.";
    "identity-unused", Nhi1, Medium, "Identity has not been used recently",
        "The identity has not authenticated for longer than the unused threshold (or never, since it was created).",
        "Confirm with the owner whether it is still needed; disable it, then delete it after a grace period.";
    "credential-unused", Nhi1, Medium, "Active credential has not been used recently",
        "An active key or token has not been used for longer than the unused threshold, or never.",
        "Deactivate the credential, and delete it if nothing breaks.";
    "disabled-with-active-credentials", Nhi1, Medium, "Disabled identity still holds active credentials",
        "The identity is disabled or decommissioned, but credentials that authenticate as it are still active.",
        "Deactivate and delete the remaining credentials.";
    "trust-anyone", Nhi3, Critical, "Role can be assumed by anyone",
        "The role's trust policy allows the `*` principal.",
        "Restrict the trust policy's Principal to the exact accounts or roles that need it.";
    "trust-external-account", Nhi3, High, "Role is trusted by an account outside the organisation",
        "The role can be assumed from an AWS account that is not one of the organisation's accounts.",
        "Confirm the third party; require an `sts:ExternalId` condition, scope the role's permissions, or remove the trust.";
    "third-party-app-broad", Nhi3, High, "Third-party app has broad access",
        "A third-party GitHub App holds write or admin permissions across the organisation's repositories.",
        "Limit the installation to the repositories it needs and drop write/admin permissions it does not use, or uninstall it.";
    "machine-console-password", Nhi4, High, "Machine identity can sign in to the console",
        "A machine user has a console password, a credential made for people.",
        "Delete the login profile; machine identities should use roles or short-lived credentials only.";
    "password-without-mfa", Nhi4, High, "Console password without MFA",
        "A non-human user has a console password and no MFA device.",
        "Delete the login profile (preferred) or enforce MFA.";
    "legacy-sa-token", Nhi4, Medium, "Long-lived service account token secret",
        "A `kubernetes.io/service-account-token` Secret holds a token that never expires.",
        "Delete the Secret and use projected, short-lived tokens (TokenRequest API).";
    "classic-pat", Nhi4, Medium, "Classic personal access token in use",
        "A classic GitHub PAT, with coarse scopes and often no expiry, has access to the organisation.",
        "Replace it with a fine-grained token or a GitHub App scoped to the repositories needed, then revoke it.";
    "plaintext-secret-in-config", Nhi2, High, "Secret stored in plain text in an agent config",
        "An MCP/agent configuration file holds a secret value in plain text (env, headers, arguments or URL).",
        "Rotate the secret, then reference it from a secret store or prompt (`${input:…}`, `${env:…}`) instead of the file.";
    "admin-equivalent", Nhi5, Critical, "Identity is administrator-equivalent",
        "Its effective permissions allow every action, or the power to grant itself any permission.",
        "Replace administrator access with a policy limited to the actions and resources it uses (CloudTrail shows which).";
    "wildcard-permissions", Nhi5, Medium, "Wildcard permissions",
        "A grant allows every action of a service, or every action, on every resource.",
        "List the specific actions and resources instead of wildcards.";
    "privilege-escalation", Nhi5, High, "Identity can escalate its privileges",
        "Its permissions allow a known path to higher privilege (PassRole with compute, policy writes, key creation, …).",
        "Remove the escalation actions, or scope them to exact resources and add a permissions boundary.";
    "broad-secrets-access", Nhi5, High, "Broad access to secrets",
        "It can read secrets (Secrets Manager, SSM parameters, KMS decrypt, Kubernetes secrets) broadly.",
        "Scope secret reads to the specific secrets it needs.";
    "k8s-cluster-admin-binding", Nhi5, Critical, "Service account bound to cluster-admin",
        "A ClusterRoleBinding gives a service account the cluster-admin role.",
        "Bind a Role with only the verbs and resources it needs, in its own namespace.";
    "default-sa-privileged", Nhi5, Medium, "Default service account has permissions",
        "Roles are bound to a namespace's `default` service account, so every pod without an explicit account gets them.",
        "Bind the permissions to a dedicated service account and leave `default` without any.";
    "oidc-trust-unrestricted", Nhi6, Critical, "CI/CD OIDC trust without a subject restriction",
        "A role trusts a CI OIDC provider (GitHub Actions, GitLab, CircleCI, …) without pinning the `sub` claim, so any repository or pipeline of that provider can assume it.",
        "Add a `StringEquals` (or narrow `StringLike`) condition on the provider's `:sub` claim naming the exact repository and branch or environment.";
    "access-key-old", Nhi7, Medium, "Access key not rotated",
        "An active access key is older than the rotation threshold.",
        "Rotate the key (create a new one, deploy it, deactivate and delete the old one) or move to short-lived role credentials.";
    "two-active-keys", Nhi7, Medium, "Two active access keys",
        "The user has two active access keys: one is usually a forgotten leftover of a rotation.",
        "Deactivate and delete the key that is not in use.";
    "token-no-expiry", Nhi7, Medium, "Token never expires",
        "A token has no expiry date, so a leak stays useful forever.",
        "Reissue the token with an expiry (90 days or less) and rotate it on schedule.";
    "secret-not-rotated", Nhi7, Low, "Stored secret not rotated",
        "A stored secret (CI secret, deploy key) has not changed for longer than the rotation threshold.",
        "Rotate the secret at its source and update it where it is stored.";
    "cross-environment-trust", Nhi8, High, "Trust crosses production and non-production",
        "A non-production identity or account can act as this production identity (or the reverse).",
        "Give each environment its own identities; remove trust from non-production into production.";
    "credential-reused", Nhi9, High, "Same credential used by several identities",
        "The same secret (by fingerprint) is configured for more than one identity or workload.",
        "Issue a separate credential to each workload, then rotate the shared one.";
    "machine-password-used", Nhi10, High, "Machine identity used interactively",
        "A machine user's console password has been used: a person is signing in as the machine identity.",
        "Find who signs in as it, give them their own access, and delete the machine user's login profile.";
}

pub fn info(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

pub(crate) struct Context<'a> {
    pub index: &'a InventoryIndex<'a>,
    pub config: &'a PostureConfig,
    pub now: Timestamp,
    pub privileges: &'a HashMap<String, Arc<PrivilegeSummary>>,
    pub our_accounts: HashSet<String>,
    pub account_environment: HashMap<String, Environment>,
    pub fingerprint_holders: HashMap<&'a str, Vec<&'a str>>,
    pub directory_loaded: bool,
}

/// Collects findings, applying rule enable/disable and severity overrides.
pub(crate) struct Emitter<'a> {
    config: &'a PostureConfig,
    pub findings: Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub fn new(config: &'a PostureConfig) -> Self {
        Emitter {
            config,
            findings: Vec::new(),
        }
    }

    fn emit(
        &mut self,
        rule: &str,
        identity: &Identity,
        discriminator: &str,
        severity: Option<Severity>,
        evidence: Vec<String>,
    ) {
        if self.config.disabled_rules.iter().any(|r| r == rule) {
            return;
        }
        let Some(info) = info(rule) else { return };
        let severity = self
            .config
            .severity
            .get(rule)
            .copied()
            .or(severity)
            .unwrap_or(info.default_severity);
        self.findings.push(Finding::new(
            rule,
            info.title,
            info.owasp,
            severity,
            &identity.id,
            discriminator,
            evidence,
            info.remediation,
            FindingSource::Posture,
        ));
    }
}

fn days(from: Timestamp, to: Timestamp) -> i64 {
    (to - from).num_days()
}

fn date(t: Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Whether the provider reports use for this kind, so "never used" is a fact, not a gap.
fn usage_tracked(identity: &Identity) -> bool {
    match identity.kind {
        IdentityKind::AwsRole => true,
        IdentityKind::AwsUser => identity.login.is_some() || identity.last_used.is_some(),
        IdentityKind::GitHubPat | IdentityKind::GitHubDeployKey => true,
        _ => identity.last_used.is_some(),
    }
}

/// Identities AWS creates and manages itself, out of the customer's hands.
fn provider_managed(identity: &Identity) -> bool {
    identity
        .attributes
        .get(attribute::SERVICE_LINKED)
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The identity's derived status: dormant when unused for `dormant_days`.
pub(crate) fn derived_status(
    identity: &Identity,
    config: &PostureConfig,
    now: Timestamp,
) -> IdentityStatus {
    if identity.status != IdentityStatus::Active || !usage_tracked(identity) {
        return identity.status;
    }
    let reference = identity.last_used.or(identity.created);
    match reference {
        Some(t) if days(t, now) > config.dormant_days => IdentityStatus::Dormant,
        _ => identity.status,
    }
}

pub(crate) fn evaluate(identity: &Identity, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let config = ctx.config;
    let now = ctx.now;
    let inactive = matches!(
        identity.status,
        IdentityStatus::Disabled | IdentityStatus::Decommissioned
    );
    let credentials = ctx
        .index
        .credentials_by_identity
        .get(identity.id.as_str())
        .cloned()
        .unwrap_or_default();
    let active_credentials: Vec<_> = credentials.iter().filter(|c| c.active).collect();
    let privilege = ctx
        .privileges
        .get(&identity.id)
        .cloned()
        .unwrap_or_default();
    let is_human = identity.actor == ActorKind::Human;
    let grace =
        |t: Option<Timestamp>| t.is_some_and(|t| days(t, now) < config.new_identity_grace_days);

    if inactive {
        if !active_credentials.is_empty() {
            let ids: Vec<String> = active_credentials
                .iter()
                .map(|c| c.preview.clone().unwrap_or_else(|| c.id.clone()))
                .collect();
            out.emit(
                "disabled-with-active-credentials",
                identity,
                "",
                None,
                vec![
                    format!("The identity is {}.", identity.status),
                    format!("Active credentials: {}.", ids.join(", ")),
                ],
            );
        }
        return;
    }

    // NHI1: ownership.
    let exempt_from_ownership = is_human
        || provider_managed(identity)
        || identity.kind == IdentityKind::GitHubActions
        || (identity
            .attributes
            .contains_key(attribute::DEFAULT_SERVICE_ACCOUNT)
            && !ctx
                .index
                .attachments_by_identity
                .contains_key(identity.id.as_str()));
    if !exempt_from_ownership {
        if identity.owners.is_empty() {
            out.emit(
                "no-owner",
                identity,
                "",
                None,
                vec![format!(
                    "{} {} has no owner tag, label, annotation or directory record.",
                    identity.kind, identity.name
                )],
            );
        } else {
            let mut people = 0;
            let mut shared = Vec::new();
            let mut suspended = Vec::new();
            let mut deprovisioned = Vec::new();
            let mut unknown = Vec::new();
            for owner in &identity.owners {
                let record = ctx.index.owner(&owner.id);
                let is_mailbox = record.is_some_and(|r| r.kind == OwnerKind::SharedMailbox)
                    || config.is_shared_mailbox(&owner.id);
                if is_mailbox {
                    shared.push(owner.id.clone());
                    continue;
                }
                match record.map(|r| r.status) {
                    Some(OwnerStatus::Suspended) => suspended.push(owner.id.clone()),
                    Some(OwnerStatus::Deprovisioned) => deprovisioned.push(owner.id.clone()),
                    Some(_) => people += 1,
                    None if ctx.directory_loaded && owner.id.contains('@') => {
                        unknown.push(owner.id.clone())
                    }
                    // Team handles and unresolved names still count as an owner.
                    None => people += 1,
                }
            }
            if people == 0 {
                if !deprovisioned.is_empty() {
                    out.emit(
                        "owner-deprovisioned",
                        identity,
                        "",
                        None,
                        vec![format!(
                            "Owner {} is deprovisioned in the directory.",
                            deprovisioned.join(", ")
                        )],
                    );
                } else if !suspended.is_empty() {
                    out.emit(
                        "owner-suspended",
                        identity,
                        "",
                        None,
                        vec![format!(
                            "Owner {} is suspended in the directory.",
                            suspended.join(", ")
                        )],
                    );
                } else if !shared.is_empty() {
                    out.emit(
                        "owner-shared-mailbox",
                        identity,
                        "",
                        None,
                        vec![format!(
                            "The only owner is the shared mailbox {}.",
                            shared.join(", ")
                        )],
                    );
                }
            }
            if !unknown.is_empty() {
                out.emit(
                    "owner-unknown",
                    identity,
                    "",
                    None,
                    vec![format!(
                        "Owner {} is not in the imported directory.",
                        unknown.join(", ")
                    )],
                );
            }
        }
    }

    // NHI1: unused identity and credentials.
    if usage_tracked(identity)
        && !is_human
        && !provider_managed(identity)
        && !grace(identity.created)
    {
        match identity.last_used {
            Some(last) if days(last, now) > config.unused_days => out.emit(
                "identity-unused",
                identity,
                "",
                None,
                vec![format!(
                    "Last used {} ({} days before {}).",
                    date(last),
                    days(last, now),
                    date(now)
                )],
            ),
            None if identity
                .created
                .is_some_and(|c| days(c, now) > config.unused_days) =>
            {
                let created = identity.created.map(date).unwrap_or_default();
                out.emit(
                    "identity-unused",
                    identity,
                    "",
                    None,
                    vec![format!("Never used since it was created on {created}.")],
                );
            }
            _ => {}
        }
    }
    for credential in &active_credentials {
        if !matches!(
            credential.kind,
            CredentialKind::AccessKey
                | CredentialKind::FineGrainedToken
                | CredentialKind::PersonalAccessToken
                | CredentialKind::DeployKey
        ) {
            continue;
        }
        if grace(credential.created) {
            continue;
        }
        let label = credential
            .preview
            .clone()
            .unwrap_or_else(|| credential.id.clone());
        match credential.last_used {
            Some(last) if days(last, now) > config.unused_days => out.emit(
                "credential-unused",
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} {label} last used {} ({} days ago).",
                    credential.kind,
                    date(last),
                    days(last, now)
                )],
            ),
            None if credential.created.is_some() => out.emit(
                "credential-unused",
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} {label} has never been used since {}.",
                    credential.kind,
                    credential.created.map(date).unwrap_or_default()
                )],
            ),
            _ => {}
        }
    }

    // NHI3, NHI6, NHI8: trust into this identity.
    for edge in ctx
        .index
        .trust_into
        .get(identity.id.as_str())
        .into_iter()
        .flatten()
    {
        let conditions = edge
            .conditions
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default();
        match edge.from_kind {
            PrincipalKind::Anyone => {
                let restricted = conditions.contains("aws:PrincipalOrgID")
                    || conditions.contains("aws:PrincipalAccount")
                    || conditions.contains("aws:SourceAccount");
                out.emit(
                    "trust-anyone",
                    identity,
                    &edge.from,
                    restricted.then_some(Severity::Medium),
                    vec![format!(
                        "The trust policy allows principal `*`{}.",
                        if restricted {
                            format!(" (limited by conditions {conditions})")
                        } else {
                            " with no restricting condition".to_string()
                        }
                    )],
                );
            }
            PrincipalKind::Account | PrincipalKind::Identity => {
                let account = if edge.from_kind == PrincipalKind::Account {
                    Some(edge.from.clone())
                } else {
                    edge.from.split(':').nth(4).map(str::to_string)
                };
                if let Some(account) =
                    account.filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()))
                    && !ctx.our_accounts.contains(&account)
                    && !config.trusted_accounts.contains(&account)
                {
                    {
                        let external_id = conditions.contains("sts:ExternalId");
                        out.emit("trust-external-account", identity, &edge.from, external_id.then_some(Severity::Medium), vec![
                            format!("Account {account} is not one of the organisation's accounts and can assume this role (principal {}).", edge.from),
                            if external_id { "The trust requires an sts:ExternalId.".to_string() } else { "No sts:ExternalId condition protects it against the confused-deputy problem.".to_string() },
                        ]);
                    }
                }
                // NHI8: environments on both ends.
                let from_env = match edge.from_kind {
                    PrincipalKind::Account => ctx.account_environment.get(&edge.from).copied(),
                    _ => ctx
                        .index
                        .identity_by_id
                        .get(edge.from.as_str())
                        .map(|i| i.environment),
                };
                if let Some(from_env) = from_env {
                    let crosses = (from_env.is_production()
                        && matches!(
                            identity.environment,
                            Environment::Development | Environment::Test | Environment::Staging
                        ))
                        || (identity.environment.is_production()
                            && matches!(
                                from_env,
                                Environment::Development | Environment::Test | Environment::Staging
                            ));
                    if crosses {
                        out.emit(
                            "cross-environment-trust",
                            identity,
                            &edge.from,
                            None,
                            vec![format!(
                                "{} ({from_env}) can assume {} ({}).",
                                edge.from, identity.name, identity.environment
                            )],
                        );
                    }
                }
            }
            PrincipalKind::Federated => {
                const CI_PROVIDERS: &[&str] = &[
                    "token.actions.githubusercontent.com",
                    "gitlab.com",
                    "oidc.circleci.com",
                    "app.terraform.io",
                    "bitbucket.org",
                    "api.bitbucket.org",
                    "vstoken.dev.azure.com",
                ];
                let host = edge
                    .from
                    .rsplit("oidc-provider/")
                    .next()
                    .unwrap_or(&edge.from);
                if CI_PROVIDERS.iter().any(|p| host.starts_with(p)) {
                    let sub_values = subject_conditions(edge.conditions.as_ref());
                    let unrestricted = sub_values.is_empty()
                        || sub_values.iter().any(|v| {
                            v == "*"
                                || v.ends_with(":*")
                                || v.ends_with("/*") && v.matches('/').count() <= 1
                                || v == "repo:*"
                        });
                    if unrestricted {
                        let evidence = if sub_values.is_empty() {
                            format!(
                                "Trust to {host} has no condition on the `sub` claim (conditions: {}).",
                                if conditions.is_empty() {
                                    "none".to_string()
                                } else {
                                    conditions.clone()
                                }
                            )
                        } else {
                            format!(
                                "Trust to {host} allows any subject matching {}.",
                                sub_values.join(", ")
                            )
                        };
                        out.emit(
                            "oidc-trust-unrestricted",
                            identity,
                            &edge.from,
                            (!sub_values.is_empty()).then_some(Severity::High),
                            vec![evidence],
                        );
                    }
                }
            }
            PrincipalKind::Service => {}
        }
    }

    // NHI3: third-party apps.
    if identity.kind == IdentityKind::GitHubApp
        && identity
            .attributes
            .get(attribute::THIRD_PARTY)
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
        && !config
            .trusted_github_apps
            .iter()
            .any(|a| a == &identity.name)
    {
        let broad: Vec<String> = privilege
            .grants
            .iter()
            .flat_map(|g| g.actions.iter())
            .filter(|a| a.ends_with(":write") || a.ends_with(":admin"))
            .cloned()
            .collect();
        let all_repos = privilege
            .grants
            .iter()
            .any(|g| g.resources.iter().any(|r| r == "*"));
        let dangerous = broad.iter().any(|a| {
            [
                "administration",
                "members",
                "secrets",
                "workflows",
                "organization_administration",
            ]
            .iter()
            .any(|p| a.starts_with(p))
        });
        if dangerous || (all_repos && broad.len() >= 2) {
            out.emit(
                "third-party-app-broad",
                identity,
                "",
                None,
                vec![
                    format!(
                        "Third-party app {} holds {}.",
                        identity.name,
                        broad.join(", ")
                    ),
                    format!(
                        "Installed on {}.",
                        if all_repos {
                            "every repository"
                        } else {
                            "selected repositories"
                        }
                    ),
                ],
            );
        }
    }

    // NHI4 / NHI10: interactive sign-in on machine identities.
    if let Some(login) = &identity.login {
        let machine = identity.actor == ActorKind::Machine;
        if login.password_enabled && machine {
            out.emit(
                "machine-console-password",
                identity,
                "",
                None,
                vec![format!(
                    "{} is a machine user with a console password.",
                    identity.name
                )],
            );
        }
        if login.password_enabled
            && !login.mfa_active
            && !is_human
            && !identity.attributes.contains_key(attribute::ROOT)
        {
            out.emit(
                "password-without-mfa",
                identity,
                "",
                None,
                vec![format!(
                    "{} has a console password and no MFA device.",
                    identity.name
                )],
            );
        }
        if machine && let Some(used) = login.password_last_used {
            out.emit(
                "machine-password-used",
                identity,
                "",
                (days(used, now) > config.unused_days).then_some(Severity::Medium),
                vec![format!(
                    "The console password of machine user {} was last used on {}.",
                    identity.name,
                    date(used)
                )],
            );
        }
    }
    for credential in &active_credentials {
        let attr = |k: &str| {
            credential
                .attributes
                .get(k)
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        };
        let label = credential
            .preview
            .clone()
            .unwrap_or_else(|| credential.id.clone());
        if credential.kind == CredentialKind::ServiceAccountToken && attr(attribute::LEGACY) {
            out.emit(
                "legacy-sa-token",
                identity,
                &credential.id,
                None,
                vec![format!(
                    "Secret {} holds a non-expiring token for {}.",
                    credential.storage.as_deref().unwrap_or("?"),
                    identity.name
                )],
            );
        }
        if credential.kind == CredentialKind::PersonalAccessToken && attr(attribute::CLASSIC) {
            let scopes = credential
                .attributes
                .get(attribute::SCOPES)
                .map(|s| s.to_string())
                .unwrap_or_default();
            out.emit(
                "classic-pat",
                identity,
                &credential.id,
                None,
                vec![format!("Classic PAT {label} with scopes {scopes}.")],
            );
        }
        if attr(attribute::PLAINTEXT) {
            out.emit(
                "plaintext-secret-in-config",
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} ({label}) is written in plain text at {}.",
                    credential
                        .attributes
                        .get(attribute::CONFIG_KEY)
                        .and_then(|k| k.as_str())
                        .unwrap_or("a secret"),
                    credential
                        .storage
                        .as_deref()
                        .unwrap_or("?")
                        .trim_start_matches(warrant_core::PLAINTEXT_STORAGE_PREFIX)
                )],
            );
        }
    }

    // NHI5: privilege.
    if privilege.admin_equivalent {
        let severity = if identity.environment.is_production()
            || identity.environment == Environment::Unknown
        {
            None
        } else {
            Some(Severity::High)
        };
        out.emit(
            "admin-equivalent",
            identity,
            "",
            severity,
            privilege.admin_evidence.clone(),
        );
    } else {
        if !privilege.wildcard_evidence.is_empty() {
            out.emit(
                "wildcard-permissions",
                identity,
                "",
                None,
                privilege
                    .wildcard_evidence
                    .iter()
                    .take(5)
                    .cloned()
                    .collect(),
            );
        }
        if !privilege.escalations.is_empty() {
            out.emit(
                "privilege-escalation",
                identity,
                "",
                None,
                privilege
                    .escalations
                    .iter()
                    .take(6)
                    .map(|e| {
                        format!(
                            "{} ({}): {}",
                            e.technique,
                            e.actions.join(" + "),
                            e.explanation
                        )
                    })
                    .collect(),
            );
        }
    }
    // Reading secrets on named resources is the least-privilege way to read them; only reach
    // over every secret (every resource, a whole namespace, every repository) is a finding.
    let broad_secrets: Vec<String> = privilege
        .secrets_evidence
        .iter()
        .filter(|e| !e.ends_with("allowed on some resources."))
        .cloned()
        .collect();
    if !broad_secrets.is_empty() && !privilege.admin_equivalent {
        let everywhere = broad_secrets
            .iter()
            .any(|e| e.contains("every resource") || e.contains("every namespace"));
        out.emit(
            "broad-secrets-access",
            identity,
            "",
            (!everywhere).then_some(Severity::Medium),
            broad_secrets,
        );
    }
    if identity.kind == IdentityKind::K8sServiceAccount {
        for (attachment, policy) in ctx.index.policies_of(&identity.id) {
            if policy.name == "cluster-admin" && attachment.scope.is_none() {
                out.emit(
                    "k8s-cluster-admin-binding",
                    identity,
                    &policy.id,
                    None,
                    vec![format!(
                        "{} binds cluster-admin to {}.",
                        attachment.via.as_deref().unwrap_or("a binding"),
                        identity.id
                    )],
                );
            }
        }
        if identity
            .attributes
            .contains_key(attribute::DEFAULT_SERVICE_ACCOUNT)
            && ctx
                .index
                .attachments_by_identity
                .contains_key(identity.id.as_str())
        {
            let roles: Vec<String> = ctx
                .index
                .policies_of(&identity.id)
                .iter()
                .map(|(_, p)| p.name.clone())
                .collect();
            out.emit(
                "default-sa-privileged",
                identity,
                "",
                None,
                vec![format!(
                    "The default service account holds {}.",
                    roles.join(", ")
                )],
            );
        }
    }

    // NHI7: age and rotation.
    let active_keys: Vec<_> = active_credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::AccessKey)
        .collect();
    for key in &active_keys {
        if let Some(created) = key.last_rotated.or(key.created) {
            let age = days(created, now);
            if age > config.key_max_age_days {
                let severity = (age > config.key_max_age_days * 4).then_some(Severity::High);
                out.emit(
                    "access-key-old",
                    identity,
                    &key.id,
                    severity,
                    vec![format!(
                        "Access key {} was created on {} ({age} days ago; the limit is {}).",
                        key.preview.as_deref().unwrap_or(&key.id),
                        date(created),
                        config.key_max_age_days
                    )],
                );
            }
        }
    }
    if active_keys.len() >= 2 {
        let ids: Vec<&str> = active_keys
            .iter()
            .map(|k| k.preview.as_deref().unwrap_or(&k.id))
            .collect();
        out.emit(
            "two-active-keys",
            identity,
            "",
            None,
            vec![format!("Active access keys: {}.", ids.join(", "))],
        );
    }
    for credential in &active_credentials {
        let label = credential
            .preview
            .clone()
            .unwrap_or_else(|| credential.id.clone());
        if matches!(
            credential.kind,
            CredentialKind::FineGrainedToken | CredentialKind::PersonalAccessToken
        ) && credential.expires.is_none()
        {
            out.emit(
                "token-no-expiry",
                identity,
                &credential.id,
                None,
                vec![format!("{} {label} has no expiry date.", credential.kind)],
            );
        }
        if matches!(
            credential.kind,
            CredentialKind::Secret | CredentialKind::DeployKey | CredentialKind::WebhookSecret
        ) && let Some(rotated) = credential.last_rotated.or(credential.created)
            && days(rotated, now) > config.secret_max_age_days
        {
            out.emit(
                "secret-not-rotated",
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} {label} last changed on {} ({} days ago).",
                    credential.kind,
                    date(rotated),
                    days(rotated, now)
                )],
            );
        }
    }

    // NHI9: the same secret configured for several identities.
    let mut reported = HashSet::new();
    for credential in &credentials {
        if let Some(fingerprint) = credential.fingerprint.as_deref()
            && let Some(holders) = ctx.fingerprint_holders.get(fingerprint)
            && holders.len() > 1
            && reported.insert(fingerprint)
        {
            let others: Vec<&str> = holders
                .iter()
                .copied()
                .filter(|h| *h != identity.id)
                .collect();
            out.emit(
                "credential-reused",
                identity,
                fingerprint,
                None,
                vec![format!(
                    "The secret {} ({}) is also configured for {}.",
                    credential.preview.as_deref().unwrap_or("?"),
                    fingerprint,
                    others.join(", ")
                )],
            );
        }
    }
}

/// Values of `…:sub` conditions in an AWS trust condition block.
fn subject_conditions(conditions: Option<&serde_json::Value>) -> Vec<String> {
    let mut values = Vec::new();
    let Some(serde_json::Value::Object(operators)) = conditions else {
        return values;
    };
    for keys in operators.values() {
        let serde_json::Value::Object(keys) = keys else {
            continue;
        };
        for (key, value) in keys {
            if key.ends_with(":sub") {
                match value {
                    serde_json::Value::String(s) => values.push(s.clone()),
                    serde_json::Value::Array(items) => {
                        values.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)))
                    }
                    _ => {}
                }
            }
        }
    }
    values
}
