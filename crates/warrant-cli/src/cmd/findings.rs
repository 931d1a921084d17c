//! `warrant findings`: current findings over the stored inventory.

use std::io::Write;

use warrant_core::{FindingSource, OwaspNhi, RuleId, Severity};

use crate::app::App;
use crate::cmd::pipeline;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct FindingsArgs {
    /// Only findings at or above this severity.
    #[arg(long, value_parser = pipeline::parse_severity)]
    pub severity: Option<Severity>,
    /// Only this OWASP NHI risk (NHI1 … NHI10).
    #[arg(long, value_parser = |s: &str| s.parse::<OwaspNhi>().map_err(|e| e.to_string()))]
    pub owasp: Option<OwaspNhi>,
    /// Only this rule id (see `warrant rules`).
    #[arg(long, value_parser = |s: &str| s.parse::<RuleId>().map_err(|e| e.to_string()))]
    pub rule: Option<RuleId>,
    /// Only findings on this identity (external id).
    #[arg(long)]
    pub identity: Option<String>,
    /// Only findings from this engine (posture, secret, activity).
    #[arg(long, value_parser = |s: &str| s.parse::<FindingSource>().map_err(|e| e.to_string()))]
    pub source: Option<FindingSource>,
    /// Exit with code 1 when a listed finding is at or above this severity.
    #[arg(long, value_parser = pipeline::parse_severity)]
    pub fail_on: Option<Severity>,
}

pub fn run(app: &App, args: FindingsArgs) -> anyhow::Result<u8> {
    let format = output::choose(
        app.format,
        Format::Table,
        &[
            Format::Table,
            Format::Json,
            Format::Jsonl,
            Format::Csv,
            Format::Sarif,
        ],
    )?;
    let store = app.open_existing_store()?;
    let mut evaluation = pipeline::evaluate(app, &store)?;
    // Only the findings and their origins are needed from here on: the inventory goes, and the
    // findings are filtered in place rather than copied (hundreds of thousands at scale).
    evaluation.inventory = warrant_core::Inventory::default();
    let mut findings = std::mem::take(&mut evaluation.assessment.findings);
    findings.retain(|f| {
        args.severity.is_none_or(|s| f.severity >= s)
            && args.owasp.is_none_or(|o| f.owasp == o)
            && args.rule.is_none_or(|r| f.rule == r)
            && args.identity.as_ref().is_none_or(|i| &f.identity == i)
            && args.source.is_none_or(|s| f.source == s)
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &findings)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for f in &findings {
                serde_json::to_writer(&mut out, f)?;
                writeln!(out)?;
            }
        }
        Format::Csv => warrant_report::write_findings_csv(&findings, &mut out)?,
        Format::Sarif => {
            let locate = |id: &str| evaluation.origins.get(id).cloned();
            warrant_report::sarif::write(&findings, &locate, &mut out)?;
        }
        _ => {
            writeln!(
                out,
                "{}",
                warrant_report::table::findings(&findings, output::table_style(app.color))
            )?;
            writeln!(out, "{} findings.", findings.len())?;
        }
    }
    out.flush()?;
    Ok(pipeline::exit_code(&findings, args.fail_on))
}
