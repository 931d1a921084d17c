//! `warrant exception add|list|remove`: exceptions granted under the governance policy, each
//! with a scope, an owner, a reason and an expiry; every change goes to the audit trail.

use std::collections::BTreeMap;
use std::path::PathBuf;

use warrant_core::{RuleId, Timestamp};
use warrant_lifecycle::{ExceptionState, Match, NewException};

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ExceptionArgs {
    #[command(subcommand)]
    command: ExceptionCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ExceptionCommand {
    /// Grant an exception: for an identity, a rule, identities with a tag, or any combination
    /// (--identity, --rule and --tag together must all hold; each --match adds an alternative).
    Add(AddArgs),
    /// List exceptions in force, soonest to expire first (--all: expired and withdrawn too).
    /// Formats: table, json.
    List {
        /// Only those expiring within this window (e.g. 30d).
        #[arg(long, value_name = "WINDOW", value_parser = output::parse_window)]
        expiring: Option<chrono::Duration>,
        /// Include expired and withdrawn exceptions.
        #[arg(long)]
        all: bool,
        /// Tell each listed exception's owner it is expiring, through the `[notify]` targets
        /// (with --expiring).
        #[arg(long, requires = "expiring")]
        notify: bool,
    },
    /// Withdraw an exception before it expires (recorded, never deleted).
    Remove {
        #[arg(value_name = "EXCEPTION_ID")]
        id: String,
        /// Who withdraws it.
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
    },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// Only this identity (its full id).
    #[arg(long, value_name = "ID")]
    identity: Option<String>,
    /// Only this rule (see `warrant rules`).
    #[arg(long, value_parser = |s: &str| s.parse::<RuleId>().map_err(|e| e.to_string()))]
    rule: Option<RuleId>,
    /// Only identities carrying this tag or label (repeatable: all must hold).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_tag)]
    tag: Vec<(String, String)>,
    /// Another alternative scope: `identity=ID,rule=RULE,tag=KEY=VALUE` (repeatable).
    #[arg(long = "match", value_name = "SPEC", value_parser = parse_match)]
    matches: Vec<Match>,
    /// Why the finding may stand.
    #[arg(long)]
    reason: String,
    /// When it stops applying (YYYY-MM-DD or RFC 3339); at most the policy's
    /// max_exception_days away.
    #[arg(long, value_parser = output::parse_instant)]
    expires: Timestamp,
    /// Who answers for it (an email address).
    #[arg(long = "by", value_name = "EMAIL")]
    owner: String,
    /// Who grants it (default: WARRANT_USER, else the owner).
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: Option<String>,
    /// The governance policy (default: ./warrant-policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn parse_match(text: &str) -> Result<Match, String> {
    let mut m = Match::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not identity=ID, rule=RULE or tag=KEY=VALUE"))?;
        match key.trim() {
            "identity" => m.identity = Some(value.trim().to_string()),
            "rule" => m.rule = Some(value.trim().parse::<RuleId>().map_err(|e| e.to_string())?),
            "tag" => {
                let (k, v) = parse_tag(value)?;
                m.tags.insert(k, v);
            }
            other => {
                return Err(format!(
                    "unknown condition `{other}` (identity, rule or tag)"
                ));
            }
        }
    }
    Ok(m)
}

pub fn run(app: &App, args: ExceptionArgs) -> anyhow::Result<u8> {
    match args.command {
        ExceptionCommand::Add(add) => {
            let policy = crate::cmd::policy::load(add.policy.as_deref())?;
            let mut matches = vec![Match {
                identity: add.identity,
                rule: add.rule,
                tags: add.tag.into_iter().collect::<BTreeMap<_, _>>(),
            }];
            matches.extend(add.matches);
            let actor = add.actor.unwrap_or_else(|| add.owner.clone());
            let request = NewException {
                matches,
                reason: add.reason,
                owner: add.owner,
                expires: add.expires,
            };
            let store = app.open_store()?;
            let exception = app.run(warrant_app::lifecycle::grant_exception(
                &store,
                &policy,
                request,
                app.now(),
                &actor,
            ))?;
            println!(
                "Granted {} until {}: {} (owner {}).",
                exception.id,
                exception.expires.format("%Y-%m-%d"),
                exception.scope(),
                exception.owner
            );
            Ok(crate::exit::OK)
        }
        ExceptionCommand::List {
            expiring,
            all,
            notify,
        } => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let store = app.open_existing_store()?;
            let soon = expiring.unwrap_or_else(|| chrono::Duration::days(30));
            let views: Vec<_> = app
                .run(warrant_app::lifecycle::exceptions(&store, app.now(), soon))?
                .into_iter()
                .filter(|v| all || v.in_force())
                .filter(|v| {
                    expiring.is_none()
                        || matches!(v.state, ExceptionState::ExpiringSoon { .. })
                            && v.withdrawn_at.is_none()
                })
                .collect();
            if notify {
                if app.config.notify.targets.is_empty() {
                    anyhow::bail!(
                        "--notify needs notification targets: add [[notify.targets]] to warrant.toml"
                    );
                }
                app.notify(&warrant_app::notify::exception_events(&views, app.now()))?;
            }
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&views)?);
                return Ok(crate::exit::OK);
            }
            for v in &views {
                let state = match (&v.withdrawn_at, v.state) {
                    (Some(at), _) => format!("withdrawn {}", at.format("%Y-%m-%d")),
                    (None, ExceptionState::Expired) => "expired".to_string(),
                    (None, ExceptionState::ExpiringSoon { days_left }) => {
                        format!("expires in {days_left} days")
                    }
                    (None, ExceptionState::Active) => "active".to_string(),
                };
                println!(
                    "{}  until {}  {state}\n  {}\n  owner {} · granted by {} on {} · {}",
                    v.exception.id,
                    v.exception.expires.format("%Y-%m-%d"),
                    v.scope,
                    v.exception.owner,
                    v.exception.created_by,
                    v.exception.created.format("%Y-%m-%d"),
                    v.exception.reason
                );
            }
            println!("{} exception(s).", views.len());
            Ok(crate::exit::OK)
        }
        ExceptionCommand::Remove { id, actor } => {
            let store = app.open_existing_store()?;
            app.run(warrant_app::lifecycle::withdraw_exception(
                &store,
                &id,
                app.now(),
                &actor,
            ))?;
            println!("Withdrew {id}.");
            Ok(crate::exit::OK)
        }
    }
}
