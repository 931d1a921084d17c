//! MCP (Model Context Protocol) client configs: Claude Desktop's `claude_desktop_config.json`,
//! Cursor's `.cursor/mcp.json`, VS Code's `.vscode/mcp.json` (JSONC, `servers` and `inputs`) and
//! plain `mcp.json`. Each server an agent can call is an identity; every secret its config holds
//! is a credential, fingerprinted and flagged when written in plain text.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use warrant_core::{
    ActorKind, Credential, CredentialKind, Environment, Identity, IdentityKind, Inventory,
    OwnerRef, Provenance, Provider, SourceScope,
};
use warrant_core::{PLAINTEXT_STORAGE_PREFIX, attribute};

use crate::common::{looks_secret, redact_uri, uri_password};
use crate::error::Location;
use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "mcp";

/// Removes `//` and `/* */` comments and trailing commas, as VS Code's JSONC allows.
pub fn strip_jsonc(bytes: &[u8]) -> Vec<u8> {
    let mut without_comments = Vec::with_capacity(bytes.len());
    let mut stripped = json_comments::StripComments::new(bytes);
    // Stripping only removes bytes: the output is never longer than the input.
    if warrant_input::read_into(&mut stripped, bytes.len() as u64, &mut without_comments).is_err() {
        return bytes.to_vec();
    }
    // Trailing commas: a comma followed (after whitespace) by `}` or `]`, outside strings.
    let mut out = Vec::with_capacity(without_comments.len());
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in without_comments.iter().enumerate() {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        if b == b',' {
            let next = without_comments
                .get(i + 1..)
                .unwrap_or_default()
                .iter()
                .find(|c| !c.is_ascii_whitespace());
            if matches!(next, Some(b'}') | Some(b']')) {
                continue;
            }
        }
        out.push(b);
    }
    out
}

/// Whether a parsed JSON document looks like an MCP client config.
pub fn is_mcp_config(value: &Value) -> bool {
    let servers = value.get("mcpServers").or_else(|| value.get("servers"));
    matches!(servers, Some(Value::Object(map)) if map.values().all(|s| s.is_object()))
        && (value.get("mcpServers").is_some()
            || value.get("inputs").is_some()
            || servers.and_then(Value::as_object).is_some_and(|m| {
                m.values()
                    .any(|s| s.get("command").is_some() || s.get("url").is_some())
            }))
}

/// `${input:ID}`, `${env:NAME}`, `${NAME}`: a reference to a secret kept elsewhere.
fn reference(value: &str) -> Option<String> {
    let inner = value.trim().strip_prefix("${")?.strip_suffix('}')?;
    Some(match inner.split_once(':') {
        Some(("input", id)) => format!("input:{id}"),
        Some(("env", name)) => format!("env:{name}"),
        _ => format!("env:{inner}"),
    })
}

fn credential_kind(key: &str, value: &str) -> CredentialKind {
    if uri_password(value).is_some() {
        CredentialKind::ConnectionString
    } else if key.to_ascii_lowercase().contains("password") {
        CredentialKind::Secret
    } else if value.starts_with("ghp_") || value.starts_with("github_pat_") {
        CredentialKind::PersonalAccessToken
    } else {
        CredentialKind::ApiKey
    }
}

/// The person a config belongs to when its path says so (`…/alice@acme.com/.cursor/mcp.json`).
fn owner_from_path(origin: &Path) -> Option<String> {
    origin
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .find(|p| is_owner_component(p))
}

/// A directory named after the person whose config it holds (`alice@example.com`).
fn is_owner_component(part: &str) -> bool {
    part.contains('@') && part.contains('.') && !part.starts_with('@')
}

/// Where a config lives, the same whatever directory warrant ran in or how the path was typed:
/// from its owner's directory down (`alice@example.com/.cursor/mcp.json`) when the path names
/// an owner, else the file's absolute path with links resolved. Identity ids are built on it,
/// so importing the same configs from elsewhere updates the same identities.
fn normalised_location(origin: &Path) -> String {
    let parts: Vec<String> = origin
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(at) = parts.iter().position(|p| is_owner_component(p)) {
        return parts.iter().skip(at).cloned().collect::<Vec<_>>().join("/");
    }
    std::fs::canonicalize(origin)
        .or_else(|_| std::path::absolute(origin))
        .unwrap_or_else(|_| origin.to_path_buf())
        .display()
        .to_string()
}

/// The package a stdio server runs: `npx -y @scope/pkg`, `uvx pkg`, `docker run … image`.
fn package(command: &str, args: &[String]) -> Option<String> {
    let base = Path::new(command)
        .file_name()?
        .to_string_lossy()
        .to_string();
    match base.as_str() {
        "npx" | "uvx" | "pipx" | "bunx" | "pnpx" => {
            args.iter().find(|a| !a.starts_with('-')).cloned()
        }
        "docker" | "podman" => args
            .iter()
            .rev()
            .find(|a| !a.starts_with('-') && a.contains(['/', ':']))
            .cloned(),
        _ => Some(base),
    }
}

struct Found {
    key: String,
    value: String,
    place: String,
}

pub fn parse(
    origin: &Path,
    bytes: &[u8],
    ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let cleaned = strip_jsonc(bytes);
    let value: Value = crate::common::decode_json(origin, &cleaned)?;
    let (servers_key, servers) = match (value.get("mcpServers"), value.get("servers")) {
        (Some(Value::Object(map)), _) => ("mcpServers", map),
        (_, Some(Value::Object(map))) => ("servers", map),
        _ => {
            return Err(ConnectorError::new(
                origin,
                Location::JsonPath("$".into()),
                "no `mcpServers` or `servers` object",
            ));
        }
    };
    let secret_inputs: BTreeMap<String, bool> = value
        .get("inputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            Some((
                i.get("id")?.as_str()?.to_string(),
                i.get("password").and_then(Value::as_bool).unwrap_or(false),
            ))
        })
        .collect();
    let location = normalised_location(origin);
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(location.clone()),
    };
    let owner = owner_from_path(origin);
    let mut inventory = Inventory::default();
    for (name, server) in servers {
        let path = format!("$.{servers_key}.{name}");
        let Value::Object(server) = server else {
            return Err(ConnectorError::new(
                origin,
                Location::JsonPath(path),
                "expected an object",
            ));
        };
        let id = format!("mcp:{location}#{name}");
        let mut identity = Identity::new(
            id.clone(),
            IdentityKind::McpServer,
            Provider::Mcp,
            name.clone(),
        );
        identity.account = Some(location.clone());
        identity.environment = Environment::Development;
        identity.actor = ActorKind::Machine;
        identity.provenance = provenance.clone();
        if let Some(owner) = &owner {
            identity.owners.push(OwnerRef {
                id: owner.clone(),
                source: "path".into(),
            });
        }
        let command = server
            .get("command")
            .and_then(Value::as_str)
            .map(str::to_string);
        let args: Vec<String> = match server.get("args") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
            Some(other) if !other.is_null() => {
                return Err(ConnectorError::new(
                    origin,
                    Location::JsonPath(format!("{path}.args")),
                    "expected an array of strings",
                ));
            }
            _ => Vec::new(),
        };
        let url = server
            .get("url")
            .or_else(|| server.get("serverUrl"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let transport = server
            .get("type")
            .or_else(|| server.get("transport"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                if url.is_some() {
                    "http".into()
                } else {
                    "stdio".into()
                }
            });
        identity
            .attributes
            .insert("transport".into(), Value::String(transport));
        let mut found: Vec<Found> = Vec::new();
        if let Some(command) = &command {
            identity
                .attributes
                .insert("command".into(), Value::String(command.clone()));
            if let Some(pkg) = package(command, &args) {
                identity
                    .attributes
                    .insert(attribute::PACKAGE.into(), Value::String(pkg));
            }
        }
        let mut shown_args = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            let (flag, value) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with('-') => {
                    (flag.to_string(), value.to_string())
                }
                _ => (
                    args.get(i.wrapping_sub(1))
                        .filter(|p| p.starts_with('-'))
                        .cloned()
                        .unwrap_or_default(),
                    arg.clone(),
                ),
            };
            if uri_password(&value).is_some()
                || (looks_secret(&flag, &value)
                    && (flag.starts_with('-')
                        || crate::common::TOKEN_PREFIXES
                            .iter()
                            .any(|p| value.starts_with(p))))
            {
                found.push(Found {
                    key: if flag.is_empty() {
                        format!("args[{i}]")
                    } else {
                        flag.trim_start_matches('-').to_string()
                    },
                    value: value.clone(),
                    place: format!("args[{i}]"),
                });
                shown_args.push(if uri_password(&value).is_some() {
                    redact_uri(arg)
                } else {
                    "****".to_string()
                });
            } else {
                shown_args.push(arg.clone());
            }
        }
        if !shown_args.is_empty() {
            identity
                .attributes
                .insert("args".into(), Value::from(shown_args));
        }
        if let Some(url) = &url {
            identity
                .attributes
                .insert("url".into(), Value::String(redact_uri(url)));
            if uri_password(url).is_some() {
                found.push(Found {
                    key: "url".into(),
                    value: url.clone(),
                    place: "url".into(),
                });
            }
        }
        for (block, prefix) in [("env", "env"), ("headers", "headers")] {
            let Some(entries) = server.get(block) else {
                continue;
            };
            let Value::Object(entries) = entries else {
                return Err(ConnectorError::new(
                    origin,
                    Location::JsonPath(format!("{path}.{block}")),
                    "expected an object",
                ));
            };
            let mut keys = Vec::new();
            for (key, value) in entries {
                keys.push(Value::String(key.clone()));
                let Some(text) = value.as_str() else { continue };
                // `Authorization: Bearer …` holds its secret after the scheme.
                let secret = text
                    .strip_prefix("Bearer ")
                    .or_else(|| text.strip_prefix("bearer "))
                    .unwrap_or(text);
                if reference(secret).is_some()
                    || looks_secret(key, secret)
                    || (prefix == "headers" && key.eq_ignore_ascii_case("authorization"))
                {
                    found.push(Found {
                        key: key.clone(),
                        value: secret.to_string(),
                        place: format!("{prefix}.{key}"),
                    });
                }
            }
            identity
                .attributes
                .insert(format!("{block}_keys"), Value::Array(keys));
        }
        if let Some(env_file) = server.get("envFile").and_then(Value::as_str) {
            identity
                .attributes
                .insert("env_file".into(), Value::String(env_file.to_string()));
        }
        let mut n_plaintext = 0;
        for f in found {
            let mut credential = match reference(&f.value) {
                Some(reference) => {
                    let mut c = Credential::new(
                        format!("{id}#{}", f.place),
                        id.clone(),
                        credential_kind(&f.key, ""),
                    );
                    let prompted = reference
                        .strip_prefix("input:")
                        .and_then(|i| secret_inputs.get(i))
                        .copied()
                        .unwrap_or(false);
                    c.storage = Some(reference);
                    c.attributes
                        .insert(attribute::PLAINTEXT.into(), Value::Bool(false));
                    c.attributes
                        .insert("prompted_secret".into(), Value::Bool(prompted));
                    c
                }
                None => {
                    let secret = uri_password(&f.value).unwrap_or_else(|| f.value.clone());
                    let fingerprint = ctx.fingerprinter.fingerprint(secret.as_bytes());
                    let mut c = Credential::new(
                        format!("{id}#{}", f.place),
                        id.clone(),
                        credential_kind(&f.key, &f.value),
                    );
                    c.preview = Some(if uri_password(&f.value).is_some() {
                        redact_uri(&f.value)
                    } else {
                        warrant_core::redact(&secret)
                    });
                    c.fingerprint = Some(fingerprint);
                    c.storage = Some(format!("{PLAINTEXT_STORAGE_PREFIX}{location}#{}", f.place));
                    c.attributes
                        .insert(attribute::PLAINTEXT.into(), Value::Bool(true));
                    n_plaintext += 1;
                    c
                }
            };
            credential
                .attributes
                .insert(attribute::CONFIG_KEY.into(), Value::String(f.key));
            credential.provenance = provenance.clone();
            inventory.credentials.push(credential);
        }
        identity
            .attributes
            .insert("plaintext_secrets".into(), Value::from(n_plaintext));
        inventory.identities.push(identity);
    }
    inventory.scopes.push(SourceScope {
        source: SOURCE.to_string(),
        scope: location,
    });
    Ok(inventory)
}

/// For fuzzing and sniffing: parses JSONC into a value.
pub fn parse_jsonc(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice(&strip_jsonc(bytes)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use warrant_core::Fingerprinter;

    fn ctx() -> ImportContext {
        ImportContext::new(Fingerprinter::new(b"k"))
    }

    #[test]
    fn plaintext_tokens_uris_and_bearer_headers_are_fingerprinted_never_kept() {
        let config = r#"{"mcpServers":{
          "github":{"command":"npx","args":["-y","@modelcontextprotocol/server-github"],"env":{"GITHUB_PERSONAL_ACCESS_TOKEN":"ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789","LOG_LEVEL":"debug"}},
          "db":{"command":"npx","args":["-y","@modelcontextprotocol/server-postgres","postgresql://app:S3cretPass@db.internal:5432/prod"]},
          "remote":{"url":"https://mcp.example.com/sse","headers":{"Authorization":"Bearer sk-live-abcdefghijklmnop1234"}}
        }}"#;
        let path = Path::new("/home/x/alice@acme.example/.cursor/mcp.json");
        let inv = parse(path, config.as_bytes(), &ctx()).unwrap();
        assert_eq!(inv.identities.len(), 3);
        assert_eq!(inv.credentials.len(), 3, "{:#?}", inv.credentials);
        let text = serde_json::to_string(&inv).unwrap();
        for secret in [
            "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            "S3cretPass",
            "sk-live-abcdefghijklmnop1234",
        ] {
            assert!(
                !text.contains(secret),
                "raw secret {secret} leaked into the inventory"
            );
        }
        assert!(inv.credentials.iter().all(|c| c.fingerprint.is_some()
            && c.attributes.get(attribute::PLAINTEXT) == Some(&Value::Bool(true))));
        let github = inv.identities.iter().find(|i| i.name == "github").unwrap();
        assert_eq!(github.owners[0].id, "alice@acme.example");
        assert_eq!(
            github.attributes.get(attribute::PACKAGE),
            Some(&Value::String("@modelcontextprotocol/server-github".into()))
        );
    }

    #[test]
    fn vscode_jsonc_with_input_references_is_not_plaintext() {
        let config = r#"{
          // VS Code keeps the secret in its own store and prompts for it.
          "inputs": [{"type": "promptString", "id": "gh-token", "description": "GitHub token", "password": true},],
          "servers": {
            "github": {"type": "stdio", "command": "docker", "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
                       "env": {"GITHUB_TOKEN": "${input:gh-token}"},},
          },
        }"#;
        let inv = parse(Path::new(".vscode/mcp.json"), config.as_bytes(), &ctx()).unwrap();
        assert_eq!(inv.credentials.len(), 1);
        let c = &inv.credentials[0];
        assert_eq!(c.storage.as_deref(), Some("input:gh-token"));
        assert!(c.fingerprint.is_none());
        assert_eq!(
            c.attributes.get(attribute::PLAINTEXT),
            Some(&Value::Bool(false))
        );
    }

    #[test]
    fn malformed_servers_name_the_place() {
        let err = parse(
            Path::new("mcp.json"),
            br#"{"mcpServers":{"x":{"command":"a","args":"nope"}}}"#,
            &ctx(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "mcp.json: at $.mcpServers.x.args: expected an array of strings"
        );
    }
}
