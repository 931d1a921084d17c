//! `warrant jit keygen|grant|attenuate|verify|inspect|revoke|grants`: just-in-time task tokens
//! (Biscuit) bound to an agent, a task, tools, argument constraints and an expiry. `grant`
//! records what it minted in the store (never the token), `revoke` adds a token's revocation
//! ids to the store's list, which every gateway sharing the store checks on each call, and
//! `verify` checks that list too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use warrant_core::clock::{Clock, SystemClock};
use warrant_gateway::token::{self, MintedToken, Narrowing};
use warrant_gateway::{ArgConstraint, Grant, TokenAuthority, TokenError, duration};

use crate::GlobalArgs;
use crate::cmd::gateway::load_config;
use crate::output::{self, Format};

/// The longest lifetime `grant` mints unless gateway.toml's `tokens.max_ttl` says otherwise.
const DEFAULT_MAX_TTL: &str = "1h";

#[derive(Debug, clap::Args)]
pub struct JitArgs {
    #[command(subcommand)]
    command: JitCommand,
}

#[derive(Debug, clap::Args)]
struct KeyArg {
    /// The root key file (hex Ed25519 private key, from `jit keygen`). Default: gateway.toml's
    /// `tokens.root_key_file` (the global --config, default ./gateway.toml).
    #[arg(long, env = "WARRANT_JIT_KEY_FILE", value_name = "FILE")]
    key: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum JitCommand {
    /// Create a root key for task tokens and write it to FILE (readable by its owner only);
    /// prints the public key.
    Keygen {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Mint a task token bound to an agent, a task, tools, argument constraints and an expiry;
    /// prints the token and its revocation id. Formats: table, json.
    Grant {
        /// The agent (its identity id in Warrant's inventory).
        #[arg(long, value_name = "ID")]
        agent: String,
        /// What the token is for ("triage ticket 123").
        #[arg(long, value_name = "TEXT")]
        task: String,
        /// The tools it may call, `server::tool`, comma-separated.
        #[arg(long, value_name = "TOOLS", value_delimiter = ',', required = true)]
        tools: Vec<String>,
        /// Argument constraints, comma-separated: NAME=VALUE (exact) or NAME=PREFIX* (prefix).
        #[arg(long, value_name = "CONSTRAINTS", value_delimiter = ',')]
        args: Vec<String>,
        /// Lifetime: 90s, 15m, 1h… (at most gateway.toml's tokens.max_ttl, default 1h).
        #[arg(long, value_name = "DURATION", default_value = "15m")]
        ttl: String,
        #[command(flatten)]
        key: KeyArg,
        /// Who mints it, for the record (default: WARRANT_USER, else the login name).
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: Option<String>,
    },
    /// Narrow a token for a sub-agent, offline (no key): fewer tools, more argument constraints,
    /// an earlier expiry. A token can never be widened. Formats: table, json.
    Attenuate {
        /// The token (`-` reads it from standard input).
        #[arg(value_name = "TOKEN")]
        token: String,
        #[arg(long, value_name = "TOOLS", value_delimiter = ',')]
        tools: Option<Vec<String>>,
        #[arg(long, value_name = "CONSTRAINTS", value_delimiter = ',')]
        args: Vec<String>,
        #[arg(long, value_name = "DURATION")]
        ttl: Option<String>,
    },
    /// Check a token as the gateway would for one call (agent, tool, arguments, now): exit code
    /// 0 when it allows the call, 1 with the reason when it does not. Formats: table, json.
    Verify {
        /// The token (`-` reads it from standard input).
        #[arg(value_name = "TOKEN")]
        token: String,
        /// The calling agent.
        #[arg(long, value_name = "ID")]
        agent: String,
        /// The tool called, `server::tool`.
        #[arg(long, value_name = "TOOL")]
        tool: String,
        /// The call's arguments (a JSON object).
        #[arg(long = "call-args", value_name = "JSON", default_value = "{}")]
        call_args: String,
        /// A file of revoked ids, one hex id a line (the store's revocations are checked too).
        #[arg(long, value_name = "FILE")]
        revoked: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Revoke a token at once, for every gateway sharing the store: all its blocks (and so
    /// every token attenuated from it), or the revocation ids given with --id. Audited.
    /// Formats: table, json.
    Revoke {
        /// The token (`-` reads it from standard input); or give --id instead.
        #[arg(value_name = "TOKEN", required_unless_present = "ids")]
        token: Option<String>,
        /// Revocation ids (hex, from `grant` or `inspect`), comma-separated.
        #[arg(
            long = "id",
            value_name = "IDS",
            value_delimiter = ',',
            conflicts_with = "token"
        )]
        ids: Vec<String>,
        /// Why, for the audit trail.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who revokes it (default: WARRANT_USER).
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
    },
    /// The task tokens minted, with how they were used: one expired unused or used for calls
    /// outside its grant raises an alert (`warrant alerts`; the gateway also checks every
    /// minute); exit code 1 then with `--fail-on-misuse`. Formats: table, json.
    Grants {
        /// Exit 1 when a token expired without a single call, or was refused a call.
        #[arg(long)]
        fail_on_misuse: bool,
    },
    /// Show a token's blocks (Datalog) and revocation ids, without checking its signature.
    /// Formats: table, json.
    Inspect {
        /// The token (`-` reads it from standard input).
        #[arg(value_name = "TOKEN")]
        token: String,
    },
}

pub fn run(global: &GlobalArgs, args: JitArgs) -> anyhow::Result<u8> {
    let now = global.as_of.unwrap_or_else(|| SystemClock.now());
    let formats = [Format::Table, Format::Json];
    match args.command {
        JitCommand::Keygen { file } => keygen(&file),
        JitCommand::Grant {
            agent,
            task,
            tools,
            args,
            ttl,
            key,
            actor,
        } => {
            let format = output::choose(global.format, Format::Table, &formats)?;
            let authority = authority(global, &key)?;
            let max_ttl = load_config(global)?
                .and_then(|(_, c)| c.tokens.max_ttl)
                .unwrap_or_else(|| DEFAULT_MAX_TTL.to_string());
            let seconds = duration::parse_seconds(&ttl)?;
            let max = duration::parse_seconds(&max_ttl)?;
            anyhow::ensure!(
                seconds <= max,
                "--ttl {ttl} is longer than the longest lifetime allowed ({max_ttl}, tokens.max_ttl)"
            );
            let grant = Grant {
                agent,
                task,
                tools,
                args: constraints(&args)?,
                expires: now + Duration::seconds(seconds),
            };
            let minted = authority.mint(&grant)?;
            record_grant(global, &grant, &minted, now, actor)?;
            print_minted(format, &minted, Some(&grant))?;
            Ok(crate::exit::OK)
        }
        JitCommand::Attenuate {
            token,
            tools,
            args,
            ttl,
        } => {
            let format = output::choose(global.format, Format::Table, &formats)?;
            let expires = ttl
                .map(|t| duration::parse_seconds(&t).map(|s| now + Duration::seconds(s)))
                .transpose()?;
            let narrowing = Narrowing {
                tools,
                args: constraints(&args)?,
                expires,
            };
            let minted = token::attenuate(&read_token(&token)?, &narrowing)?;
            print_minted(format, &minted, None)?;
            Ok(crate::exit::OK)
        }
        JitCommand::Verify {
            token,
            agent,
            tool,
            call_args,
            revoked,
            key,
        } => {
            let format = output::choose(global.format, Format::Table, &formats)?;
            let authority = authority(global, &key)?;
            let arguments: serde_json::Value =
                serde_json::from_str(&call_args).context("--call-args must be a JSON object")?;
            let token = read_token(&token)?;
            let mut revoked = revoked
                .as_deref()
                .map(read_revoked)
                .transpose()?
                .unwrap_or_default();
            revoked.extend(stored_revocations(global, &token)?);
            verify(
                format, &authority, &token, &agent, &tool, &arguments, now, &revoked,
            )
        }
        JitCommand::Revoke {
            token,
            ids,
            reason,
            actor,
        } => {
            let format = output::choose(global.format, Format::Table, &formats)?;
            let ids = match token {
                Some(token) => token::revocation_ids(&read_token(&token)?)?,
                None => ids,
            };
            anyhow::ensure!(
                ids.iter()
                    .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit())),
                "revocation ids are hex (from `warrant jit grant` or `inspect`)"
            );
            let app = store_app(global)?;
            let store = app.open_store()?;
            let newly = app.block_on(store.revoke_tokens(&ids, &actor, &reason, now))?;
            if format == Format::Json {
                let doc = serde_json::json!({"revoked": newly, "already_revoked": ids.iter().filter(|i| !newly.contains(i)).collect::<Vec<_>>()});
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                for id in &ids {
                    let state = if newly.contains(id) {
                        "revoked"
                    } else {
                        "already revoked"
                    };
                    println!("{id}  {state}");
                }
            }
            Ok(crate::exit::OK)
        }
        JitCommand::Grants { fail_on_misuse } => {
            let format = output::choose(global.format, Format::Table, &formats)?;
            let app = store_app(global)?;
            let store = app.open_existing_store()?;
            let grants = app.block_on(store.grants(None))?;
            // The same judgement as the gateway's sweep, recorded as alerts (`warrant alerts`).
            app.block_on(warrant_app::gateway::grant_alerts(&store, now))?;
            let misuse = |g: &warrant_store::GrantRow| -> Option<&'static str> {
                if g.refused > 0 {
                    Some("used outside its grant")
                } else if g.uses == 0 && g.expires_at <= now {
                    Some("expired unused")
                } else {
                    None
                }
            };
            if format == Format::Json {
                let rows: Vec<serde_json::Value> = grants
                    .iter()
                    .map(|g| {
                        serde_json::json!({
                            "id": g.id, "agent": g.agent, "task": g.task,
                            "grant": serde_json::from_str::<serde_json::Value>(&g.grant_json).unwrap_or(serde_json::Value::Null),
                            "issued_at": g.issued_at, "expires_at": g.expires_at, "issued_by": g.issued_by,
                            "uses": g.uses, "refused": g.refused,
                            "first_used_at": g.first_used_at, "last_used_at": g.last_used_at,
                            "misuse": misuse(g),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:<18} {:<24} {:<28} {:>5} {:>8}  {:<20} NOTE",
                    "ID", "AGENT", "TASK", "USES", "REFUSED", "EXPIRES"
                );
                for g in &grants {
                    let id: String = g.id.chars().take(16).collect();
                    println!(
                        "{:<18} {:<24} {:<28} {:>5} {:>8}  {:<20} {}",
                        id,
                        g.agent,
                        g.task,
                        g.uses,
                        g.refused,
                        g.expires_at.format("%Y-%m-%d %H:%M:%S"),
                        misuse(g).unwrap_or("")
                    );
                }
            }
            let misused = grants.iter().any(|g| misuse(g).is_some());
            Ok(if fail_on_misuse && misused {
                crate::exit::FINDINGS
            } else {
                crate::exit::OK
            })
        }
        JitCommand::Inspect { token } => {
            let format = output::choose(global.format, Format::Table, &formats)?;
            let token = read_token(&token)?;
            let blocks = token::describe(&token)?;
            let ids = token::revocation_ids(&token)?;
            if format == Format::Json {
                let doc = serde_json::json!({ "blocks": blocks, "revocation_ids": ids });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                for (i, (block, id)) in blocks.iter().zip(&ids).enumerate() {
                    let kind = if i == 0 { "authority" } else { "attenuation" };
                    println!("block {i} ({kind}), revocation id {id}:");
                    for line in block.lines() {
                        println!("  {line}");
                    }
                }
            }
            Ok(crate::exit::OK)
        }
    }
}

/// The application over Warrant's store. For `jit` and `gateway` commands `--config` names
/// gateway.toml, so Warrant's own settings come from ./warrant.toml and WARRANT_* variables.
pub(crate) fn store_app(global: &GlobalArgs) -> anyhow::Result<crate::app::App> {
    let warrant = GlobalArgs {
        config: None,
        ..global.clone()
    };
    crate::app::App::new(&warrant)
}

/// Records a minted token in the store: what it allows and its revocation ids, never the
/// token itself.
fn record_grant(
    global: &GlobalArgs,
    grant: &Grant,
    minted: &MintedToken,
    now: DateTime<Utc>,
    actor: Option<String>,
) -> anyhow::Result<()> {
    let Some(id) = minted.revocation_ids.first() else {
        anyhow::bail!("the minted token has no revocation id");
    };
    let issued_by = actor
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".to_string());
    let app = store_app(global)?;
    let store = app.open_store()?;
    let row = warrant_store::GrantRow {
        id: id.clone(),
        agent: grant.agent.clone(),
        task: grant.task.clone(),
        grant_json: serde_json::to_string(grant)?,
        revocation_ids: minted.revocation_ids.clone(),
        issued_at: now,
        expires_at: grant.expires,
        issued_by,
        uses: 0,
        refused: 0,
        first_used_at: None,
        last_used_at: None,
    };
    app.block_on(store.record_grant(&row))
        .context("recording the grant in the store")
}

/// The token's revocation ids the store has revoked (none when there is no store yet).
fn stored_revocations(global: &GlobalArgs, token: &str) -> anyhow::Result<BTreeSet<String>> {
    let app = store_app(global)?;
    if !app.store_exists() {
        return Ok(BTreeSet::new());
    }
    let store = app.open_store()?;
    let ids = token::revocation_ids(token)?;
    Ok(app.block_on(store.revoked_among(&ids))?)
}

#[allow(clippy::too_many_arguments)]
fn verify(
    format: Format,
    authority: &TokenAuthority,
    token: &str,
    agent: &str,
    tool: &str,
    arguments: &serde_json::Value,
    now: DateTime<Utc>,
    revoked: &BTreeSet<String>,
) -> anyhow::Result<u8> {
    match authority.verify(token, agent, tool, arguments, now, revoked) {
        Ok(verified) => {
            if format == Format::Json {
                let doc = serde_json::json!({ "allowed": true, "token": verified });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                println!(
                    "Allowed: agent {} may call {tool} for task \"{}\".\nRevocation ids: {}",
                    verified.agent,
                    verified.task,
                    verified.revocation_ids.join(", ")
                );
            }
            Ok(crate::exit::OK)
        }
        Err(error @ (TokenError::BadKey | TokenError::Build(_))) => Err(error.into()),
        Err(refused) => {
            if format == Format::Json {
                let doc = serde_json::json!({ "allowed": false, "reason": refused.to_string() });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                println!("Refused: {refused}.");
            }
            Ok(crate::exit::FINDINGS)
        }
    }
}

fn constraints(texts: &[String]) -> anyhow::Result<Vec<ArgConstraint>> {
    Ok(texts
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| ArgConstraint::parse(t.trim()))
        .collect::<Result<_, _>>()?)
}

fn print_minted(format: Format, minted: &MintedToken, grant: Option<&Grant>) -> anyhow::Result<()> {
    if format == Format::Json {
        let doc = serde_json::json!({ "token": minted.token, "revocation_ids": minted.revocation_ids, "grant": grant });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("{}", minted.token);
    if let Some(grant) = grant {
        eprintln!(
            "Token for agent {} (task \"{}\"), tools {}, expires {}.",
            grant.agent,
            grant.task,
            grant.tools.join(", "),
            grant.expires.to_rfc3339()
        );
    }
    eprintln!(
        "Revocation id: {}",
        minted.revocation_ids.last().map_or("", String::as_str)
    );
    Ok(())
}

/// TOKEN, or standard input for `-`.
fn read_token(text: &str) -> anyhow::Result<String> {
    if text == "-" {
        let input = warrant_input::read_bounded_string(std::io::stdin(), 1024 * 1024)
            .context("reading the token from standard input")?;
        return Ok(input.trim().to_string());
    }
    Ok(text.trim().to_string())
}

fn read_revoked(path: &Path) -> anyhow::Result<BTreeSet<String>> {
    let text = warrant_input::read_file_to_string(path, warrant_input::SMALL_FILE_LIMIT)
        .with_context(|| format!("reading the revocation list {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect())
}

fn authority(global: &GlobalArgs, key: &KeyArg) -> anyhow::Result<TokenAuthority> {
    let path = match &key.key {
        Some(path) => path.clone(),
        None => {
            let Some((config_path, config)) = load_config(global)? else {
                anyhow::bail!(
                    "no root key: pass --key FILE (create one with `warrant jit keygen FILE`) or set tokens.root_key_file in gateway.toml"
                );
            };
            let Some(file) = config.tokens.root_key_file.as_deref() else {
                anyhow::bail!(
                    "{} has no tokens.root_key_file; pass --key FILE",
                    config_path.display()
                );
            };
            warrant_gateway::config::GatewayConfig::resolve(&config_path, file)
        }
    };
    let text = warrant_input::read_file_to_string(&path, 4096)
        .with_context(|| format!("reading the root key {}", path.display()))?;
    TokenAuthority::from_private_key_hex(&text).with_context(|| format!("{}", path.display()))
}

fn keygen(file: &Path) -> anyhow::Result<u8> {
    use std::io::Write as _;
    anyhow::ensure!(
        !file.exists(),
        "{} exists: not overwriting a root key",
        file.display()
    );
    let authority = TokenAuthority::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut out = options
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    writeln!(out, "{}", authority.private_key_hex())
        .with_context(|| format!("writing {}", file.display()))?;
    println!("Root key written to {}.", file.display());
    println!("Public key: ed25519/{}", authority.public_key_hex());
    Ok(crate::exit::OK)
}
