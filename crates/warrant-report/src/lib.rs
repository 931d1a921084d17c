//! Rendering of Warrant's results for people (tables, HTML) and machines (JSON, CSV, SARIF).
//!
//! The JSON document ([`AssessmentDocument`]) is a documented, stable interface
//! (`docs/assessment.schema.json`): add fields, never rename or remove them.

pub mod html;
pub mod review;
pub mod sarif;
pub mod table;

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};
use warrant_core::{
    Environment, Finding, IdentityKind, IdentityStatus, Provider, Severity, Timestamp,
};

/// Identifies the JSON document format; bumped only for incompatible changes.
pub const ASSESSMENT_SCHEMA: &str = "warrant.assessment/v1";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not encode the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("could not encode the report as CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// One identity as reported by `warrant assess`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityView {
    /// External id (ARN, `system:serviceaccount:NS:NAME`, …).
    pub id: String,
    pub kind: IdentityKind,
    pub provider: Provider,
    pub name: String,
    pub account: Option<String>,
    pub environment: Environment,
    pub status: IdentityStatus,
    /// Owner references as written at the source (emails, logins, teams).
    pub owners: Vec<String>,
    /// Overall risk, 0–100.
    pub risk: f64,
    /// Blast radius, 0–100.
    pub blast_radius: f64,
    /// Exposure, 0–100.
    pub exposure: f64,
    pub admin_equivalent: bool,
    pub last_used: Option<Timestamp>,
    /// Number of findings on this identity.
    pub n_findings: usize,
}

/// A file that was read (or refused) to produce the assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputView {
    pub path: String,
    /// Detected format, `None` when the file was not recognised.
    pub format: Option<String>,
    pub records: usize,
    /// Why the file could not be used, naming the place in it.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub identities: usize,
    /// Findings no exception covers (what `by_severity` and `by_owasp` count).
    pub findings: usize,
    /// Findings an exception in force covers: listed, counted apart.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub excepted: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub by_owasp: BTreeMap<String, usize>,
    pub admin_equivalent: usize,
    pub without_owner: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The whole result of `warrant assess`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentDocument {
    pub schema: String,
    pub tool: ToolInfo,
    /// The instant the assessment was computed for (`--as-of` or now).
    pub as_of: Timestamp,
    pub summary: Summary,
    /// Sorted by risk, highest first.
    pub identities: Vec<IdentityView>,
    /// Sorted by severity, highest first.
    pub findings: Vec<Finding>,
    pub inputs: Vec<InputView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl AssessmentDocument {
    pub fn new(
        as_of: Timestamp,
        identities: Vec<IdentityView>,
        findings: Vec<Finding>,
        inputs: Vec<InputView>,
    ) -> AssessmentDocument {
        let mut summary = Summary {
            identities: identities.len(),
            findings: findings.iter().filter(|f| f.exception.is_none()).count(),
            excepted: findings.iter().filter(|f| f.exception.is_some()).count(),
            ..Summary::default()
        };
        for finding in findings.iter().filter(|f| f.exception.is_none()) {
            *summary.by_severity.entry(finding.severity).or_default() += 1;
            *summary
                .by_owasp
                .entry(finding.owasp.code().to_string())
                .or_default() += 1;
        }
        summary.admin_equivalent = identities.iter().filter(|i| i.admin_equivalent).count();
        summary.without_owner = identities.iter().filter(|i| i.owners.is_empty()).count();
        AssessmentDocument {
            schema: ASSESSMENT_SCHEMA.to_string(),
            tool: ToolInfo {
                name: "warrant".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            as_of,
            summary,
            identities,
            findings,
            inputs,
        }
    }

    /// Highest severity among the findings no exception covers, if any.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.exception.is_none())
            .map(|f| f.severity)
            .max()
    }

    pub fn write_json(&self, out: &mut dyn Write) -> Result<(), ReportError> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)?;
        Ok(())
    }
}

/// Findings as CSV, one row at a time (a listing streams hundreds of thousands).
pub struct FindingsCsv<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> FindingsCsv<W> {
    /// Writes the header.
    pub fn new(out: W) -> Result<Self, ReportError> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record([
            "id",
            "severity",
            "owasp",
            "rule",
            "identity",
            "title",
            "evidence",
            "remediation",
            "source",
        ])?;
        Ok(FindingsCsv { writer })
    }

    pub fn row(&mut self, f: &Finding) -> Result<(), ReportError> {
        self.writer.write_record([
            f.id.as_str(),
            f.severity.as_str(),
            f.owasp.code(),
            f.rule.as_str(),
            f.identity.as_str(),
            f.title.as_str(),
            f.evidence.join(" | ").as_str(),
            f.remediation.as_str(),
            f.source.as_str(),
        ])?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), ReportError> {
        self.writer.flush()?;
        Ok(())
    }
}

/// Findings as CSV, one row each.
pub fn write_findings_csv(findings: &[Finding], out: &mut dyn Write) -> Result<(), ReportError> {
    let mut csv = FindingsCsv::new(out)?;
    for f in findings {
        csv.row(f)?;
    }
    csv.finish()
}

/// Registered rules as CSV, one row each; lists are `;`-separated.
pub fn write_rules_csv(
    rules: &[&warrant_core::RuleSpec],
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let join = |items: Vec<String>| items.join(";");
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "id",
        "engine",
        "owasp",
        "related",
        "severity",
        "tactics",
        "techniques",
        "title",
        "description",
        "remediation",
    ])?;
    for r in rules {
        writer.write_record([
            r.id.as_str(),
            r.engine.as_str(),
            r.owasp.code(),
            join(r.related.iter().map(|o| o.code().to_string()).collect()).as_str(),
            r.default_severity.as_str(),
            join(r.tactics.iter().map(|t| t.as_str().to_string()).collect()).as_str(),
            join(r.techniques.iter().map(|t| t.to_string()).collect()).as_str(),
            r.title,
            r.description,
            r.remediation,
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Identities as CSV, one row at a time.
/// Text from input as a CSV cell a spreadsheet shows instead of running: a leading `=`, `+`,
/// `-`, `@`, tab or carriage return starts a formula, so such a value gets a `'` in front.
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

pub struct IdentitiesCsv<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> IdentitiesCsv<W> {
    /// Writes the header.
    pub fn new(out: W) -> Result<Self, ReportError> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record([
            "id",
            "kind",
            "provider",
            "name",
            "account",
            "environment",
            "status",
            "owners",
            "risk",
            "blast_radius",
            "exposure",
            "admin_equivalent",
            "last_used",
            "findings",
        ])?;
        Ok(IdentitiesCsv { writer })
    }

    pub fn row(&mut self, i: &IdentityView) -> Result<(), ReportError> {
        self.writer.write_record([
            spreadsheet_safe(&i.id),
            i.kind.to_string(),
            i.provider.to_string(),
            spreadsheet_safe(&i.name),
            spreadsheet_safe(i.account.as_deref().unwrap_or_default()),
            i.environment.to_string(),
            i.status.to_string(),
            spreadsheet_safe(&i.owners.join(";")),
            format!("{:.1}", i.risk),
            format!("{:.1}", i.blast_radius),
            format!("{:.1}", i.exposure),
            i.admin_equivalent.to_string(),
            i.last_used.map(|t| t.to_rfc3339()).unwrap_or_default(),
            i.n_findings.to_string(),
        ])?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), ReportError> {
        self.writer.flush()?;
        Ok(())
    }
}

/// Identities as CSV, one row each.
pub fn write_identities_csv(
    identities: &[IdentityView],
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let mut csv = IdentitiesCsv::new(out)?;
    for i in identities {
        csv.row(i)?;
    }
    csv.finish()
}

/// A JSON array written one element at a time, byte for byte what `serde_json`'s pretty
/// printer writes for the whole array, so a listing streams without holding it.
pub struct JsonArray<W: Write> {
    out: W,
    n: usize,
}

impl<W: Write> JsonArray<W> {
    pub fn new(out: W) -> Self {
        JsonArray { out, n: 0 }
    }

    pub fn item<T: Serialize>(&mut self, item: &T) -> Result<(), ReportError> {
        let text = serde_json::to_string_pretty(item)?;
        self.out
            .write_all(if self.n == 0 { b"[\n" } else { b",\n" })?;
        // Strings escape their newlines, so every line break is the printer's: indent each.
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"  ")?;
            self.out.write_all(line.as_bytes())?;
        }
        self.n += 1;
        Ok(())
    }

    /// Closes the array (and a trailing newline), returning the writer.
    pub fn finish(mut self) -> Result<W, ReportError> {
        self.out
            .write_all(if self.n == 0 { b"[]\n" } else { b"\n]\n" })?;
        Ok(self.out)
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use chrono::TimeZone;
    use warrant_core::RuleId;

    pub fn document() -> AssessmentDocument {
        let as_of = chrono::Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let identities = vec![
            IdentityView {
                id: "arn:aws:iam::111111111111:user/ci-deployer".into(),
                kind: IdentityKind::AwsUser,
                provider: Provider::Aws,
                name: "ci-deployer".into(),
                account: Some("111111111111".into()),
                environment: Environment::Production,
                status: IdentityStatus::Active,
                owners: vec![],
                risk: 91.5,
                blast_radius: 100.0,
                exposure: 88.0,
                admin_equivalent: true,
                last_used: Some(as_of),
                n_findings: 2,
            },
            IdentityView {
                id: "system:serviceaccount:payments:api".into(),
                kind: IdentityKind::K8sServiceAccount,
                provider: Provider::Kubernetes,
                name: "api".into(),
                account: Some("prod-eks".into()),
                environment: Environment::Production,
                status: IdentityStatus::Active,
                owners: vec!["dana@acme.example".into()],
                risk: 12.0,
                blast_radius: 30.0,
                exposure: 0.0,
                admin_equivalent: false,
                last_used: None,
                n_findings: 0,
            },
        ];
        let findings = vec![
            Finding::new(
                RuleId::AdminEquivalent,
                "Identity is administrator-equivalent",
                Severity::Critical,
                "arn:aws:iam::111111111111:user/ci-deployer",
                "",
                vec!["Policy AdministratorAccess allows * on *.".into()],
                "Replace AdministratorAccess with a policy scoped to the deployment's needs.",
            ),
            Finding::new(
                RuleId::NoOwner,
                "Identity has no owner",
                Severity::Medium,
                "arn:aws:iam::111111111111:user/ci-deployer",
                "",
                vec!["No owner tag, label or annotation <script>.".into()],
                "Tag the identity with an owner.",
            ),
        ];
        let inputs = vec![InputView {
            path: "aws/prod/authorization-details.json".into(),
            format: Some("aws-authorization-details".into()),
            records: 42,
            error: None,
        }];
        AssessmentDocument::new(as_of, identities, findings, inputs)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn input_text_cannot_become_a_spreadsheet_formula() {
        assert_eq!(
            super::spreadsheet_safe("=HYPERLINK(\"x\")"),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(super::spreadsheet_safe("@sum"), "'@sum");
        assert_eq!(
            super::spreadsheet_safe("arn:aws:iam::1:role/a"),
            "arn:aws:iam::1:role/a"
        );
    }

    use super::*;

    /// A streamed listing is byte for byte the pretty-printed array: 0, 1 and several items,
    /// nested arrays and objects, strings holding newlines and quotes.
    #[test]
    fn a_streamed_json_array_is_the_pretty_printed_array() {
        let items = [
            serde_json::json!({"id": "a", "evidence": ["line\nbreak", "quote \""], "n": 1}),
            serde_json::json!({"id": "b", "nested": {"empty": [], "obj": {}}, "x": null}),
            serde_json::json!("plain"),
        ];
        for n in 0..=items.len() {
            let slice = &items[..n];
            let mut streamed = JsonArray::new(Vec::new());
            for item in slice {
                streamed.item(item).unwrap();
            }
            let streamed = String::from_utf8(streamed.finish().unwrap()).unwrap();
            let whole = serde_json::to_string_pretty(slice).unwrap() + "\n";
            assert_eq!(streamed, whole, "{n} items");
        }
    }

    #[test]
    fn summary_counts_by_severity_and_owasp() {
        let doc = fixtures::document();
        assert_eq!(doc.summary.findings, 2);
        assert_eq!(doc.summary.by_severity.get(&Severity::Critical), Some(&1));
        assert_eq!(doc.summary.by_owasp.get("NHI1"), Some(&1));
        assert_eq!(doc.summary.without_owner, 1);
        assert_eq!(doc.max_severity(), Some(Severity::Critical));
    }

    #[test]
    fn csv_quotes_fields_with_separators() {
        let doc = fixtures::document();
        let mut out = Vec::new();
        write_findings_csv(&doc.findings, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        insta::assert_snapshot!(text);
    }
}
