//! Importing paths: provider exports into the inventory, then the activity logs found beside
//! them, then a secret scan of every other file with its leaks linked to identities.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use warrant_connectors::ImportContext;
use warrant_core::{Fingerprinter, Inventory, Timestamp};
use warrant_report::InputView;
use warrant_scan::ScanOptions;
use warrant_store::Store;

use crate::error::StoreContext;
use crate::{AppError, Cancel, Phase, Progress, Settings};

/// What an import did, for reports.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    /// Files read as exports (or refused), in the order read.
    pub inputs: Vec<InputView>,
    /// Identities imported.
    pub n_records: usize,
    /// Summary lines (inventory, activity, secrets), for a human.
    pub notes: Vec<String>,
}

/// The connectors' context for `settings`: the fingerprint key and the file size limit.
pub fn import_context(fingerprinter: &Fingerprinter, settings: Settings<'_>) -> ImportContext {
    let mut ctx = ImportContext::new(fingerprinter.clone());
    ctx.max_file_bytes = settings.import.max_file_bytes();
    ctx.owner_keys = settings.import.owner_keys.clone();
    ctx
}

/// Imports the exports under `paths` into the store in one transaction, then ingests the
/// activity logs among the other files and scans the rest for leaked secrets. `cancel` is
/// checked between paths and between the steps.
pub async fn import_paths(
    store: &Store,
    settings: Settings<'_>,
    fingerprinter: &Fingerprinter,
    paths: &[PathBuf],
    now: Timestamp,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<ImportOutcome, AppError> {
    let ctx = import_context(fingerprinter, settings);
    let mut imported = ImportOutcome::default();
    let mut batch = Inventory::default();
    // Files that are not provider exports (source trees, env files, logs): candidates for the
    // activity pipeline and the secret scan once the inventory is stored. Agent configs are
    // exports here: their connector already fingerprints and flags the secrets they hold.
    let mut scan_candidates: Vec<PathBuf> = Vec::new();
    // Bytes of the files read so far, across paths (files are read in parallel).
    let read = std::sync::atomic::AtomicU64::new(0);
    let on_file = |bytes: u64| {
        let total = read.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed) + bytes;
        progress.position(total);
    };
    progress.phase(Phase::ReadingExports, None);
    for path in paths {
        cancel.check()?;
        if !path.exists() {
            return Err(AppError::Invalid(format!(
                "{} does not exist",
                path.display()
            )));
        }
        let outcome = warrant_connectors::import_path_observed(path, &ctx, &on_file);
        for file in &outcome.files {
            // Unreadable entries are reported below, not read again by the log and secret passes.
            if file.format.is_none() && file.error.is_none() {
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
    progress.done(Phase::ReadingExports);
    cancel.check()?;
    let n_failed = imported.inputs.iter().filter(|i| i.error.is_some()).count();
    progress.phase(Phase::StoringInventory, Some(batch.n_records() as u64));
    let counts = (
        batch.identities.len(),
        batch.credentials.len(),
        batch.policies.len(),
    );
    // The store consumes the batch record by record: a large import's records and their
    // stored form are never both whole in memory.
    let stats = store
        .import_observed(batch, now, &|n| progress.position(n))
        .await
        .context("saving the imported records")?;
    progress.done(Phase::StoringInventory);
    imported.n_records = counts.0;
    imported.notes.push(format!(
        "Imported {} identities, {} credentials, {} policies from {} file(s){}; {}.",
        counts.0,
        counts.1,
        counts.2,
        imported.inputs.len() - n_failed,
        if n_failed > 0 {
            format!(" ({n_failed} could not be read)")
        } else {
            String::new()
        },
        stats,
    ));

    // Activity logs among the files: usage, baselines, alerts.
    let logs = crate::activity::ingest_paths(
        store,
        None,
        &scan_candidates,
        settings.activity,
        now,
        progress,
        cancel,
    )
    .await?;
    imported.notes.extend(logs.notes());
    // Log files with records that could not be read are inputs not fully understood: the
    // import exits 2 for them as for a malformed export (everything else is still stored).
    for file in &logs.report.files {
        if let Some(problem) = crate::activity::bad_record_problem(file) {
            imported.inputs.push(InputView {
                path: file.file.clone(),
                format: file
                    .format
                    .and_then(|k| serde_json::to_value(k).ok())
                    .and_then(|v| v.as_str().map(str::to_string)),
                records: usize::try_from(file.events).unwrap_or(usize::MAX),
                error: Some(problem),
            });
        }
    }
    for file in logs.report.files.iter().filter(|f| f.unreadable) {
        imported.inputs.push(InputView {
            path: file.file.clone(),
            format: None,
            records: 0,
            error: Some(format!(
                "{}: {}",
                file.file,
                file.not_ingested.as_deref().unwrap_or("could not be read")
            )),
        });
    }
    let log_files: HashSet<&str> = logs
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
    cancel.check()?;
    let (n_secrets, n_links, not_scanned) =
        scan_files(store, settings, fingerprinter, &to_scan, now, progress).await?;
    // What the secret pass could not look into (over a size limit, an archive bomb, a read
    // error) is said, so a clean result is not taken for a full one.
    for skipped in not_scanned.iter().take(20) {
        imported
            .notes
            .push(format!("Not scanned for secrets: {skipped}"));
    }
    if not_scanned.len() > 20 {
        imported.notes.push(format!(
            "… and {} more not scanned for secrets",
            not_scanned.len() - 20
        ));
    }
    if n_secrets > 0 {
        imported.notes.push(format!(
            "Found {n_secrets} secret(s) in {} scanned file(s); {n_links} linked to inventory identities (see `warrant findings --source secret`).",
            to_scan.len(),
        ));
    }
    Ok(imported)
}

/// Scans the files under an imported directory that are not provider exports (source trees,
/// env files), so an import finds leaks next to the inventory: (secrets found, links made, what
/// could not be scanned as "place: reason").
async fn scan_files(
    store: &Store,
    settings: Settings<'_>,
    fingerprinter: &Fingerprinter,
    files: &[&Path],
    now: Timestamp,
    progress: &dyn Progress,
) -> Result<(usize, usize, Vec<String>), AppError> {
    if files.is_empty() {
        return Ok((0, 0, Vec::new()));
    }
    let mut options = ScanOptions {
        paths: files.iter().map(|p| p.to_path_buf()).collect(),
        max_file_size: settings.import.max_file_bytes(),
        ..ScanOptions::default()
    };
    options.open_archives(warrant_scan::archive::ArchiveLimits::default());
    // The links need the inventory only when something was found: scan without the store
    // first, then record.
    let outcome = crate::scan::scan(
        &options,
        None,
        fingerprinter,
        None,
        now,
        progress,
        &Cancel::new(),
    )
    .await?;
    let links = if outcome.report.findings.is_empty() {
        Vec::new()
    } else {
        let inventory = store
            .load_inventory()
            .await
            .context("loading the inventory")?;
        crate::scan::record(
            store,
            &inventory,
            fingerprinter,
            &outcome.report.findings,
            now,
        )
        .await?
    };
    // Each file was scanned whole: leaks removed from them since the last import are fixed.
    crate::scan::close_fixed(store, &options.paths, &outcome.report, &links, now).await?;
    let not_scanned = outcome
        .report
        .skipped
        .iter()
        .map(|s| {
            // Most reasons already start with the place.
            let place = s.origin.display_path();
            if s.reason.starts_with(&place) {
                s.reason.clone()
            } else {
                format!("{place}: {}", s.reason)
            }
        })
        .collect();
    Ok((outcome.report.findings.len(), links.len(), not_scanned))
}

/// Stores an inventory read elsewhere (live discovery) as one complete import at `now`.
pub async fn save_inventory(
    store: &Store,
    inventory: &Inventory,
    now: Timestamp,
) -> Result<warrant_store::ImportStats, AppError> {
    store
        .import(inventory, now)
        .await
        .context("saving the imported records")
}
