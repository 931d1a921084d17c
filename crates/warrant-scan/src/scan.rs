//! The high-level API front ends call: scan paths, standard input, git history and staged
//! changes (archives inside any of them) with a rule set and options, get one report.

use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use warrant_core::Fingerprinter;

use crate::allow::{AllowError, Allowlist, Baseline, SuppressedCounts};
use crate::archive::{ArchiveLimits, scan_if_archive};
use crate::collect::{Collector, Filters, Progress, Skipped};
use crate::engine::Scanner;
use crate::finding::{RevealedSecrets, SecretFinding, group_by_fingerprint};
use crate::git::{GitError, GitOptions};
use crate::origin::{BlobSink, Origin};
use crate::rules::{Confidence, RuleError, RuleSet};
use crate::walk::{self, ArchiveHook, WalkOptions, WalkStats};

/// A stream to scan once; clones of [`ScanOptions`] share it, and the first scan consumes it.
#[derive(Clone)]
pub struct InputStream(Arc<Mutex<Option<Box<dyn Read + Send>>>>);

impl InputStream {
    pub fn new(reader: impl Read + Send + 'static) -> InputStream {
        InputStream(Arc::new(Mutex::new(Some(Box::new(reader)))))
    }

    /// The reader, unless a scan already consumed it.
    fn take(&self) -> Option<Box<dyn Read + Send>> {
        // A poisoned lock still holds a valid Option: a panicking scan cannot corrupt it.
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.take()
    }
}

/// What to scan and how.
#[derive(Clone)]
pub struct ScanOptions {
    /// Files and directories.
    pub paths: Vec<PathBuf>,
    /// Also scan this stream, reported as standard input (the CLI's `-`; a server would pass
    /// an uploaded body). The library never reads the process's own standard input.
    pub stdin: Option<InputStream>,
    /// Worker threads; 0 means one per CPU.
    pub threads: usize,
    /// Files larger than this are skipped (and reported).
    pub max_file_size: u64,
    pub respect_gitignore: bool,
    pub follow_symlinks: bool,
    /// Baseline file of accepted findings.
    pub baseline: Option<PathBuf>,
    pub allowlist: Option<Allowlist>,
    /// Globs of test code and fixture data, where findings are flagged one confidence level
    /// lower; `None`: [`crate::fixtures::DEFAULT_FIXTURE_GLOBS`].
    pub fixture_paths: Option<Vec<String>>,
    /// User rule files, added after (and overriding by id) the given rule set.
    pub extra_rule_files: Vec<PathBuf>,
    /// Rule ids to drop.
    pub disabled_rules: Vec<String>,
    /// Keep raw secrets apart in [`ScanReport::revealed`] (`--show-secrets` on a terminal).
    pub reveal_secrets: bool,
    /// Archive handling for files (see [`ArchiveHook`]; [`ScanOptions::open_archives`] sets
    /// it for files and git blobs alike).
    pub archive_hook: Option<ArchiveHook>,
    /// Also scan the whole history of this git repository: every ref, every blob once.
    pub git_history: Option<PathBuf>,
    /// Also scan the files staged for commit in this repository.
    pub staged: Option<PathBuf>,
    /// How history and staged files are read.
    pub git: GitOptions,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: Vec::new(),
            stdin: None,
            threads: 0,
            max_file_size: walk::DEFAULT_MAX_FILE_SIZE,
            respect_gitignore: false,
            follow_symlinks: false,
            baseline: None,
            allowlist: None,
            fixture_paths: None,
            extra_rule_files: Vec::new(),
            disabled_rules: Vec::new(),
            reveal_secrets: false,
            archive_hook: None,
            git_history: None,
            staged: None,
            git: GitOptions {
                archives: None,
                ..GitOptions::default()
            },
        }
    }
}

impl std::fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanOptions")
            .field("paths", &self.paths)
            .field("stdin", &self.stdin.is_some())
            .field("threads", &self.threads)
            .field("max_file_size", &self.max_file_size)
            .field("respect_gitignore", &self.respect_gitignore)
            .field("follow_symlinks", &self.follow_symlinks)
            .field("baseline", &self.baseline)
            .field("extra_rule_files", &self.extra_rule_files)
            .field("disabled_rules", &self.disabled_rules)
            .field("reveal_secrets", &self.reveal_secrets)
            .field("archive_hook", &self.archive_hook.is_some())
            .field("git_history", &self.git_history)
            .field("staged", &self.staged)
            .field("git", &self.git)
            .finish_non_exhaustive()
    }
}

impl ScanOptions {
    /// Opens archives (zip, tar, gzip) found in files and git blobs with `limits`.
    pub fn open_archives(&mut self, limits: ArchiveLimits) {
        let hook_limits = limits.clone();
        self.archive_hook = Some(Arc::new(
            move |origin: &Origin, data: &[u8], sink: &dyn BlobSink| {
                scan_if_archive(origin, data, &hook_limits, sink)
            },
        ));
        self.git.archives = Some(limits);
    }

    /// Whether the options name anything to read.
    pub fn has_sources(&self) -> bool {
        !self.paths.is_empty()
            || self.stdin.is_some()
            || self.git_history.is_some()
            || self.staged.is_some()
    }

    pub fn walk_options(&self) -> WalkOptions {
        WalkOptions {
            threads: self.threads,
            max_file_size: self.max_file_size,
            respect_gitignore: self.respect_gitignore,
            follow_symlinks: self.follow_symlinks,
            archive_hook: self.archive_hook.clone(),
        }
    }

    /// The rule set in force: `base` plus extra rule files, minus disabled rules.
    pub fn rule_set(&self, base: &RuleSet) -> Result<RuleSet, ScanError> {
        let mut rules = base.clone();
        for path in &self.extra_rule_files {
            let text = warrant_input::read_file_to_string(path, warrant_input::SMALL_FILE_LIMIT)?;
            rules.add_file(&path.display().to_string(), &text)?;
        }
        for id in &self.disabled_rules {
            if rules.remove(id).is_none() {
                return Err(ScanError::UnknownRule(id.clone()));
            }
        }
        Ok(rules)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Allow(#[from] AllowError),
    #[error(transparent)]
    Read(#[from] warrant_input::InputError),
    #[error("no such path: {0}")]
    NoSuchPath(String),
    #[error("cannot disable unknown rule `{0}`")]
    UnknownRule(String),
    #[error("nothing to scan: give paths or read standard input")]
    NothingToScan,
    #[error("{context}")]
    Git {
        context: String,
        #[source]
        source: GitError,
    },
}

/// Everything one scan found.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Sorted by path, line, column, rule.
    pub findings: Vec<SecretFinding>,
    /// Files or members not scanned (size limit, unreadable, symlink loop, archive limits).
    pub skipped: Vec<Skipped>,
    pub bytes_scanned: u64,
    /// Text blobs scanned (files, stdin, archive members).
    pub files_scanned: u64,
    /// Files skipped as binary by content sniffing (counted, not listed).
    pub binary_skipped: u64,
    /// Files handed to the archive hook.
    pub archives: u64,
    pub suppressed: SuppressedCounts,
    /// Raw secrets by fingerprint, only with `reveal_secrets`; never serialised.
    pub revealed: RevealedSecrets,
}

/// Totals for the report header and the exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanSummary {
    pub findings: usize,
    /// Distinct secrets (by fingerprint).
    pub secrets: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub binary_skipped: u64,
    pub skipped: usize,
    pub suppressed: SuppressedCounts,
}

impl ScanSummary {
    pub fn of(report: &ScanReport) -> ScanSummary {
        let count = |c| report.findings.iter().filter(|f| f.confidence == c).count();
        ScanSummary {
            findings: report.findings.len(),
            secrets: group_by_fingerprint(&report.findings).len(),
            high: count(Confidence::High),
            medium: count(Confidence::Medium),
            low: count(Confidence::Low),
            files_scanned: report.files_scanned,
            bytes_scanned: report.bytes_scanned,
            binary_skipped: report.binary_skipped,
            skipped: report.skipped.len(),
            suppressed: report.suppressed,
        }
    }

    /// CI exit code: 1 when any finding is at or above `fail_on` (`None`: never fail on
    /// findings), else 0. Errors (exit 2) are the caller's.
    pub fn exit_code(&self, fail_on: Option<Confidence>) -> i32 {
        let failing = match fail_on {
            None => 0,
            Some(Confidence::Low) => self.high + self.medium + self.low,
            Some(Confidence::Medium) => self.high + self.medium,
            Some(Confidence::High) => self.high,
        };
        i32::from(failing > 0)
    }
}

/// Scans `options.paths` (and standard input when asked) with `rules` adjusted by the options.
/// `progress` receives the running total of bytes scanned, from worker threads.
pub fn scan(
    options: &ScanOptions,
    rules: &RuleSet,
    fingerprinter: &Fingerprinter,
    progress: Progress<'_>,
) -> Result<ScanReport, ScanError> {
    let rules = options.rule_set(rules)?;
    scan_with_rules(options, &rules, fingerprinter, Some(progress))
}

/// Scans every source `options` names (paths, standard input, git history, staged files) with
/// `rules` as given: the caller applied [`ScanOptions::rule_set`] already, and keeps the rule
/// set for its reports (SARIF rule metadata).
pub fn scan_with_rules(
    options: &ScanOptions,
    rules: &RuleSet,
    fingerprinter: &Fingerprinter,
    progress: Option<Progress<'_>>,
) -> Result<ScanReport, ScanError> {
    if !options.has_sources() {
        return Err(ScanError::NothingToScan);
    }
    for path in &options.paths {
        // symlink_metadata: a dangling link given explicitly is still a path that exists.
        if std::fs::symlink_metadata(path).is_err() {
            return Err(ScanError::NoSuchPath(path.display().to_string()));
        }
    }
    let scanner = Scanner::new(rules)?;
    let baseline = match &options.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let mut filters = Filters::new(options.allowlist.clone(), baseline);
    if let Some(globs) = &options.fixture_paths {
        filters.fixtures = crate::fixtures::FixturePaths::new(globs)?;
    }
    let collector = Collector::new(
        &scanner,
        fingerprinter,
        &filters,
        options.reveal_secrets,
        progress,
    );
    let walk_options = options.walk_options();
    let stats = WalkStats::default();
    if let Some(mut input) = options.stdin.as_ref().and_then(InputStream::take) {
        walk::scan_stdin(&mut input, &walk_options, &collector, &stats);
    }
    if !options.paths.is_empty() {
        walk::walk(&options.paths, &walk_options, &collector, &stats);
    }
    if let Some(repo) = &options.git_history {
        let git = crate::git::scan_history(repo, &options.git, &collector).map_err(|source| {
            ScanError::Git {
                context: format!("reading the history of {}", repo.display()),
                source,
            }
        })?;
        tracing::info!(
            commits = git.commits,
            blobs = git.blobs,
            "Git history scanned."
        );
    }
    if let Some(repo) = &options.staged {
        crate::git::scan_staged(repo, &options.git, &collector).map_err(|source| {
            ScanError::Git {
                context: format!("reading the staged files of {}", repo.display()),
                source,
            }
        })?;
    }
    let collection = collector.finish();
    Ok(ScanReport {
        findings: collection.findings,
        skipped: collection.skipped,
        bytes_scanned: collection.bytes_scanned,
        files_scanned: collection.blobs_scanned,
        binary_skipped: stats.binary_files.into_inner(),
        archives: stats.archives.into_inner(),
        suppressed: collection.suppressed,
        revealed: collection.revealed,
    })
}
