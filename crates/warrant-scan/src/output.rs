//! Report formats: an aligned table, one JSON document, JSON Lines, and SARIF 2.1.0 for code
//! scanning. None of them ever contains a raw secret: findings carry only fingerprints and
//! redacted previews.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use crate::finding::SecretFinding;
use crate::origin::Origin;
use crate::rules::{Confidence, RuleSet};
use crate::scan::{ScanReport, ScanSummary};

pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
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
pub fn json_document(report: &ScanReport) -> Value {
    json!({
        "version": JSON_VERSION,
        "summary": ScanSummary::of(report),
        "findings": report.findings,
        "skipped": report.skipped,
    })
}

pub fn write_json(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &json_document(report))?;
    writeln!(w)
}

/// One finding per line, nothing else (summaries belong to the other formats).
pub fn write_jsonl(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        serde_json::to_writer(&mut *w, f)?;
        writeln!(w)?;
    }
    Ok(())
}

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
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

/// SARIF 2.1.0 log. `root` makes file URIs relative (normally the directory scanned, or the
/// repository root for code-scanning uploads).
pub fn sarif(report: &ScanReport, rules: &RuleSet, root: Option<&Path>) -> Value {
    // Only rules that produced results, plus any result rule missing from the set, so every
    // ruleIndex is valid and the log stays small.
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        let next = used.len();
        used.entry(f.rule.as_str()).or_insert(next);
    }
    let mut ordered: Vec<(&str, usize)> = used.iter().map(|(k, v)| (*k, *v)).collect();
    ordered.sort_by_key(|(_, i)| *i);
    let descriptors: Vec<Value> = ordered
        .iter()
        .map(|(id, _)| {
            let finding = report.findings.iter().find(|f| f.rule == *id);
            match rules.get(id) {
                Some(rule) => {
                    let mut d = json!({
                        "id": rule.id,
                        "name": rule.id,
                        "shortDescription": { "text": rule.name },
                        "fullDescription": {
                            "text": format!("{} ({} {}) leaked in plain text.", rule.name, rule.provider,
                                rule.kind.as_deref().unwrap_or("secret"))
                        },
                        "help": { "text": "Revoke or rotate the secret at its provider, then remove it from the file and its history; accept known test values with a baseline or a `warrant:allow` comment." },
                        "defaultConfiguration": { "level": level(rule.confidence) },
                        "properties": {
                            "provider": rule.provider,
                            "confidence": confidence_word(rule.confidence),
                            "tags": ["security", "secret", rule.provider],
                            "security-severity": security_severity(rule.confidence),
                        }
                    });
                    if let (Some(uri), Some(obj)) = (rule.references.first(), d.as_object_mut())
                        && uri.starts_with("http")
                    {
                        obj.insert("helpUri".into(), json!(uri));
                    }
                    d
                }
                None => json!({
                    "id": id,
                    "shortDescription": { "text": finding.map_or(*id, |f| f.rule_name.as_str()) },
                }),
            }
        })
        .collect();

    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut properties = json!({
                "provider": f.provider,
                "confidence": confidence_word(f.confidence),
                "entropy": f.entropy,
                "preview": f.preview,
            });
            if let (
                Origin::Git {
                    commit,
                    author,
                    email,
                    date,
                    repo,
                    ..
                },
                Some(p),
            ) = (innermost_git(&f.origin), properties.as_object_mut())
            {
                p.insert("commit".into(), json!(commit));
                p.insert("repository".into(), json!(repo));
                if let Some(a) = author {
                    p.insert("author".into(), json!(a));
                }
                if let Some(e) = email {
                    p.insert("email".into(), json!(e));
                }
                if let Some(d) = date {
                    p.insert("date".into(), json!(d));
                }
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": used.get(f.rule.as_str()).copied().unwrap_or(0),
                "level": level(f.confidence),
                "message": { "text": format!("{} found: {}", f.rule_name, f.preview) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact_uri(&f.origin, root) },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            // SARIF's end column is the one after the region.
                            "endColumn": f.end_column + 1,
                            "snippet": { "text": f.snippet_redacted },
                        }
                    }
                }],
                "partialFingerprints": { "warrantSecret/v1": f.fingerprint },
                "properties": properties,
            })
        })
        .collect();

    let mut run = json!({
        "tool": {
            "driver": {
                "name": "warrant",
                "informationUri": "https://example.invalid/warrant",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    let provenance = version_control(report);
    if let (false, Some(obj)) = (provenance.is_empty(), run.as_object_mut()) {
        obj.insert("versionControlProvenance".into(), Value::Array(provenance));
    }
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    })
}

fn innermost_git(origin: &Origin) -> &Origin {
    match origin {
        Origin::Archive { container, .. } => innermost_git(container),
        other => other,
    }
}

/// One entry per repository whose path is absolute (SARIF wants a URI); the revision is named
/// only when every finding in that repository comes from one commit.
fn version_control(report: &ScanReport) -> Vec<Value> {
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
        .map(|(repo, commits)| {
            let mut entry = json!({ "repositoryUri": format!("file://{}", uri_path(repo)) });
            if let ([single], Some(obj)) = (commits.as_slice(), entry.as_object_mut()) {
                obj.insert("revisionId".into(), json!(single));
            }
            entry
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
