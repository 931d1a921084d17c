//! What several commands share: severity arguments, exit codes, and rendering an assessment.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use warrant_app::Evaluation;
use warrant_core::{Finding, Severity};
use warrant_report::{AssessmentDocument, InputView};

use crate::app::App;
use crate::output::{self, Format};

pub fn parse_severity(text: &str) -> Result<Severity, String> {
    text.parse::<Severity>().map_err(|e| e.to_string())
}

/// Exit code for a set of findings and a `--fail-on` threshold.
pub fn exit_code(findings: &[Finding], fail_on: Option<Severity>) -> u8 {
    match fail_on {
        Some(threshold) if findings.iter().any(|f| f.severity >= threshold) => {
            crate::exit::FINDINGS
        }
        _ => crate::exit::OK,
    }
}

/// Exit code 2 when an input could not be read or understood (the rest was still imported and
/// reported), naming each on stderr; `None` when every input was usable.
pub fn input_errors(inputs: &[warrant_report::InputView]) -> Option<u8> {
    let failed: Vec<&str> = inputs.iter().filter_map(|i| i.error.as_deref()).collect();
    if failed.is_empty() {
        return None;
    }
    for error in failed.iter().take(50) {
        eprintln!("warrant: could not import {error}");
    }
    if failed.len() > 50 {
        eprintln!(
            "warrant: … and {} more inputs could not be imported",
            failed.len() - 50
        );
    }
    Some(crate::exit::ERROR)
}

/// Rows a table over the store shows unless `--limit` says otherwise: a terminal's worth of
/// the most important, not a hundred thousand.
pub const TABLE_ROWS: u64 = 100;

/// How many rows a listing shows: `--limit N` (0: all), else a screenful for a table and
/// everything for the machine formats.
pub fn listing_limit(asked: Option<u64>, format: Format) -> Option<u64> {
    match (asked, format) {
        (Some(0), _) => None,
        (Some(n), _) => Some(n),
        (None, Format::Table) => Some(TABLE_ROWS),
        (None, _) => None,
    }
}

/// The lines under a listing's table: how many matched (and how to see the rest when fewer
/// were shown), then what the answer was computed from.
pub fn listing_footer(
    out: &mut dyn Write,
    listed: &warrant_app::query::Listed,
    shown: usize,
    noun: &str,
    order: &str,
    all_format: &str,
) -> std::io::Result<()> {
    if listed.matched > shown as u64 {
        writeln!(
            out,
            "Showing {shown} of {} {noun}, {order} (--limit 0 for all, or --format {all_format}).",
            listed.matched
        )?;
    } else {
        writeln!(out, "{} {noun}.", listed.matched)?;
    }
    writeln!(out, "{}", listed.basis.describe())
}

/// A CSV writer of one kind of row (the report's streaming writers).
pub trait CsvRows<T> {
    fn row(&mut self, item: &T) -> Result<(), warrant_report::ReportError>;
    fn finish(self) -> Result<(), warrant_report::ReportError>;
}

impl<W: Write> CsvRows<warrant_core::Finding> for warrant_report::FindingsCsv<W> {
    fn row(&mut self, item: &warrant_core::Finding) -> Result<(), warrant_report::ReportError> {
        warrant_report::FindingsCsv::row(self, item)
    }
    fn finish(self) -> Result<(), warrant_report::ReportError> {
        warrant_report::FindingsCsv::finish(self)
    }
}

impl<W: Write> CsvRows<warrant_report::IdentityView> for warrant_report::IdentitiesCsv<W> {
    fn row(
        &mut self,
        item: &warrant_report::IdentityView,
    ) -> Result<(), warrant_report::ReportError> {
        warrant_report::IdentitiesCsv::row(self, item)
    }
    fn finish(self) -> Result<(), warrant_report::ReportError> {
        warrant_report::IdentitiesCsv::finish(self)
    }
}

type Stdout = BufWriter<std::io::StdoutLock<'static>>;

/// Where a listing's rows go as they stream from the store: written at once as a JSON array,
/// JSON lines or CSV, or kept for a table.
pub enum Sink<T, C> {
    Json(warrant_report::JsonArray<Stdout>),
    Jsonl(Stdout),
    Csv(C),
    Table(Vec<T>),
}

impl<T: serde::Serialize, C: CsvRows<T>> Sink<T, C> {
    /// A sink for `format`; `csv` makes the CSV writer over standard output.
    pub fn new(
        format: Format,
        csv: impl FnOnce(Stdout) -> Result<C, warrant_report::ReportError>,
    ) -> anyhow::Result<Self> {
        let stdout = || BufWriter::new(std::io::stdout().lock());
        Ok(match format {
            Format::Json => Sink::Json(warrant_report::JsonArray::new(stdout())),
            Format::Jsonl => Sink::Jsonl(stdout()),
            Format::Csv => Sink::Csv(csv(stdout())?),
            _ => Sink::Table(Vec::new()),
        })
    }

    pub fn push(&mut self, item: T) -> anyhow::Result<()> {
        match self {
            Sink::Json(json) => json.item(&item)?,
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, &item)?;
                writeln!(out)?;
            }
            Sink::Csv(csv) => csv.row(&item)?,
            Sink::Table(rows) => rows.push(item),
        }
        Ok(())
    }

    /// Ends the streamed formats; returns the rows kept for a table (none otherwise).
    pub fn finish(self) -> anyhow::Result<Vec<T>> {
        match self {
            Sink::Json(json) => json.finish()?.flush()?,
            Sink::Jsonl(mut out) => out.flush()?,
            Sink::Csv(csv) => csv.finish()?,
            Sink::Table(rows) => return Ok(rows),
        }
        Ok(Vec::new())
    }
}

/// For machine-readable listings (where stdout is the data): says on stderr when the answer
/// had to be evaluated because no current assessment was saved, and how to make it instant.
pub fn note_basis(basis: &warrant_app::query::Basis) {
    use warrant_app::query::{Basis, Fresh};
    if let Basis::Evaluated {
        reason: Fresh::NeverAssessed | Fresh::ChangedSince(_),
        ..
    } = basis
    {
        eprintln!("{}", basis.describe());
    }
}

/// One line per notable thing on stderr (stdout is for the report).
pub fn print_notes(notes: &[String]) {
    for note in notes {
        eprintln!("{note}");
    }
}

/// The report document. It takes the evaluation's findings (a large assessment holds hundreds
/// of thousands; a copy would cost as much memory again).
pub fn document(
    app: &App,
    evaluation: &mut Evaluation,
    inputs: Vec<InputView>,
) -> AssessmentDocument {
    let identities = warrant_app::identity_views(evaluation);
    AssessmentDocument::new(
        app.now(),
        identities,
        std::mem::take(&mut evaluation.assessment.findings),
        inputs,
    )
}

/// Writes the document in `format` to `output` (or stdout).
pub fn write_document(
    app: &App,
    document: &AssessmentDocument,
    evaluation: &Evaluation,
    format: Format,
    output: Option<&Path>,
    top: usize,
) -> anyhow::Result<()> {
    let mut sink: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        Format::Json => document.write_json(&mut sink)?,
        Format::Csv => warrant_report::write_findings_csv(&document.findings, &mut sink)?,
        Format::Html => {
            sink.write_all(warrant_report::html::render(document, top.max(50)).as_bytes())?
        }
        Format::Sarif => {
            let base = std::env::current_dir().unwrap_or_default();
            let locate = |identity: &str| {
                evaluation.origins.get(identity).map(|path| {
                    let path = Path::new(path);
                    path.strip_prefix(&base)
                        .unwrap_or(path)
                        .display()
                        .to_string()
                })
            };
            warrant_report::sarif::write(&document.findings, &locate, &mut sink)?;
        }
        Format::Table | Format::Jsonl => {
            let style = if output.is_some() {
                warrant_report::table::TableStyle {
                    color: false,
                    width: None,
                }
            } else {
                output::table_style(app.color)
            };
            sink.write_all(warrant_report::table::assessment(document, style, top).as_bytes())?;
        }
    }
    sink.flush()?;
    if let Some(path) = output {
        eprintln!("Wrote the {} report to {}.", format.name(), path.display());
    }
    Ok(())
}
