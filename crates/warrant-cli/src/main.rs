//! `warrant`: non-human identity security from the command line.
//!
//! This binary is glue: argument parsing, configuration, output and exit codes. The work is done
//! by the library crates (connectors, store, posture, scan, activity, report).

mod app;
mod cmd;
mod config;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::Format;

/// mimalloc rather than the system allocator: assessing 100k identities allocates and frees
/// millions of small strings, where glibc's allocator spent a sixth of the time consolidating
/// free lists and kept freed memory resident between phases.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes CI can rely on.
pub mod exit {
    /// Nothing at or above the `--fail-on` threshold.
    pub const OK: u8 = 0;
    /// Findings at or above the `--fail-on` threshold (or, for `scan`, unaccepted leaks).
    pub const FINDINGS: u8 = 1;
    /// Bad usage, unreadable input, or an internal error.
    pub const ERROR: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "warrant",
    version,
    about = "Inventory, assess and govern non-human identities: service accounts, API keys, OAuth grants, workload identities, CI tokens, MCP servers and AI agents.",
    long_about = None,
    after_help = "Quick start:  warrant assess examples/demo-org --as-of 2026-11-01\nExit codes:   0 ok, 1 findings at or above --fail-on, 2 error.\nLogging:      -v/-vv or WARRANT_LOG=debug."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// The store: a SQLite file (created on first use) or a URL, `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, global = true, env = "WARRANT_STORE", value_name = "PATH|URL")]
    pub store: Option<PathBuf>,
    /// Configuration file (TOML). Default: ./warrant.toml when it exists.
    #[arg(long, global = true, env = "WARRANT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Assess as of this instant instead of now (RFC 3339 or YYYY-MM-DD), for reproducible results.
    #[arg(long, global = true, value_name = "WHEN", value_parser = output::parse_instant)]
    pub as_of: Option<warrant_core::Timestamp>,
    /// Output format (each command's help names the ones it supports).
    #[arg(long, short = 'f', global = true, value_enum)]
    pub format: Option<Format>,
    /// More logging (-v info, -vv debug, -vvv trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Colour: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = output::ColorChoice::Auto)]
    pub color: output::ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import every supported export under DIR into the store (AWS, Kubernetes, GitHub, MCP configs, Okta). Formats: table, json.
    Import(cmd::import::ImportArgs),
    /// Discover identities from live provider APIs (AWS). Formats: table, json.
    Discover(cmd::discover::DiscoverArgs),
    /// List identities in the store with their risk. Formats: table, json, csv.
    Inventory(cmd::inventory::InventoryArgs),
    /// List current findings. Formats: table, json, jsonl, csv, sarif.
    Findings(cmd::findings::FindingsArgs),
    /// Everything about one identity: credentials, grants, trust, owners, findings, and its risk explained. Formats: table, json.
    Show(cmd::show::ShowArgs),
    /// One shot: import DIR and assess it. Formats: table, json, html, sarif, csv.
    Assess(cmd::assess::AssessArgs),
    /// Every rule Warrant can raise (posture, activity, leaked secret), with its OWASP NHI and ATT&CK mapping. Formats: table, json, csv.
    Rules(cmd::rules::RulesArgs),
    /// Scan files, standard input, git history or staged changes for leaked secrets, linked to the identities they unlock. Formats: table, json, jsonl, sarif.
    Scan(cmd::scan::ScanArgs),
    /// Ingest activity logs (CloudTrail, Kubernetes audit, GitHub audit, Okta System Log, OTLP agent spans): usage, last-used, baselines, alerts. Formats: table, json.
    Ingest(cmd::ingest::IngestArgs),
    /// Consume activity events from NATS JetStream into the store, exactly once each: usage, last-used, baselines, alerts. Formats: table, json.
    Consume(cmd::consume::ConsumeArgs),
    /// List activity alerts (anomalies, persistence, evasion, shadow identities…). Formats: table, json, jsonl, csv.
    Alerts(cmd::alerts::AlertsArgs),
    /// Compare an identity's granted permissions with its observed use and propose a least-privilege policy. Formats: table, json.
    Rightsize(cmd::rightsize::RightsizeArgs),
    /// Print the effective configuration (defaults, warrant.toml, WARRANT_* overrides) as TOML.
    Config(cmd::config::ConfigArgs),
    /// Manage stores: copy one to another backend (`store migrate --from sqlite:PATH --to postgres://…`).
    Store(cmd::store::StoreArgs),
    /// The governance policy: `policy check [FILE]` validates it and shows what each tier requires. Formats: table, json.
    Policy(cmd::policy::PolicyArgs),
    /// Exceptions to findings, each with a scope, an owner, a reason and an expiry: `exception add|list|remove`. Formats: table, json.
    Exception(cmd::exception::ExceptionArgs),
    /// Every governance change (exceptions, plans proposed, decided, applied and rolled back) with who, when, before and after. Formats: table, json.
    Audit(cmd::audit::AuditArgs),
    /// Remediation as plan → approve → apply: `plan ACTION --identity ID`, `plan list|show|approve|reject|apply|rollback|import`. Formats: table, json.
    Plan(cmd::plan::PlanArgs),
    /// Owners: `owner set ID EMAIL`, `owner clear ID`, `owner show ID` (every owner in force with its source, and the history). Formats: table, json.
    Owner(cmd::owner::OwnerArgs),
    /// Registrations of intended identities: `register add|approve|reject|withdraw|list|status`; matching identities are sanctioned, the rest shadow. Formats: table, json.
    Register(cmd::register::RegisterArgs),
    /// One plan for a suspected compromise: deactivate every key, revoke sessions, quarantine, rotate the secret holding its key, and list the consumers to tell. Formats: table, json.
    Contain(cmd::plan::ContainArgs),
    /// Access-review campaigns: `review start` (one item per identity in scope, assigned to its owner, with today's evidence), `review list|show|decide|close`, and `review report` (the auditor's evidence, also as CSV or HTML). Formats: table, json.
    Review(cmd::review::ReviewArgs),
    /// Warrant's own users (who signs in to the server): `user add|list|disable|set-role|set-password`. Formats: table, json.
    User(cmd::user::UserArgs),
    /// API tokens scripts use in a user's name, each with a role and an expiry: `token create|list|revoke`. Formats: table, json.
    Token(cmd::token::TokenArgs),
    /// The MCP gateway: `warrant gateway --config gateway.toml` (or `gateway serve`) runs it in front of the configured MCP servers, deciding every call; `gateway policy check` validates its Cedar policies against the gateway schema, `gateway policy diff OLD NEW` says whether a change can only narrow access. `--config` names gateway.toml here. Formats: table, json.
    Gateway(cmd::gateway::GatewayArgs),
    /// Just-in-time task tokens for agents: `jit keygen|grant|attenuate|verify|inspect` (Biscuit, bound to an agent, a task, tools, argument constraints and an expiry). Formats: table, json.
    Jit(cmd::jit::JitArgs),
    /// Run the Warrant server over the store: the REST API (`/api/v1`, OpenAPI at `/api/v1/openapi.json`), `/healthz`, `/readyz` and `/metrics`, until interrupted.
    Serve(cmd::serve::ServeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::CompletionsArgs),
    /// Write man pages for warrant and every subcommand into a directory.
    Man(cmd::completions::ManArgs),
}

/// Whether `error` comes from writing to a reader that went away (`warrant … | head`).
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line ("importing X: reading Y: …"), each text once: a cause
/// that repeats what the previous one already said is left out.
fn error_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty()
            || parts
                .last()
                .is_some_and(|previous| previous.contains(&text))
        {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

fn main() -> ExitCode {
    // A closed pipe ends the command quietly, as it ends `cat` (Rust ignores SIGPIPE, so the
    // write fails instead): `print!` panics on it, a writer returns the error handled below.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(exit::OK));
        }
        default_hook(info);
    }));
    let cli = Cli::parse();
    output::init_logging(cli.global.verbose, cli.global.quiet);
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) if is_broken_pipe(&error) => ExitCode::from(exit::OK),
        Err(error) => {
            eprintln!("warrant: error: {}", error_line(&error));
            ExitCode::from(exit::ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let error = anyhow::Error::new(io)
            .context("cannot read x.json: No such file or directory")
            .context("importing ./org");
        assert_eq!(
            error_line(&error),
            "importing ./org: cannot read x.json: No such file or directory"
        );
    }
}
