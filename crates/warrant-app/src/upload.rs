//! Importing an uploaded file: an export as it came from the provider's tool, or an archive
//! (zip, tar, gzip) of a directory of them. Archives are opened by the scanner's hardened
//! reader (depth, size, ratio and member limits) and written member by member under a fresh
//! temporary directory — member names can never leave it — which is then imported as the CLI
//! imports a directory.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use warrant_core::{Fingerprinter, Timestamp};
use warrant_scan::archive::{ArchiveLimits, is_archive, scan_archive};
use warrant_scan::origin::{BlobSink, Origin};
use warrant_store::Store;

use crate::error::StoreContext;
use crate::import::{ImportOutcome, import_paths};
use crate::{AppError, Cancel, Progress, Settings};

/// What an upload import did.
#[derive(Debug, Default)]
pub struct UploadOutcome {
    pub import: ImportOutcome,
    /// Files written from the upload (one for a plain file).
    pub files: usize,
    /// Archive members not imported, each naming `upload!member` and why.
    pub skipped: Vec<String>,
}

/// The part of `name` that is safe as a relative path: normal components only (no root, no
/// `..`, no drive), each without NUL or backslash. `None` when nothing is left.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in Path::new(name).components() {
        if let Component::Normal(part) = component {
            let text = part.to_string_lossy();
            if text.contains(['\0', '\\']) || text.is_empty() {
                return None;
            }
            out.push(part);
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// The member path of a (possibly nested) archive origin, below the upload itself.
fn member_path(origin: &Origin) -> String {
    match origin {
        Origin::Archive { container, member } => match container.as_ref() {
            Origin::Archive { .. } => format!("{}/{member}", member_path(container)),
            _ => member.clone(),
        },
        other => other.display_path(),
    }
}

struct Writer {
    root: PathBuf,
    written: Mutex<usize>,
    skipped: Mutex<Vec<String>>,
}

impl Writer {
    fn skip(&self, what: String) {
        if let Ok(mut s) = self.skipped.lock() {
            s.push(what);
        }
    }
}

impl BlobSink for Writer {
    fn blob(&self, origin: &Origin, data: &[u8]) {
        let name = member_path(origin);
        let Some(relative) = safe_relative(&name) else {
            self.skip(format!(
                "{}: not a safe member name; not imported",
                origin.display_path()
            ));
            return;
        };
        let path = self.root.join(relative);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, data));
        match written {
            Ok(()) => {
                if let Ok(mut n) = self.written.lock() {
                    *n += 1;
                }
            }
            Err(e) => self.skip(format!(
                "{}: could not be written: {e}",
                origin.display_path()
            )),
        }
    }

    fn skipped(&self, origin: &Origin, reason: &str) {
        self.skip(format!("{}: {reason}", origin.display_path()));
    }
}

/// Imports `data`, uploaded under `name`, as `import_paths` imports a directory holding it (or,
/// for an archive, its members). Input paths in the outcome name the upload, not the
/// temporary directory.
#[allow(
    clippy::too_many_arguments,
    reason = "the import's parameters plus the upload"
)]
pub async fn import_upload(
    store: &Store,
    settings: Settings<'_>,
    fingerprinter: &Fingerprinter,
    name: &str,
    data: Vec<u8>,
    now: Timestamp,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<UploadOutcome, AppError> {
    let io = |context: &str, source: std::io::Error| AppError::Io {
        context: format!("{context} for the upload {name}"),
        source,
    };
    let dir = tempfile::Builder::new()
        .prefix("warrant-upload-")
        .tempdir()
        .map_err(|e| io("creating a temporary directory", e))?;
    let root = dir.path().to_path_buf();
    let upload = name.to_string();
    let writer = tokio::task::spawn_blocking(move || {
        let writer = Writer {
            root: root.clone(),
            written: Mutex::new(0),
            skipped: Mutex::new(Vec::new()),
        };
        if is_archive(&data) {
            let origin = Origin::File { path: upload };
            scan_archive(&origin, &data, &ArchiveLimits::default(), &writer);
        } else {
            let file = safe_relative(&upload)
                .and_then(|p| p.file_name().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("upload"));
            if let Err(e) = std::fs::write(root.join(file), &data) {
                writer.skip(format!("{upload}: could not be written: {e}"));
            } else if let Ok(mut n) = writer.written.lock() {
                *n += 1;
            }
        }
        writer
    })
    .await
    .map_err(|e| AppError::Invalid(format!("the upload {name} could not be unpacked: {e}")))?;
    let files = writer.written.lock().map_or(0, |n| *n);
    let skipped = writer.skipped.lock().map(|s| s.clone()).unwrap_or_default();
    if files == 0 {
        return Err(AppError::Invalid(match skipped.first() {
            Some(why) => format!("nothing in the upload {name} could be imported: {why}"),
            None => format!("the upload {name} is empty"),
        }));
    }
    let mut import = import_paths(
        store,
        settings,
        fingerprinter,
        &[dir.path().to_path_buf()],
        now,
        progress,
        cancel,
    )
    .await?;
    let prefix = dir.path().to_string_lossy().into_owned();
    for input in &mut import.inputs {
        if let Some(rest) = input.path.strip_prefix(&prefix) {
            input.path = format!("{name}!{}", rest.trim_start_matches('/'));
        }
        if let Some(error) = &mut input.error {
            *error = error.replace(&prefix, name);
        }
    }
    for note in &mut import.notes {
        *note = note.replace(&prefix, name);
    }
    Ok(UploadOutcome {
        import,
        files,
        skipped,
    })
}

/// What scanning an upload found.
#[derive(Debug, Default, serde::Serialize)]
pub struct ScanUploadOutcome {
    /// Leaked secrets found (each a place; several places may hold one secret).
    pub findings: usize,
    /// Distinct secrets, by fingerprint.
    pub secrets: usize,
    /// Findings per rule.
    pub by_rule: std::collections::BTreeMap<String, usize>,
    /// Findings linked to an identity of the inventory.
    pub linked: usize,
    /// The identities whose secrets leaked.
    pub identities: Vec<String>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    /// Members or files not scanned, each naming `upload!member` and why.
    pub skipped: Vec<String>,
}

/// `origin` with the temporary file's path replaced by the upload's name.
fn rebased(origin: Origin, file: &str, name: &str) -> Origin {
    match origin {
        Origin::File { path } if path == file => Origin::File {
            path: name.to_string(),
        },
        Origin::Archive { container, member } => Origin::Archive {
            container: Box::new(rebased(*container, file, name)),
            member,
        },
        other => other,
    }
}

/// Scans `data`, uploaded under `name` (a file, or an archive the scanner opens member by
/// member within its limits), for leaked secrets; links each to the identity it unlocks and
/// records where it was found — as the upload and member, never a server path — with its
/// NHI2 finding. Keeps fingerprints and redacted previews only, as every scan does.
pub async fn scan_upload(
    store: &Store,
    fingerprinter: &Fingerprinter,
    name: &str,
    data: Vec<u8>,
    now: Timestamp,
    cancel: &Cancel,
) -> Result<ScanUploadOutcome, AppError> {
    let io = |context: &str, source: std::io::Error| AppError::Io {
        context: format!("{context} for the upload {name}"),
        source,
    };
    if data.is_empty() {
        return Err(AppError::Invalid(format!("the upload {name} is empty")));
    }
    let dir = tempfile::Builder::new()
        .prefix("warrant-scan-")
        .tempdir()
        .map_err(|e| io("creating a temporary directory", e))?;
    let file = dir.path().join(
        safe_relative(name)
            .and_then(|p| p.file_name().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("upload")),
    );
    std::fs::write(&file, &data).map_err(|e| io("writing the upload", e))?;
    drop(data);
    let mut options = warrant_scan::ScanOptions {
        paths: vec![file.clone()],
        ..warrant_scan::ScanOptions::default()
    };
    options.open_archives(ArchiveLimits::default());
    cancel.check()?;
    let keyed = fingerprinter.clone();
    // The scan is CPU-bound and synchronous: off the async workers.
    let report = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let rules = warrant_scan::RuleSet::builtin().map_err(warrant_scan::ScanError::from)?;
        Ok(warrant_scan::scan_with_rules(
            &options, &rules, &keyed, None,
        )?)
    })
    .await
    .map_err(|e| AppError::Invalid(format!("the scan of {name} stopped: {e}")))??;
    let path = file.to_string_lossy().into_owned();
    let mut findings = report.findings;
    for f in &mut findings {
        f.origin = rebased(f.origin.clone(), &path, name);
    }
    cancel.check()?;
    let inventory = store
        .load_inventory()
        .await
        .context("loading the inventory")?;
    let links = crate::scan::record(store, &inventory, fingerprinter, &findings, now).await?;
    let mut outcome = ScanUploadOutcome {
        findings: findings.len(),
        files_scanned: report.files_scanned,
        bytes_scanned: report.bytes_scanned,
        ..ScanUploadOutcome::default()
    };
    let mut secrets = std::collections::BTreeSet::new();
    for f in &findings {
        *outcome.by_rule.entry(f.rule.clone()).or_default() += 1;
        secrets.insert(f.fingerprint.clone());
    }
    outcome.secrets = secrets.len();
    outcome.linked = links.len();
    outcome.identities = links.iter().map(|l| l.identity.clone()).collect();
    outcome.identities.sort();
    outcome.identities.dedup();
    outcome.skipped = report
        .skipped
        .into_iter()
        .map(|s| {
            format!(
                "{}: {}",
                rebased(s.origin, &path, name).display_path(),
                s.reason
            )
        })
        .collect();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_never_leave_the_directory() {
        assert_eq!(safe_relative("a/b.json"), Some(PathBuf::from("a/b.json")));
        assert_eq!(
            safe_relative("../../etc/passwd"),
            Some(PathBuf::from("etc/passwd"))
        );
        assert_eq!(safe_relative("/abs/x"), Some(PathBuf::from("abs/x")));
        assert_eq!(safe_relative("./a/./b"), Some(PathBuf::from("a/b")));
        assert_eq!(safe_relative(".."), None);
        assert_eq!(safe_relative(""), None);
        assert_eq!(safe_relative("a\\..\\b"), None);
    }
}
