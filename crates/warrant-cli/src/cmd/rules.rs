//! `warrant rules`: every rule Warrant can raise (posture, activity, leaked secrets), from the
//! rule registry, with its OWASP NHI and MITRE ATT&CK mapping.

use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use warrant_core::rules::RuleFilter;
use warrant_core::{FindingSource, OwaspNhi, RuleSpec, Severity, Tactic, Technique};

use crate::app::App;
use crate::cmd::pipeline;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Only rules of this engine (posture, activity, secret).
    #[arg(long, value_parser = |s: &str| s.parse::<FindingSource>().map_err(|e| e.to_string()))]
    pub engine: Option<FindingSource>,
    /// Only rules whose primary or related OWASP NHI risk is this (NHI1 … NHI10).
    #[arg(long, value_parser = |s: &str| s.parse::<OwaspNhi>().map_err(|e| e.to_string()))]
    pub owasp: Option<OwaspNhi>,
    /// Only rules mapped to this MITRE ATT&CK technique (T1098 also matches T1098.001).
    #[arg(long, value_parser = |s: &str| s.parse::<Technique>().map_err(|e| e.to_string()))]
    pub technique: Option<Technique>,
    /// Only rules mapped to this MITRE ATT&CK tactic (short name such as persistence, or TA0003).
    #[arg(long, value_parser = |s: &str| s.parse::<Tactic>().map_err(|e| e.to_string()))]
    pub tactic: Option<Tactic>,
    /// Only rules whose default severity is at or above this.
    #[arg(long, value_parser = pipeline::parse_severity)]
    pub severity: Option<Severity>,
}

fn joined<T: ToString>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(separator)
}

fn json_row(r: &RuleSpec) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "title": r.title,
        "engine": r.engine,
        "owasp": r.owasp.code(),
        "related": r.related,
        "severity": r.default_severity,
        "tactics": r.tactics,
        "techniques": r.techniques,
        "description": r.description,
        "remediation": r.remediation,
    })
}

pub fn run(app: &App, args: RulesArgs) -> anyhow::Result<u8> {
    let format = output::choose(
        app.format,
        Format::Table,
        &[Format::Table, Format::Json, Format::Csv],
    )?;
    let filter = RuleFilter {
        engine: args.engine,
        owasp: args.owasp,
        technique: args.technique,
        tactic: args.tactic,
        min_severity: args.severity,
    };
    let rules = filter.select();
    match format {
        Format::Json => {
            let rows: Vec<_> = rules.iter().copied().map(json_row).collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        Format::Csv => {
            let mut out = std::io::stdout().lock();
            warrant_report::write_rules_csv(&rules, &mut out)?;
        }
        _ => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED);
            table.set_header(["rule", "engine", "owasp", "severity", "att&ck", "title"]);
            for r in &rules {
                let mut owasp = format!("{} {}", r.owasp.code(), r.owasp.title());
                if !r.related.is_empty() {
                    owasp.push_str(&format!(" (also {})", joined(r.related, ", ")));
                }
                let attack = [joined(r.tactics, ", "), joined(r.techniques, ", ")]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                table.add_row(vec![
                    r.id.to_string(),
                    r.engine.to_string(),
                    owasp,
                    r.default_severity.to_string(),
                    attack,
                    r.title.to_string(),
                ]);
            }
            println!("{table}");
        }
    }
    Ok(crate::exit::OK)
}
