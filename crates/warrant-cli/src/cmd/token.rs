//! `warrant token create|list|revoke`: API tokens scripts use in a user's name, each with its
//! own role (at most the user's) and an expiry. The raw token is printed once, at creation.

use chrono::Duration;
use serde::Serialize;
use warrant_app::accounts::{self, MAX_TOKEN_DAYS, Role, TokenInfo};

use crate::app::App;
use crate::output::{self, Format};

const SHOWN_ONCE: &str =
    "This token is shown only once: store it now. It cannot be shown again, only revoked.";

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (once). Its role must be the user's or
    /// viewer (an admin's token may have any role). Formats: table, json.
    Create {
        /// Whose token: it acts in their name.
        #[arg(long, value_name = "USERNAME")]
        user: String,
        /// What it is for (shown in listings).
        #[arg(long)]
        name: String,
        /// viewer, owner, reviewer, approver or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Days until it expires (1 to 365).
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i64).range(1..=MAX_TOKEN_DAYS))]
        expires_in_days: i64,
    },
    /// API tokens, revoked and expired ones included (never the tokens themselves). Formats:
    /// table, json.
    List {
        /// Only this user's tokens.
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
    },
    /// Revoke a token by its id (the part after `wat_`, as `token list` shows it).
    Revoke {
        id: String,
        /// Who revokes it, for the audit trail.
        #[arg(long = "as", value_name = "USERNAME", env = "WARRANT_USER", default_value = accounts::ADMIN_ACTOR)]
        actor: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse::<Role>().map_err(|e| e.to_string())
}

/// `token create --format json`: the raw token beside what is kept about it.
#[derive(Serialize)]
struct Created<'a> {
    token: &'a str,
    info: &'a TokenInfo,
    note: &'static str,
}

pub fn run(app: &App, args: TokenArgs) -> anyhow::Result<u8> {
    match args.command {
        TokenCommand::Create {
            user,
            name,
            role,
            expires_in_days,
        } => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let store = app.open_existing_store()?;
            let now = app.now();
            let expires_at = now + Duration::days(expires_in_days);
            let (raw, info) = app.run(accounts::create_token(
                &store, &user, &name, role, expires_at, now,
            ))?;
            if format == Format::Json {
                let created = Created {
                    token: &raw,
                    info: &info,
                    note: SHOWN_ONCE,
                };
                println!("{}", serde_json::to_string_pretty(&created)?);
                return Ok(crate::exit::OK);
            }
            println!(
                "Created token {} \"{}\" for {} (role {}), expiring {}:",
                info.id,
                info.name,
                info.username,
                info.role,
                info.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            println!("{raw}");
            println!("{SHOWN_ONCE}");
            Ok(crate::exit::OK)
        }
        TokenCommand::List { user } => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let store = app.open_existing_store()?;
            let tokens = app.run(accounts::tokens(&store, user.as_deref()))?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
                return Ok(crate::exit::OK);
            }
            let now = app.now();
            println!(
                "{:<8} {:<20} {:<9} {:<7} {:<10} {:<10} {:<10}  name",
                "id", "user", "role", "state", "created", "expires", "last used"
            );
            for t in &tokens {
                let state = if t.revoked {
                    "revoked"
                } else if t.expires_at <= now {
                    "expired"
                } else {
                    "active"
                };
                println!(
                    "{:<8} {:<20} {:<9} {:<7} {:<10} {:<10} {:<10}  {}",
                    t.id,
                    t.username,
                    t.role,
                    state,
                    t.created_at.format("%Y-%m-%d"),
                    t.expires_at.format("%Y-%m-%d"),
                    t.last_used_at
                        .map(|at| at.format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| "never".into()),
                    t.name
                );
            }
            println!("{} token(s).", tokens.len());
            Ok(crate::exit::OK)
        }
        TokenCommand::Revoke { id, actor } => {
            let store = app.open_existing_store()?;
            if !app.run(accounts::revoke_token(&store, &id, &actor, app.now()))? {
                anyhow::bail!("no token {id} to revoke (unknown, or revoked already)");
            }
            println!("Revoked token {id}.");
            Ok(crate::exit::OK)
        }
    }
}
