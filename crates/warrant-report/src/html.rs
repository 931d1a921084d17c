//! A self-contained HTML report (no scripts, no external assets): summary, charts drawn as inline
//! SVG, the riskiest identities, a table of findings by rule and the details (evidence, fix) of
//! the most severe findings.
//!
//! Its size is bounded whatever the organisation's: at 100k identities and 270k findings every
//! finding inlined made a 150 MB page no browser opens. The charts draw everyone (the scatter
//! becomes a density grid past [`MAX_DOTS`] identities), the tables and details stop at fixed
//! counts and say where the rest is (the JSON, CSV and SARIF outputs hold everything).
//!
//! `maud` escapes every interpolated value, so identity names and evidence from hostile input
//! cannot inject markup.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use warrant_core::{OwaspNhi, Severity};

use crate::{AssessmentDocument, IdentityView};

pub(crate) const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#111827;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#cbd5e1}
main{padding:20px 28px;max-width:1400px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border-radius:8px;padding:12px 16px;min-width:150px;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:26px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;margin-top:16px}
section.panel{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px #0002}
h2{font-size:16px;margin:0 0 10px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{font-size:12px;text-transform:uppercase;color:#6b7280}code{font-size:12px;word-break:break-all}
.sev{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-size:12px}
.critical{background:#7e22ce}.high{background:#dc2626}.medium{background:#d97706}.low{background:#0891b2}.info{background:#6b7280}
.bar{background:#e5e7eb;border-radius:3px;height:8px;width:120px}.bar span{display:block;height:8px;border-radius:3px}
details{border-bottom:1px solid #e5e7eb;padding:6px 0}summary{cursor:pointer}ul{margin:4px 0 4px 18px;padding:0}
.fix{color:#065f46}.muted{color:#6b7280}
"#;

/// Identities drawn one dot each in the scatter; past this the chart becomes a density grid
/// with the riskiest [`TOP_DOTS`] drawn on top.
pub const MAX_DOTS: usize = 2_000;
const TOP_DOTS: usize = 200;
/// Cells per side of the density grid.
const GRID: usize = 20;
/// Input files listed.
const MAX_INPUT_ROWS: usize = 200;
/// Findings shown with their evidence and fix (most severe first).
pub const MAX_FINDING_DETAILS: usize = 500;

fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#7e22ce",
        Severity::High => "#dc2626",
        Severity::Medium => "#d97706",
        Severity::Low => "#0891b2",
        Severity::Info => "#6b7280",
    }
}

fn risk_color(risk: f64) -> &'static str {
    if risk >= 70.0 {
        "#dc2626"
    } else if risk >= 40.0 {
        "#d97706"
    } else {
        "#16a34a"
    }
}

/// Horizontal bars of findings per OWASP NHI category.
/// A finding's ATT&CK tactics then techniques, e.g. `persistence · T1098.001`.
fn attack_line(f: &warrant_core::Finding) -> String {
    f.tactics
        .iter()
        .map(|t| t.to_string())
        .chain(f.attack.iter().map(|t| t.to_string()))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn owasp_chart(doc: &AssessmentDocument) -> Markup {
    let max = doc
        .summary
        .by_owasp
        .values()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let row_height = 24.0;
    let height = row_height * OwaspNhi::ALL.len() as f64 + 10.0;
    html! {
        svg width="100%" viewBox=(format!("0 0 560 {height}")) role="img" aria-label="Findings by OWASP NHI risk" {
            @for (i, nhi) in OwaspNhi::ALL.iter().enumerate() {
                @let n = doc.summary.by_owasp.get(nhi.code()).copied().unwrap_or(0);
                @let y = i as f64 * row_height + 4.0;
                @let width = 300.0 * n as f64 / max;
                text x="0" y=(y + 14.0) font-size="12" { (nhi.code()) " " (nhi.title()) }
                rect x="250" y=(y + 2.0) width=(format!("{width:.1}")) height="16" rx="3" fill="#2563eb" {
                    title { (nhi.code()) ": " (n) " findings" }
                }
                text x=(format!("{:.1}", 256.0 + width)) y=(y + 14.0) font-size="12" { (n) }
            }
        }
    }
}

/// One stacked bar of findings per severity.
fn severity_chart(doc: &AssessmentDocument) -> Markup {
    let total = doc.summary.findings.max(1) as f64;
    let mut x = 0.0;
    let mut segments = Vec::new();
    for severity in Severity::ALL.iter().rev() {
        let n = doc.summary.by_severity.get(severity).copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        let width = 560.0 * n as f64 / total;
        segments.push((x, width, *severity, n));
        x += width;
    }
    html! {
        svg width="100%" viewBox="0 0 560 48" role="img" aria-label="Findings by severity" {
            @for (x, width, severity, n) in &segments {
                rect x=(format!("{x:.1}")) y="0" width=(format!("{width:.1}")) height="26" fill=(severity_color(*severity)) {
                    title { (severity) ": " (n) }
                }
                @if *width > 50.0 {
                    text x=(format!("{:.1}", x + 6.0)) y="18" font-size="12" fill="#fff" { (n) " " (severity) }
                }
            }
            @if segments.is_empty() {
                text x="0" y="18" font-size="12" { "No findings." }
            }
        }
    }
}

/// Every identity placed by blast radius (x) and exposure (y): the top-right corner is where to
/// start. Past [`MAX_DOTS`] identities, a grid of cells shaded by how many identities fall in
/// each, with the riskiest drawn as dots on top.
fn risk_scatter(identities: &[IdentityView]) -> Markup {
    let (w, h, pad) = (560.0, 300.0, 36.0);
    let sx = |v: f64| pad + (w - pad - 10.0) * v.clamp(0.0, 100.0) / 100.0;
    let sy = |v: f64| h - pad - (h - pad - 10.0) * v.clamp(0.0, 100.0) / 100.0;
    let dense = identities.len() > MAX_DOTS;
    let mut cells = vec![0usize; GRID * GRID];
    if dense {
        let bin = |v: f64| ((v.clamp(0.0, 100.0) / 100.0 * GRID as f64) as usize).min(GRID - 1);
        for i in identities {
            if let Some(cell) = cells.get_mut(bin(i.exposure) * GRID + bin(i.blast_radius)) {
                *cell += 1;
            }
        }
    }
    let busiest = cells.iter().copied().max().unwrap_or(0).max(1) as f64;
    let cell_w = (sx(100.0) - sx(0.0)) / GRID as f64;
    let cell_h = (sy(0.0) - sy(100.0)) / GRID as f64;
    let dots = if dense { TOP_DOTS } else { MAX_DOTS };
    html! {
        svg width="100%" viewBox=(format!("0 0 {w} {h}")) role="img" aria-label="Blast radius against exposure" {
            rect x=(sx(50.0)) y=(sy(100.0)) width=(sx(100.0) - sx(50.0)) height=(sy(50.0) - sy(100.0)) fill="#fee2e2" {}
            @if dense {
                @for (k, n) in cells.iter().enumerate() {
                    @if *n > 0 {
                        @let (row, col) = (k / GRID, k % GRID);
                        rect x=(format!("{:.1}", sx(0.0) + col as f64 * cell_w))
                            y=(format!("{:.1}", sy(0.0) - (row + 1) as f64 * cell_h))
                            width=(format!("{cell_w:.1}")) height=(format!("{cell_h:.1}"))
                            fill="#2563eb" fill-opacity=(format!("{:.2}", 0.08 + 0.8 * (*n as f64 / busiest).sqrt())) {
                            title { (n) " identities" }
                        }
                    }
                }
            }
            line x1=(pad) y1=(h - pad) x2=(w - 10.0) y2=(h - pad) stroke="#9ca3af" {}
            line x1=(pad) y1="10" x2=(pad) y2=(h - pad) stroke="#9ca3af" {}
            text x=(w / 2.0 - 40.0) y=(h - 6.0) font-size="12" { "blast radius →" }
            text x=(-h / 2.0 - 30.0) y="14" font-size="12" transform="rotate(-90)" { "exposure →" }
            @for i in identities.iter().take(dots) {
                circle cx=(format!("{:.1}", sx(i.blast_radius))) cy=(format!("{:.1}", sy(i.exposure))) r="5"
                    fill=(risk_color(i.risk)) fill-opacity="0.7" {
                    title { (i.id) " — risk " (format!("{:.0}", i.risk)) }
                }
            }
        }
    }
}

/// One row per rule: how often it fired, at which severities, on how many identities.
fn rule_table(doc: &AssessmentDocument) -> Markup {
    use std::collections::{BTreeMap, BTreeSet};
    struct Row<'a> {
        first: &'a warrant_core::Finding,
        by_severity: BTreeMap<Severity, usize>,
        identities: BTreeSet<&'a str>,
        n: usize,
    }
    let mut rows: BTreeMap<&str, Row<'_>> = BTreeMap::new();
    for f in doc.findings.iter().filter(|f| f.exception.is_none()) {
        let row = rows.entry(f.rule.as_str()).or_insert_with(|| Row {
            first: f,
            by_severity: BTreeMap::new(),
            identities: BTreeSet::new(),
            n: 0,
        });
        row.n += 1;
        *row.by_severity.entry(f.severity).or_default() += 1;
        row.identities.insert(f.identity.as_str());
    }
    let mut rows: Vec<Row<'_>> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        b.by_severity
            .keys()
            .next_back()
            .cmp(&a.by_severity.keys().next_back())
            .then(b.n.cmp(&a.n))
    });
    html! {
        table {
            thead { tr { th { "rule" } th { "OWASP" } th { "findings" } th { "identities" } th { "severity" } th { "fix" } } }
            tbody {
                @for row in &rows {
                    tr {
                        td { code title=(row.first.rule.spec().description) { (row.first.rule) } }
                        td { b { (row.first.owasp.code()) } }
                        td { (row.n) }
                        td { (row.identities.len()) }
                        td { @for (severity, n) in row.by_severity.iter().rev() { span class=(format!("sev {severity}")) { (n) " " (severity) } " " } }
                        td.fix { (row.first.remediation) }
                    }
                }
            }
        }
    }
}

/// Renders the whole report.
pub fn render(doc: &AssessmentDocument, max_identities: usize) -> String {
    let s = &doc.summary;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Warrant assessment — " (doc.as_of.format("%Y-%m-%d")) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Warrant — non-human identity assessment" }
                    p { "As of " (doc.as_of.format("%Y-%m-%d %H:%M UTC")) " · warrant " (doc.tool.version) }
                }
                main {
                    div.cards {
                        div.card { b { (s.identities) } "identities" }
                        div.card { b { (s.findings) } "findings" }
                        div.card { b { (s.by_severity.get(&Severity::Critical).copied().unwrap_or(0)) } "critical" }
                        div.card { b { (s.by_severity.get(&Severity::High).copied().unwrap_or(0)) } "high" }
                        div.card { b { (s.admin_equivalent) } "administrator-equivalent" }
                        div.card { b { (s.without_owner) } "without an owner" }
                    }
                    div.grid {
                        section.panel { h2 { "Findings by severity" } (severity_chart(doc)) h2 { "Findings by OWASP NHI risk" } (owasp_chart(doc)) }
                        section.panel { h2 { "Where the risk is: blast radius × exposure" } (risk_scatter(&doc.identities)) p.muted { "Each dot is an identity; hover for its name. Start with the shaded corner." } }
                    }
                    section.panel style="margin-top:16px" {
                        h2 { "Riskiest identities" }
                        table {
                            thead { tr { th { "risk" } th { "identity" } th { "kind" } th { "environment" } th { "owners" } th { "findings" } } }
                            tbody {
                                @for i in doc.identities.iter().take(max_identities) {
                                    tr {
                                        td { div.bar { span style=(format!("width:{:.0}%;background:{}", i.risk, risk_color(i.risk))) {} } (format!("{:.0}", i.risk)) }
                                        td { code { (i.id) } @if i.admin_equivalent { " " span.sev.critical { "admin" } } }
                                        td { (i.kind) }
                                        td { (i.environment) }
                                        td { @if i.owners.is_empty() { span.muted { "none" } } @else { (i.owners.join(", ")) } }
                                        td { (i.n_findings) }
                                    }
                                }
                            }
                        }
                        @if doc.identities.len() > max_identities {
                            p.muted { (doc.identities.len() - max_identities) " more identities in the JSON output." }
                        }
                    }
                    section.panel style="margin-top:16px" {
                        h2 { "Findings by rule" }
                        (rule_table(doc))
                    }
                    section.panel style="margin-top:16px" {
                        h2 { "Findings" }
                        @if doc.findings.len() > MAX_FINDING_DETAILS {
                            p.muted { "The " (MAX_FINDING_DETAILS) " most severe of " (doc.findings.len()) " findings; every finding is in the JSON, CSV and SARIF outputs (" code { "warrant findings --format json" } ")." }
                        }
                        @for f in doc.findings.iter().take(MAX_FINDING_DETAILS) {
                            details {
                                summary {
                                    span class=(format!("sev {}", f.severity)) { (f.severity) } " "
                                    b { (f.owasp.code()) } " " (f.title) " — " code { (f.identity) }
                                }
                                ul { @for e in &f.evidence { li { (e) } } }
                                p.fix { "Fix: " (f.remediation) }
                                @if !f.related.is_empty() {
                                    p.muted { "Also " @for (i, nhi) in f.related.iter().enumerate() { @if i > 0 { ", " } b { (nhi.code()) } " " (nhi.title()) } }
                                }
                                @if !f.tactics.is_empty() || !f.attack.is_empty() {
                                    p.muted { "MITRE ATT&CK: " (attack_line(f)) }
                                }
                                @if let Some(e) = &f.exception {
                                    p.muted { "Covered by exception " code { (e.id) } " until " (e.expires.format("%Y-%m-%d")) " (owner " (e.owner) "): " (e.reason) ". Not counted in exposure or the totals." }
                                }
                                @if let Some(tier) = &f.tier {
                                    p.muted { "Judged by governance tier " b { (tier) } "." }
                                }
                                p.muted { "rule " code title=(f.rule.spec().description) { (f.rule) } " · finding " code { (f.id) } }
                            }
                        }
                    }
                    @if !doc.inputs.is_empty() {
                        section.panel style="margin-top:16px" {
                            h2 { "Inputs" }
                            table {
                                thead { tr { th { "file" } th { "format" } th { "records" } th { "problem" } } }
                                tbody {
                                    @for input in doc.inputs.iter().take(MAX_INPUT_ROWS) {
                                        tr {
                                            td { code { (input.path) } }
                                            td { (input.format.as_deref().unwrap_or("not recognised")) }
                                            td { (input.records) }
                                            td { (input.error.as_deref().unwrap_or("")) }
                                        }
                                    }
                                }
                            }
                            @if doc.inputs.len() > MAX_INPUT_ROWS {
                                p.muted { (doc.inputs.len() - MAX_INPUT_ROWS) " more inputs in the JSON output." }
                            }
                        }
                    }
                }
            }
        }
    };
    markup.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_hostile_text_and_draws_charts() {
        let doc = crate::fixtures::document();
        let page = render(&doc, 50);
        assert!(page.contains("&lt;script&gt;"), "evidence is escaped");
        assert!(!page.contains("<script>"));
        assert!(page.contains("<svg"), "charts are drawn");
        assert!(page.contains("NHI5"));
        assert!(page.contains("arn:aws:iam::111111111111:user/ci-deployer"));
    }

    #[test]
    fn the_report_stays_small_at_100k_identities() {
        // Defect: every finding inlined made a 150 MB page at 100k identities.
        let base = crate::fixtures::document();
        let mut doc = base.clone();
        doc.identities = (0..100_000)
            .map(|n| {
                let mut i = base.identities[n % base.identities.len()].clone();
                i.id = format!("arn:aws:iam::111111111111:role/generated-{n}");
                i.blast_radius = (n % 101) as f64;
                i.exposure = ((n * 7) % 101) as f64;
                i
            })
            .collect();
        doc.findings = (0..270_000)
            .map(|n| {
                let mut f = base.findings[n % base.findings.len()].clone();
                f.identity = format!("arn:aws:iam::111111111111:role/generated-{}", n % 100_000);
                f
            })
            .collect();
        doc.summary.findings = doc.findings.len();
        let page = render(&doc, 50);
        assert!(page.len() < 3 * 1024 * 1024, "{} bytes", page.len());
        assert!(
            page.contains("identities</title>"),
            "the density grid is drawn"
        );
        assert!(page.contains("most severe of 270000 findings"));
        assert!(page.contains("Findings by rule"));
        // Small organisations still get every dot and every finding's details.
        let small = render(&base, 50);
        assert!(!small.contains("most severe of"));
        assert_eq!(small.matches("<details>").count(), base.findings.len());
    }
}
