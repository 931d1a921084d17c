//! Builds a [`Gateway`] from `gateway.toml`: reads the policy files, the schema, the root key,
//! the agents file and the upstreams' own credentials.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use warrant_core::clock::Clock;
use warrant_gateway::config::{GatewayConfig, SecretSource, Transport};
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
    #[error("upstream `{upstream}`: no value for {what}")]
    MissingSecret { upstream: String, what: String },
    #[error(
        "telemetry: the environment variable {variable} (otlp_headers_env, header `{header}`) is not set"
    )]
    MissingTelemetryHeader { header: String, variable: String },
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::TelemetryError),
}

/// Looks up an environment variable.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the gateway takes from its process: the environment (read by the caller) and a clock.
pub struct Options {
    /// `PATH` for stdio upstreams (the only variable of the gateway's they get).
    pub path: Option<OsString>,
    /// Looks up an environment variable (for `auth_header_env` and `env:` secrets).
    pub env: EnvLookup,
    /// Looks up an AWS Secrets Manager secret's string by name or ARN, fetched by the caller
    /// beforehand (`GatewayConfig::aws_secrets` lists them).
    pub aws_secret: EnvLookup,
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
        // The upstream's own credentials: read here, held by the gateway, never shown to agents.
        let secret = |source: SecretSource<'_>| -> Result<String, LoadError> {
            let missing = |what: String| LoadError::MissingSecret {
                upstream: configured.name.clone(),
                what,
            };
            match source {
                SecretSource::Env(variable) => {
                    (options.env)(variable).ok_or_else(|| LoadError::MissingCredential {
                        upstream: configured.name.clone(),
                        variable: variable.to_string(),
                    })
                }
                SecretSource::File(file) => {
                    let path = GatewayConfig::resolve(config_path, file);
                    Ok(read(&path, SECRET_FILE_LIMIT)?.trim().to_string())
                }
                SecretSource::AwsSecret(id) => (options.aws_secret)(id)
                    .ok_or_else(|| missing(format!("the AWS Secrets Manager secret {id}"))),
            }
        };
        let target = match configured.transport() {
            Some(Transport::StreamableHttp { url }) => upstream::Target::Http {
                url: url.to_string(),
                token: configured.auth_header_source().map(secret).transpose()?,
            },
            Some(Transport::Stdio { program, args }) => {
                let mut env = configured.env.clone();
                for (variable, source) in &configured.secret_env {
                    // `from_toml` refused sources it cannot read.
                    if let Some(source) = SecretSource::parse(source) {
                        env.insert(variable.clone(), secret(source)?);
                    }
                }
                upstream::Target::Stdio {
                    program: program.to_string(),
                    args: args.to_vec(),
                    env,
                    path: options.path.clone(),
                }
            }
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
    let redactor = Arc::new(redactor);
    let telemetry = telemetry(config_path, &config, &options, &redactor)?;
    let mut gateway = Gateway::new(
        engine,
        config,
        Authenticator::new(authority, oauth),
        state,
        upstreams,
        options.clock,
        redactor,
    );
    gateway.telemetry = telemetry;
    Ok(gateway)
}

/// The exporters of `[telemetry]` (the collector's headers from the environment).
fn telemetry(
    config_path: &Path,
    config: &GatewayConfig,
    options: &Options,
    redactor: &Arc<crate::redact::Redactor>,
) -> Result<crate::telemetry::Telemetry, LoadError> {
    let settings = &config.telemetry;
    let mut sinks = Vec::new();
    if let Some(file) = &settings.jsonl {
        sinks.push(crate::telemetry::Sink::Jsonl(GatewayConfig::resolve(
            config_path,
            file,
        )));
    }
    if let Some(url) = settings.traces_url() {
        let mut headers = Vec::new();
        for (header, variable) in &settings.otlp_headers_env {
            let value =
                (options.env)(variable).ok_or_else(|| LoadError::MissingTelemetryHeader {
                    header: header.clone(),
                    variable: variable.clone(),
                })?;
            headers.push((header.clone(), value));
        }
        sinks.push(crate::telemetry::otlp_sink(&url, &headers)?);
    }
    Ok(crate::telemetry::Telemetry::new(
        sinks,
        &settings.service_name,
        settings.queue,
        Some(redactor.clone()),
    ))
}
