//! NHI3, NHI6 and NHI8: who can assume the identity, and third-party apps.

use warrant_core::attribute;
use warrant_core::{Environment, IdentityKind, PrincipalKind, RuleId, Severity};

use super::{Context, Emitter, Subject};

/// Trust into this identity: anyone, outside accounts, CI OIDC providers, other environments (NHI3, NHI6, NHI8).
pub(super) fn trust_into(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let config = ctx.config;
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
                    RuleId::TrustAnyone,
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
                        out.emit(RuleId::TrustExternalAccount, identity, &edge.from, external_id.then_some(Severity::Medium), vec![
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
                            RuleId::CrossEnvironmentTrust,
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
                            RuleId::OidcTrustUnrestricted,
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
}

/// Third-party apps with broad access (NHI3).
pub(super) fn third_party_apps(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let config = ctx.config;
    let privilege = &subject.privilege;
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
                RuleId::ThirdPartyAppBroad,
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
}

/// Values of `…:sub` conditions in an AWS trust condition block (the subjects an OIDC trust
/// admits).
pub(crate) fn subject_conditions(conditions: Option<&serde_json::Value>) -> Vec<String> {
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
