//! Terminal tables. Colour is the caller's decision (only on a TTY, never with `NO_COLOR`).

use std::fmt::Write as _;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use warrant_core::{Finding, Severity};

use crate::{AssessmentDocument, IdentityView};

/// Whether and how wide to draw.
#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    pub color: bool,
    /// Terminal width, `None` to let rows run long (pipes).
    pub width: Option<u16>,
}

fn new_table(style: TableStyle) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    match style.width {
        Some(width) => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(width);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    if !style.color {
        table.force_no_tty();
    }
    table
}

fn severity_cell(severity: Severity, style: TableStyle) -> Cell {
    let cell = Cell::new(severity.as_str());
    if !style.color {
        return cell;
    }
    match severity {
        Severity::Critical => cell.fg(Color::Magenta),
        Severity::High => cell.fg(Color::Red),
        Severity::Medium => cell.fg(Color::Yellow),
        Severity::Low => cell.fg(Color::Cyan),
        Severity::Info => cell,
    }
}

fn risk_cell(risk: f64, style: TableStyle) -> Cell {
    let cell = Cell::new(format!("{risk:.0}"));
    if !style.color {
        return cell;
    }
    if risk >= 70.0 {
        cell.fg(Color::Red)
    } else if risk >= 40.0 {
        cell.fg(Color::Yellow)
    } else {
        cell
    }
}

/// Identities, highest risk first.
pub fn identities(identities: &[IdentityView], style: TableStyle) -> String {
    let mut table = new_table(style);
    table.set_header([
        "risk", "blast", "exposure", "identity", "kind", "env", "status", "owners", "findings",
    ]);
    for i in identities {
        table.add_row(vec![
            risk_cell(i.risk, style),
            Cell::new(format!("{:.0}", i.blast_radius)),
            Cell::new(format!("{:.0}", i.exposure)),
            Cell::new(&i.id),
            Cell::new(i.kind.as_str()),
            Cell::new(i.environment.as_str()),
            Cell::new(i.status.as_str()),
            Cell::new(if i.owners.is_empty() {
                "—".to_string()
            } else {
                i.owners.join(", ")
            }),
            Cell::new(i.n_findings),
        ]);
    }
    table.to_string()
}

/// Findings, most severe first.
pub fn findings(findings: &[Finding], style: TableStyle) -> String {
    let mut table = new_table(style);
    table.set_header(["severity", "owasp", "rule", "identity", "evidence"]);
    for f in findings {
        table.add_row(vec![
            severity_cell(f.severity, style),
            Cell::new(f.owasp.code()),
            Cell::new(f.rule),
            Cell::new(&f.identity),
            Cell::new(f.evidence.first().map(String::as_str).unwrap_or("")),
        ]);
    }
    table.to_string()
}

/// The human summary `warrant assess` prints: counts, riskiest identities, findings.
pub fn assessment(doc: &AssessmentDocument, style: TableStyle, max_rows: usize) -> String {
    let mut out = String::new();
    let s = &doc.summary;
    let _ = writeln!(
        out,
        "Assessed {} identities as of {}: {} findings ({}), {} administrator-equivalent, {} without an owner.",
        s.identities,
        doc.as_of.format("%Y-%m-%d %H:%M UTC"),
        s.findings,
        Severity::ALL
            .iter()
            .rev()
            .filter_map(|sev| s.by_severity.get(sev).map(|n| format!("{n} {sev}")))
            .collect::<Vec<_>>()
            .join(", "),
        s.admin_equivalent,
        s.without_owner,
    );
    let by_owasp: Vec<String> = warrant_core::OwaspNhi::ALL
        .iter()
        .filter_map(|nhi| {
            s.by_owasp
                .get(nhi.code())
                .map(|n| format!("{} {}: {n}", nhi.code(), nhi.title()))
        })
        .collect();
    if !by_owasp.is_empty() {
        let _ = writeln!(out, "OWASP NHI: {}.", by_owasp.join("; "));
    }
    let failed: Vec<_> = doc.inputs.iter().filter(|i| i.error.is_some()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "{} input file(s) could not be used:", failed.len());
        for input in failed {
            let _ = writeln!(out, "  {}", input.error.as_deref().unwrap_or(""));
        }
    }
    let top: Vec<IdentityView> = doc.identities.iter().take(max_rows).cloned().collect();
    let _ = writeln!(
        out,
        "\nRiskiest identities (top {} of {}):",
        top.len(),
        doc.identities.len()
    );
    out.push_str(&identities(&top, style));
    out.push('\n');
    let open: Vec<&Finding> = doc
        .findings
        .iter()
        .filter(|f| f.exception.is_none())
        .collect();
    let shown: Vec<Finding> = open.iter().take(max_rows).map(|f| (*f).clone()).collect();
    let _ = writeln!(out, "\nFindings (top {} of {}):", shown.len(), open.len());
    out.push_str(&findings(&shown, style));
    out.push('\n');
    let excepted: Vec<&Finding> = doc
        .findings
        .iter()
        .filter(|f| f.exception.is_some())
        .collect();
    if !excepted.is_empty() {
        let _ = writeln!(
            out,
            "\nCovered by exceptions ({}; not counted above, back when the exception expires):",
            excepted.len()
        );
        let mut table = new_table(style);
        table.set_header(["rule", "identity", "exception", "until", "owner"]);
        for f in excepted.iter().take(max_rows) {
            if let Some(e) = &f.exception {
                table.add_row(vec![
                    Cell::new(f.rule),
                    Cell::new(&f.identity),
                    Cell::new(&e.id),
                    Cell::new(e.expires.format("%Y-%m-%d")),
                    Cell::new(&e.owner),
                ]);
            }
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    let tiers: std::collections::BTreeMap<&str, usize> = doc
        .findings
        .iter()
        .filter_map(|f| f.tier.as_deref())
        .fold(std::collections::BTreeMap::new(), |mut m, t| {
            *m.entry(t).or_default() += 1;
            m
        });
    if !tiers.is_empty() {
        let list: Vec<String> = tiers.iter().map(|(t, n)| format!("{t} {n}")).collect();
        let _ = writeln!(
            out,
            "\nJudged by the governance policy; findings per tier: {}.",
            list.join(", ")
        );
    }
    if open.len() > shown.len() || doc.identities.len() > top.len() {
        let _ = writeln!(
            out,
            "\nUse `warrant findings`, `warrant inventory` or `--format json|html` for everything."
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_assessment_table() {
        let doc = crate::fixtures::document();
        let text = assessment(
            &doc,
            TableStyle {
                color: false,
                width: None,
            },
            10,
        );
        insta::assert_snapshot!(text);
    }
}
