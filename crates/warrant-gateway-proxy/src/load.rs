//! Builds a [`Gateway`] from `gateway.toml`: reads the policy files, the schema, the root key,
//! the agents file and the upstreams' own credentials.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use warrant_core::clock::Clock;
use warrant_gateway::config::{GatewayConfig, Transport};
use warrant_gateway::{PolicyEngine, PolicyError, Source, TokenAuthority};

use crate::auth::Authenticator;
use crate::oauth::OAuthVerifier;
use crate::server::Gateway;
use crate::state::{State, StaticDirectory};
use crate::upstream::{self, Upstream};

/// The largest key or token file read (they are a line of hex or a token).
const SECRET_FILE_LIMIT: u64 = 64 * 1024;

/// Why a gateway could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("the gateway's policies are not valid:\n{0}")]
    Policy(#[from] PolicyError),
    #[error(
        "agents cannot authenticate: set tokens.root_key_file for task tokens (create one with `warrant jit keygen FILE`), [oauth] for access tokens, or both"
    )]
    NoRootKey,
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "upstream `{upstream}`: the environment variable {variable} (auth_header_env) is not set"
    )]
    MissingCredential { upstream: String, variable: String },
}

/// Looks up an environment variable.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the gateway takes from its process: the environment (read by the caller) and a clock.
pub struct Options {
    /// `PATH` for stdio upstreams (the only variable of the gateway's they get).
    pub path: Option<OsString>,
    /// Looks up an environment variable (for `auth_header_env`).
    pub env: EnvLookup,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options").finish_non_exhaustive()
    }
}

fn read(path: &Path, limit: u64) -> Result<String, LoadError> {
    warrant_input::read_file_to_string(path, limit).map_err(|e| LoadError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn source(path: &Path) -> Result<Source, LoadError> {
    Ok(Source::new(
        path.display().to_string(),
        read(path, warrant_input::SMALL_FILE_LIMIT)?,
    ))
}

/// A policy file, or every `*.cedar` file of a directory in name order.
fn policy_sources(path: &Path) -> Result<Vec<Source>, LoadError> {
    if !path.is_dir() {
        return Ok(vec![source(path)?]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| LoadError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
        .collect();
    files.sort();
    files.iter().map(|f| source(f)).collect()
}

/// The policy engine of a configuration.
pub fn engine(config_path: &Path, config: &GatewayConfig) -> Result<PolicyEngine, LoadError> {
    let resolve = |p: &Path| GatewayConfig::resolve(config_path, p);
    let schema = config
        .policy
        .schema
        .as_deref()
        .map(|p| source(&resolve(p)))
        .transpose()?;
    let mut sources = Vec::new();
    for file in &config.policy.files {
        sources.extend(policy_sources(&resolve(file))?);
    }
    Ok(PolicyEngine::load(schema.as_ref(), &sources)?)
}

/// The agents of `[agents."id"]` and `agents_file`.
pub fn directory(config_path: &Path, config: &GatewayConfig) -> Result<StaticDirectory, LoadError> {
    let mut directory = StaticDirectory::new(config.agents.clone());
    if let Some(file) = &config.agents_file {
        let path = GatewayConfig::resolve(config_path, file);
        let text = read(&path, warrant_input::SMALL_FILE_LIMIT)?;
        directory
            .merge_json(&text)
            .map_err(|e| LoadError::Invalid {
                path: path.clone(),
                message: format!("not an agents file ({{\"id\": {{\"owner\": …}}}}): {e}"),
            })?;
    }
    Ok(directory)
}

/// The gateway of a configuration, with in-memory state.
pub fn build(
    config_path: &Path,
    config: GatewayConfig,
    options: Options,
) -> Result<Gateway, LoadError> {
    let state = State::in_memory(directory(config_path, &config)?);
    build_with_state(config_path, config, state, options)
}

/// The gateway of a configuration, with the caller's state (a store, or handles kept by tests).
pub fn build_with_state(
    config_path: &Path,
    config: GatewayConfig,
    state: State,
    options: Options,
) -> Result<Gateway, LoadError> {
    upstream::install_crypto_provider();
    let engine = engine(config_path, &config)?;
    let authority = match config.tokens.root_key_file.as_deref() {
        Some(key_file) => {
            let key_path = GatewayConfig::resolve(config_path, key_file);
            Some(
                TokenAuthority::from_private_key_hex(&read(&key_path, SECRET_FILE_LIMIT)?)
                    .map_err(|e| LoadError::Invalid {
                        path: key_path.clone(),
                        message: e.to_string(),
                    })?,
            )
        }
        None => None,
    };
    let oauth = match &config.oauth {
        Some(oauth) => Some(
            OAuthVerifier::new(oauth, config.server.resource.as_deref().unwrap_or("")).map_err(
                |message| LoadError::Invalid {
                    path: config_path.to_path_buf(),
                    message,
                },
            )?,
        ),
        None => None,
    };
    if authority.is_none() && oauth.is_none() {
        return Err(LoadError::NoRootKey);
    }
    let mut upstreams = BTreeMap::new();
    for configured in &config.upstreams {
        let target = match configured.transport() {
            Some(Transport::StreamableHttp { url }) => {
                let token = match (&configured.auth_header_env, &configured.auth_header_file) {
                    (Some(variable), _) => Some((options.env)(variable).ok_or_else(|| {
                        LoadError::MissingCredential {
                            upstream: configured.name.clone(),
                            variable: variable.clone(),
                        }
                    })?),
                    (None, Some(file)) => {
                        let path = GatewayConfig::resolve(config_path, file);
                        Some(read(&path, SECRET_FILE_LIMIT)?.trim().to_string())
                    }
                    (None, None) => None,
                };
                upstream::Target::Http {
                    url: url.to_string(),
                    token,
                }
            }
            Some(Transport::Stdio { program, args }) => upstream::Target::Stdio {
                program: program.to_string(),
                args: args.to_vec(),
                env: configured.env.clone(),
                path: options.path.clone(),
            },
            // `from_toml` refused configurations without exactly one transport.
            None => continue,
        };
        upstreams.insert(
            configured.name.clone(),
            Upstream::new(&configured.name, target),
        );
    }
    let redactor = crate::redact::Redactor::builtin().map_err(|e| LoadError::Invalid {
        path: config_path.to_path_buf(),
        message: format!("the secret rules for redaction do not compile: {e}"),
    })?;
    Ok(Gateway::new(
        engine,
        config,
        Authenticator::new(authority, oauth),
        state,
        upstreams,
        options.clock,
        Arc::new(redactor),
    ))
}
