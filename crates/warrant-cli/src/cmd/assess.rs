//! `warrant assess DIR`: import and assess in one shot.

use std::path::PathBuf;

use warrant_core::Severity;

use crate::app::App;
use crate::cmd::pipeline;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    /// Directories or files of exports (and, optionally, source trees and activity logs).
    #[arg(required = true, value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Exit with code 1 when any finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = pipeline::parse_severity)]
    pub fail_on: Option<Severity>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows shown in the table and HTML views (JSON, CSV and SARIF always hold everything).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
}

pub fn run(app: &App, args: AssessArgs) -> anyhow::Result<u8> {
    let format = output::choose(
        app.format,
        Format::Table,
        &[
            Format::Table,
            Format::Json,
            Format::Html,
            Format::Sarif,
            Format::Csv,
        ],
    )?;
    let store = app.open_store()?;
    let fingerprinter = app.fingerprinter()?;
    let warrant_app::Assessed {
        imported,
        mut evaluation,
    } = app.run(warrant_app::assess(
        &store,
        app.settings()?,
        &fingerprinter,
        &args.paths,
        app.now(),
        &app.progress(),
        &warrant_app::Cancel::new(),
    ))?;
    let started = std::time::Instant::now();
    let document = pipeline::document(app, &mut evaluation, imported.inputs.clone());
    pipeline::write_document(
        app,
        &document,
        &evaluation,
        format,
        args.output.as_deref(),
        args.top,
    )?;
    crate::output::log_phase(started, "Report written.");
    if format == Format::Table && args.output.is_none() {
        pipeline::print_notes(&imported.notes);
    }
    if let Some(code) = pipeline::input_errors(&document.inputs) {
        return Ok(code);
    }
    Ok(pipeline::exit_code(&document.findings, args.fail_on))
}
