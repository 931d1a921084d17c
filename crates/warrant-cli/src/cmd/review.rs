//! `warrant review start|list|show|decide|close|report`: access-review campaigns. A campaign
//! asks each identity's owner (or the fallback reviewer) whether it keeps its access, with the
//! evidence of the day it opened; decisions other than `keep` write remediation plans; the
//! report is the auditor's evidence (SOC 2 CC6.2/CC6.3, ISO 27001 A.5.18).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use warrant_app::review::{self, DecideRequest, ItemFilter, ItemView, StartRequest};
use warrant_lifecycle::{ItemState, Scope, Verdict};

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    command: ReviewCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ReviewCommand {
    /// Open a campaign: one item per identity in scope, assigned to its owner (or the policy's
    /// fallback_reviewer), with the evidence of today. Formats: table, json.
    Start(StartArgs),
    /// Campaigns, newest first, with their items decided, pending and overdue. Formats: table,
    /// json.
    List,
    /// A campaign's items: reviewer, state, decision, evidence. Formats: table, json.
    Show {
        /// The campaign's name.
        campaign: String,
        /// Only items assigned to, or escalated to, this reviewer.
        #[arg(long, value_name = "EMAIL")]
        reviewer: Option<String>,
        /// Only items not decided yet (overdue included).
        #[arg(long)]
        pending: bool,
        /// Remind each reviewer of their pending items (overdue ones as escalated), through
        /// the `[notify]` targets.
        #[arg(long)]
        notify: bool,
    },
    /// Record a decision on an item: keep (with --reason), rightsize, rotate, disable or
    /// decommission (each of these writes a remediation plan for approval). Formats: table,
    /// json.
    Decide(DecideArgs),
    /// Close a campaign once every item is decided (--expire-pending: record the rest as
    /// expired). Formats: table, json.
    Close {
        /// The campaign's name.
        campaign: String,
        /// Who closes it (the person who started it, or the fallback reviewer).
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
        /// Record every pending item as expired, then close.
        #[arg(long)]
        expire_pending: bool,
    },
    /// The auditor's evidence of a campaign: metadata, and per item the identity, reviewer,
    /// decision, reason, when, the evidence, and the plan with its status. Formats: json, csv,
    /// html (default: from the -o file's extension, else json).
    Report {
        /// The campaign's name.
        campaign: String,
        /// Write the report to this file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct StartArgs {
    /// The campaign's name (e.g. 2026-Q4); its id in every other command.
    #[arg(long)]
    name: String,
    /// Which identities: tier=NAME (the governance policy's tiers), tag:KEY=VALUE, kind=KIND,
    /// provider=PROVIDER, environment=ENV or all; several, comma-separated, must all hold.
    #[arg(long, value_parser = parse_scope)]
    scope: Scope,
    /// The last day to decide (YYYY-MM-DD); pending items escalate to the fallback reviewer
    /// after it.
    #[arg(long, value_parser = parse_day)]
    due: NaiveDate,
    /// Who opens it.
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: String,
    /// Read observed use for the evidence (and for rightsize decisions) over this window.
    #[arg(long, value_name = "WINDOW", default_value = "90d", value_parser = output::parse_window)]
    since: chrono::Duration,
    /// The governance policy (default: ./warrant-policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Tell each reviewer what they have to decide, through the `[notify]` targets.
    #[arg(long)]
    notify: bool,
}

#[derive(Debug, clap::Args)]
struct DecideArgs {
    /// The campaign's name.
    campaign: String,
    /// The item: its number, or its identity (id, name or the end of its id).
    item: String,
    /// keep, rightsize, rotate, disable or decommission.
    #[arg(value_parser = parse_verdict)]
    decision: Verdict,
    /// Why (required for keep).
    #[arg(long)]
    reason: Option<String>,
    /// Who decides (the item's reviewer; the fallback reviewer once it is overdue).
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: String,
    /// Correct the item's decision: recorded as a new decision that supersedes it.
    #[arg(long)]
    supersede: bool,
    /// The governance policy (default: ./warrant-policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    text.parse()
        .map_err(|e: warrant_lifecycle::ReviewError| e.to_string())
}

fn parse_day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date like 2026-12-31"))
}

fn parse_verdict(text: &str) -> Result<Verdict, String> {
    text.parse()
        .map_err(|e: warrant_lifecycle::ReviewError| e.to_string())
}

pub fn run(app: &App, args: ReviewArgs) -> anyhow::Result<u8> {
    match args.command {
        ReviewCommand::Start(start) => run_start(app, start),
        ReviewCommand::List => list(app),
        ReviewCommand::Show {
            campaign,
            reviewer,
            pending,
            notify,
        } => show(app, &campaign, ItemFilter { reviewer, pending }, notify),
        ReviewCommand::Decide(decide) => run_decide(app, decide),
        ReviewCommand::Close {
            campaign,
            actor,
            expire_pending,
        } => close(app, &campaign, &actor, expire_pending),
        ReviewCommand::Report { campaign, output } => report(app, &campaign, output.as_deref()),
    }
}

fn table_or_json(app: &App) -> anyhow::Result<Format> {
    output::choose(app.format, Format::Table, &[Format::Table, Format::Json])
}

fn run_start(app: &App, args: StartArgs) -> anyhow::Result<u8> {
    let format = table_or_json(app)?;
    let policy = crate::cmd::policy::load(args.policy.as_deref())?;
    let store = app.open_existing_store()?;
    let request = StartRequest {
        name: args.name,
        scope: args.scope,
        due: args.due,
        usage_window: args.since,
    };
    let started = app.run(review::start(
        &store,
        &app.config.posture,
        &policy,
        &request,
        app.when(),
        &args.actor,
        &app.progress(),
    ))?;
    if args.notify {
        if app.config.notify.targets.is_empty() {
            anyhow::bail!(
                "--notify needs notification targets: add [[notify.targets]] to warrant.toml"
            );
        }
        let (campaign, items) = app.run(review::show(
            &store,
            &started.campaign.name,
            app.now(),
            &review::ItemFilter::default(),
        ))?;
        app.notify(&warrant_app::notify::review_events(
            &campaign,
            &items,
            app.now(),
        ))?;
    }
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&started)?);
        return Ok(crate::exit::OK);
    }
    let c = &started.campaign;
    println!(
        "Opened {}: {} identities in scope `{}`, due {} (evidence from {}).",
        c.name,
        c.counts.items,
        c.scope,
        c.due.format("%Y-%m-%d"),
        c.basis
    );
    for (reviewer, n) in &started.by_reviewer {
        println!("  {reviewer:<40} {n:>5} item(s)");
    }
    if started.to_fallback > 0 {
        println!(
            "{} item(s) went to the fallback reviewer: no owner could review them.",
            started.to_fallback
        );
    }
    println!(
        "Next: warrant review show {} --reviewer EMAIL --pending",
        c.name
    );
    Ok(crate::exit::OK)
}

fn list(app: &App) -> anyhow::Result<u8> {
    let format = table_or_json(app)?;
    let store = app.open_existing_store()?;
    let campaigns = app.run(review::list(&store, app.now()))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&campaigns)?);
        return Ok(crate::exit::OK);
    }
    println!(
        "{:<16} {:<7} {:<10} {:>6} {:>8} {:>8} {:>8}  scope",
        "campaign", "status", "due", "items", "decided", "pending", "overdue"
    );
    for c in &campaigns {
        println!(
            "{:<16} {:<7} {:<10} {:>6} {:>8} {:>8} {:>8}  {}",
            c.name,
            c.status,
            c.due.format("%Y-%m-%d"),
            c.counts.items,
            c.counts.decided,
            c.counts.pending,
            c.counts.overdue,
            c.scope
        );
    }
    println!("{} campaign(s).", campaigns.len());
    Ok(crate::exit::OK)
}

fn state_text(item: &ItemView) -> String {
    match (item.state, &item.decision) {
        (ItemState::Decided(verdict), Some(d)) => format!(
            "{verdict} by {} on {}{}",
            d.decided_by,
            d.at.format("%Y-%m-%d"),
            if d.authority == "escalated" {
                " (escalated)"
            } else {
                ""
            }
        ),
        (state, _) => state.as_str().to_string(),
    }
}

fn print_item(item: &ItemView) {
    println!("{:>5}  {}  {}", item.item, item.identity, state_text(item));
    let escalated = if item.reviewer_now == item.reviewer {
        String::new()
    } else {
        format!(", escalated to {}", item.reviewer_now)
    };
    println!(
        "       reviewer {} · {}{escalated}",
        item.reviewer, item.assigned_because
    );
    if let Some(d) = &item.decision {
        if let Some(reason) = &d.reason {
            println!("       reason: {reason}");
        }
        if let Some(plan) = &d.plan {
            println!("       plan {plan}");
        }
        if let Some(error) = &d.plan_error {
            println!("       no plan written: {error}");
        }
    }
    println!("       {}", item.evidence.summary());
}

fn show(app: &App, campaign: &str, filter: ItemFilter, notify: bool) -> anyhow::Result<u8> {
    let format = table_or_json(app)?;
    let store = app.open_existing_store()?;
    let (campaign, items) = app.run(review::show(&store, campaign, app.now(), &filter))?;
    if notify {
        if app.config.notify.targets.is_empty() {
            anyhow::bail!(
                "--notify needs notification targets: add [[notify.targets]] to warrant.toml"
            );
        }
        app.notify(&warrant_app::notify::review_events(
            &campaign,
            &items,
            app.now(),
        ))?;
    }
    if format == Format::Json {
        let doc = serde_json::json!({ "campaign": campaign, "items": items });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(crate::exit::OK);
    }
    let n = &campaign.counts;
    println!(
        "{} ({}): scope `{}`, due {}; {} item(s), {} decided, {} pending, {} overdue.",
        campaign.name,
        campaign.status,
        campaign.scope,
        campaign.due.format("%Y-%m-%d"),
        n.items,
        n.decided,
        n.pending,
        n.overdue
    );
    for item in &items {
        print_item(item);
    }
    println!("{} item(s) shown.", items.len());
    Ok(crate::exit::OK)
}

fn run_decide(app: &App, args: DecideArgs) -> anyhow::Result<u8> {
    let format = table_or_json(app)?;
    let policy = crate::cmd::policy::load(args.policy.as_deref())?;
    let store = app.open_existing_store()?;
    let request = DecideRequest {
        campaign: args.campaign.clone(),
        item: args.item,
        verdict: args.decision,
        reason: args.reason,
        supersede: args.supersede,
    };
    let decided = app.run(review::decide(
        &store,
        &policy,
        &request,
        app.now(),
        &args.actor,
    ))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&decided)?);
        return Ok(crate::exit::OK);
    }
    let item = &decided.item;
    println!(
        "{} item {} ({}): {}.",
        args.campaign,
        item.item,
        item.name,
        state_text(item)
    );
    match (
        &decided.plan,
        item.decision.as_ref().and_then(|d| d.plan_error.as_ref()),
    ) {
        (Some(plan), _) => println!(
            "Plan {} written ({}, {} step(s)); it needs {} approval(s) from someone other than {}: warrant plan show {}",
            plan.plan.id,
            plan.status,
            plan.plan.content.steps.len(),
            plan.required_approvals,
            plan.plan.content.requested_by,
            plan.plan.id
        ),
        (None, Some(error)) => println!("No plan was written: {error}"),
        (None, None) => {}
    }
    Ok(crate::exit::OK)
}

fn close(app: &App, campaign: &str, actor: &str, expire_pending: bool) -> anyhow::Result<u8> {
    let format = table_or_json(app)?;
    let store = app.open_existing_store()?;
    let closed = app.run(review::close(
        &store,
        campaign,
        app.now(),
        actor,
        expire_pending,
    ))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&closed)?);
        return Ok(crate::exit::OK);
    }
    let n = &closed.campaign.counts;
    println!(
        "Closed {}: {} item(s), {} decided by reviewers, {} expired.",
        closed.campaign.name,
        n.items,
        u64::try_from(n.decided)
            .unwrap_or(u64::MAX)
            .saturating_sub(closed.expired),
        closed.expired
    );
    Ok(crate::exit::OK)
}

/// The format a report file's name asks for.
fn format_of(path: &Path) -> Option<Format> {
    match path
        .extension()?
        .to_string_lossy()
        .to_ascii_lowercase()
        .as_str()
    {
        "json" => Some(Format::Json),
        "csv" => Some(Format::Csv),
        "html" | "htm" => Some(Format::Html),
        _ => None,
    }
}

fn report(app: &App, campaign: &str, output: Option<&Path>) -> anyhow::Result<u8> {
    let default = output.and_then(format_of).unwrap_or(Format::Json);
    let format = output::choose(
        app.format,
        default,
        &[Format::Json, Format::Csv, Format::Html],
    )?;
    let store = app.open_existing_store()?;
    let report = app.run(review::report(&store, campaign, app.now()))?;
    let mut sink: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        Format::Csv => report.write_csv(&mut sink)?,
        Format::Html => {
            sink.write_all(warrant_report::review::render_html(&report).as_bytes())?;
        }
        _ => report.write_json(&mut sink)?,
    }
    sink.flush()?;
    Ok(crate::exit::OK)
}
