//! `warrant rules`: what Warrant checks, and how each check maps to the OWASP NHI Top 10.

use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct RulesArgs {}

pub fn run(app: &App, _args: RulesArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let rules = warrant_posture::rules();
    match format {
        Format::Json => {
            let rows: Vec<_> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "title": r.title,
                        "owasp": r.owasp.code(),
                        "severity": r.default_severity,
                        "description": r.description,
                        "remediation": r.remediation,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        _ => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED);
            table.set_header(["rule", "owasp", "severity", "title"]);
            for r in &rules {
                table.add_row(vec![
                    r.id.to_string(),
                    format!("{} {}", r.owasp.code(), r.owasp.title()),
                    r.default_severity.to_string(),
                    r.title.to_string(),
                ]);
            }
            println!("{table}");
        }
    }
    Ok(crate::exit::OK)
}
