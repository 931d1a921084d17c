//! Just-in-time task tokens: Biscuit tokens bound to an agent, a task, the tools it needs,
//! constraints on their arguments, and an expiry.
//!
//! Every restriction is a Datalog *check*, in the authority block the gateway's root key signs.
//! Attenuation appends a block of further checks (offline: no key needed); a token is accepted
//! only when every check of every block holds, so a block can only narrow. Facts a later block
//! asserts (`agent("other")`) are not trusted by the verifier, which reads the agent and task
//! from the authority block only.
//!
//! Argument constraints apply to top-level arguments with a string, integer or boolean value:
//! `repo=acme/api` requires that exact value, `repo=acme/*` (a trailing `*`) a prefix. A call
//! without the constrained argument is refused.

use std::collections::{BTreeSet, HashMap};

use biscuit_auth::builder::Term;
use biscuit_auth::error::{FailedCheck, Logic, Token as BiscuitError};
use biscuit_auth::{
    Algorithm, AuthorizerBuilder, AuthorizerLimits, Biscuit, BiscuitBuilder, BlockBuilder, KeyPair,
    PrivateKey, UnverifiedBiscuit,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Why a token could not be minted, read, attenuated or accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the root key is not a hex-encoded 32-byte Ed25519 private key")]
    BadKey,
    #[error("`{text}` is not an argument constraint: NAME=VALUE, or NAME=PREFIX* for a prefix")]
    BadConstraint { text: String },
    #[error("a grant needs at least one tool")]
    NoTools,
    #[error("the token cannot be read or its signature does not verify: {0}")]
    Invalid(String),
    #[error("the token expired")]
    Expired,
    #[error("the token was issued to another agent, not {agent}")]
    WrongAgent { agent: String },
    #[error("the token does not allow the tool {tool}")]
    ToolNotAllowed { tool: String },
    #[error("the call's arguments do not meet the token's constraint `{constraint}`")]
    ArgumentRefused { constraint: String },
    #[error("the token was revoked (revocation id {id})")]
    Revoked { id: String },
    #[error("the token refuses this call: {0}")]
    Refused(String),
    #[error("building the token failed: {0}")]
    Build(String),
}

/// How an argument must look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "match", rename_all = "snake_case")]
pub enum ArgConstraint {
    Exact { name: String, value: String },
    Prefix { name: String, prefix: String },
}

impl ArgConstraint {
    /// `NAME=VALUE` (exact) or `NAME=PREFIX*` (prefix).
    pub fn parse(text: &str) -> Result<ArgConstraint, TokenError> {
        let refuse = || TokenError::BadConstraint {
            text: text.to_string(),
        };
        let (name, value) = text.split_once('=').ok_or_else(refuse)?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Err(refuse());
        }
        Ok(match value.strip_suffix('*') {
            Some(prefix) => ArgConstraint::Prefix {
                name: name.to_string(),
                prefix: prefix.to_string(),
            },
            None => ArgConstraint::Exact {
                name: name.to_string(),
                value: value.to_string(),
            },
        })
    }

    /// The check, as Datalog with its parameters.
    fn check(&self) -> (&'static str, HashMap<String, Term>) {
        let (code, name, value) = match self {
            ArgConstraint::Exact { name, value } => {
                ("check if call_arg({name}, $v), $v == {value}", name, value)
            }
            ArgConstraint::Prefix { name, prefix } => (
                "check if call_arg({name}, $v), $v.starts_with({value})",
                name,
                prefix,
            ),
        };
        (
            code,
            params([
                ("name", Term::Str(name.clone())),
                ("value", Term::Str(value.clone())),
            ]),
        )
    }
}

impl std::fmt::Display for ArgConstraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArgConstraint::Exact { name, value } => write!(f, "{name}={value}"),
            ArgConstraint::Prefix { name, prefix } => write!(f, "{name}={prefix}*"),
        }
    }
}

/// What a task token allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub agent: String,
    pub task: String,
    /// `server::tool` names (or whatever names the gateway passes to `verify`).
    pub tools: Vec<String>,
    pub args: Vec<ArgConstraint>,
    pub expires: DateTime<Utc>,
}

/// A further restriction an orchestrator adds for a sub-agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// Only these tools (of those the token already allows).
    pub tools: Option<Vec<String>>,
    pub args: Vec<ArgConstraint>,
    pub expires: Option<DateTime<Utc>>,
}

/// A minted token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MintedToken {
    /// Base64 (URL-safe), what the agent presents.
    pub token: String,
    /// Hex revocation ids, one per block; revoking the first revokes the token and every token
    /// attenuated from it.
    pub revocation_ids: Vec<String>,
}

/// What a verified token says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedToken {
    pub agent: String,
    pub task: String,
    pub revocation_ids: Vec<String>,
}

/// The gateway's root key: mints and verifies task tokens.
pub struct TokenAuthority {
    root: KeyPair,
}

impl std::fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        write!(f, "TokenAuthority({})", self.public_key_hex())
    }
}

/// Biscuit's default run limit is 1 ms of Datalog evaluation, which a loaded machine exceeds
/// (the call is then refused with a timeout, not for what the token says; 50 ms was still
/// exceeded on a 2-core host busy compiling). The fact and iteration limits are what bound a
/// hostile token, deterministically; the wall-clock limit is only a backstop.
const DATALOG_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

fn authorizer_builder() -> AuthorizerBuilder {
    AuthorizerBuilder::new().set_limits(AuthorizerLimits {
        max_time: DATALOG_TIME_LIMIT,
        ..AuthorizerLimits::default()
    })
}

fn build(error: impl std::fmt::Display) -> TokenError {
    TokenError::Build(error.to_string())
}

fn params<const N: usize>(pairs: [(&str, Term); N]) -> HashMap<String, Term> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn date(at: DateTime<Utc>) -> Term {
    // Biscuit dates are unsigned seconds; an instant before 1970 is "already expired".
    Term::Date(u64::try_from(at.timestamp()).unwrap_or(0))
}

fn tool_set(tools: &[String]) -> Term {
    Term::Set(tools.iter().map(|t| Term::Str(t.clone())).collect())
}

fn hex_ids(ids: Vec<Vec<u8>>) -> Vec<String> {
    ids.iter()
        .map(|id| id.iter().map(|b| format!("{b:02x}")).collect())
        .collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

impl TokenAuthority {
    /// A new random root key.
    pub fn generate() -> TokenAuthority {
        TokenAuthority {
            root: KeyPair::new(),
        }
    }

    /// The root key from its hex form (as `private_key_hex` writes it).
    pub fn from_private_key_hex(text: &str) -> Result<TokenAuthority, TokenError> {
        let bytes = from_hex(text).ok_or(TokenError::BadKey)?;
        let private =
            PrivateKey::from_bytes(&bytes, Algorithm::Ed25519).map_err(|_| TokenError::BadKey)?;
        Ok(TokenAuthority {
            root: KeyPair::from(&private),
        })
    }

    pub fn private_key_hex(&self) -> String {
        self.root
            .private()
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn public_key_hex(&self) -> String {
        self.root
            .public()
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Mints a token for `grant`.
    pub fn mint(&self, grant: &Grant) -> Result<MintedToken, TokenError> {
        if grant.tools.is_empty() {
            return Err(TokenError::NoTools);
        }
        let mut authority = BiscuitBuilder::new();
        let mut statements = vec![
            (
                "agent({agent})",
                params([("agent", Term::Str(grant.agent.clone()))]),
            ),
            (
                "task({task})",
                params([("task", Term::Str(grant.task.clone()))]),
            ),
            ("expires({at})", params([("at", date(grant.expires))])),
            (
                "check if call_agent({agent})",
                params([("agent", Term::Str(grant.agent.clone()))]),
            ),
            (
                "check if call_tool($t), {tools}.contains($t)",
                params([("tools", tool_set(&grant.tools))]),
            ),
            (
                "check if time($now), $now <= {at}",
                params([("at", date(grant.expires))]),
            ),
        ];
        statements.extend(
            grant
                .tools
                .iter()
                .map(|tool| ("tool({tool})", params([("tool", Term::Str(tool.clone()))]))),
        );
        statements.extend(grant.args.iter().map(ArgConstraint::check));
        for (code, values) in statements {
            authority = authority
                .code_with_params(code, values, HashMap::new())
                .map_err(build)?;
        }
        let token = authority.build(&self.root).map_err(build)?;
        Ok(MintedToken {
            token: token.to_base64().map_err(build)?,
            revocation_ids: hex_ids(token.revocation_identifiers()),
        })
    }

    /// Verifies `token` for one call: signature, revocation, then every block's checks against
    /// the call (agent, tool, top-level arguments) at `now`.
    pub fn verify(
        &self,
        token: &str,
        agent: &str,
        tool: &str,
        arguments: &serde_json::Value,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<VerifiedToken, TokenError> {
        self.open(token)?
            .verify(agent, tool, arguments, now, revoked)
    }

    /// Authenticates a token before any call is known (the gateway's `Authorization` check):
    /// its signature, its revocation ids and the authority block's expiry. The agent and task
    /// come from the authority block only. Each call is still checked with [`Self::verify`],
    /// which applies every block's checks (tools, arguments, an attenuated earlier expiry).
    pub fn authenticate(
        &self,
        token: &str,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<VerifiedToken, TokenError> {
        self.open(token)?.authenticate(now, revoked)
    }

    /// Reads `token` and verifies every block's signature against the root key, once: what it
    /// returns answers [`OpenedToken::authenticate`] and [`OpenedToken::verify`] for any number
    /// of calls without checking a signature again (the gateway keeps it per bearer token).
    pub fn open(&self, token: &str) -> Result<OpenedToken, TokenError> {
        let biscuit = Biscuit::from_base64(token.trim(), self.root.public())
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let revocation_ids = hex_ids(biscuit.revocation_identifiers());
        // Queries read the authority block's facts only, which the root key signed.
        let mut authorizer = authorizer_builder().build(&biscuit).map_err(build)?;
        let refused = |e: biscuit_auth::error::Token| TokenError::Refused(e.to_string());
        let agent: Vec<(String,)> = authorizer.query("data($a) <- agent($a)").map_err(refused)?;
        let task: Vec<(String,)> = authorizer.query("data($t) <- task($t)").map_err(refused)?;
        let expires: Vec<(std::time::SystemTime,)> = authorizer
            .query("data($e) <- expires($e)")
            .map_err(refused)?;
        let (Some((agent,)), Some((task,)), Some((expires,))) = (
            agent.into_iter().next(),
            task.into_iter().next(),
            expires.into_iter().next(),
        ) else {
            return Err(TokenError::Refused(
                "the token names no agent, task or expiry".to_string(),
            ));
        };
        Ok(OpenedToken {
            biscuit,
            verified: VerifiedToken {
                agent,
                task,
                revocation_ids,
            },
            expires: DateTime::<Utc>::from(expires),
        })
    }
}

/// A task token whose signatures verified against the root key (see [`TokenAuthority::open`]),
/// with what its authority block says.
#[derive(Debug, Clone)]
pub struct OpenedToken {
    biscuit: Biscuit,
    verified: VerifiedToken,
    /// The authority block's expiry (an attenuation may set an earlier one: `verify` applies it).
    expires: DateTime<Utc>,
}

/// Two opened tokens are the same token when their blocks' signatures (the revocation ids) are.
impl PartialEq for OpenedToken {
    fn eq(&self, other: &Self) -> bool {
        self.verified.revocation_ids == other.verified.revocation_ids
    }
}

impl Eq for OpenedToken {}

impl OpenedToken {
    /// The token's revocation ids (hex), one per block.
    pub fn revocation_ids(&self) -> &[String] {
        &self.verified.revocation_ids
    }

    /// The agent the authority block names.
    pub fn agent(&self) -> &str {
        &self.verified.agent
    }

    fn not_revoked(&self, revoked: &BTreeSet<String>) -> Result<(), TokenError> {
        match self
            .verified
            .revocation_ids
            .iter()
            .find(|id| revoked.contains(*id))
        {
            Some(id) => Err(TokenError::Revoked { id: id.clone() }),
            None => Ok(()),
        }
    }

    /// [`TokenAuthority::authenticate`] on a token already opened: revocation, then the
    /// authority block's expiry.
    pub fn authenticate(
        &self,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<VerifiedToken, TokenError> {
        self.not_revoked(revoked)?;
        if self.expires < now {
            return Err(TokenError::Expired);
        }
        Ok(self.verified.clone())
    }

    /// [`TokenAuthority::verify`] on a token already opened: revocation, then every block's
    /// checks against the call (agent, tool, top-level arguments) at `now`.
    pub fn verify(
        &self,
        agent: &str,
        tool: &str,
        arguments: &serde_json::Value,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<VerifiedToken, TokenError> {
        self.not_revoked(revoked)?;
        let mut builder = authorizer_builder();
        let facts = [
            (
                "call_agent({agent})",
                params([("agent", Term::Str(agent.to_string()))]),
            ),
            (
                "call_tool({tool})",
                params([("tool", Term::Str(tool.to_string()))]),
            ),
            ("time({now})", params([("now", date(now))])),
            ("allow if agent($a), task($t)", HashMap::new()),
        ];
        for (code, values) in facts {
            builder = builder
                .code_with_params(code, values, HashMap::new())
                .map_err(build)?;
        }
        if let Some(fields) = arguments.as_object() {
            for (name, value) in fields {
                let term = match value {
                    serde_json::Value::String(s) => Term::Str(s.clone()),
                    serde_json::Value::Bool(b) => Term::Bool(*b),
                    serde_json::Value::Number(n) => match n.as_i64() {
                        Some(i) => Term::Integer(i),
                        None => continue,
                    },
                    _ => continue,
                };
                builder = builder
                    .code_with_params(
                        "call_arg({name}, {value})",
                        params([("name", Term::Str(name.clone())), ("value", term)]),
                        HashMap::new(),
                    )
                    .map_err(build)?;
            }
        }
        let mut authorizer = builder.build(&self.biscuit).map_err(build)?;
        match authorizer.authorize() {
            Ok(_) => {}
            Err(BiscuitError::FailedLogic(Logic::Unauthorized { checks, .. })) => {
                return Err(explain(&checks, agent, tool));
            }
            Err(other) => return Err(TokenError::Refused(other.to_string())),
        }
        // The agent and task are the authority block's, read when the token was opened.
        Ok(self.verified.clone())
    }
}

fn explain(checks: &[FailedCheck], agent: &str, tool: &str) -> TokenError {
    let rules: Vec<&str> = checks
        .iter()
        .map(|c| match c {
            FailedCheck::Block(b) => b.rule.as_str(),
            FailedCheck::Authorizer(a) => a.rule.as_str(),
        })
        .collect();
    let has = |needle: &str| rules.iter().find(|r| r.contains(needle));
    if has("time(").is_some() {
        TokenError::Expired
    } else if has("call_agent(").is_some() {
        TokenError::WrongAgent {
            agent: agent.to_string(),
        }
    } else if has("call_tool(").is_some() {
        TokenError::ToolNotAllowed {
            tool: tool.to_string(),
        }
    } else if let Some(rule) = has("call_arg(") {
        TokenError::ArgumentRefused {
            constraint: (*rule).to_string(),
        }
    } else {
        TokenError::Refused(rules.join("; "))
    }
}

/// Appends a narrowing block to `token` (no key needed: any holder can narrow, none can widen).
pub fn attenuate(token: &str, narrowing: &Narrowing) -> Result<MintedToken, TokenError> {
    let biscuit = UnverifiedBiscuit::from_base64(token.trim())
        .map_err(|e| TokenError::Invalid(e.to_string()))?;
    let mut block = BlockBuilder::new();
    if let Some(tools) = &narrowing.tools {
        block = block
            .code_with_params(
                "check if call_tool($t), {tools}.contains($t)",
                params([("tools", tool_set(tools))]),
                HashMap::new(),
            )
            .map_err(build)?;
    }
    if let Some(expires) = narrowing.expires {
        block = block
            .code_with_params(
                "check if time($now), $now <= {at}",
                params([("at", date(expires))]),
                HashMap::new(),
            )
            .map_err(build)?;
    }
    for (code, values) in narrowing.args.iter().map(ArgConstraint::check) {
        block = block
            .code_with_params(code, values, HashMap::new())
            .map_err(build)?;
    }
    let narrowed = biscuit.append(block).map_err(build)?;
    Ok(MintedToken {
        token: narrowed.to_base64().map_err(build)?,
        revocation_ids: hex_ids(narrowed.revocation_identifiers()),
    })
}

/// Every block's Datalog, for people (`warrant jit inspect`); the signature is not checked.
pub fn describe(token: &str) -> Result<Vec<String>, TokenError> {
    let biscuit = UnverifiedBiscuit::from_base64(token.trim())
        .map_err(|e| TokenError::Invalid(e.to_string()))?;
    (0..biscuit.block_count())
        .map(|i| {
            biscuit
                .print_block_source(i)
                .map_err(|e| TokenError::Invalid(e.to_string()))
        })
        .collect()
}

/// The token's revocation ids (hex), without checking its signature.
pub fn revocation_ids(token: &str) -> Result<Vec<String>, TokenError> {
    let biscuit = UnverifiedBiscuit::from_base64(token.trim())
        .map_err(|e| TokenError::Invalid(e.to_string()))?;
    Ok(hex_ids(biscuit.revocation_identifiers()))
}
