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
    /// Accept the finding with this id (from the JSON's `id`) instead of listing: later runs
    /// do not reopen it. Needs --note saying why.
    #[arg(
        long,
        value_name = "FINDING_ID",
        requires = "note",
        conflicts_with = "reopen"
    )]
    pub accept: Option<String>,
    /// Open an accepted or resolved finding again.
    #[arg(long, value_name = "FINDING_ID")]
    pub reopen: Option<String>,
    /// Why the finding is accepted (kept with it).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// List at most N findings, most severe first (0: all). The table shows 100 unless told;
    /// the other formats list every finding, streamed.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
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
    let change = match (&args.accept, &args.reopen) {
        (Some(id), _) => Some((id, warrant_store::FindingStatus::Accepted, "Accepted")),
        (None, Some(id)) => Some((id, warrant_store::FindingStatus::Open, "Reopened")),
        (None, None) => None,
    };
    if let Some((id, status, done)) = change {
        app.run(warrant_app::query::set_finding_status(
            &store,
            id,
            status,
            args.note.as_deref(),
        ))?;
        eprintln!("{done} finding {id}.");
        return Ok(crate::exit::OK);
    }
    let filter = warrant_app::query::FindingsFilter {
        severity: args.severity,
        owasp: args.owasp,
        rule: args.rule,
        identity: args.identity.clone(),
        source: args.source,
    };
    if format == Format::Sarif {
        // One document with a rule table and locations: built whole.
        let view = app.run(warrant_app::query::findings(
            &store,
            app.rules()?,
            app.when(),
            &filter,
            &app.progress(),
        ))?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let locate = |id: &str| view.origins.get(id).cloned();
        warrant_report::sarif::write(&view.findings, &locate, &mut out)?;
        out.flush()?;
        pipeline::note_basis(&view.basis);
        return Ok(pipeline::exit_code(&view.findings, args.fail_on));
    }
    let limit = pipeline::listing_limit(args.limit, format);
    // Most severe first: the first finding listed decides --fail-on.
    let mut worst: Option<Severity> = None;
    let mut sink = pipeline::Sink::new(format, warrant_report::FindingsCsv::new)?;
    let listed = app.block_on(warrant_app::query::each_finding(
        &store,
        app.rules()?,
        app.when(),
        &filter,
        limit,
        &app.progress(),
        |f| -> anyhow::Result<()> {
            worst = worst.max(Some(f.severity));
            sink.push(f)
        },
    ))?;
    let shown = sink.finish()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if format == Format::Table {
        writeln!(
            out,
            "{}",
            warrant_report::table::findings(&shown, output::table_style(app.color))
        )?;
        pipeline::listing_footer(
            &mut out,
            &listed,
            shown.len(),
            "findings",
            "most severe first",
            "jsonl",
        )?;
    } else {
        pipeline::note_basis(&listed.basis);
    }
    out.flush()?;
    Ok(match (args.fail_on, worst) {
        (Some(threshold), Some(worst)) if worst >= threshold => crate::exit::FINDINGS,
        _ => crate::exit::OK,
    })
}
