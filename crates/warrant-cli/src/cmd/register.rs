//! `warrant register …`: identities the organisation intends to run, approved by a second
//! person; discovered identities that match one are sanctioned, the rest are shadow.

use warrant_core::{Environment, IdentityKind, Timestamp};
use warrant_lifecycle::register::{NewRegistration, Sanction};

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    #[command(subcommand)]
    command: RegisterCommand,
}

#[derive(Debug, clap::Subcommand)]
enum RegisterCommand {
    /// Request a registration: name, kind, owner, purpose, environment, expiry (it needs
    /// another person's approval).
    Add(AddArgs),
    /// Approve a requested registration (not your own).
    Approve(DecideArgs),
    /// Reject a requested registration.
    Reject(DecideArgs),
    /// Withdraw a registration (the identity is shadow again).
    Withdraw(DecideArgs),
    /// Registrations and their status. Formats: table, json.
    List,
    /// Every identity, sanctioned or shadow, and what registration asks for it (a powerful
    /// shadow suspended pending review, an expired registration decommissioned; `warrant plan
    /// propose` writes those plans). Formats: table, json.
    Status {
        /// Only shadow identities.
        #[arg(long)]
        shadow: bool,
    },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// The identity's name at its provider.
    #[arg(long)]
    name: String,
    /// Its kind (aws_user, aws_role, k8s_service_account, github_app, …).
    #[arg(long, value_parser = |s: &str| s.parse::<IdentityKind>().map_err(|e| e.to_string()))]
    kind: IdentityKind,
    /// The account, cluster or organisation it lives in.
    #[arg(long)]
    account: Option<String>,
    /// Who answers for it (an email address).
    #[arg(long)]
    owner: String,
    /// What it is for.
    #[arg(long)]
    purpose: String,
    /// What it may reach.
    #[arg(long)]
    scope: Option<String>,
    #[arg(long, value_parser = |s: &str| s.parse::<Environment>().map_err(|e| e.to_string()))]
    environment: Environment,
    /// When it is to be decommissioned (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_parser = output::parse_instant)]
    expires: Option<Timestamp>,
    /// Who registers it.
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: String,
}

#[derive(Debug, clap::Args)]
struct DecideArgs {
    #[arg(value_name = "REGISTRATION_ID")]
    id: String,
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: String,
    #[arg(long)]
    reason: Option<String>,
}

pub fn run(app: &App, args: RegisterArgs) -> anyhow::Result<u8> {
    let decide = |d: DecideArgs, decision: &str| -> anyhow::Result<u8> {
        let store = app.open_existing_store()?;
        let view = app.run(warrant_app::ownership::decide_registration(
            &store,
            &d.id,
            &d.actor,
            decision,
            d.reason.as_deref(),
            app.now(),
        ))?;
        println!("{} is {} (by {}).", d.id, view.status, d.actor);
        Ok(crate::exit::OK)
    };
    match args.command {
        RegisterCommand::Add(a) => {
            let store = app.open_store()?;
            let registration = app.run(warrant_app::ownership::register(
                &store,
                NewRegistration {
                    name: a.name,
                    kind: a.kind,
                    account: a.account,
                    owner: a.owner,
                    purpose: a.purpose,
                    scope: a.scope,
                    environment: a.environment,
                    expires: a.expires,
                },
                &a.actor,
                app.now(),
            ))?;
            println!(
                "Requested {}: {} {} owned by {}. Someone other than {} approves it: warrant register approve {} --as EMAIL",
                registration.id,
                registration.request.kind,
                registration.request.name,
                registration.request.owner,
                registration.requested_by,
                registration.id
            );
            Ok(crate::exit::OK)
        }
        RegisterCommand::Approve(d) => decide(d, "approve"),
        RegisterCommand::Reject(d) => decide(d, "reject"),
        RegisterCommand::Withdraw(d) => decide(d, "withdraw"),
        RegisterCommand::List => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let store = app.open_existing_store()?;
            let list = app.run(warrant_app::ownership::registrations(&store))?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(crate::exit::OK);
            }
            for v in &list {
                let r = &v.registration;
                println!(
                    "{}  {:<9} {} {} · owner {} · {} · {}{}",
                    r.id,
                    v.status,
                    r.request.kind,
                    r.request.name,
                    r.request.owner,
                    r.request.environment,
                    r.request.purpose,
                    r.request
                        .expires
                        .map(|e| format!(" · expires {}", e.format("%Y-%m-%d")))
                        .unwrap_or_default()
                );
            }
            println!("{} registration(s).", list.len());
            Ok(crate::exit::OK)
        }
        RegisterCommand::Status { shadow } => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let store = app.open_existing_store()?;
            let views: Vec<_> = app
                .run(warrant_app::ownership::sanctions(&store, app.now()))?
                .into_iter()
                .filter(|v| !shadow || v.sanction == Sanction::Shadow)
                .collect();
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&views)?);
                return Ok(crate::exit::OK);
            }
            let n_shadow = views
                .iter()
                .filter(|v| v.sanction == Sanction::Shadow)
                .count();
            for v in &views {
                println!(
                    "{:<28} {:>5.1}  {}{}",
                    v.sanction.to_string(),
                    v.blast_radius,
                    v.identity,
                    v.proposed
                        .as_ref()
                        .map(|(a, why)| format!("  → {a}: {why}"))
                        .unwrap_or_default()
                );
            }
            println!(
                "{} identities: {} sanctioned, {n_shadow} shadow.",
                views.len(),
                views.len() - n_shadow
            );
            Ok(crate::exit::OK)
        }
    }
}
