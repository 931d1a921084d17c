//! The engine's [`BlobSink`]: scans every blob a source reports, turns matches into findings,
//! applies inline markers, baseline and allowlist (counting what they suppress), and collects
//! everything thread-safely. Sources (walk, stdin, git, archives) all feed one collector.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use warrant_core::Fingerprinter;

use crate::allow::{Allowlist, Baseline, InlineMarks, SuppressedCounts, Suppression};
use crate::engine::{Scanner, Scratch};
use crate::finding::{RevealedSecrets, SecretFinding};
use crate::origin::{BlobSink, Origin};

/// Filters applied to every finding.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub allowlist: Option<Allowlist>,
    pub baseline: Option<Baseline>,
    /// Honour inline `warrant:allow` markers (on by default through [`Filters::new`]).
    pub inline: bool,
    /// Paths of test material: findings there are flagged and one confidence level lower.
    pub fixtures: crate::fixtures::FixturePaths,
}

impl Filters {
    pub fn new(allowlist: Option<Allowlist>, baseline: Option<Baseline>) -> Filters {
        Filters {
            allowlist,
            baseline,
            inline: true,
            fixtures: crate::fixtures::FixturePaths::defaults(),
        }
    }
}

/// Something a source could not scan, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub origin: Origin,
    pub reason: String,
    /// It should have been read and could not be (an I/O error, a walk limit): an input error,
    /// unlike what the scan's own limits leave out on purpose (size, archive limits, binary).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
}

#[derive(Debug, Default)]
struct Collected {
    findings: Vec<SecretFinding>,
    skipped: Vec<Skipped>,
    suppressed: SuppressedCounts,
    revealed: RevealedSecrets,
}

/// Progress callback: receives the total bytes scanned so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// A thread-safe [`BlobSink`] that scans and collects.
pub struct Collector<'a> {
    scanner: &'a Scanner,
    fingerprinter: &'a Fingerprinter,
    allowlist: Option<&'a Allowlist>,
    fixtures: &'a crate::fixtures::FixturePaths,
    baseline: BTreeSet<(String, String)>,
    inline: bool,
    reveal: bool,
    progress: Option<Progress<'a>>,
    scratch: Mutex<Vec<Scratch>>,
    collected: Mutex<Collected>,
    bytes: AtomicU64,
    blobs: AtomicU64,
}

impl std::fmt::Debug for Collector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("bytes", &self.bytes)
            .field("blobs", &self.blobs)
            .finish_non_exhaustive()
    }
}

/// What a collector gathered.
#[derive(Debug, Default)]
pub struct Collection {
    /// Sorted by origin path, line, column, rule.
    pub findings: Vec<SecretFinding>,
    pub skipped: Vec<Skipped>,
    pub suppressed: SuppressedCounts,
    pub bytes_scanned: u64,
    pub blobs_scanned: u64,
    /// Raw secrets by fingerprint; empty unless the collector was built with `reveal`.
    pub revealed: RevealedSecrets,
}

impl<'a> Collector<'a> {
    /// `reveal` keeps raw secrets apart (for `--show-secrets` on a terminal only).
    pub fn new(
        scanner: &'a Scanner,
        fingerprinter: &'a Fingerprinter,
        filters: &'a Filters,
        reveal: bool,
        progress: Option<Progress<'a>>,
    ) -> Collector<'a> {
        let baseline = filters
            .baseline
            .iter()
            .flat_map(|b| b.findings.iter())
            .map(|e| (e.fingerprint.clone(), e.rule.clone()))
            .collect();
        Collector {
            scanner,
            fingerprinter,
            allowlist: filters.allowlist.as_ref(),
            fixtures: &filters.fixtures,
            baseline,
            inline: filters.inline,
            reveal,
            progress,
            scratch: Mutex::new(Vec::new()),
            collected: Mutex::new(Collected::default()),
            bytes: AtomicU64::new(0),
            blobs: AtomicU64::new(0),
        }
    }

    pub fn bytes_scanned(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Ends collection: findings sorted for stable output.
    pub fn finish(self) -> Collection {
        let collected = self
            .collected
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut findings = collected.findings;
        findings.sort_by(|a, b| {
            (a.origin.display_path(), a.line, a.column, &a.rule).cmp(&(
                b.origin.display_path(),
                b.line,
                b.column,
                &b.rule,
            ))
        });
        let mut skipped = collected.skipped;
        skipped.sort_by_key(|s| s.origin.display_path());
        Collection {
            findings,
            skipped,
            suppressed: collected.suppressed,
            bytes_scanned: self.bytes.load(Ordering::Relaxed),
            blobs_scanned: self.blobs.load(Ordering::Relaxed),
            revealed: collected.revealed,
        }
    }

    fn take_scratch(&self) -> Scratch {
        let pooled = match self.scratch.lock() {
            Ok(mut pool) => pool.pop(),
            Err(_) => None,
        };
        pooled.unwrap_or_else(|| self.scanner.scratch())
    }

    fn give_scratch(&self, scratch: Scratch) {
        if let Ok(mut pool) = self.scratch.lock() {
            pool.push(scratch);
        }
    }

    fn suppression(&self, marks: &InlineMarks, f: &SecretFinding) -> Option<Suppression> {
        if self.inline && marks.allows(f.line) {
            return Some(Suppression::Inline);
        }
        if self.allowlist.is_some_and(|a| a.allows(f)) {
            return Some(Suppression::Allowlist);
        }
        if !self.baseline.is_empty()
            && self
                .baseline
                .contains(&(f.fingerprint.clone(), f.rule.clone()))
        {
            return Some(Suppression::Baseline);
        }
        None
    }
}

impl Collector<'_> {
    fn note(&self, origin: &Origin, reason: &str, unreadable: bool) {
        if let Ok(mut c) = self.collected.lock() {
            c.skipped.push(Skipped {
                origin: origin.clone(),
                reason: reason.to_string(),
                unreadable,
            });
        }
    }
}

impl BlobSink for Collector<'_> {
    fn blob(&self, origin: &Origin, data: &[u8]) {
        let mut scratch = self.take_scratch();
        let matches = self.scanner.scan(data, &mut scratch);
        if !matches.is_empty() {
            let mut findings = Vec::with_capacity(matches.len());
            let mut suppressed = SuppressedCounts::default();
            let mut revealed = RevealedSecrets::default();
            let marks = if self.inline {
                InlineMarks::of(data)
            } else {
                InlineMarks::default()
            };
            for m in matches {
                let Some(rule) = self.scanner.rules().get(m.rule) else {
                    continue;
                };
                let mut finding = SecretFinding::new(rule, origin, data, m, self.fingerprinter);
                if self.fixtures.matches(&finding.origin.display_path()) {
                    finding.fixture = true;
                    finding.confidence = finding.confidence.lower();
                }
                if let Some(reason) = self.suppression(&marks, &finding) {
                    suppressed.add(reason);
                    continue;
                }
                if self.reveal {
                    revealed.insert(&finding.fingerprint, m.secret(data));
                }
                findings.push(finding);
            }
            if let Ok(mut c) = self.collected.lock() {
                c.findings.extend(findings);
                c.suppressed.inline += suppressed.inline;
                c.suppressed.allowlist += suppressed.allowlist;
                c.suppressed.baseline += suppressed.baseline;
                c.revealed.merge(revealed);
            }
        }
        self.give_scratch(scratch);
        self.blobs.fetch_add(1, Ordering::Relaxed);
        let total = self.bytes.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
        if let Some(progress) = self.progress {
            progress(total);
        }
    }

    fn skipped(&self, origin: &Origin, reason: &str) {
        self.note(origin, reason, false);
    }

    fn unreadable(&self, origin: &Origin, reason: &str) {
        self.note(origin, reason, true);
    }
}
