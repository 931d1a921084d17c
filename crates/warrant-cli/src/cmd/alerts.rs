//! `warrant alerts`: activity alerts in the store (from `warrant ingest` and stream consumers).

use warrant_core::Severity;

use crate::app::App;
use crate::cmd::pipeline;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct AlertsArgs {
    /// Only alerts on this identity (external id, or `shadow:…` for unknown principals).
    #[arg(long)]
    pub identity: Option<String>,
    /// Only alerts at or above this severity.
    #[arg(long, value_parser = pipeline::parse_severity)]
    pub severity: Option<Severity>,
    /// Only this detection (e.g. activity-privilege-change; see `warrant rules`).
    #[arg(long)]
    pub detection: Option<String>,
    /// Include resolved and accepted alerts.
    #[arg(long)]
    pub all: bool,
    /// Exit with code 1 when a listed alert is at or above this severity.
    #[arg(long, value_parser = pipeline::parse_severity)]
    pub fail_on: Option<Severity>,
}

pub fn run(app: &App, args: AlertsArgs) -> anyhow::Result<u8> {
    let format = output::choose(
        app.format,
        Format::Table,
        &[Format::Table, Format::Json, Format::Jsonl, Format::Csv],
    )?;
    let store = app.open_existing_store()?;
    let filter = warrant_app::query::AlertsFilter {
        identity: args.identity.clone(),
        severity: args.severity,
        detection: args.detection.clone(),
        all: args.all,
    };
    let stored = app.run(warrant_app::query::alerts(&store, &filter))?;
    let alerts: Vec<_> = stored.iter().map(|s| s.finding.clone()).collect();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&stored)?),
        Format::Jsonl => {
            for s in &stored {
                println!("{}", serde_json::to_string(s)?);
            }
        }
        Format::Csv => warrant_report::write_findings_csv(&alerts, &mut out)?,
        _ => {
            println!(
                "{}",
                warrant_report::table::findings(&alerts, output::table_style(app.color))
            );
            println!("{} alerts.", alerts.len());
        }
    }
    Ok(pipeline::exit_code(&alerts, args.fail_on))
}
