//! `warrant owner set|clear|show`: explicit owners, kept as a history, and every owner in force
//! with where it came from.

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct OwnerArgs {
    #[command(subcommand)]
    command: OwnerCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OwnerCommand {
    /// Name the person who answers for an identity (trusted above tags and labels; the previous
    /// owner stays in the history).
    Set {
        /// The identity (its id, name or the end of its id).
        identity: String,
        /// The owner's email address.
        owner: String,
        /// Who makes the change.
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Withdraw the explicit owner (what the provider records applies again).
    Clear {
        identity: String,
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// The owners in force with their sources, the history of assignments, and the evidence
    /// (creators from activity logs, CODEOWNERS of repositories using it). Formats: table, json.
    Show { identity: String },
}

pub fn run(app: &App, args: OwnerArgs) -> anyhow::Result<u8> {
    match args.command {
        OwnerCommand::Set {
            identity,
            owner,
            actor,
            reason,
        } => {
            let store = app.open_existing_store()?;
            let id = app.run(warrant_app::ownership::set_owner(
                &store,
                &identity,
                &owner,
                &actor,
                reason.as_deref(),
                app.now(),
            ))?;
            println!("{id} is owned by {owner} (set by {actor}).");
            Ok(crate::exit::OK)
        }
        OwnerCommand::Clear {
            identity,
            actor,
            reason,
        } => {
            let store = app.open_existing_store()?;
            let id = app.run(warrant_app::ownership::set_owner(
                &store,
                &identity,
                "",
                &actor,
                reason.as_deref(),
                app.now(),
            ))?;
            println!("{id}: explicit owner withdrawn (by {actor}).");
            Ok(crate::exit::OK)
        }
        OwnerCommand::Show { identity } => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let store = app.open_existing_store()?;
            let view = app.run(warrant_app::ownership::owners(&store, &identity))?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&view)?);
                return Ok(crate::exit::OK);
            }
            println!("{}", view.identity);
            if view.owners.is_empty() {
                println!("  no owner");
            }
            for o in &view.owners {
                println!("  {}  (from {})", o.id, o.source);
            }
            if !view.provider_changes.is_empty() {
                println!("Changes of the provider's owners (tags, labels, annotations):");
                let ids = |json: Option<&str>| -> String {
                    let owners: Vec<warrant_core::OwnerRef> = json
                        .and_then(|j| serde_json::from_str(j).ok())
                        .unwrap_or_default();
                    if owners.is_empty() {
                        "none".to_string()
                    } else {
                        owners
                            .iter()
                            .map(|o| o.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                };
                for c in &view.provider_changes {
                    println!(
                        "  {}  {} -> {}  ({})",
                        c.at.format("%Y-%m-%d %H:%M UTC"),
                        ids(c.before.as_deref()),
                        ids(c.after.as_deref()),
                        c.actor
                    );
                }
            }
            if !view.evidence.is_empty() {
                println!("Evidence (creators, CODEOWNERS):");
                for e in &view.evidence {
                    println!(
                        "  {}  {}  {}  {}",
                        e.at.format("%Y-%m-%d %H:%M UTC"),
                        e.owner,
                        e.source,
                        e.detail
                    );
                }
            }
            if !view.history.is_empty() {
                println!("History of explicit assignments:");
                for a in &view.history {
                    println!(
                        "  {}  {}  by {}{}",
                        a.at.format("%Y-%m-%d %H:%M UTC"),
                        if a.owner.is_empty() {
                            "withdrawn"
                        } else {
                            a.owner.as_str()
                        },
                        a.assigned_by,
                        a.reason
                            .as_deref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(crate::exit::OK)
        }
    }
}
