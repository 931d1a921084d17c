//! `warrant findings`: current findings over the stored inventory.

use warrant_core::{FindingSource, OwaspNhi, Severity};

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
    #[arg(long)]
    pub rule: Option<String>,
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
    let evaluation = pipeline::evaluate(app, &store)?;
    let findings: Vec<_> = evaluation
        .assessment
        .findings
        .iter()
        .filter(|f| args.severity.is_none_or(|s| f.severity >= s))
        .filter(|f| args.owasp.is_none_or(|o| f.owasp == o))
        .filter(|f| args.rule.as_ref().is_none_or(|r| &f.rule == r))
        .filter(|f| args.identity.as_ref().is_none_or(|i| &f.identity == i))
        .filter(|f| args.source.is_none_or(|s| f.source == s))
        .cloned()
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&findings)?),
        Format::Jsonl => {
            for f in &findings {
                println!("{}", serde_json::to_string(f)?);
            }
        }
        Format::Csv => warrant_report::write_findings_csv(&findings, &mut out)?,
        Format::Sarif => {
            let locate = |id: &str| evaluation.origins.get(id).cloned();
            warrant_report::sarif::write(&findings, &pipeline::sarif_rules(), &locate, &mut out)?;
        }
        _ => {
            println!(
                "{}",
                warrant_report::table::findings(&findings, output::table_style(app.color))
            );
            println!("{} findings.", findings.len());
        }
    }
    Ok(pipeline::exit_code(&findings, args.fail_on))
}
