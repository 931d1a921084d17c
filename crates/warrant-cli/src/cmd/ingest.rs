//! `warrant ingest PATH…`: activity logs into the store: usage, last-used, baselines, alerts.

use std::path::PathBuf;

use warrant_core::Severity;

use crate::app::App;
use crate::cmd::pipeline;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Log files or directories: CloudTrail (delivery files, .json.gz, AWSLogs trees, arrays,
    /// JSONL), Kubernetes audit JSONL, GitHub audit log exports, Okta System Log exports
    /// (`/api/v1/logs` JSON arrays or JSONL), OTLP JSON GenAI spans.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Exit with code 1 when an alert is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = pipeline::parse_severity)]
    pub fail_on: Option<Severity>,
}

pub fn run(app: &App, args: IngestArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    for path in &args.paths {
        // A dangling link exists as an entry: it is reported as unreadable with the rest.
        if std::fs::symlink_metadata(path).is_err() {
            anyhow::bail!("{} does not exist", path.display());
        }
    }
    let store = app.open_store()?;
    let outcome = app.run(warrant_app::ingest_paths(
        &store,
        None,
        &args.paths,
        &app.config.activity,
        app.now(),
        &app.progress(),
        &warrant_app::Cancel::new(),
    ))?;
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "events": outcome.report.events,
                "files": outcome.report.files,
                "already_ingested": outcome.already_ingested,
                "bad_records": outcome.report.bad_count,
                "attributed": outcome.attributed,
                "shadow": outcome.shadow,
                "outside": outcome.outside,
                "identities": outcome.identities,
                "usage_rows": outcome.usage_rows,
                "alerts": outcome.alerts,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        _ => {
            for note in outcome.notes() {
                println!("{note}");
            }
            if !outcome.alerts.is_empty() {
                println!(
                    "{}",
                    warrant_report::table::findings(
                        &outcome.alerts,
                        output::table_style(app.color)
                    )
                );
            }
        }
    }
    // Input that could not be read or understood is an error (exit 2) even though everything
    // else was ingested; the reasons go to stderr whatever the format.
    let problems = outcome.input_problems(&args.paths);
    if !problems.is_empty() {
        for problem in problems.iter().take(50) {
            eprintln!("warrant: {problem}");
        }
        if problems.len() > 50 {
            eprintln!("warrant: … and {} more", problems.len() - 50);
        }
        return Ok(crate::exit::ERROR);
    }
    Ok(pipeline::exit_code(&outcome.alerts, args.fail_on))
}
