//! The steps several commands share: import a directory (exports, source trees, activity logs)
//! into the store, evaluate posture over the stored inventory, and render the result.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use warrant_core::{Finding, FindingSource, Inventory, Severity};
use warrant_report::{AssessmentDocument, IdentityView, InputView};

use crate::app::App;
use crate::output::{self, Format};

pub fn parse_severity(text: &str) -> Result<Severity, String> {
    text.parse::<Severity>().map_err(|e| e.to_string())
}

/// Exit code for a set of findings and a `--fail-on` threshold.
pub fn exit_code(findings: &[Finding], fail_on: Option<Severity>) -> u8 {
    match fail_on {
        Some(threshold) if findings.iter().any(|f| f.severity >= threshold) => {
            crate::exit::FINDINGS
        }
        _ => crate::exit::OK,
    }
}

/// What `import_paths` did, for reports.
#[derive(Debug, Default)]
pub struct Imported {
    pub inputs: Vec<InputView>,
    pub n_records: usize,
    pub notes: Vec<String>,
}

impl Imported {
    /// One line per notable thing on stderr (stdout is for the report).
    pub fn print_notes(&self) {
        for note in &self.notes {
            eprintln!("{note}");
        }
    }
}

/// Imports exports under `paths` into the store in one transaction.
pub fn import_paths(
    app: &App,
    store: &warrant_store::Store,
    paths: &[PathBuf],
) -> anyhow::Result<Imported> {
    let ctx = app.import_context()?;
    let mut imported = Imported::default();
    let mut batch = Inventory::default();
    // Files that are not provider exports (source trees, env files, logs): candidates for the
    // activity pipeline and the secret scan once the inventory is stored. Agent configs are
    // exports here: their connector already fingerprints and flags the secrets they hold.
    let mut scan_candidates: Vec<PathBuf> = Vec::new();
    let started = std::time::Instant::now();
    let bar = output::progress(None, "Reading exports");
    for path in paths {
        if !path.exists() {
            anyhow::bail!("{} does not exist", path.display());
        }
        let outcome = warrant_connectors::import_path(path, &ctx);
        for file in &outcome.files {
            if file.format.is_none() {
                scan_candidates.push(file.path.clone());
            }
            let error = file.error.as_ref().map(|e| e.to_string());
            if let Some(message) = &error {
                tracing::warn!(error = %message, "An input file could not be imported.");
            }
            if file.format.is_none() && error.is_none() {
                continue;
            }
            imported.inputs.push(InputView {
                path: file.path.display().to_string(),
                format: file.format.map(|f| f.name().to_string()),
                records: file.records,
                error,
            });
        }
        batch.extend(outcome.inventory);
    }
    batch.dedup();
    bar.finish_and_clear();
    crate::output::log_phase(started, "Exports read.");
    let n_failed = imported.inputs.iter().filter(|i| i.error.is_some()).count();
    let now = app.now();
    let stats = app
        .block_on(store.import(&batch, now))
        .context("saving the imported records")?;
    crate::output::log_phase(started, "Inventory stored.");
    imported.n_records = batch.identities.len();
    imported.notes.push(format!(
        "Imported {} identities, {} credentials, {} policies from {} file(s){}; {}.",
        batch.identities.len(),
        batch.credentials.len(),
        batch.policies.len(),
        imported.inputs.len() - n_failed,
        if n_failed > 0 {
            format!(" ({n_failed} could not be read)")
        } else {
            String::new()
        },
        stats,
    ));

    // Activity logs among the files: usage, baselines, alerts.
    let logs = crate::cmd::activity::ingest(app, store, None, &scan_candidates)
        .context("ingesting activity logs")?;
    imported.notes.extend(logs.notes());
    crate::output::log_phase(started, "Activity logs ingested.");
    let log_files: std::collections::HashSet<&str> = logs
        .report
        .ingested_files()
        .map(|f| f.file.as_str())
        .chain(logs.already_ingested.iter().map(String::as_str))
        .collect();
    // Everything else that is not an export: scan for leaked secrets (logs name key ids as a
    // matter of course, so they are not scanned).
    let to_scan: Vec<&Path> = scan_candidates
        .iter()
        .filter(|p| !log_files.contains(p.display().to_string().as_str()))
        .map(PathBuf::as_path)
        .collect();
    let (n_secrets, links) = crate::cmd::scan::scan_import_files(app, store, &to_scan)
        .context("scanning for leaked secrets")?;
    if n_secrets > 0 {
        imported.notes.push(format!(
            "Found {n_secrets} secret(s) in {} scanned file(s); {} linked to inventory identities (see `warrant findings --source secret`).",
            to_scan.len(),
            links.len()
        ));
    }
    Ok(imported)
}

/// Posture over the stored inventory, with the secret and activity findings already in the store.
pub struct Evaluation {
    pub inventory: Inventory,
    pub assessment: warrant_posture::Assessment,
    /// Identity id → the file it was read from, for SARIF locations.
    pub origins: HashMap<String, String>,
}

pub fn evaluate(app: &App, store: &warrant_store::Store) -> anyhow::Result<Evaluation> {
    let started = std::time::Instant::now();
    let inventory = app
        .block_on(store.load_inventory())
        .context("loading the inventory")?;
    crate::output::log_phase(started, "Inventory loaded.");
    let mut extra = Vec::new();
    for source in [FindingSource::Secret, FindingSource::Activity] {
        extra.extend(
            app.block_on(store.open_findings(source))
                .context("loading findings")?,
        );
    }
    let assessment = warrant_posture::assess(&inventory, &extra, &app.config.posture, app.now());
    crate::output::log_phase(started, "Posture assessed.");
    let origins = inventory
        .identities
        .iter()
        .filter_map(|i| i.provenance.location.clone().map(|l| (i.id.clone(), l)))
        .collect();
    Ok(Evaluation {
        inventory,
        assessment,
        origins,
    })
}

/// Records the posture run so findings keep their first-seen dates and resolved ones close.
pub fn save(
    app: &App,
    store: &warrant_store::Store,
    evaluation: &Evaluation,
) -> anyhow::Result<()> {
    let posture: Vec<&Finding> = evaluation
        .assessment
        .findings
        .iter()
        .filter(|f| f.source == FindingSource::Posture)
        .collect();
    let risks: Vec<(&str, &warrant_core::RiskScore)> = evaluation
        .assessment
        .identities
        .iter()
        .map(|i| (i.id.as_str(), &i.risk))
        .collect();
    let started = std::time::Instant::now();
    app.block_on(store.save_assessment(app.now(), FindingSource::Posture, &posture, &risks))
        .context("saving the assessment")?;
    crate::output::log_phase(started, "Assessment saved.");
    Ok(())
}

pub fn identity_views(evaluation: &Evaluation) -> Vec<IdentityView> {
    let mut n_findings: HashMap<&str, usize> = HashMap::new();
    for f in &evaluation.assessment.findings {
        *n_findings.entry(f.identity.as_str()).or_default() += 1;
    }
    let last_used: HashMap<&str, _> = evaluation
        .inventory
        .identities
        .iter()
        .map(|i| (i.id.as_str(), i.last_used))
        .collect();
    evaluation
        .assessment
        .identities
        .iter()
        .map(|i| IdentityView {
            id: i.id.clone(),
            kind: i.kind,
            provider: i.provider,
            name: i.name.clone(),
            account: i.account.clone(),
            environment: i.environment,
            status: i.status,
            owners: i.owners.clone(),
            risk: round1(i.risk.score),
            blast_radius: round1(i.risk.blast_radius),
            exposure: round1(i.risk.exposure),
            admin_equivalent: i.privilege.admin_equivalent,
            last_used: last_used.get(i.id.as_str()).copied().flatten(),
            n_findings: n_findings.get(i.id.as_str()).copied().unwrap_or(0),
        })
        .collect()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The report document. It takes the evaluation's findings (a large assessment holds hundreds
/// of thousands; a copy would cost as much memory again).
pub fn document(
    app: &App,
    evaluation: &mut Evaluation,
    inputs: Vec<InputView>,
) -> AssessmentDocument {
    let identities = identity_views(evaluation);
    AssessmentDocument::new(
        app.now(),
        identities,
        std::mem::take(&mut evaluation.assessment.findings),
        inputs,
    )
}

/// Writes the document in `format` to `output` (or stdout).
pub fn write_document(
    app: &App,
    document: &AssessmentDocument,
    evaluation: &Evaluation,
    format: Format,
    output: Option<&Path>,
    top: usize,
) -> anyhow::Result<()> {
    let mut sink: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        Format::Json => document.write_json(&mut sink)?,
        Format::Csv => warrant_report::write_findings_csv(&document.findings, &mut sink)?,
        Format::Html => {
            sink.write_all(warrant_report::html::render(document, top.max(50)).as_bytes())?
        }
        Format::Sarif => {
            let base = std::env::current_dir().unwrap_or_default();
            let locate = |identity: &str| {
                evaluation.origins.get(identity).map(|path| {
                    let path = Path::new(path);
                    path.strip_prefix(&base)
                        .unwrap_or(path)
                        .display()
                        .to_string()
                })
            };
            warrant_report::sarif::write(&document.findings, &locate, &mut sink)?;
        }
        Format::Table | Format::Jsonl => {
            let style = if output.is_some() {
                warrant_report::table::TableStyle {
                    color: false,
                    width: None,
                }
            } else {
                output::table_style(app.color)
            };
            sink.write_all(warrant_report::table::assessment(document, style, top).as_bytes())?;
        }
    }
    sink.flush()?;
    if let Some(path) = output {
        eprintln!("Wrote the {} report to {}.", format.name(), path.display());
    }
    Ok(())
}
