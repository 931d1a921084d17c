//! `warrant policy check [FILE]`: reads a governance policy, refuses it naming the key and line
//! when it is wrong, and shows what each tier requires.

use std::path::PathBuf;

use anyhow::Context;
use warrant_lifecycle::{GovernancePolicy, Thresholds};

use crate::app::App;
use crate::output::{self, Format};

/// Where a policy is looked for when no file is named.
pub const DEFAULT_POLICY: &str = "warrant-policy.toml";

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCommand {
    /// Read a governance policy (default: ./warrant-policy.toml), refuse it with the key and
    /// line when it is wrong, and show each tier's requirements. Formats: table, json.
    Check {
        /// The policy file (TOML).
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

pub fn run(app: &App, args: PolicyArgs) -> anyhow::Result<u8> {
    match args.command {
        PolicyCommand::Check { file } => check(app, file),
    }
}

/// The governance policy in `file`, or in ./warrant-policy.toml when it exists, or the
/// defaults.
pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<GovernancePolicy> {
    let path = file.map_or_else(
        || PathBuf::from(DEFAULT_POLICY),
        std::path::Path::to_path_buf,
    );
    if file.is_none() && !path.exists() {
        return Ok(GovernancePolicy::default());
    }
    let text = warrant_input::read_file_to_string(&path, warrant_input::SMALL_FILE_LIMIT)
        .with_context(|| format!("reading the governance policy {}", path.display()))?;
    Ok(GovernancePolicy::from_toml(
        &text,
        &path.display().to_string(),
    )?)
}

fn check(app: &App, file: Option<PathBuf>) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    if file.is_none() && !std::path::Path::new(DEFAULT_POLICY).exists() {
        eprintln!("No {DEFAULT_POLICY} here: the default policy applies.");
    }
    let policy = load(file.as_deref())?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&policy)?);
        return Ok(crate::exit::OK);
    }
    println!("Tiers, in the order they are matched (the first that holds decides):");
    for tier in &policy.tiers {
        let selector = serde_json::to_string(&tier.selector)?;
        println!("\n{} — match {selector}", tier.name);
        print_thresholds(&tier.thresholds);
    }
    println!("\nEvery other identity — the defaults");
    print_thresholds(&policy.defaults);
    let r = &policy.remediation;
    println!(
        "\nRemediation: rotated keys go to {}; the old key stays {} h when the new one is unused; {} provider call(s) per second; decommission plans are due in {} days; containment {}.",
        r.secret_name.as_deref().map_or_else(
            || "the secret the user's warrant:secret tag names".to_string(),
            |n| format!("secret {n}")
        ),
        r.grace_hours,
        r.calls_per_second,
        r.decommission_days,
        if r.containment_without_approval {
            "applies without approval (break-glass, recorded)"
        } else {
            "needs approval like any plan"
        }
    );
    println!(
        "\nExceptions last at most {} days; unowned reviews go to {}.",
        policy.max_exception_days,
        policy
            .fallback_reviewer
            .as_deref()
            .unwrap_or("nobody (set fallback_reviewer)")
    );
    Ok(crate::exit::OK)
}

fn print_thresholds(t: &Thresholds) {
    let required: Vec<&str> = [
        (t.require_owner, "an owner"),
        (t.require_purpose, "a purpose"),
        (t.require_expiry, "an expiry"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, what)| *what)
    .collect();
    println!(
        "  credentials rotated every {} days, none older than {}",
        t.rotation_days, t.max_credential_age_days
    );
    println!(
        "  unused: disabled after {} days, decommissioned after {}",
        t.disable_after_inactive_days, t.delete_after_inactive_days
    );
    println!(
        "  reviewed every {} days{}; changes need {} approver(s) besides the requester",
        t.review_every_days,
        if t.review_on_privilege_change {
            " and after any privilege change"
        } else {
            ""
        },
        t.approvals
    );
    println!(
        "  requires {}; environments: {}",
        if required.is_empty() {
            "nothing more".to_string()
        } else {
            required.join(", ")
        },
        if t.environments.is_empty() {
            "any".to_string()
        } else {
            t.environments
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
}
