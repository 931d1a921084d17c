//! `gateway.toml`: the upstream servers, tool labels, policy files, approval settings and the
//! task tokens' root key. Parsed from text (the binary reads the file); unknown keys are errors
//! naming the key and its line, so a typo never silently disables a control.
//!
//! ```toml
//! version = 1
//!
//! [server]
//! listen = "127.0.0.1:8700"               # `warrant gateway` serves /mcp/{upstream} here
//! max_body_bytes = 1048576                # larger requests are refused (HTTP 413)
//! resource = "https://gateway.example.com" # public base URL (RFC 9728 metadata)
//! authorization_servers = ["https://idp.example.com"]
//!
//! [[upstream]]
//! name = "github"
//! url = "http://127.0.0.1:8081/mcp"      # Streamable HTTP
//! auth_header_env = "GITHUB_TOKEN"        # the upstream's own bearer token (never the agent's)
//!
//! [[upstream]]
//! name = "fs"
//! command = ["mcp-server-filesystem", "/workspace"]   # stdio, spawned by the gateway
//!
//! [tools."web::fetch"]
//! labels = ["untrusted_input"]
//!
//! [policy]
//! schema = "gateway.cedarschema"          # optional: the `Args` type
//! files = ["policies/base.cedar"]
//!
//! [approval]
//! timeout = "5m"
//! approvers = ["secops@example.com"]
//!
//! [tokens]
//! root_key_file = "jit-root.key"
//!
//! [oauth]                                 # OAuth 2.1 access tokens (JWTs) from one issuer
//! issuer = "https://idp.example.com"      # `iss` must equal it exactly; JWKS from its metadata
//! agent_claim = "client_id"               # the claim naming the agent (default `sub`)
//!
//! [agents."triage-bot"]                   # what the policy knows of each agent
//! owner = "alice@example.com"
//! owner_active = true
//! tier = "production"
//! risk = 40
//!
//! [telemetry]                             # a span per call (OTel GenAI `execute_tool`)
//! jsonl = "gateway-spans.jsonl"           # one OTLP-JSON export per line, appended
//! otlp_endpoint = "http://127.0.0.1:4318" # an OTLP/HTTP collector (JSON to /v1/traces)
//! otlp_headers_env = { "x-api-key" = "OTLP_API_KEY" } # header → environment variable
//! service_name = "warrant-gateway"
//! ```
//!
//! Paths are relative to the configuration file's directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::duration;
use crate::taint::Label;

/// The only configuration version this build reads.
pub const VERSION: u32 = 1;

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    pub version: u32,
    #[serde(default, rename = "upstream")]
    pub upstreams: Vec<Upstream>,
    /// `server::tool` → its labels.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolConfig>,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub approval: ApprovalConfig,
    #[serde(default)]
    pub tokens: TokensConfig,
    /// OAuth 2.1 access tokens accepted beside task tokens (absent: task tokens only).
    pub oauth: Option<OAuthConfig>,
    #[serde(default)]
    pub pinning: PinningConfig,
    #[serde(default)]
    pub secrets: SecretsConfig,
    #[serde(default)]
    pub server: ServerConfig,
    /// Agent id → what the policy knows about it (until the inventory supplies it).
    #[serde(default)]
    pub agents: BTreeMap<String, AgentConfig>,
    /// A JSON file of more agents: `{"id": {"owner": …, "owner_active": …, "tier": …, "risk": …}}`.
    pub agents_file: Option<PathBuf>,
    /// Where each call's span goes (none by default).
    #[serde(default)]
    pub telemetry: TelemetryConfig,
}

/// Where the gateway sends a span for every call it decides (an OpenTelemetry GenAI
/// `execute_tool` span for `tools/call`): a JSONL file, an OTLP/HTTP collector, or both.
/// Export runs off the request path; a span that cannot be queued is dropped and counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// A file appended with one OTLP-JSON export (`{"resourceSpans":[…]}`) per line, which
    /// `warrant ingest` reads (relative to the configuration file).
    pub jsonl: Option<PathBuf>,
    /// An OTLP/HTTP collector's base URL (`http://collector:4318`): spans are POSTed as
    /// OTLP-JSON to its `/v1/traces` (a URL already ending in `/v1/traces` is used as it is).
    pub otlp_endpoint: Option<String>,
    /// Headers sent to the collector, each from an environment variable: header → variable.
    #[serde(default)]
    pub otlp_headers_env: BTreeMap<String, String>,
    /// The spans' `service.name`.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// How many spans may wait for export; more are dropped (counted and logged), so a slow
    /// exporter never delays or fails a call.
    #[serde(default = "default_telemetry_queue")]
    pub queue: usize,
}

/// The default `service.name` of the gateway's spans.
pub const DEFAULT_SERVICE_NAME: &str = "warrant-gateway";
/// The default number of spans that may wait for export.
pub const DEFAULT_TELEMETRY_QUEUE: usize = 4096;

fn default_service_name() -> String {
    DEFAULT_SERVICE_NAME.to_string()
}

fn default_telemetry_queue() -> usize {
    DEFAULT_TELEMETRY_QUEUE
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            jsonl: None,
            otlp_endpoint: None,
            otlp_headers_env: BTreeMap::new(),
            service_name: default_service_name(),
            queue: default_telemetry_queue(),
        }
    }
}

impl TelemetryConfig {
    /// Whether any exporter is configured.
    pub fn enabled(&self) -> bool {
        self.jsonl.is_some() || self.otlp_endpoint.is_some()
    }

    /// The URL spans are POSTed to: `otlp_endpoint` with `/v1/traces` (as OTLP/HTTP's
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is read), unless it already ends with it.
    pub fn traces_url(&self) -> Option<String> {
        let base = self.otlp_endpoint.as_deref()?.trim_end_matches('/');
        if base.ends_with("/v1/traces") {
            Some(base.to_string())
        } else {
            Some(format!("{base}/v1/traces"))
        }
    }
}

/// Where and how `warrant gateway` listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The address to listen on (`--listen` overrides it).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The largest request body accepted, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// The gateway's public base URL, named in the protected-resource metadata (RFC 9728);
    /// default: `http://` and the request's `Host`.
    pub resource: Option<String>,
    /// Authorization servers agents get tokens from (RFC 9728 `authorization_servers`).
    #[serde(default)]
    pub authorization_servers: Vec<String>,
}

/// The default listening address: loopback only, so nothing is exposed by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";
/// The default request body limit (1 MiB).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

fn default_listen() -> String {
    DEFAULT_LISTEN.to_string()
}

fn default_max_body() -> usize {
    DEFAULT_MAX_BODY
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            max_body_bytes: default_max_body(),
            resource: None,
            authorization_servers: Vec::new(),
        }
    }
}

/// An agent's attributes, as the policy's `Agent` entity carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Default: the agent's id.
    pub name: Option<String>,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub owner_active: bool,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub risk: i64,
}

/// An upstream MCP server: exactly one of `url` (Streamable HTTP) or `command` (stdio).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// The server's name: tools are `name::tool` in policies.
    pub name: String,
    pub url: Option<String>,
    /// The program and its arguments.
    pub command: Option<Vec<String>>,
    /// Environment variables given to a stdio server (it gets no others but `PATH`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// HTTP upstreams: the environment variable holding the upstream's own bearer token, sent
    /// as `Authorization: Bearer …` (the agent's token never is).
    pub auth_header_env: Option<String>,
    /// HTTP upstreams: a file holding that token (relative to the configuration file).
    pub auth_header_file: Option<PathBuf>,
    /// HTTP upstreams: an AWS Secrets Manager secret (name or ARN) whose string is that token.
    pub auth_header_aws_secret: Option<String>,
    /// Stdio upstreams: environment variables whose values come from a secret source and are
    /// never written here: `"env:NAME"` (the gateway's environment), `"file:PATH"` or
    /// `"aws-secretsmanager:NAME-OR-ARN"`.
    #[serde(default)]
    pub secret_env: BTreeMap<String, String>,
}

/// Where an upstream's credential is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource<'a> {
    Env(&'a str),
    File(&'a Path),
    AwsSecret(&'a str),
}

impl<'a> SecretSource<'a> {
    /// Reads `env:NAME`, `file:PATH` or `aws-secretsmanager:ID`.
    pub fn parse(text: &'a str) -> Option<SecretSource<'a>> {
        let (kind, rest) = text.split_once(':')?;
        if rest.is_empty() {
            return None;
        }
        match kind {
            "env" => Some(SecretSource::Env(rest)),
            "file" => Some(SecretSource::File(Path::new(rest))),
            "aws-secretsmanager" => Some(SecretSource::AwsSecret(rest)),
            _ => None,
        }
    }
}

impl Upstream {
    /// Where the HTTP upstream's bearer token comes from, if it has one.
    pub fn auth_header_source(&self) -> Option<SecretSource<'_>> {
        if let Some(name) = &self.auth_header_env {
            return Some(SecretSource::Env(name));
        }
        if let Some(path) = &self.auth_header_file {
            return Some(SecretSource::File(path));
        }
        self.auth_header_aws_secret
            .as_deref()
            .map(SecretSource::AwsSecret)
    }
}

/// How the gateway reaches an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport<'a> {
    StreamableHttp {
        url: &'a str,
    },
    Stdio {
        program: &'a str,
        args: &'a [String],
    },
}

impl Upstream {
    pub fn transport(&self) -> Option<Transport<'_>> {
        match (&self.url, &self.command) {
            (Some(url), None) => Some(Transport::StreamableHttp { url }),
            (None, Some(command)) => command
                .split_first()
                .map(|(program, args)| Transport::Stdio { program, args }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolConfig {
    #[serde(default)]
    pub labels: BTreeSet<Label>,
    /// Overrides `secrets.arguments` for this tool (a vault tool that is meant to take one).
    pub secrets_in_arguments: Option<SecretHandling>,
    /// Overrides `secrets.results` for this tool.
    pub secrets_in_results: Option<SecretHandling>,
}

/// What the gateway does with a secret (found by the secret scanner's rules) in what passes
/// through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretHandling {
    /// Refuse the call (arguments) or withhold the result.
    Block,
    /// Pass it on with each secret replaced by its redacted preview.
    Redact,
    /// Pass it on unchanged.
    Allow,
}

/// Secrets in calls and results. The defaults keep secrets from leaving through a tool (an
/// agent pasting a key into an issue) and from reaching the model (a tool reading a config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// In a call's arguments (default block).
    #[serde(default = "block")]
    pub arguments: SecretHandling,
    /// In a tool's result (default redact).
    #[serde(default = "redact")]
    pub results: SecretHandling,
}

fn block() -> SecretHandling {
    SecretHandling::Block
}

fn redact() -> SecretHandling {
    SecretHandling::Redact
}

impl Default for SecretsConfig {
    fn default() -> Self {
        SecretsConfig {
            arguments: block(),
            results: redact(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// The operator's schema extension (Cedar schema syntax, defining `type Args`).
    pub schema: Option<PathBuf>,
    #[serde(default)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalConfig {
    /// How long a held call waits for a decision before it is denied (`90s`, `5m`, `1h`).
    #[serde(default = "default_timeout")]
    pub timeout: String,
    /// Who may approve (Warrant users); empty means any approver role.
    #[serde(default)]
    pub approvers: Vec<String>,
}

fn default_timeout() -> String {
    "5m".to_string()
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        ApprovalConfig {
            timeout: default_timeout(),
            approvers: Vec::new(),
        }
    }
}

/// Tool pinning: what happens to an upstream tool nobody has approved yet. A pinned tool whose
/// definition changes is blocked until approved again whatever the mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinningConfig {
    #[serde(default)]
    pub new_tools: NewTools,
}

/// How a tool seen for the first time is treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NewTools {
    /// Hidden from `tools/list` and refused until a person approves it
    /// (`warrant gateway tools approve`): the safe default.
    #[default]
    Approve,
    /// Pinned as first seen (trust on first use); later changes still block it.
    PinFirstSeen,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    /// The file holding the root key (hex Ed25519 private key).
    pub root_key_file: Option<PathBuf>,
    /// The longest lifetime `jit grant` mints (default 1h).
    pub max_ttl: Option<String>,
}

/// Signature algorithms an access token may use: asymmetric only. A symmetric (HS*) key would
/// be a secret shared with the issuer that lets its holder mint tokens, and `none` is no
/// signature at all.
pub const ASYMMETRIC_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// The gateway as an OAuth 2.1 resource server (the MCP authorization specification): agents
/// present access tokens that are JWTs signed by `issuer`, whose audience is the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// The authorization server's issuer identifier: a token's `iss` must equal it exactly,
    /// and its metadata (RFC 8414 or OpenID discovery) names the JWKS.
    pub issuer: String,
    /// The JWKS URL, instead of the `jwks_uri` of the issuer's metadata.
    pub jwks_url: Option<String>,
    /// The claim naming the agent (`sub`, `client_id`, `azp`, …).
    #[serde(default = "default_agent_claim")]
    pub agent_claim: String,
    /// A claim naming the agent's task: its taint is then kept per task (else per
    /// `X-Warrant-Task` header, else per token).
    pub task_claim: Option<String>,
    /// Accepted signature algorithms (asymmetric only).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(default = "default_leeway")]
    pub leeway: String,
    /// The shortest time between two JWKS fetches caused by a token with an unknown `kid`
    /// (a key rotation), so bad tokens cannot make the gateway hammer the issuer.
    #[serde(default = "default_jwks_min_refetch")]
    pub jwks_min_refetch: String,
    /// How long fetched keys are used before they are fetched again (a key the issuer
    /// dropped stops working by then).
    #[serde(default = "default_jwks_max_age")]
    pub jwks_max_age: String,
}

fn default_agent_claim() -> String {
    "sub".to_string()
}

fn default_algorithms() -> Vec<String> {
    ["RS256", "PS256", "ES256", "ES384", "EdDSA"]
        .map(String::from)
        .to_vec()
}

fn default_leeway() -> String {
    "60s".to_string()
}

fn default_jwks_min_refetch() -> String {
    "30s".to_string()
}

fn default_jwks_max_age() -> String {
    "1h".to_string()
}

impl OAuthConfig {
    /// A configuration for `issuer` with every other key at its default.
    pub fn new(issuer: &str) -> OAuthConfig {
        OAuthConfig {
            issuer: issuer.to_string(),
            jwks_url: None,
            agent_claim: default_agent_claim(),
            task_claim: None,
            algorithms: default_algorithms(),
            leeway: default_leeway(),
            jwks_min_refetch: default_jwks_min_refetch(),
            jwks_max_age: default_jwks_max_age(),
        }
    }

    fn check(&self, server: &ServerConfig) -> Result<(), String> {
        let http_url = |text: &str| text.starts_with("https://") || text.starts_with("http://");
        if !http_url(&self.issuer) {
            return Err(format!(
                "oauth.issuer `{}` must be an https:// (or http://) URL",
                self.issuer
            ));
        }
        if let Some(url) = &self.jwks_url
            && !http_url(url)
        {
            return Err(format!("oauth.jwks_url `{url}` must be an http(s) URL"));
        }
        // The audience a token must carry is the resource URL; a Host header chosen by the
        // caller cannot define it.
        if server.resource.is_none() {
            return Err("oauth needs server.resource, the gateway's public base URL: access tokens must name it (or /mcp/SERVER under it) as their audience".to_string());
        }
        if self.agent_claim.trim().is_empty() {
            return Err("oauth.agent_claim must name a claim".to_string());
        }
        if self.algorithms.is_empty() {
            return Err("oauth.algorithms must name at least one algorithm".to_string());
        }
        for alg in &self.algorithms {
            if !ASYMMETRIC_ALGORITHMS.contains(&alg.as_str()) {
                return Err(format!(
                    "oauth.algorithms: `{alg}` is not accepted (asymmetric only: {}; never `none` or HS*)",
                    ASYMMETRIC_ALGORITHMS.join(", ")
                ));
            }
        }
        for (key, value) in [
            ("leeway", &self.leeway),
            ("jwks_min_refetch", &self.jwks_min_refetch),
            ("jwks_max_age", &self.jwks_max_age),
        ] {
            duration::parse_seconds(value).map_err(|e| format!("oauth.{key}: {e}"))?;
        }
        Ok(())
    }
}

impl GatewayConfig {
    /// The authorization servers the protected-resource metadata names: the configured ones,
    /// with the OAuth issuer first when it is not among them.
    pub fn authorization_servers(&self) -> Vec<String> {
        let mut servers = self.server.authorization_servers.clone();
        if let Some(oauth) = &self.oauth
            && !servers.contains(&oauth.issuer)
        {
            servers.insert(0, oauth.issuer.clone());
        }
        servers
    }

    /// Parses and checks a configuration; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<GatewayConfig, ConfigError> {
        let config: GatewayConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.check(file)?;
        Ok(config)
    }

    fn check(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_string(),
            message,
        };
        if self.version != VERSION {
            return Err(invalid(format!(
                "version {} is not supported (this build reads version {VERSION})",
                self.version
            )));
        }
        let mut names = BTreeSet::new();
        for upstream in &self.upstreams {
            if upstream.name.is_empty() || upstream.name.contains("::") {
                return Err(invalid(format!(
                    "upstream name `{}` must be non-empty and contain no `::`",
                    upstream.name
                )));
            }
            if !names.insert(upstream.name.as_str()) {
                return Err(invalid(format!(
                    "two upstreams are named `{}`",
                    upstream.name
                )));
            }
            if upstream.transport().is_none() {
                return Err(invalid(format!(
                    "upstream `{}` needs exactly one of `url` (Streamable HTTP) or `command` (stdio, non-empty)",
                    upstream.name
                )));
            }
            if upstream.url.is_some() && !upstream.env.is_empty() {
                return Err(invalid(format!(
                    "upstream `{}`: `env` applies to stdio upstreams only",
                    upstream.name
                )));
            }
            let auth_sources = [
                upstream.auth_header_env.is_some(),
                upstream.auth_header_file.is_some(),
                upstream.auth_header_aws_secret.is_some(),
            ]
            .into_iter()
            .filter(|set| *set)
            .count();
            if upstream.url.is_some() && !upstream.secret_env.is_empty() {
                return Err(invalid(format!(
                    "upstream `{}`: `secret_env` applies to stdio upstreams only",
                    upstream.name
                )));
            }
            for (variable, source) in &upstream.secret_env {
                if SecretSource::parse(source).is_none() {
                    return Err(invalid(format!(
                        "upstream `{}`: secret_env.{variable} = `{source}` is not `env:NAME`, `file:PATH` or `aws-secretsmanager:ID`",
                        upstream.name
                    )));
                }
            }
            if upstream.url.is_none() && auth_sources > 0 {
                return Err(invalid(format!(
                    "upstream `{}`: `auth_header_env`, `auth_header_file` and `auth_header_aws_secret` apply to HTTP upstreams only",
                    upstream.name
                )));
            }
            if auth_sources > 1 {
                return Err(invalid(format!(
                    "upstream `{}`: give one of `auth_header_env`, `auth_header_file` or `auth_header_aws_secret`",
                    upstream.name
                )));
            }
        }
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(format!(
                "server.listen `{}` is not an address such as 127.0.0.1:8700",
                self.server.listen
            )));
        }
        if self.server.max_body_bytes == 0 {
            return Err(invalid(
                "server.max_body_bytes must be at least 1".to_string(),
            ));
        }
        for tool in self.tools.keys() {
            if tool
                .split_once("::")
                .is_none_or(|(s, t)| s.is_empty() || t.is_empty())
            {
                return Err(invalid(format!(
                    "tool `{tool}` must be named `server::tool`"
                )));
            }
        }
        duration::parse_seconds(&self.approval.timeout)
            .map_err(|e| invalid(format!("approval.timeout: {e}")))?;
        if let Some(ttl) = &self.tokens.max_ttl {
            duration::parse_seconds(ttl).map_err(|e| invalid(format!("tokens.max_ttl: {e}")))?;
        }
        let telemetry = &self.telemetry;
        if let Some(endpoint) = &telemetry.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(invalid(format!(
                "telemetry.otlp_endpoint `{endpoint}` must be an http:// or https:// URL"
            )));
        }
        if !telemetry.otlp_headers_env.is_empty() && telemetry.otlp_endpoint.is_none() {
            return Err(invalid(
                "telemetry.otlp_headers_env needs telemetry.otlp_endpoint".to_string(),
            ));
        }
        if telemetry.service_name.trim().is_empty() {
            return Err(invalid(
                "telemetry.service_name must not be empty".to_string(),
            ));
        }
        if telemetry.queue == 0 {
            return Err(invalid("telemetry.queue must be at least 1".to_string()));
        }
        if let Some(oauth) = &self.oauth {
            oauth.check(&self.server).map_err(invalid)?;
        }
        Ok(())
    }

    /// Every AWS Secrets Manager secret the upstreams' credentials come from (to fetch before
    /// the gateway starts).
    pub fn aws_secrets(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for upstream in &self.upstreams {
            let sources = upstream.auth_header_source().into_iter().chain(
                upstream
                    .secret_env
                    .values()
                    .filter_map(|s| SecretSource::parse(s)),
            );
            for source in sources {
                if let SecretSource::AwsSecret(id) = source {
                    out.insert(id.to_string());
                }
            }
        }
        out
    }

    /// What to do with a secret in `server::tool`'s arguments.
    pub fn secrets_in_arguments(&self, qualified_tool: &str) -> SecretHandling {
        self.tools
            .get(qualified_tool)
            .and_then(|t| t.secrets_in_arguments)
            .unwrap_or(self.secrets.arguments)
    }

    /// What to do with a secret in `server::tool`'s result.
    pub fn secrets_in_results(&self, qualified_tool: &str) -> SecretHandling {
        self.tools
            .get(qualified_tool)
            .and_then(|t| t.secrets_in_results)
            .unwrap_or(self.secrets.results)
    }

    /// The labels of `server::tool` (none when it is not configured).
    pub fn labels(&self, qualified_tool: &str) -> BTreeSet<Label> {
        self.tools
            .get(qualified_tool)
            .map(|t| t.labels.clone())
            .unwrap_or_default()
    }

    /// A path of this configuration resolved against the file's directory.
    pub fn resolve(config_file: &Path, path: &Path) -> PathBuf {
        match config_file.parent() {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
version = 1
[[upstream]]
name = "github"
url = "http://127.0.0.1:8081/mcp"
[[upstream]]
name = "fs"
command = ["mcp-server-filesystem", "/workspace"]
env = { HOME = "/nonexistent" }
[tools."web::fetch"]
labels = ["untrusted_input"]
[tools."crm::lookup"]
labels = ["sensitive_data"]
[policy]
schema = "gateway.cedarschema"
files = ["policies/base.cedar"]
[approval]
timeout = "2m"
[tokens]
root_key_file = "jit-root.key"
[server]
listen = "127.0.0.1:9000"
[agents."triage-bot"]
owner = "alice@example.com"
owner_active = true
tier = "production"
risk = 40
"#;

    #[test]
    fn reads_the_documented_example() {
        let config = GatewayConfig::from_toml(EXAMPLE, "gateway.toml").unwrap();
        assert_eq!(config.upstreams.len(), 2);
        assert_eq!(
            config.upstreams[1].transport(),
            Some(Transport::Stdio {
                program: "mcp-server-filesystem",
                args: &["/workspace".to_string()]
            })
        );
        assert!(config.labels("web::fetch").contains(&Label::UntrustedInput));
        assert!(config.labels("web::other").is_empty());
        assert_eq!(config.server.listen, "127.0.0.1:9000");
        assert_eq!(config.server.max_body_bytes, DEFAULT_MAX_BODY);
        assert_eq!(config.agents["triage-bot"].risk, 40);
        assert!(config.agents["triage-bot"].owner_active);
    }

    #[test]
    fn reads_the_example_in_the_docs() {
        let text = include_str!("../../../docs/gateway.example.toml");
        let config = GatewayConfig::from_toml(text, "docs/gateway.example.toml").unwrap();
        assert_eq!(config.upstreams.len(), 4);
        assert_eq!(
            config.upstreams[3].auth_header_env.as_deref(),
            Some("GITHUB_MCP_TOKEN")
        );
        assert_eq!(
            config.aws_secrets().into_iter().collect::<Vec<_>>(),
            ["prod/mcp/github-token"]
        );
        assert_eq!(config.pinning.new_tools, NewTools::Approve);
        assert_eq!(config.secrets, SecretsConfig::default());
        assert_eq!(config.agents["triage-bot"].tier, "production");
    }

    #[test]
    fn telemetry_is_off_by_default_and_names_its_traces_url() {
        let config = GatewayConfig::from_toml("version = 1\n", "g.toml").unwrap();
        assert!(!config.telemetry.enabled());
        assert_eq!(config.telemetry.service_name, DEFAULT_SERVICE_NAME);
        let config = GatewayConfig::from_toml(
            "version = 1\n[telemetry]\njsonl = \"spans.jsonl\"\notlp_endpoint = \"http://127.0.0.1:4318/\"\notlp_headers_env = { \"x-api-key\" = \"OTLP_KEY\" }\nservice_name = \"gw-eu\"\n",
            "g.toml",
        )
        .unwrap();
        assert!(config.telemetry.enabled());
        assert_eq!(
            config.telemetry.traces_url().as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(config.telemetry.otlp_headers_env["x-api-key"], "OTLP_KEY");
        let exact = TelemetryConfig {
            otlp_endpoint: Some("https://c.example.com/v1/traces".into()),
            ..TelemetryConfig::default()
        };
        assert_eq!(
            exact.traces_url().as_deref(),
            Some("https://c.example.com/v1/traces")
        );
    }

    #[test]
    fn reads_oauth_and_names_its_issuer_in_the_metadata() {
        let text = "version = 1\n[server]\nresource = \"https://gw.example.com\"\nauthorization_servers = [\"https://other\"]\n[oauth]\nissuer = \"https://idp.example.com\"\nagent_claim = \"client_id\"\n";
        let config = GatewayConfig::from_toml(text, "g.toml").unwrap();
        let oauth = config.oauth.as_ref().unwrap();
        assert_eq!(oauth.agent_claim, "client_id");
        assert_eq!(oauth.leeway, "60s");
        assert!(oauth.algorithms.iter().all(|a| !a.starts_with("HS")));
        assert_eq!(
            config.authorization_servers(),
            ["https://idp.example.com", "https://other"]
        );
        let plain = GatewayConfig::from_toml("version = 1\n", "g.toml").unwrap();
        assert!(plain.oauth.is_none());
        assert!(plain.authorization_servers().is_empty());
    }

    #[test]
    fn server_defaults_to_loopback() {
        let config = GatewayConfig::from_toml("version = 1\n", "g.toml").unwrap();
        assert_eq!(config.server.listen, DEFAULT_LISTEN);
        assert!(config.agents.is_empty());
    }

    #[test]
    fn unknown_fields_are_named() {
        let error = GatewayConfig::from_toml(
            "version = 1\n[[upstream]]\nname = \"a\"\nurl = \"http://x\"\nurll = \"typo\"\n",
            "g.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("unknown field `urll`"), "{error}");
        assert!(error.contains("g.toml"), "{error}");
        assert!(error.contains("line 5"), "{error}");
        let error = GatewayConfig::from_toml(
            "version = 1\n[tools.\"a::b\"]\nlabels = [\"secret\"]\n",
            "g.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("unknown variant `secret`"), "{error}");
    }

    #[test]
    fn lists_the_aws_secrets_credentials_come_from() {
        let config = GatewayConfig::from_toml(
            "version = 1\n[[upstream]]\nname = \"a\"\nurl = \"u\"\nauth_header_aws_secret = \"prod/a\"\n[[upstream]]\nname = \"b\"\ncommand = [\"x\"]\nsecret_env = { T = \"aws-secretsmanager:prod/b\", U = \"env:U\", V = \"file:v.token\" }\n",
            "g.toml",
        )
        .unwrap();
        assert_eq!(
            config.aws_secrets().into_iter().collect::<Vec<_>>(),
            ["prod/a", "prod/b"]
        );
        assert_eq!(
            config.upstreams[0].auth_header_source(),
            Some(SecretSource::AwsSecret("prod/a"))
        );
    }

    #[test]
    fn refuses_inconsistent_upstreams() {
        for (text, needle) in [
            ("version = 1\n[[upstream]]\nname = \"a\"\n", "exactly one"),
            (
                "version = 1\n[[upstream]]\nname = \"a\"\nurl = \"u\"\ncommand = [\"x\"]\n",
                "exactly one",
            ),
            (
                "version = 1\n[[upstream]]\nname = \"a\"\ncommand = []\n",
                "exactly one",
            ),
            ("version = 2\n", "version 2"),
            ("version = 1\n[tools.fetch]\n", "server::tool"),
            (
                "version = 1\n[approval]\ntimeout = \"soon\"\n",
                "approval.timeout",
            ),
            (
                "version = 1\n[server]\nlisten = \"here\"\n",
                "server.listen",
            ),
            (
                "version = 1\n[server]\nlistn = \"x\"\n",
                "unknown field `listn`",
            ),
            (
                "version = 1\n[[upstream]]\nname = \"a\"\ncommand = [\"x\"]\nauth_header_env = \"T\"\n",
                "HTTP upstreams only",
            ),
            (
                "version = 1\n[agents.a]\nrisky = 1\n",
                "unknown field `risky`",
            ),
            (
                "version = 1\n[[upstream]]\nname = \"a\"\ncommand = [\"x\"]\nsecret_env = { T = \"vault:x\" }\n",
                "secret_env.T",
            ),
            (
                "version = 1\n[[upstream]]\nname = \"a\"\nurl = \"u\"\nsecret_env = { T = \"env:X\" }\n",
                "stdio upstreams only",
            ),
            (
                "version = 1\n[[upstream]]\nname = \"a\"\nurl = \"u\"\nauth_header_env = \"T\"\nauth_header_aws_secret = \"s\"\n",
                "give one of",
            ),
            (
                "version = 1\n[secrets]\narguments = \"shred\"\n",
                "unknown variant `shred`",
            ),
            (
                "version = 1\n[telemetry]\notlp_endpoint = \"collector:4318\"\n",
                "http:// or https://",
            ),
            (
                "version = 1\n[telemetry]\notlp_headers_env = { a = \"B\" }\n",
                "needs telemetry.otlp_endpoint",
            ),
            ("version = 1\n[telemetry]\nqueue = 0\n", "telemetry.queue"),
            (
                "version = 1\n[telemetry]\njsnl = \"x\"\n",
                "unknown field `jsnl`",
            ),
            (
                "version = 1\n[oauth]\nissuer = \"https://idp\"\n",
                "server.resource",
            ),
            (
                "version = 1\n[server]\nresource = \"https://gw\"\n[oauth]\nissuer = \"https://idp\"\nalgorithms = [\"HS256\"]\n",
                "`HS256` is not accepted",
            ),
            (
                "version = 1\n[server]\nresource = \"https://gw\"\n[oauth]\nissuer = \"https://idp\"\nalgorithms = [\"none\"]\n",
                "`none` is not accepted",
            ),
            (
                "version = 1\n[server]\nresource = \"https://gw\"\n[oauth]\nissuer = \"idp.example.com\"\n",
                "oauth.issuer",
            ),
            (
                "version = 1\n[server]\nresource = \"https://gw\"\n[oauth]\nissuer = \"https://idp\"\nleeway = \"a while\"\n",
                "oauth.leeway",
            ),
        ] {
            let error = GatewayConfig::from_toml(text, "g.toml")
                .unwrap_err()
                .to_string();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }
}
