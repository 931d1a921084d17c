//! SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.
//!
//! Posture findings concern identities, not lines of code, so each result carries a logical
//! location (the identity) and, where the identity came from a file, a physical location pointing
//! at that file (code-scanning uploads require one).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value, json};
use warrant_core::rules::{self, RuleSpec};
use warrant_core::sarif::{
    ArtifactLocation, Configuration, Driver, Level, Location, Log, LogicalLocation,
    PhysicalLocation, Region, ReportingDescriptor, Run, SarifResult, Text, Tool, security_severity,
};
use warrant_core::{Finding, FindingSource};

use crate::ReportError;

pub use warrant_core::sarif::SCHEMA_URI as SARIF_SCHEMA_URI;

/// A registered rule as a SARIF `rules` entry.
fn descriptor(spec: &RuleSpec) -> ReportingDescriptor {
    let mut properties = Map::new();
    properties.insert(
        "tags".into(),
        json!(["security", "non-human-identity", spec.owasp.code()]),
    );
    properties.insert(
        "security-severity".into(),
        json!(security_severity(spec.default_severity)),
    );
    ReportingDescriptor {
        id: spec.id.to_string(),
        name: Some(spec.id.to_string()),
        short_description: Text::new(spec.title),
        full_description: Some(Text::new(spec.description)),
        help: Some(Text::new(spec.remediation)),
        help_uri: None,
        default_configuration: Some(Configuration {
            level: Level::of_severity(spec.default_severity),
        }),
        properties,
    }
}

/// Builds the SARIF log. The `rules` table holds every posture rule and every other rule a
/// finding names, described from the rule registry. `locate` maps an identity id to the file
/// (relative URI) it was read from.
pub fn build(findings: &[Finding], locate: &dyn Fn(&str) -> Option<String>) -> Value {
    let mut table: BTreeMap<&str, &RuleSpec> = rules::of_engine(FindingSource::Posture)
        .map(|spec| (spec.id.as_str(), spec))
        .collect();
    for f in findings {
        table.insert(f.rule.as_str(), f.rule.spec());
    }
    let index: BTreeMap<&str, usize> = table.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let sarif_rules: Vec<ReportingDescriptor> = table.values().copied().map(descriptor).collect();
    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| {
            let uri = locate(&f.identity).unwrap_or_else(|| "warrant-inventory".to_string());
            let location = Location {
                physical_location: Some(PhysicalLocation {
                    artifact_location: ArtifactLocation { uri },
                    region: Region {
                        start_line: 1,
                        ..Region::default()
                    },
                }),
                logical_locations: vec![LogicalLocation {
                    fully_qualified_name: f.identity.clone(),
                    kind: "resource",
                }],
            };
            let mut message = format!("{}: {}", f.identity, f.title);
            for evidence in &f.evidence {
                message.push_str("\n- ");
                message.push_str(evidence);
            }
            message.push_str("\nFix: ");
            message.push_str(&f.remediation);
            let mut properties = Map::new();
            properties.insert("owasp".into(), json!(f.owasp.code()));
            properties.insert("severity".into(), json!(f.severity.as_str()));
            properties.insert("identity".into(), json!(f.identity));
            properties.insert(
                "security-severity".into(),
                json!(security_severity(f.severity)),
            );
            SarifResult {
                rule_id: f.rule.to_string(),
                rule_index: index.get(f.rule.as_str()).copied().unwrap_or(0),
                level: Level::of_severity(f.severity),
                message: Text::new(message),
                locations: vec![location],
                partial_fingerprints: BTreeMap::from([(
                    "warrantFindingId/v1".to_string(),
                    f.id.clone(),
                )]),
                properties,
            }
        })
        .collect();
    Log::new(vec![Run {
        tool: Tool {
            driver: Driver {
                name: "warrant",
                version: Some(env!("CARGO_PKG_VERSION")),
                semantic_version: None,
                information_uri: "https://owasp.org/www-project-non-human-identities-top-10/",
                rules: sarif_rules,
            },
        },
        column_kind: None,
        results,
        version_control_provenance: Vec::new(),
    }])
    .to_json()
}

pub fn write(
    findings: &[Finding],
    locate: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, &build(findings, locate))?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_points_at_a_rule_and_a_location() {
        let doc = crate::fixtures::document();
        let log = build(&doc.findings, &|_| Some("aws/prod.json".into()));
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
