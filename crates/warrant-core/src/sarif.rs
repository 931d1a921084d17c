//! The SARIF 2.1.0 subset Warrant writes, as GitHub code scanning and other SARIF viewers read
//! it. Both the assessment report (findings on identities) and `warrant scan` (secrets in files)
//! build a [`Log`] and serialise it with [`Log::to_json`], so the two outputs share one model.
//!
//! Objects serialise with their keys in sorted order, as `serde_json` maps do.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::finding::Severity;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A result's or rule's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl Level {
    pub fn of_severity(severity: Severity) -> Level {
        match severity {
            Severity::Critical | Severity::High => Level::Error,
            Severity::Medium => Level::Warning,
            Severity::Low | Severity::Info => Level::Note,
        }
    }
}

/// GitHub ranks security alerts by this 0–10 number (`security-severity`).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

impl Log {
    pub fn new(runs: Vec<Run>) -> Log {
        Log {
            schema: SCHEMA_URI,
            version: "2.1.0",
            runs,
        }
    }

    /// The log as a JSON value, keys sorted.
    pub fn to_json(&self) -> Value {
        // Serialising these types cannot fail: every map key is a string. Sorted here, not by
        // serde_json's map, which keeps field order when a crate enables `preserve_order`.
        crate::canonical::sorted(&serde_json::to_value(self).unwrap_or(Value::Null))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_kind: Option<&'static str>,
    pub results: Vec<SarifResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub version_control_provenance: Vec<VersionControl>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic_version: Option<&'static str>,
    pub information_uri: &'static str,
    pub rules: Vec<ReportingDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    pub text: String,
}

impl Text {
    pub fn new(text: impl Into<String>) -> Text {
        Text { text: text.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Configuration {
    pub level: Level,
}

/// A rule in the driver's `rules` table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub short_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_configuration: Option<Configuration>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: Level,
    pub message: Text,
    pub locations: Vec<Location>,
    pub partial_fingerprints: BTreeMap<String, String>,
    pub properties: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logical_locations: Vec<LogicalLocation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    pub fully_qualified_name: String,
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionControl {
    pub repository_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// Builds the driver's `rules` table in first-use order and gives each result its index, so
/// every `ruleIndex` is valid.
#[derive(Debug, Default)]
pub struct RuleTable {
    index: BTreeMap<String, usize>,
    pub rules: Vec<ReportingDescriptor>,
}

impl RuleTable {
    /// The index of rule `id`, adding it with `describe` when first seen.
    pub fn index_of(&mut self, id: &str, describe: impl FnOnce() -> ReportingDescriptor) -> usize {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        let i = self.rules.len();
        self.rules.push(describe());
        self.index.insert(id.to_string(), i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_serialises_with_sorted_keys_and_without_empty_parts() {
        let mut table = RuleTable::default();
        let describe = || ReportingDescriptor {
            id: "r".into(),
            name: None,
            short_description: Text::new("R"),
            full_description: None,
            help: None,
            help_uri: None,
            default_configuration: Some(Configuration { level: Level::Note }),
            properties: Map::new(),
        };
        assert_eq!(table.index_of("r", describe), 0);
        assert_eq!(table.index_of("r", describe), 0);
        let log = Log::new(vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "warrant",
                    version: Some("1"),
                    semantic_version: None,
                    information_uri: "https://example.invalid",
                    rules: table.rules,
                },
            },
            column_kind: None,
            results: vec![],
            version_control_provenance: vec![],
        }]);
        let text = serde_json::to_string(&log.to_json()).unwrap_or_default();
        assert!(
            text.starts_with(
                r#"{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs""#
            )
        );
        assert!(text.contains(r#""defaultConfiguration":{"level":"note"}"#));
        assert!(!text.contains("columnKind") && !text.contains("versionControlProvenance"));
        assert!(text.ends_with(r#""version":"2.1.0"}"#));
    }
}
