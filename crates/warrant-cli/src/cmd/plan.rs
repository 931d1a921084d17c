//! `warrant plan …` and `warrant contain`: remediation as plan → approve → apply. A plan is
//! written from the store's inventory and shown as a diff; someone other than its requester
//! approves it; `apply` re-checks the live provider, refuses on drift, and applies step by step
//! at a limited rate (a dry run until `--yes`); `rollback` undoes what can be undone.

use std::path::PathBuf;

use anyhow::Context;
use warrant_app::remediation::{self, Paced, PlanRequest, PlanView, RunResult};
use warrant_lifecycle::apply::Outcome;
use warrant_lifecycle::{Action, Call, PlanStatus};

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(subcommand)]
    command: PlanCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PlanCommand {
    /// Rotate an IAM user's access key: a new key straight into Secrets Manager (never shown),
    /// wait for its first use or the grace period, deactivate the old key, delete it.
    RotateKey(ActionArgs),
    /// Deactivate an access key (reversible), if it has not been used since the plan was written.
    DisableKey(ActionArgs),
    /// Deactivate, then delete an access key.
    DeleteKey(ActionArgs),
    /// Delete an IAM user's console password (NHI10: a machine identity people sign in as).
    DeleteLoginProfile(ActionArgs),
    /// Detach a managed policy, or delete an inline one (--attached ARN|NAME).
    DetachPolicy(ActionArgs),
    /// Replace the identity's own policies with the least-privilege policy its observed use
    /// needs (see `warrant rightsize`).
    Rightsize(ActionArgs),
    /// Set a permissions boundary (--boundary ARN).
    AddBoundary(ActionArgs),
    /// Deny every session of a role issued before now (the documented AWSRevokeOlderSessions control).
    RevokeSessions(ActionArgs),
    /// Attach an explicit deny-all inline policy (lifted by rollback).
    Quarantine(ActionArgs),
    /// The decommissioning checklist: keys, console password, groups, policies, instance
    /// profiles, then the user or role, with a deadline. Kubernetes and GitHub identities get
    /// the exact commands for a person to run.
    Decommission(ActionArgs),
    /// One plan for a suspected compromise: see `warrant contain`.
    Contain(ActionArgs),
    /// Propose a plan for every open finding a plan can fix (old or leaked keys rotated,
    /// unused keys disabled, machines' console passwords removed, identities past their tier's
    /// decommission threshold decommissioned, administrators right-sized from their use).
    /// Formats: table, json.
    Propose {
        /// Who asks (the requester of every plan).
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
        /// Rightsize from use since this long ago.
        #[arg(long, value_name = "WINDOW", default_value = "90d", value_parser = output::parse_window)]
        since: chrono::Duration,
        /// The governance policy (default: ./warrant-policy.toml when present).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
    /// Plans, newest first, with their status. Formats: table, json.
    List,
    /// One plan: its steps as a diff, decisions, and what was applied. Formats: table, json
    /// (the plan file, with its id).
    Show { plan: String },
    /// Approve a plan (someone other than its requester).
    Approve(DecideArgs),
    /// Reject a plan, with a reason.
    Reject(DecideArgs),
    /// Apply an approved plan: checks the live provider first and refuses on drift. A dry run
    /// unless --yes. Run again to resume after a wait or an interruption. Formats: table, json.
    Apply(RunArgs),
    /// Undo what an apply did, last step first (steps that cannot be undone are named).
    /// Formats: table, json.
    Rollback(RunArgs),
    /// Store a plan file written by `plan show --format json` (refused if it was edited).
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The governance policy (default: ./warrant-policy.toml when present).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    /// The identity (its id, name or the end of its id, as `warrant show` takes).
    #[arg(long, value_name = "ID")]
    identity: String,
    /// Why (recorded with the plan; default: the action and who asked).
    #[arg(long)]
    reason: Option<String>,
    /// The access key to act on (default: the only active key, for rotation the oldest).
    #[arg(long, value_name = "ACCESS_KEY_ID")]
    key: Option<String>,
    /// The Secrets Manager secret a new key goes to (default: the user's `warrant:secret` tag,
    /// else the policy's remediation.secret_name).
    #[arg(long, value_name = "NAME")]
    secret: Option<String>,
    /// detach-policy: the managed policy ARN or inline policy name to remove.
    #[arg(long, value_name = "ARN|NAME")]
    attached: Option<String>,
    /// add-boundary: the boundary policy's ARN.
    #[arg(long, value_name = "ARN")]
    boundary: Option<String>,
    /// Rotation: keep the old key this long when the new one is not used (e.g. 24h, 2d;
    /// default: the policy's remediation.grace_hours).
    #[arg(long, value_name = "DURATION", value_parser = output::parse_window)]
    grace: Option<chrono::Duration>,
    /// Rightsize: size from use since this long ago.
    #[arg(long, value_name = "WINDOW", default_value = "90d", value_parser = output::parse_window)]
    since: chrono::Duration,
    /// Who asks (the requester).
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: String,
    /// The governance policy (default: ./warrant-policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    plan: String,
    /// Who decides.
    #[arg(long = "as", alias = "by", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: String,
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    plan: String,
    /// Make the changes (without it: check the provider and show what would be done).
    #[arg(long, conflicts_with = "dry_run")]
    yes: bool,
    /// Only check the provider and show what would be done (the default; for scripts that
    /// say so explicitly).
    #[arg(long)]
    dry_run: bool,
    /// Provider calls per second (default: the policy's remediation.calls_per_second).
    #[arg(long, value_name = "N")]
    rate: Option<u32>,
    /// Who applies (recorded with every step; needed with --yes).
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: Option<String>,
    /// The governance policy (default: ./warrant-policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    #[command(flatten)]
    aws: AwsTarget,
}

/// Where AWS calls go.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsTarget {
    /// Service endpoint, e.g. a local emulator (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Region (default: AWS_REGION / the profile's).
    #[arg(long)]
    region: Option<String>,
    /// Named profile from ~/.aws/config.
    #[arg(long)]
    profile: Option<String>,
}

impl AwsTarget {
    pub fn options(&self) -> warrant_aws_live::LiveOptions {
        warrant_aws_live::LiveOptions {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
            profile: self.profile.clone(),
        }
    }
}

/// `warrant contain ID`.
#[derive(Debug, clap::Args)]
pub struct ContainArgs {
    /// The identity (its id, name or the end of its id).
    identity: String,
    /// Why (default: suspected compromise).
    #[arg(long)]
    reason: Option<String>,
    /// The Secrets Manager secret the fresh key goes to (default: the `warrant:secret` tag).
    #[arg(long, value_name = "NAME")]
    secret: Option<String>,
    /// Who asks.
    #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
    actor: String,
    /// The governance policy (default: ./warrant-policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

pub fn run(app: &App, args: PlanArgs) -> anyhow::Result<u8> {
    let action = |a: Action, args: ActionArgs| propose(app, a, args);
    match args.command {
        PlanCommand::RotateKey(a) => action(Action::RotateKey, a),
        PlanCommand::DisableKey(a) => action(Action::DisableKey, a),
        PlanCommand::DeleteKey(a) => action(Action::DeleteKey, a),
        PlanCommand::DeleteLoginProfile(a) => action(Action::DeleteLoginProfile, a),
        PlanCommand::DetachPolicy(a) => action(Action::DetachPolicy, a),
        PlanCommand::Rightsize(a) => action(Action::Rightsize, a),
        PlanCommand::AddBoundary(a) => action(Action::AddBoundary, a),
        PlanCommand::RevokeSessions(a) => action(Action::RevokeSessions, a),
        PlanCommand::Quarantine(a) => action(Action::Quarantine, a),
        PlanCommand::Decommission(a) => action(Action::Decommission, a),
        PlanCommand::Contain(a) => action(Action::Contain, a),
        PlanCommand::Propose {
            actor,
            since,
            policy,
        } => propose_all(app, &actor, since, policy.as_deref()),
        PlanCommand::List => list(app),
        PlanCommand::Show { plan } => show(app, &plan),
        PlanCommand::Approve(d) => decide(app, d, true),
        PlanCommand::Reject(d) => decide(app, d, false),
        PlanCommand::Apply(r) => run_plan(app, r, false),
        PlanCommand::Rollback(r) => run_plan(app, r, true),
        PlanCommand::Import { file, policy } => {
            let policy = crate::cmd::policy::load(policy.as_deref())?;
            let text = warrant_input::read_file_to_string(&file, warrant_input::SMALL_FILE_LIMIT)
                .with_context(|| format!("reading the plan {}", file.display()))?;
            let store = app.open_existing_store()?;
            let view = app.run(remediation::import_plan(
                &store,
                &policy,
                &text,
                &file.display().to_string(),
            ))?;
            print_plan(&view);
            Ok(crate::exit::OK)
        }
    }
}

pub fn contain(app: &App, args: ContainArgs) -> anyhow::Result<u8> {
    propose(
        app,
        Action::Contain,
        ActionArgs {
            identity: args.identity,
            reason: Some(
                args.reason
                    .unwrap_or_else(|| "suspected compromise: contain".into()),
            ),
            key: None,
            secret: args.secret,
            attached: None,
            boundary: None,
            grace: None,
            since: chrono::Duration::days(90),
            actor: args.actor,
            policy: args.policy,
        },
    )
}

fn propose(app: &App, action: Action, args: ActionArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let policy = crate::cmd::policy::load(args.policy.as_deref())?;
    let store = app.open_existing_store()?;
    let now = app.now();
    let request = PlanRequest {
        action,
        identity: args.identity,
        reason: args.reason,
        key: args.key,
        secret: args.secret,
        policy: args.attached.or(args.boundary),
        grace_hours: args
            .grace
            .map(|g| u32::try_from(g.num_hours().max(0)).unwrap_or(u32::MAX)),
        usage_since: now - args.since,
    };
    let view = app.run(remediation::propose(
        &store,
        &policy,
        &request,
        now,
        &args.actor,
    ))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print_plan(&view);
    }
    notify_plan(app, &store, &view)?;
    Ok(crate::exit::OK)
}

/// Tells the identity's owner (through `[notify]` targets) where the plan stands.
fn notify_plan(app: &App, store: &warrant_store::Store, view: &PlanView) -> anyhow::Result<()> {
    if app.config.notify.targets.is_empty() {
        return Ok(());
    }
    if let Some(event) = app.run(warrant_app::notify::plan_event(store, view, app.now()))? {
        app.notify(&[event])?;
    }
    Ok(())
}

fn propose_all(
    app: &App,
    actor: &str,
    since: chrono::Duration,
    policy: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let policy = crate::cmd::policy::load(policy)?;
    let store = app.open_existing_store()?;
    let now = app.now();
    let progress = app.progress();
    let proposals = app.run(remediation::propose_from_findings(
        &store,
        &policy,
        now,
        actor,
        now - since,
        &progress,
    ))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&proposals)?);
        return Ok(crate::exit::OK);
    }
    let mut by_action: std::collections::BTreeMap<Action, usize> = Default::default();
    for (_, _, action) in &proposals.proposed {
        *by_action.entry(*action).or_default() += 1;
    }
    println!(
        "Proposed {} plan(s) ({} new) from open findings:",
        proposals.proposed.len(),
        proposals.new
    );
    for (action, n) in &by_action {
        println!("  {action:<22} {n}");
    }
    if !proposals.skipped.is_empty() {
        println!(
            "\nNo plan for {} (identity, action):",
            proposals.skipped.len()
        );
        for (identity, action, why) in proposals.skipped.iter().take(20) {
            println!("  {action} on {identity}: {why}");
        }
        if proposals.skipped.len() > 20 {
            println!(
                "  … and {} more (--format json lists them all)",
                proposals.skipped.len() - 20
            );
        }
    }
    println!(
        "\nEach needs approval: warrant plan list, then warrant plan approve PLAN --as EMAIL."
    );
    Ok(crate::exit::OK)
}

fn list(app: &App) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let store = app.open_existing_store()?;
    let plans = app.run(remediation::list(&store))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&plans)?);
        return Ok(crate::exit::OK);
    }
    for v in &plans {
        println!(
            "{}  {:<13} {:<20} {}  {} step(s), by {} on {}",
            v.plan.id,
            v.status.as_str(),
            v.plan.content.action.as_str(),
            v.plan.content.identity,
            v.plan.content.steps.len(),
            v.plan.content.requested_by,
            v.plan.content.created.format("%Y-%m-%d"),
        );
    }
    println!("{} plan(s).", plans.len());
    Ok(crate::exit::OK)
}

fn show(app: &App, plan: &str) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let store = app.open_existing_store()?;
    let view = app.run(remediation::view(&store, plan))?;
    if format == Format::Json {
        // The plan file: exactly what was hashed, so `plan import` takes it back.
        println!("{}", serde_json::to_string_pretty(&view.plan)?);
    } else {
        print_plan(&view);
    }
    Ok(crate::exit::OK)
}

fn decide(app: &App, args: DecideArgs, approve: bool) -> anyhow::Result<u8> {
    let store = app.open_existing_store()?;
    let view = app.run(remediation::decide(
        &store,
        &args.plan,
        &args.actor,
        approve,
        args.reason.as_deref(),
        app.now(),
    ))?;
    println!(
        "{} {} by {}: it is now {}.",
        view.plan.id,
        if approve { "approved" } else { "rejected" },
        args.actor,
        view.status
    );
    if view.status == PlanStatus::Approved {
        println!(
            "Next: warrant plan apply {} (a dry run; add --yes to make the changes).",
            view.plan.id
        );
    }
    notify_plan(app, &store, &view)?;
    Ok(crate::exit::OK)
}

fn run_plan(app: &App, args: RunArgs, rollback: bool) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    // `--dry-run` only says what is the default; clap refuses it beside `--yes`.
    let make_changes = args.yes && !args.dry_run;
    let actor = match (&args.actor, make_changes) {
        (Some(actor), _) => actor.clone(),
        (None, false) => "dry-run".to_string(),
        (None, true) => anyhow::bail!(
            "who is making the changes? --as EMAIL (or WARRANT_USER): every step is recorded with its actor"
        ),
    };
    let policy = crate::cmd::policy::load(args.policy.as_deref())?;
    let store = app.open_existing_store()?;
    let options = args.aws.options();
    let executor = app.block_on(warrant_aws_write::AwsExecutor::from_options(&options));
    let rate = args
        .rate
        .unwrap_or(policy.remediation.calls_per_second)
        .max(1);
    let clock = || app.now();
    let pace = Paced {
        clock: &clock,
        interval: std::time::Duration::from_millis(1000 / u64::from(rate)),
    };
    let result = if rollback {
        if !make_changes {
            anyhow::bail!(
                "rollback changes the provider: add --yes to undo what plan {} applied",
                args.plan
            );
        }
        app.run(remediation::rollback(
            &store, &args.plan, &executor, &actor, &pace,
        ))?
    } else {
        app.run(remediation::apply(
            &store,
            &args.plan,
            &executor,
            &actor,
            &pace,
            !make_changes,
        ))?
    };
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_run(&result);
    }
    if !rollback && make_changes {
        notify_plan(app, &store, &result.plan)?;
    }
    Ok(
        if remediation::succeeded(&result.report.outcome)
            || matches!(result.report.outcome, Outcome::Waiting { .. })
        {
            crate::exit::OK
        } else {
            crate::exit::ERROR
        },
    )
}

fn print_plan(view: &PlanView) {
    let c = &view.plan.content;
    println!("Plan {} — {} on {}", view.plan.id, c.action, c.identity);
    println!(
        "Requested by {} on {} · status {} · approvals {} of {}{}",
        c.requested_by,
        c.created.format("%Y-%m-%d %H:%M UTC"),
        view.status,
        view.approved_by.len(),
        view.required_approvals,
        if view.waived {
            " (waived by policy: break-glass)"
        } else {
            ""
        }
    );
    if !c.reason.is_empty() {
        println!("Reason: {}", c.reason);
    }
    if let Some(deadline) = c.deadline {
        println!("Apply by {}.", deadline.format("%Y-%m-%d"));
    }
    let progress = view.progress();
    for (i, step) in c.steps.iter().enumerate() {
        let state = match (
            progress.outputs.get(i).and_then(Option::as_ref),
            progress.undone.get(i).copied().unwrap_or(false),
        ) {
            (Some(_), true) => " [undone]",
            (Some(_), false) => " [applied]",
            (None, _) if progress.waiting.as_ref().is_some_and(|(s, _)| *s == i) => " [waiting]",
            (None, _) if progress.failed.as_ref().is_some_and(|(s, _, _)| *s == i) => " [failed]",
            (None, _) => "",
        };
        println!("\n  {}. {}{state}", i + 1, step.call.summary());
        for e in &step.expect {
            println!("     expects: {e}");
        }
        println!("     - {}", step.before);
        println!("     + {}", step.after);
        if let Call::Manual(m) = &step.call {
            for line in m.instructions.lines() {
                println!("     $ {line}");
            }
        }
        if step.undo.is_empty() {
            if !step.reversible {
                println!("     cannot be undone");
            }
        } else {
            let undo: Vec<String> = step.undo.iter().map(Call::summary).collect();
            println!("     undo: {}", undo.join("; "));
        }
    }
    if !c.notify.is_empty() {
        println!("\nTell the consumers seen using it:");
        for n in &c.notify {
            println!("  {n}");
        }
    }
    match view.status {
        PlanStatus::Proposed => println!(
            "\nNext: someone other than {} approves it: warrant plan approve {} --as EMAIL",
            c.requested_by, view.plan.id
        ),
        PlanStatus::Approved | PlanStatus::Applying | PlanStatus::Waiting => println!(
            "\nNext: warrant plan apply {} (a dry run; --yes to make the changes)",
            view.plan.id
        ),
        PlanStatus::Failed => println!(
            "\nNext: fix the cause and apply again, or undo what was applied: warrant plan rollback {} --yes",
            view.plan.id
        ),
        _ => {}
    }
}

fn print_run(result: &RunResult) {
    let steps = &result.plan.plan.content.steps;
    let name = |i: usize| {
        steps
            .get(i)
            .map_or_else(|| format!("step {}", i + 1), |s| s.call.summary())
    };
    for (i, note) in &result.report.done {
        match note {
            Some(n) => println!("  ✓ {}. {} — {n}", i + 1, name(*i)),
            None => println!("  ✓ {}. {}", i + 1, name(*i)),
        }
    }
    let id = &result.plan.plan.id;
    match &result.report.outcome {
        Outcome::Applied => println!("Plan {id} is applied."),
        Outcome::WouldApply { steps: todo } => {
            println!("Dry run: the provider looks as plan {id} expects. Applying would:");
            for i in todo {
                println!("  {}. {}", i + 1, name(*i));
            }
            println!("Run again with --yes to make the changes.");
        }
        Outcome::Waiting { step, reason } => println!(
            "Waiting at step {}: {reason}. Apply again later to go on.",
            step + 1
        ),
        Outcome::Refused { drift } => {
            println!(
                "Refused: the provider no longer looks as plan {id} expects; nothing more was changed."
            );
            for d in drift {
                println!(
                    "  step {}: expected {}; found {}",
                    d.step + 1,
                    d.expected,
                    d.found
                );
            }
            println!("Write a new plan from a fresh import.");
        }
        Outcome::Failed { step, error } => {
            println!("Failed at step {}: {error}", step + 1);
            let applied: Vec<String> = result
                .plan
                .progress()
                .applied()
                .map(|i| (i + 1).to_string())
                .collect();
            if applied.is_empty() {
                println!("Nothing was applied.");
            } else {
                println!(
                    "Applied: step(s) {}. Not applied: the rest. Undo with: warrant plan rollback {id} --yes",
                    applied.join(", ")
                );
            }
        }
        Outcome::RolledBack { irreversible } => {
            if irreversible.is_empty() {
                println!("Plan {id} is rolled back.");
            } else {
                let list: Vec<String> = irreversible.iter().map(|i| (i + 1).to_string()).collect();
                println!(
                    "Plan {id} is rolled back, except step(s) {} which cannot be undone.",
                    list.join(", ")
                );
            }
        }
        Outcome::RollbackFailed { step, error } => println!(
            "Undoing step {} failed: {error}. Run the rollback again to go on.",
            step + 1
        ),
    }
}
