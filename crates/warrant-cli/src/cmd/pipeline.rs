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

/// Says which instant a command over the stored inventory evaluated, and when that differs from
/// the last `assess` (run with another `--as-of`, or long ago) how to see the same view.
pub fn as_of_line(app: &App, store: &warrant_store::Store) -> String {
    let now = app.now();
    let mut line = format!("As of {}", now.format("%Y-%m-%d %H:%M UTC"));
    if let Ok(Some(last)) = app.run(warrant_app::query::last_assessed(store))
        && last.date_naive() != now.date_naive()
    {
        line.push_str(&format!(
            "; the last assessment was as of {} (pass --as-of {} for that view)",
            last.format("%Y-%m-%d %H:%M UTC"),
            last.format("%Y-%m-%d")
        ));
    }
    line.push('.');
    line
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
