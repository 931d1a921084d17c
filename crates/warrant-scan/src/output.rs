//! Report formats: an aligned table, one JSON document, JSON Lines, and SARIF 2.1.0 for code
//! scanning. None of them ever contains a raw secret: findings carry only fingerprints and
//! redacted previews.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde_json::{Map, Value, json};
use warrant_core::sarif::{
    ArtifactLocation, Configuration, Driver, Level, Location, Log, PhysicalLocation, Region,
    ReportingDescriptor, RuleTable, Run, SarifResult, Text, Tool, VersionControl,
};

use crate::finding::SecretFinding;
use crate::origin::Origin;
use crate::rules::{Confidence, Rule, RuleSet};
use crate::scan::{ScanReport, ScanSummary};

pub use warrant_core::sarif::SCHEMA_URI as SARIF_SCHEMA_URI;
/// Version of the JSON document and JSON Lines layout.
pub const JSON_VERSION: u32 = 1;

fn confidence_word(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// `path:line:column` for a finding; git origins add the short commit.
pub fn location(f: &SecretFinding) -> String {
    let base = format!("{}:{}:{}", f.origin.display_path(), f.line, f.column);
    match f.origin.commit() {
        Some(commit) => format!("{base} @{}", commit.get(..12).unwrap_or(commit)),
        None => base,
    }
}

/// Plain aligned table and a summary line. `colour` adds ANSI colours to the confidence column
/// (the caller decides: terminal, `NO_COLOR`).
pub fn write_table(report: &ScanReport, colour: bool, w: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 4]> = report
        .findings
        .iter()
        .map(|f| {
            [
                confidence_word(f.confidence).to_string(),
                f.rule.clone(),
                location(f),
                f.preview.clone(),
            ]
        })
        .collect();
    let header = [
        "CONFIDENCE".to_string(),
        "RULE".to_string(),
        "LOCATION".to_string(),
        "SECRET".to_string(),
    ];
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    if !rows.is_empty() {
        write_row(w, &header, &widths, None)?;
        for (row, f) in rows.iter().zip(&report.findings) {
            let paint = colour.then_some(match f.confidence {
                Confidence::High => "\x1b[1;31m",
                Confidence::Medium => "\x1b[33m",
                Confidence::Low => "\x1b[36m",
            });
            write_row(w, row, &widths, paint)?;
        }
        writeln!(w)?;
    }
    let s = ScanSummary::of(report);
    writeln!(
        w,
        "{} finding(s), {} distinct secret(s) ({} high, {} medium, {} low) in {} file(s), {} bytes; \
         {} binary skipped, {} not scanned, {} suppressed (inline {}, baseline {}, allowlist {})",
        s.findings,
        s.secrets,
        s.high,
        s.medium,
        s.low,
        s.files_scanned,
        s.bytes_scanned,
        s.binary_skipped,
        s.skipped,
        s.suppressed.total(),
        s.suppressed.inline,
        s.suppressed.baseline,
        s.suppressed.allowlist,
    )?;
    for skipped in &report.skipped {
        writeln!(
            w,
            "not scanned: {}: {}",
            skipped.origin.display_path(),
            skipped.reason
        )?;
    }
    Ok(())
}

fn write_row(
    w: &mut dyn Write,
    row: &[String; 4],
    widths: &[usize; 4],
    paint: Option<&str>,
) -> io::Result<()> {
    let mut line = String::new();
    for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
        let pad = width.saturating_sub(cell.chars().count());
        match (i, paint) {
            (0, Some(code)) => line.push_str(&format!("{code}{cell}\x1b[0m")),
            _ => line.push_str(cell),
        }
        if i + 1 < row.len() {
            line.push_str(&" ".repeat(pad + 2));
        }
    }
    writeln!(w, "{}", line.trim_end())
}

/// One JSON document: version, summary, findings, skipped inputs.
/// The JSON report, serialised straight from the scan's own data: building a `Value` tree
/// first held every finding twice over (1.2 GB for the 287k findings of a 200 MB CloudTrail
/// file; issue 10's hostile corpus). Keys are in alphabetical order, as the tree wrote them.
/// `links` and `validations` are what a caller adds (linked identities, provider verdicts).
#[derive(Debug, serde::Serialize)]
pub struct JsonDocument<'a, L: serde::Serialize, V: serde::Serialize> {
    pub findings: &'a [SecretFinding],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<L>,
    pub skipped: &'a [crate::collect::Skipped],
    pub summary: ScanSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validations: Option<V>,
    pub version: u32,
}

impl<'a> JsonDocument<'a, (), ()> {
    /// The document of `report` alone.
    pub fn of(report: &'a ScanReport) -> Self {
        JsonDocument {
            findings: &report.findings,
            links: None,
            skipped: &report.skipped,
            summary: ScanSummary::of(report),
            validations: None,
            version: JSON_VERSION,
        }
    }
}

impl<'a, L: serde::Serialize, V: serde::Serialize> JsonDocument<'a, L, V> {
    /// The same document with what the caller adds.
    pub fn with<L2: serde::Serialize, V2: serde::Serialize>(
        self,
        links: Option<L2>,
        validations: Option<V2>,
    ) -> JsonDocument<'a, L2, V2> {
        JsonDocument {
            findings: self.findings,
            links,
            skipped: self.skipped,
            summary: self.summary,
            validations,
            version: self.version,
        }
    }

    /// Pretty-printed, with a final newline.
    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self)?;
        writeln!(w)
    }
}

pub fn write_json(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    JsonDocument::of(report).write(w)
}

/// One finding per line, nothing else (summaries belong to the other formats).
pub fn write_jsonl(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        serde_json::to_writer(&mut *w, f)?;
        writeln!(w)?;
    }
    Ok(())
}

fn level(c: Confidence) -> Level {
    match c {
        Confidence::High => Level::Error,
        Confidence::Medium => Level::Warning,
        Confidence::Low => Level::Note,
    }
}

/// GitHub ranks security alerts by this 0–10 number.
fn security_severity(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "8.5",
        Confidence::Medium => "6.0",
        Confidence::Low => "3.5",
    }
}

/// Percent-encodes a relative path into a URI reference (`/` kept as the separator).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The artifact URI of an origin: relative to `root` when under it.
fn artifact_uri(origin: &Origin, root: Option<&Path>) -> String {
    if *origin == Origin::Stdin {
        return "stdin".to_string();
    }
    let display = origin.display_path();
    let relative = match root {
        Some(root) => Path::new(&display)
            .strip_prefix(root)
            .map_or_else(|_| display.clone(), |p| p.to_string_lossy().into_owned()),
        None => display.clone(),
    };
    uri_path(relative.trim_start_matches("./"))
}

/// The SARIF `rules` entry of a scanner rule (or of a result's rule missing from the set).
fn descriptor(
    id: &str,
    rule: Option<&Rule>,
    finding: Option<&SecretFinding>,
) -> ReportingDescriptor {
    let Some(rule) = rule else {
        return ReportingDescriptor {
            id: id.to_string(),
            name: None,
            short_description: Text::new(finding.map_or(id, |f| f.rule_name.as_str())),
            full_description: None,
            help: None,
            help_uri: None,
            default_configuration: None,
            properties: Map::new(),
        };
    };
    let mut properties = Map::new();
    properties.insert("provider".into(), json!(rule.provider));
    properties.insert("confidence".into(), json!(confidence_word(rule.confidence)));
    properties.insert("tags".into(), json!(["security", "secret", rule.provider]));
    properties.insert(
        "security-severity".into(),
        json!(security_severity(rule.confidence)),
    );
    ReportingDescriptor {
        id: rule.id.clone(),
        name: Some(rule.id.clone()),
        short_description: Text::new(rule.name.clone()),
        full_description: Some(Text::new(format!(
            "{} ({} {}) leaked in plain text.",
            rule.name,
            rule.provider,
            rule.kind.as_deref().unwrap_or("secret")
        ))),
        help: Some(Text::new(
            "Revoke or rotate the secret at its provider, then remove it from the file and its history; accept known test values with a baseline or a `warrant:allow` comment.",
        )),
        help_uri: rule
            .references
            .first()
            .filter(|uri| uri.starts_with("http"))
            .cloned(),
        default_configuration: Some(Configuration {
            level: level(rule.confidence),
        }),
        properties,
    }
}

/// SARIF 2.1.0 log. `root` makes file URIs relative (normally the directory scanned, or the
/// repository root for code-scanning uploads).
pub fn sarif(report: &ScanReport, rules: &RuleSet, root: Option<&Path>) -> Value {
    // Only rules that produced results, plus any result rule missing from the set, so every
    // ruleIndex is valid and the log stays small.
    let mut table = RuleTable::default();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| {
            let rule_index = table.index_of(&f.rule, || {
                descriptor(
                    &f.rule,
                    rules.get(&f.rule),
                    report.findings.iter().find(|other| other.rule == f.rule),
                )
            });
            let mut properties = Map::new();
            properties.insert("provider".into(), json!(f.provider));
            properties.insert("confidence".into(), json!(confidence_word(f.confidence)));
            properties.insert("entropy".into(), json!(f.entropy));
            properties.insert("preview".into(), json!(f.preview));
            if let Origin::Git {
                commit,
                author,
                email,
                date,
                repo,
                ..
            } = innermost_git(&f.origin)
            {
                properties.insert("commit".into(), json!(commit));
                properties.insert("repository".into(), json!(repo));
                if let Some(a) = author {
                    properties.insert("author".into(), json!(a));
                }
                if let Some(e) = email {
                    properties.insert("email".into(), json!(e));
                }
                if let Some(d) = date {
                    properties.insert("date".into(), json!(d));
                }
            }
            SarifResult {
                rule_id: f.rule.clone(),
                rule_index,
                level: level(f.confidence),
                message: Text::new(format!("{} found: {}", f.rule_name, f.preview)),
                locations: vec![Location {
                    physical_location: Some(PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: artifact_uri(&f.origin, root),
                        },
                        region: Region {
                            start_line: f.line as u64,
                            start_column: Some(f.column as u64),
                            end_line: Some(f.end_line as u64),
                            // SARIF's end column is the one after the region.
                            end_column: Some(f.end_column as u64 + 1),
                            snippet: Some(Text::new(f.snippet_redacted.clone())),
                        },
                    }),
                    logical_locations: Vec::new(),
                }],
                partial_fingerprints: BTreeMap::from([(
                    "warrantSecret/v1".to_string(),
                    f.fingerprint.clone(),
                )]),
                properties,
            }
        })
        .collect();

    Log::new(vec![Run {
        tool: Tool {
            driver: Driver {
                name: "warrant",
                version: None,
                semantic_version: Some(env!("CARGO_PKG_VERSION")),
                information_uri: "https://example.invalid/warrant",
                rules: table.rules,
            },
        },
        column_kind: Some("unicodeCodePoints"),
        results,
        version_control_provenance: version_control(report),
    }])
    .to_json()
}

fn innermost_git(origin: &Origin) -> &Origin {
    match origin {
        Origin::Archive { container, .. } => innermost_git(container),
        other => other,
    }
}

/// One entry per repository whose path is absolute (SARIF wants a URI); the revision is named
/// only when every finding in that repository comes from one commit.
fn version_control(report: &ScanReport) -> Vec<VersionControl> {
    let mut repos: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in &report.findings {
        if let Origin::Git { repo, commit, .. } = innermost_git(&f.origin) {
            let commits = repos.entry(repo.as_str()).or_default();
            if !commits.contains(&commit.as_str()) {
                commits.push(commit);
            }
        }
    }
    repos
        .into_iter()
        .filter(|(repo, _)| repo.starts_with('/'))
        .map(|(repo, commits)| VersionControl {
            repository_uri: format!("file://{}", uri_path(repo)),
            revision_id: match commits.as_slice() {
                [single] => Some(single.to_string()),
                _ => None,
            },
        })
        .collect()
}

pub fn write_sarif(
    report: &ScanReport,
    rules: &RuleSet,
    root: Option<&Path>,
    w: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &sarif(report, rules, root))?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_relative() {
        assert_eq!(uri_path("a b/c%.env"), "a%20b/c%25.env");
        let origin = Origin::File {
            path: "/repo/src/x y.rs".into(),
        };
        assert_eq!(
            artifact_uri(&origin, Some(Path::new("/repo"))),
            "src/x%20y.rs"
        );
        assert_eq!(artifact_uri(&origin, None), "/repo/src/x%20y.rs");
        assert_eq!(artifact_uri(&Origin::Stdin, None), "stdin");
        let member = Origin::Archive {
            container: Box::new(Origin::File {
                path: "/repo/a.zip".into(),
            }),
            member: "k.env".into(),
        };
        assert_eq!(
            artifact_uri(&member, Some(Path::new("/repo"))),
            "a.zip!k.env"
        );
    }
}
