//! The evidence of an access-review campaign for an auditor (SOC 2 CC6.2/CC6.3, ISO/IEC
//! 27001:2022 A.5.18): who reviewed which identity, what they decided and why, when, what they
//! were shown, and what became of the remediation their decision asked for — as JSON (the
//! [`ReviewReport`] document), CSV (one row per item) and a self-contained HTML page with a
//! summary chart.
//!
//! The document is built by the application layer; this module only renders it. `maud`
//! escapes every value taken from input, and the page has no scripts or external assets.

use std::collections::BTreeMap;
use std::io::Write;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::{Deserialize, Serialize};
use warrant_core::Timestamp;

use crate::ReportError;

/// Identifies the review report's JSON format; bumped only for incompatible changes.
pub const REVIEW_SCHEMA: &str = "warrant.review/v1";

/// The controls an access-review campaign is evidence for.
pub const CONTROLS: &[&str] = &[
    "SOC 2 CC6.2 (access is authorised, and removed when no longer needed)",
    "SOC 2 CC6.3 (access is reviewed and changed as roles change)",
    "ISO/IEC 27001:2022 A.5.18 (access rights are reviewed at planned intervals)",
];

/// Items listed in the HTML page; the JSON and CSV hold every item.
pub const MAX_HTML_ITEMS: usize = 20_000;

/// A campaign's evidence, as of the instant the report was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewReport {
    pub schema: String,
    /// The instant states (pending, overdue) are judged at.
    pub as_of: Timestamp,
    pub campaign: CampaignInfo,
    pub counts: ReviewCounts,
    /// In item order.
    pub items: Vec<ReviewReportItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignInfo {
    pub name: String,
    /// Which identities it covers, e.g. `tier=prod`.
    pub scope: String,
    /// The last day to decide (YYYY-MM-DD).
    pub due: String,
    /// `open` or `closed`.
    pub status: String,
    pub started_by: String,
    pub started_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Who reviewed unowned items and got overdue ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reviewer: Option<String>,
    /// What the evidence was read from.
    pub basis: String,
    /// Start of the window observed use was read from.
    pub usage_since: Timestamp,
    pub controls: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCounts {
    pub items: usize,
    pub decided: usize,
    /// Pending, overdue included.
    pub pending: usize,
    pub overdue: usize,
    /// Decided items by their decision (keep, rightsize, rotate, disable, decommission,
    /// expired).
    pub by_decision: BTreeMap<String, usize>,
}

/// A decision an item had before a correction replaced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorDecision {
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub decided_by: String,
    pub decided_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewReportItem {
    pub item: i64,
    /// The identity's external id.
    pub identity: String,
    pub name: String,
    /// Who it was assigned to when the campaign opened, and why them.
    pub reviewer: String,
    pub assigned_because: String,
    /// Who it is with now: the fallback reviewer once it is overdue.
    pub reviewer_now: String,
    /// `pending`, `overdue` or `decided`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// `assigned`, `escalated` (the fallback reviewer, the item overdue) or `close`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    /// The remediation plan the decision wrote, and where it stands (`proposed`, `applied`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_status: Option<String>,
    /// Why no plan could be written, when the decision called for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_error: Option<String>,
    /// Earlier decisions that corrections replaced, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<PriorDecision>,
    /// The evidence in one line.
    pub evidence_summary: String,
    /// The evidence captured when the campaign opened (keys sorted when written).
    #[serde(serialize_with = "warrant_core::canonical::serialize_sorted")]
    pub evidence: serde_json::Value,
}

impl ReviewReport {
    pub fn write_json(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)?;
        Ok(())
    }

    /// One row per item, with the campaign's name on each so files of several campaigns can be
    /// concatenated.
    pub fn write_csv(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record([
            "campaign",
            "item",
            "identity",
            "name",
            "reviewer",
            "assigned_because",
            "reviewer_now",
            "state",
            "decision",
            "reason",
            "decided_by",
            "authority",
            "decided_at",
            "plan",
            "plan_status",
            "plan_error",
            "superseded",
            "evidence",
        ])?;
        let time = |t: &Option<Timestamp>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        for i in &self.items {
            let superseded: Vec<String> = i
                .superseded
                .iter()
                .map(|p| {
                    format!(
                        "{} by {} on {}",
                        p.decision,
                        p.decided_by,
                        p.decided_at.format("%Y-%m-%d")
                    )
                })
                .collect();
            writer.write_record([
                self.campaign.name.as_str(),
                i.item.to_string().as_str(),
                i.identity.as_str(),
                i.name.as_str(),
                i.reviewer.as_str(),
                i.assigned_because.as_str(),
                i.reviewer_now.as_str(),
                i.state.as_str(),
                i.decision.as_deref().unwrap_or_default(),
                i.reason.as_deref().unwrap_or_default(),
                i.decided_by.as_deref().unwrap_or_default(),
                i.authority.as_deref().unwrap_or_default(),
                time(&i.decided_at).as_str(),
                i.plan.as_deref().unwrap_or_default(),
                i.plan_status.as_deref().unwrap_or_default(),
                i.plan_error.as_deref().unwrap_or_default(),
                superseded.join(" | ").as_str(),
                i.evidence_summary.as_str(),
            ])?;
        }
        writer.flush()?;
        Ok(())
    }
}

fn decision_color(decision: &str) -> &'static str {
    match decision {
        "keep" => "#16a34a",
        "rightsize" => "#2563eb",
        "rotate" => "#0891b2",
        "disable" => "#d97706",
        "decommission" => "#dc2626",
        _ => "#6b7280",
    }
}

/// One stacked bar: decided against pending (overdue apart).
fn progress_chart(counts: &ReviewCounts) -> Markup {
    let total = counts.items.max(1) as f64;
    let expired = counts.by_decision.get("expired").copied().unwrap_or(0);
    let parts = [
        ("decided", counts.decided.saturating_sub(expired), "#16a34a"),
        ("expired", expired, "#6b7280"),
        (
            "pending",
            counts.pending.saturating_sub(counts.overdue),
            "#9ca3af",
        ),
        ("overdue", counts.overdue, "#dc2626"),
    ];
    let mut x = 0.0;
    let mut segments = Vec::new();
    for (label, n, color) in parts {
        if n == 0 {
            continue;
        }
        let width = 560.0 * n as f64 / total;
        segments.push((x, width, label, n, color));
        x += width;
    }
    html! {
        svg width="100%" viewBox="0 0 560 48" role="img" aria-label="Items decided, expired and pending" {
            @for (x, width, label, n, color) in &segments {
                rect x=(format!("{x:.1}")) y="0" width=(format!("{width:.1}")) height="26" fill=(color) {
                    title { (label) ": " (n) }
                }
                @if *width > 60.0 {
                    text x=(format!("{:.1}", x + 6.0)) y="18" font-size="12" fill="#fff" { (n) " " (label) }
                }
            }
            @if segments.is_empty() {
                text x="0" y="18" font-size="12" { "No items." }
            }
        }
    }
}

/// Horizontal bars of decisions by kind.
fn decisions_chart(counts: &ReviewCounts) -> Markup {
    let kinds = [
        "keep",
        "rightsize",
        "rotate",
        "disable",
        "decommission",
        "expired",
    ];
    let max = counts
        .by_decision
        .values()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let row = 24.0;
    let height = row * kinds.len() as f64 + 6.0;
    html! {
        svg width="100%" viewBox=(format!("0 0 560 {height}")) role="img" aria-label="Decisions by kind" {
            @for (i, kind) in kinds.iter().enumerate() {
                @let n = counts.by_decision.get(*kind).copied().unwrap_or(0);
                @let y = i as f64 * row + 2.0;
                @let width = 380.0 * n as f64 / max;
                text x="0" y=(y + 14.0) font-size="12" { (kind) }
                rect x="110" y=(y + 2.0) width=(format!("{width:.1}")) height="16" rx="3" fill=(decision_color(kind)) {
                    title { (kind) ": " (n) }
                }
                text x=(format!("{:.1}", 116.0 + width)) y=(y + 14.0) font-size="12" { (n) }
            }
        }
    }
}

fn day(t: &Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Renders the whole page.
pub fn render_html(report: &ReviewReport) -> String {
    let c = &report.campaign;
    let n = &report.counts;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Warrant access review — " (c.name) }
                style { (PreEscaped(crate::html::STYLE)) (PreEscaped(EXTRA_STYLE)) }
            }
            body {
                header {
                    h1 { "Warrant — access review " (c.name) }
                    p { "Evidence as of " (day(&report.as_of)) " · scope " code { (c.scope) } " · due " (c.due) " · " (c.status) }
                }
                main {
                    div.cards {
                        div.card { b { (n.items) } "identities reviewed" }
                        div.card { b { (n.decided) } "decided" }
                        div.card { b { (n.pending) } "pending" }
                        div.card { b { (n.overdue) } "overdue (escalated)" }
                        div.card { b { (report.items.iter().filter(|i| i.plan.is_some()).count()) } "remediation plans" }
                    }
                    div.grid {
                        section.panel {
                            h2 { "Progress" }
                            (progress_chart(n))
                            h2 { "Decisions" }
                            (decisions_chart(n))
                        }
                        section.panel {
                            h2 { "Campaign" }
                            table {
                                tbody {
                                    tr { th { "name" } td { (c.name) } }
                                    tr { th { "scope" } td { code { (c.scope) } } }
                                    tr { th { "due" } td { (c.due) } }
                                    tr { th { "started" } td { (day(&c.started_at)) " by " (c.started_by) } }
                                    tr { th { "closed" } td {
                                        @match (&c.closed_at, &c.closed_by) {
                                            (Some(at), Some(by)) => { (day(at)) " by " (by) }
                                            _ => { span.muted { "open" } }
                                        }
                                    } }
                                    tr { th { "fallback reviewer" } td { (c.fallback_reviewer.as_deref().unwrap_or("none")) } }
                                    tr { th { "evidence from" } td { (c.basis) "; observed use since " (c.usage_since.format("%Y-%m-%d")) } }
                                    tr { th { "controls" } td { ul { @for control in &c.controls { li { (control) } } } } }
                                }
                            }
                        }
                    }
                    section.panel style="margin-top:16px" {
                        h2 { "Items" }
                        @if report.items.len() > MAX_HTML_ITEMS {
                            p.muted { "The first " (MAX_HTML_ITEMS) " of " (report.items.len()) " items; the JSON and CSV reports hold every item." }
                        }
                        table {
                            thead { tr { th { "#" } th { "identity" } th { "reviewer" } th { "decision" } th { "when" } th { "plan" } th { "evidence at start" } } }
                            tbody {
                                @for i in report.items.iter().take(MAX_HTML_ITEMS) {
                                    tr {
                                        td { (i.item) }
                                        td { code { (i.identity) } }
                                        td {
                                            (i.reviewer)
                                            br; span.muted { (i.assigned_because) }
                                            @if i.reviewer_now != i.reviewer {
                                                br; span.muted { "escalated to " (i.reviewer_now) }
                                            }
                                        }
                                        td {
                                            @match &i.decision {
                                                Some(d) => {
                                                    span.decision style=(format!("background:{}", decision_color(d))) { (d) }
                                                    @if let Some(reason) = &i.reason { " " (reason) }
                                                    @if let Some(by) = &i.decided_by {
                                                        br; span.muted { "by " (by) @if i.authority.as_deref() == Some("escalated") { " (escalated)" } }
                                                    }
                                                    @for p in &i.superseded {
                                                        br; span.muted { "replaces " (p.decision) " by " (p.decided_by) " on " (p.decided_at.format("%Y-%m-%d")) }
                                                    }
                                                }
                                                None => {
                                                    span class=(format!("decision {}", i.state)) { (i.state) }
                                                }
                                            }
                                        }
                                        td { @if let Some(at) = &i.decided_at { (at.format("%Y-%m-%d")) } }
                                        td {
                                            @if let Some(plan) = &i.plan {
                                                code { (plan) } br; span.muted { (i.plan_status.as_deref().unwrap_or("unknown")) }
                                            }
                                            @if let Some(error) = &i.plan_error {
                                                span.muted { "no plan: " (error) }
                                            }
                                        }
                                        td.muted { (i.evidence_summary) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    markup.into_string()
}

const EXTRA_STYLE: &str = ".decision{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-size:12px}\
.pending{background:#9ca3af}.overdue{background:#dc2626}";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn report() -> ReviewReport {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .unwrap();
        let item = |n: i64, decision: Option<&str>| ReviewReportItem {
            item: n,
            identity: format!("arn:aws:iam::1:user/<script>{n}"),
            name: format!("svc-{n}"),
            reviewer: "ana@example.com".into(),
            assigned_because: "owner (tag:owner)".into(),
            reviewer_now: "ana@example.com".into(),
            state: if decision.is_some() {
                "decided"
            } else {
                "pending"
            }
            .into(),
            decision: decision.map(str::to_string),
            reason: decision.map(|_| "still \"needed\", really".to_string()),
            decided_by: decision.map(|_| "ana@example.com".to_string()),
            authority: decision.map(|_| "assigned".to_string()),
            decided_at: decision.map(|_| at),
            plan: None,
            plan_status: None,
            plan_error: None,
            superseded: Vec::new(),
            evidence_summary: "risk 10, blast radius 20".into(),
            evidence: serde_json::json!({"risk": 10.0}),
        };
        ReviewReport {
            schema: REVIEW_SCHEMA.into(),
            as_of: at,
            campaign: CampaignInfo {
                name: "2026-Q4".into(),
                scope: "tier=prod".into(),
                due: "2026-12-31".into(),
                status: "open".into(),
                started_by: "lead@example.com".into(),
                started_at: at,
                closed_by: None,
                closed_at: None,
                fallback_reviewer: None,
                basis: "evaluated".into(),
                usage_since: at,
                controls: CONTROLS.iter().map(|c| c.to_string()).collect(),
            },
            counts: ReviewCounts {
                items: 2,
                decided: 1,
                pending: 1,
                overdue: 0,
                by_decision: BTreeMap::from([("keep".to_string(), 1)]),
            },
            items: vec![item(1, Some("keep")), item(2, None)],
        }
    }

    #[test]
    fn html_escapes_input_and_draws_the_summary() {
        let page = render_html(&report());
        assert!(page.contains("&lt;script&gt;1"));
        assert!(!page.contains("<script>"));
        assert_eq!(page.matches("<svg").count(), 2);
        assert!(page.contains("ISO/IEC 27001:2022 A.5.18"));
    }

    #[test]
    fn csv_has_a_row_per_item_with_quoted_reasons() {
        let mut out = Vec::new();
        report().write_csv(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains(r#""still ""needed"", really""#), "{text}");
    }
}
