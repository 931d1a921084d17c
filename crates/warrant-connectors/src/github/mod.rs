//! GitHub organisation: REST API responses saved one file per endpoint, named after the endpoint
//! either flat (`orgs_ORG_installations.json`, `repos_OWNER_REPO_keys.json`) or nested
//! (`orgs/ORG/installations.json`). GitHub user and organisation names cannot contain `_`, which
//! makes the flat form unambiguous.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use warrant_core::attribute;
use warrant_core::{
    Credential, CredentialKind, Effect, Environment, Identity, IdentityKind, Inventory, OwnerRef,
    Policy, PolicyKind, Provenance, Provider, Statement,
};

use crate::common::parse_date;
use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "github";

/// The prefix of a classic personal access token, the one kind of token whose last eight
/// characters the credential-authorizations API lists.
pub const CLASSIC_TOKEN_PREFIX: &str = "ghp_";

/// Which REST endpoint a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Installations { org: String },
    FineGrainedTokens { org: String },
    CredentialAuthorizations { org: String },
    DeployKeys { owner: String, repo: String },
    ActionsSecrets { org: String, repo: Option<String> },
    Hooks { org: String, repo: Option<String> },
}

/// GitHub App slugs published by GitHub itself; any other app is third-party.
const FIRST_PARTY_APPS: &[&str] = &[
    "github-actions",
    "dependabot",
    "github-advanced-security",
    "copilot",
    "github-pages",
];

/// Recognises an endpoint file by its path.
pub fn endpoint(path: &Path) -> Option<Endpoint> {
    let stem = path.file_stem()?.to_string_lossy().to_string();
    // Nested layout: …/orgs/ORG/…/installations.json → rebuild the flat name from the last parts.
    let parts: Vec<String> = path
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    let flat = match parts.iter().rposition(|p| p == "orgs" || p == "repos") {
        Some(at) if !stem.starts_with("orgs_") && !stem.starts_with("repos_") => {
            let mut segments: Vec<String> = parts
                .get(at..parts.len().saturating_sub(1))
                .unwrap_or_default()
                .to_vec();
            segments.push(stem.clone());
            segments.join("_")
        }
        _ => stem,
    };
    let (kind, rest) = flat.split_once('_')?;
    let suffixes = [
        ("_installations", 0),
        ("_personal-access-tokens", 1),
        ("_credential-authorizations", 2),
        ("_keys", 3),
        ("_actions_secrets", 4),
        ("_hooks", 5),
    ];
    let (middle, which) = suffixes
        .iter()
        .find_map(|(suffix, which)| rest.strip_suffix(suffix).map(|m| (m, *which)))?;
    match (kind, which) {
        ("orgs", 0) => Some(Endpoint::Installations {
            org: middle.to_string(),
        }),
        ("orgs", 1) => Some(Endpoint::FineGrainedTokens {
            org: middle.to_string(),
        }),
        ("orgs", 2) => Some(Endpoint::CredentialAuthorizations {
            org: middle.to_string(),
        }),
        ("orgs", 4) => Some(Endpoint::ActionsSecrets {
            org: middle.to_string(),
            repo: None,
        }),
        ("orgs", 5) => Some(Endpoint::Hooks {
            org: middle.to_string(),
            repo: None,
        }),
        ("repos", w) => {
            let (owner, repo) = middle.split_once('_')?;
            match w {
                3 => Some(Endpoint::DeployKeys {
                    owner: owner.into(),
                    repo: repo.into(),
                }),
                4 => Some(Endpoint::ActionsSecrets {
                    org: owner.into(),
                    repo: Some(repo.into()),
                }),
                5 => Some(Endpoint::Hooks {
                    org: owner.into(),
                    repo: Some(repo.into()),
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

#[derive(Deserialize)]
struct Installations {
    installations: Vec<Installation>,
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
    #[serde(default)]
    app_id: Option<u64>,
    app_slug: String,
    #[serde(default)]
    account: Option<Account>,
    #[serde(default)]
    target_type: Option<String>,
    #[serde(default)]
    permissions: Map<String, Value>,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    repository_selection: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    suspended_at: Option<String>,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct FineGrainedToken {
    id: u64,
    owner: Account,
    #[serde(default)]
    repository_selection: Option<String>,
    #[serde(default)]
    permissions: Map<String, Value>,
    #[serde(default)]
    access_granted_at: Option<String>,
    #[serde(default)]
    token_expired: bool,
    #[serde(default)]
    token_expires_at: Option<String>,
    #[serde(default)]
    token_last_used_at: Option<String>,
    #[serde(default)]
    token_name: Option<String>,
}

#[derive(Deserialize)]
struct CredentialAuthorization {
    login: String,
    credential_id: u64,
    credential_type: String,
    #[serde(default)]
    token_last_eight: Option<String>,
    #[serde(default)]
    credential_authorized_at: Option<String>,
    #[serde(default)]
    credential_accessed_at: Option<String>,
    #[serde(default)]
    authorized_credential_expires_at: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    authorized_credential_title: Option<String>,
}

#[derive(Deserialize)]
struct DeployKey {
    id: u64,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    last_used: Option<String>,
    #[serde(default)]
    added_by: Option<String>,
}

#[derive(Deserialize)]
struct Secrets {
    secrets: Vec<SecretMeta>,
}

#[derive(Deserialize)]
struct SecretMeta {
    name: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
}

#[derive(Deserialize)]
struct Hook {
    id: u64,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    config: Map<String, Value>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

/// `{"contents":"write"}` (possibly nested one level: fine-grained tokens group them under
/// `repository` / `organization`) → `contents:write` actions.
fn permission_actions(permissions: &Map<String, Value>) -> Vec<String> {
    let mut actions = Vec::new();
    for (name, level) in permissions {
        match level {
            Value::String(level) => actions.push(format!("{name}:{level}")),
            Value::Object(inner) => actions.extend(permission_actions(inner)),
            _ => {}
        }
    }
    actions.sort();
    actions
}

fn permissions_policy(
    id: &str,
    name: &str,
    actions: Vec<String>,
    resources: Vec<String>,
    provenance: &Provenance,
) -> Policy {
    Policy {
        id: format!("{id}#permissions"),
        name: name.to_string(),
        provider: Provider::GitHub,
        kind: PolicyKind::GitHubPermissions,
        statements: vec![Statement {
            sid: None,
            effect: Effect::Allow,
            actions,
            not_actions: vec![],
            resources,
            not_resources: vec![],
            conditions: None,
        }],
        provenance: provenance.clone(),
    }
}

fn attach(inventory: &mut Inventory, identity: &str, policy: Policy) {
    inventory.attachments.push(warrant_core::Attachment {
        identity: identity.to_string(),
        policy: policy.id.clone(),
        via: None,
        scope: None,
    });
    inventory.policies.push(policy);
}

fn github_identity(
    id: String,
    kind: IdentityKind,
    name: String,
    org: &str,
    provenance: &Provenance,
) -> Identity {
    let mut identity = Identity::new(id, kind, Provider::GitHub, name);
    identity.account = Some(org.to_string());
    identity.environment = Environment::Production;
    identity.provenance = provenance.clone();
    identity
}

pub fn parse(
    origin: &Path,
    bytes: &[u8],
    ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let Some(endpoint) = endpoint(origin) else {
        return Err(ConnectorError::file(
            origin,
            "not named after a supported GitHub REST endpoint",
        ));
    };
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let mut inventory = Inventory::default();
    match endpoint {
        Endpoint::Installations { org } => {
            let parsed: Installations = crate::common::decode_json(origin, bytes)?;
            for app in parsed.installations {
                let id = format!("github:{org}/app/{}", app.app_slug);
                let mut identity = github_identity(
                    id.clone(),
                    IdentityKind::GitHubApp,
                    app.app_slug.clone(),
                    &org,
                    &provenance,
                );
                identity.created = app.created_at.as_deref().and_then(parse_date);
                if app.suspended_at.is_some() {
                    identity.status = warrant_core::IdentityStatus::Disabled;
                }
                let third_party = !FIRST_PARTY_APPS.contains(&app.app_slug.as_str());
                identity
                    .attributes
                    .insert(attribute::THIRD_PARTY.into(), Value::Bool(third_party));
                identity
                    .attributes
                    .insert("installation_id".into(), Value::from(app.id));
                if let Some(app_id) = app.app_id {
                    identity
                        .attributes
                        .insert("app_id".into(), Value::from(app_id));
                }
                identity
                    .attributes
                    .insert("events".into(), Value::from(app.events.clone()));
                let selection = app
                    .repository_selection
                    .clone()
                    .unwrap_or_else(|| "all".into());
                identity.attributes.insert(
                    "repository_selection".into(),
                    Value::String(selection.clone()),
                );
                if let Some(target) = app.target_type.or(app.account.map(|a| a.login)) {
                    identity
                        .attributes
                        .insert("target".into(), Value::String(target));
                }
                if let Some(updated) = app.updated_at.as_deref().and_then(parse_date) {
                    identity
                        .attributes
                        .insert("updated_at".into(), Value::String(updated.to_rfc3339()));
                }
                let resources = if selection == "all" {
                    vec!["*".to_string()]
                } else {
                    vec![format!("github:{org}/selected")]
                };
                let policy = permissions_policy(
                    &id,
                    &format!("{} permissions", app.app_slug),
                    permission_actions(&app.permissions),
                    resources,
                    &provenance,
                );
                inventory.identities.push(identity);
                attach(&mut inventory, &id, policy);
            }
        }
        Endpoint::FineGrainedTokens { org } => {
            let parsed: Vec<FineGrainedToken> = crate::common::decode_json(origin, bytes)?;
            for token in parsed {
                let id = format!("github:{org}/pat/{}", token.id);
                let name = token.token_name.clone().unwrap_or_else(|| {
                    format!("{}'s fine-grained token {}", token.owner.login, token.id)
                });
                let mut identity =
                    github_identity(id.clone(), IdentityKind::GitHubPat, name, &org, &provenance);
                identity.owners = vec![OwnerRef {
                    id: token.owner.login.clone(),
                    source: "github:token-owner".into(),
                }];
                identity.created = token.access_granted_at.as_deref().and_then(parse_date);
                identity.last_used = token.token_last_used_at.as_deref().and_then(parse_date);
                identity.actor = warrant_core::ActorKind::Unknown;
                if token.token_expired {
                    identity.status = warrant_core::IdentityStatus::Disabled;
                }
                let mut credential = Credential::new(
                    format!("github:pat/{}", token.id),
                    id.clone(),
                    CredentialKind::FineGrainedToken,
                );
                credential.created = identity.created;
                credential.last_used = identity.last_used;
                credential.expires = token.token_expires_at.as_deref().and_then(parse_date);
                credential.active = !token.token_expired;
                credential.storage = Some("github".into());
                credential.provenance = provenance.clone();
                let selection = token.repository_selection.unwrap_or_else(|| "all".into());
                let resources = if selection == "all" {
                    vec!["*".to_string()]
                } else {
                    vec![format!("github:{org}/selected")]
                };
                let policy = permissions_policy(
                    &id,
                    "fine-grained token permissions",
                    permission_actions(&token.permissions),
                    resources,
                    &provenance,
                );
                inventory.identities.push(identity);
                inventory.credentials.push(credential);
                attach(&mut inventory, &id, policy);
            }
        }
        Endpoint::CredentialAuthorizations { org } => {
            let parsed: Vec<CredentialAuthorization> = crate::common::decode_json(origin, bytes)?;
            for auth in parsed {
                let classic = auth
                    .credential_type
                    .eq_ignore_ascii_case("personal access token");
                let kind = if classic {
                    CredentialKind::PersonalAccessToken
                } else if auth.credential_type.to_ascii_lowercase().contains("ssh") {
                    CredentialKind::SshKey
                } else {
                    CredentialKind::OAuthToken
                };
                let id = format!("github:{org}/credential/{}", auth.credential_id);
                let name = auth
                    .authorized_credential_title
                    .clone()
                    .unwrap_or_else(|| format!("{}'s {}", auth.login, auth.credential_type));
                let mut identity =
                    github_identity(id.clone(), IdentityKind::GitHubPat, name, &org, &provenance);
                identity.owners = vec![OwnerRef {
                    id: auth.login.clone(),
                    source: "github:credential-owner".into(),
                }];
                identity.created = auth
                    .credential_authorized_at
                    .as_deref()
                    .and_then(parse_date);
                identity.last_used = auth.credential_accessed_at.as_deref().and_then(parse_date);
                identity.actor = warrant_core::ActorKind::Unknown;
                let mut credential = Credential::new(
                    format!("github:credential/{}", auth.credential_id),
                    id.clone(),
                    kind,
                );
                credential.created = identity.created;
                credential.last_used = identity.last_used;
                credential.expires = auth
                    .authorized_credential_expires_at
                    .as_deref()
                    .and_then(parse_date);
                credential.preview = auth.token_last_eight.as_ref().map(|t| {
                    format!(
                        "…{}",
                        t.chars()
                            .rev()
                            .take(2)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect::<String>()
                    )
                });
                // A classic token's last eight characters (GitHub lists them for personal access
                // tokens only) identify it: 2 random characters and its 6-character checksum.
                // Kept as a keyed fingerprint, so the store holds no part of the token.
                if let Some(last_eight) = auth.token_last_eight.as_deref().filter(|t| {
                    classic && t.len() == 8 && t.bytes().all(|b| b.is_ascii_alphanumeric())
                }) {
                    credential.attributes.insert(
                        attribute::TOKEN_LAST_EIGHT_FINGERPRINT.into(),
                        Value::String(
                            warrant_core::fingerprint::github_token_last_eight_fingerprint(
                                &ctx.fingerprinter,
                                CLASSIC_TOKEN_PREFIX,
                                last_eight,
                            ),
                        ),
                    );
                }
                credential.storage = Some("github".into());
                credential
                    .attributes
                    .insert(attribute::CLASSIC.into(), Value::Bool(classic));
                credential
                    .attributes
                    .insert(attribute::SCOPES.into(), Value::from(auth.scopes.clone()));
                credential.provenance = provenance.clone();
                let actions = auth.scopes.iter().map(|s| format!("scope:{s}")).collect();
                let policy =
                    permissions_policy(&id, "token scopes", actions, vec!["*".into()], &provenance);
                inventory.identities.push(identity);
                inventory.credentials.push(credential);
                attach(&mut inventory, &id, policy);
            }
        }
        Endpoint::DeployKeys { owner, repo } => {
            let parsed: Vec<DeployKey> = crate::common::decode_json(origin, bytes)?;
            for key in parsed {
                let id = format!("github:{owner}/{repo}/deploy-key/{}", key.id);
                let name = key
                    .title
                    .clone()
                    .unwrap_or_else(|| format!("deploy key {}", key.id));
                let mut identity = github_identity(
                    id.clone(),
                    IdentityKind::GitHubDeployKey,
                    name,
                    &owner,
                    &provenance,
                );
                identity.namespace = Some(repo.clone());
                identity.created = key.created_at.as_deref().and_then(parse_date);
                identity.last_used = key.last_used.as_deref().and_then(parse_date);
                if let Some(added_by) = &key.added_by {
                    identity.owners = vec![OwnerRef {
                        id: added_by.clone(),
                        source: "github:added-by".into(),
                    }];
                }
                identity
                    .attributes
                    .insert("read_only".into(), Value::Bool(key.read_only));
                let mut credential = Credential::new(
                    format!("github:deploy-key/{}", key.id),
                    id.clone(),
                    CredentialKind::DeployKey,
                );
                // A public key is not secret, but fingerprinting keeps records uniform; of its
                // type and key only, so a private key found in code links through the public
                // key it holds.
                credential.fingerprint = key.key.as_deref().map(|k| {
                    warrant_core::fingerprint::public_key_fingerprint(&ctx.fingerprinter, k)
                });
                credential.created = identity.created;
                credential.last_rotated = identity.created;
                credential.last_used = identity.last_used;
                credential.storage = Some(format!("github-deploy-key:{owner}/{repo}"));
                credential.provenance = provenance.clone();
                let level = if key.read_only { "read" } else { "write" };
                let policy = permissions_policy(
                    &id,
                    "deploy key access",
                    vec![format!("contents:{level}")],
                    vec![format!("github:{owner}/{repo}")],
                    &provenance,
                );
                inventory.identities.push(identity);
                inventory.credentials.push(credential);
                attach(&mut inventory, &id, policy);
            }
        }
        Endpoint::ActionsSecrets { org, repo } => {
            let parsed: Secrets = crate::common::decode_json(origin, bytes)?;
            let scope = repo
                .clone()
                .map(|r| format!("{org}/{r}"))
                .unwrap_or_else(|| org.clone());
            let id = format!("github:{scope}/actions");
            let mut identity = github_identity(
                id.clone(),
                IdentityKind::GitHubActions,
                format!("GitHub Actions ({scope})"),
                &org,
                &provenance,
            );
            identity.namespace = repo.clone();
            for secret in &parsed.secrets {
                let mut credential = Credential::new(
                    format!("github:{scope}/actions-secret/{}", secret.name),
                    id.clone(),
                    CredentialKind::Secret,
                );
                credential.created = secret.created_at.as_deref().and_then(parse_date);
                credential.last_rotated = secret
                    .updated_at
                    .as_deref()
                    .and_then(parse_date)
                    .or(credential.created);
                credential.storage = Some(format!("github-actions-secret:{scope}/{}", secret.name));
                if let Some(visibility) = &secret.visibility {
                    credential
                        .attributes
                        .insert("visibility".into(), Value::String(visibility.clone()));
                }
                credential.provenance = provenance.clone();
                inventory.credentials.push(credential);
            }
            inventory.identities.push(identity);
        }
        Endpoint::Hooks { org, repo } => {
            let parsed: Vec<Hook> = crate::common::decode_json(origin, bytes)?;
            for hook in parsed {
                let scope = repo
                    .clone()
                    .map(|r| format!("{org}/{r}"))
                    .unwrap_or_else(|| org.clone());
                let id = format!("github:{scope}/hook/{}", hook.id);
                let url = hook
                    .config
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let host = url::Url::parse(&url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_else(|| url.clone());
                let mut identity = github_identity(
                    id.clone(),
                    IdentityKind::GitHubWebhook,
                    format!("webhook to {host}"),
                    &org,
                    &provenance,
                );
                identity.namespace = repo.clone();
                identity.created = hook.created_at.as_deref().and_then(parse_date);
                if !hook.active {
                    identity.status = warrant_core::IdentityStatus::Disabled;
                }
                let insecure = hook
                    .config
                    .get("insecure_ssl")
                    .map(|v| v == "1" || v == &Value::from(1))
                    .unwrap_or(false);
                identity
                    .attributes
                    .insert("url".into(), Value::String(crate::common::redact_uri(&url)));
                identity
                    .attributes
                    .insert("insecure_ssl".into(), Value::Bool(insecure));
                identity.attributes.insert(
                    "has_secret".into(),
                    Value::Bool(hook.config.contains_key("secret")),
                );
                identity
                    .attributes
                    .insert("events".into(), Value::from(hook.events.clone()));
                if let Some(updated) = hook.updated_at {
                    identity
                        .attributes
                        .insert("updated_at".into(), Value::String(updated));
                }
                inventory.identities.push(identity);
            }
        }
    }
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn endpoints_from_flat_and_nested_names() {
        assert_eq!(
            endpoint(Path::new("gh/orgs_acme_installations.json")),
            Some(Endpoint::Installations { org: "acme".into() })
        );
        assert_eq!(
            endpoint(Path::new("repos_acme_web_app_keys.json")),
            Some(Endpoint::DeployKeys {
                owner: "acme".into(),
                repo: "web_app".into()
            })
        );
        assert_eq!(
            endpoint(&PathBuf::from("dump/repos/acme/api/actions/secrets.json")),
            Some(Endpoint::ActionsSecrets {
                org: "acme".into(),
                repo: Some("api".into())
            })
        );
        assert_eq!(endpoint(Path::new("orgs_acme_members.json")), None);
    }

    #[test]
    fn classic_tokens_keep_a_fingerprint_of_their_last_eight_characters_only() {
        let json = r#"[
          {"login":"bot","credential_id":1,"credential_type":"personal access token","token_last_eight":"Lo1bCm9z","scopes":["repo"]},
          {"login":"bot","credential_id":2,"credential_type":"SSH key","scopes":[]},
          {"login":"bot","credential_id":3,"credential_type":"personal access token","token_last_eight":"short","scopes":[]}
        ]"#;
        let fingerprinter = warrant_core::Fingerprinter::new(b"k");
        let ctx = ImportContext::new(fingerprinter.clone());
        let inv = parse(
            Path::new("orgs_acme_credential-authorizations.json"),
            json.as_bytes(),
            &ctx,
        )
        .unwrap();
        let handle = |i: usize| {
            inv.credentials[i]
                .attributes
                .get(attribute::TOKEN_LAST_EIGHT_FINGERPRINT)
                .cloned()
        };
        assert_eq!(
            handle(0),
            Some(Value::String(
                warrant_core::fingerprint::github_token_last_eight_fingerprint(
                    &fingerprinter,
                    "ghp_",
                    "Lo1bCm9z"
                )
            ))
        );
        assert_eq!(handle(1), None, "an SSH key has no token characters");
        assert_eq!(handle(2), None, "not eight characters: not GitHub's field");
        let stored = serde_json::to_string(&inv).unwrap();
        assert!(
            !stored.contains("Lo1bCm9z") && !stored.contains("o1bCm9"),
            "{stored}"
        );
    }

    #[test]
    fn deploy_keys_are_fingerprinted_by_type_and_key_without_comment() {
        let json = r#"[{"id":5,"key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey deploy@ci","read_only":true}]"#;
        let fingerprinter = warrant_core::Fingerprinter::new(b"k");
        let ctx = ImportContext::new(fingerprinter.clone());
        let inv = parse(Path::new("repos_acme_api_keys.json"), json.as_bytes(), &ctx).unwrap();
        assert_eq!(
            inv.credentials[0].fingerprint.as_deref(),
            Some(
                fingerprinter
                    .fingerprint(b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey")
                    .as_str()
            )
        );
    }

    #[test]
    fn installations_become_apps_with_permissions() {
        let json = r#"{"total_count":1,"installations":[{"id":7,"app_id":9,"app_slug":"ci-bot","target_type":"Organization","permissions":{"contents":"write","administration":"write"},"events":["push"],"repository_selection":"all","created_at":"2024-01-01T00:00:00Z"}]}"#;
        let ctx = ImportContext::new(warrant_core::Fingerprinter::new(b"k"));
        let inv = parse(
            Path::new("orgs_acme_installations.json"),
            json.as_bytes(),
            &ctx,
        )
        .unwrap();
        assert_eq!(inv.identities[0].id, "github:acme/app/ci-bot");
        assert_eq!(
            inv.identities[0].attributes.get(attribute::THIRD_PARTY),
            Some(&Value::Bool(true))
        );
        assert_eq!(
            inv.policies[0].statements[0].actions,
            ["administration:write", "contents:write"]
        );
        assert_eq!(inv.policies[0].statements[0].resources, ["*"]);
    }
}
