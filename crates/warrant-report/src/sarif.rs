//! SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.
//!
//! Posture findings concern identities, not lines of code, so each result carries a logical
//! location (the identity) and, where the identity came from a file, a physical location pointing
//! at that file (code-scanning uploads require one).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};
use warrant_core::{Finding, Severity};

use crate::ReportError;

pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Static facts about a rule for the SARIF `rules` table.
#[derive(Debug, Clone)]
pub struct RuleDescriptor {
    pub id: String,
    pub title: String,
    pub description: String,
    pub remediation: String,
    pub owasp: String,
    pub default_severity: Severity,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub ranks security alerts by this 0–10 number.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Builds the SARIF log. `locate` maps an identity id to the file (relative URI) it was read from.
pub fn build(
    findings: &[Finding],
    rules: &[RuleDescriptor],
    locate: &dyn Fn(&str) -> Option<String>,
) -> Value {
    // Rules referenced by findings but missing from the table (e.g. from another engine) still get
    // an entry so every result's ruleIndex is valid.
    let mut table: BTreeMap<String, RuleDescriptor> =
        rules.iter().map(|r| (r.id.clone(), r.clone())).collect();
    for f in findings {
        table
            .entry(f.rule.clone())
            .or_insert_with(|| RuleDescriptor {
                id: f.rule.clone(),
                title: f.title.clone(),
                description: f.title.clone(),
                remediation: f.remediation.clone(),
                owasp: f.owasp.code().to_string(),
                default_severity: f.severity,
            });
    }
    let index: BTreeMap<&str, usize> = table
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let sarif_rules: Vec<Value> = table
        .values()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.description },
                "help": { "text": r.remediation },
                "defaultConfiguration": { "level": level(r.default_severity) },
                "properties": {
                    "tags": ["security", "non-human-identity", r.owasp],
                    "security-severity": security_severity(r.default_severity),
                }
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut location = json!({
                "logicalLocations": [{ "fullyQualifiedName": f.identity, "kind": "resource" }]
            });
            let uri = locate(&f.identity).unwrap_or_else(|| "warrant-inventory".to_string());
            location["physicalLocation"] = json!({
                "artifactLocation": { "uri": uri },
                "region": { "startLine": 1 }
            });
            let mut message = format!("{}: {}", f.identity, f.title);
            for evidence in &f.evidence {
                message.push_str("\n- ");
                message.push_str(evidence);
            }
            message.push_str("\nFix: ");
            message.push_str(&f.remediation);
            json!({
                "ruleId": f.rule,
                "ruleIndex": index.get(f.rule.as_str()).copied().unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": message },
                "locations": [location],
                "partialFingerprints": { "warrantFindingId/v1": f.id },
                "properties": {
                    "owasp": f.owasp.code(),
                    "severity": f.severity.as_str(),
                    "identity": f.identity,
                    "security-severity": security_severity(f.severity),
                }
            })
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "warrant",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://owasp.org/www-project-non-human-identities-top-10/",
                "rules": sarif_rules,
            }},
            "results": results,
        }]
    })
}

pub fn write(
    findings: &[Finding],
    rules: &[RuleDescriptor],
    locate: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, &build(findings, rules, locate))?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_points_at_a_rule_and_a_location() {
        let doc = crate::fixtures::document();
        let log = build(&doc.findings, &[], &|_| Some("aws/prod.json".into()));
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        for result in log["runs"][0]["results"].as_array().unwrap() {
            let i = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], result["ruleId"]);
            assert_eq!(
                result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "aws/prod.json"
            );
        }
        assert_eq!(log["version"], "2.1.0");
    }
}
