//! Ways to accept known findings: an inline `warrant:allow` comment, a baseline file of accepted
//! fingerprints, and allowlists by path glob, rule and fingerprint. Every suppression is counted
//! in the report, never silently dropped.

use std::collections::BTreeSet;
use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::finding::SecretFinding;

/// The marker that suppresses a finding on its own line or the line below.
pub const INLINE_MARKER: &[u8] = b"warrant:allow";

/// Why a finding was not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    Inline,
    Baseline,
    Allowlist,
}

/// Counts of suppressed findings by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SuppressedCounts {
    pub inline: u64,
    pub baseline: u64,
    pub allowlist: u64,
}

impl SuppressedCounts {
    pub fn total(&self) -> u64 {
        self.inline + self.baseline + self.allowlist
    }

    pub fn add(&mut self, reason: Suppression) {
        match reason {
            Suppression::Inline => self.inline += 1,
            Suppression::Baseline => self.baseline += 1,
            Suppression::Allowlist => self.allowlist += 1,
        }
    }
}

/// The lines of one blob that carry [`INLINE_MARKER`] (ASCII case-insensitive, in whatever
/// comment syntax the file uses), found in one pass over the blob: checking a finding is then a
/// lookup, not a read of its line (a single-line file's line is the whole file).
#[derive(Debug, Default)]
pub struct InlineMarks {
    /// 1-based numbers of the lines holding a marker, ascending.
    lines: Vec<usize>,
}

impl InlineMarks {
    pub fn of(data: &[u8]) -> InlineMarks {
        let before = INLINE_MARKER
            .iter()
            .position(|b| *b == b':')
            .unwrap_or_default();
        let mut lines = Vec::new();
        let (mut line, mut counted_to) = (1, 0);
        for colon in memchr::memchr_iter(b':', data) {
            let Some(start) = colon.checked_sub(before) else {
                continue;
            };
            let is_marker = data
                .get(start..start + INLINE_MARKER.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(INLINE_MARKER));
            if is_marker {
                line += memchr::memchr_iter(b'\n', data.get(counted_to..start).unwrap_or_default())
                    .count();
                counted_to = start;
                lines.push(line);
            }
        }
        lines.dedup();
        InlineMarks { lines }
    }

    /// True when `line` (1-based), or the line above it, carries the marker.
    pub fn allows(&self, line: usize) -> bool {
        self.lines.binary_search(&line).is_ok()
            || line
                .checked_sub(1)
                .is_some_and(|above| self.lines.binary_search(&above).is_ok())
    }
}

/// True when the line holding `offset`, or the line above it, carries [`INLINE_MARKER`]. Reads
/// the whole blob: for one check; a scan builds [`InlineMarks`] once per blob.
pub fn inline_allowed(data: &[u8], offset: usize) -> bool {
    let line = memchr::memchr_iter(b'\n', data.get(..offset).unwrap_or_default()).count() + 1;
    InlineMarks::of(data).allows(line)
}

/// User allowlist (a TOML section of the configuration, or its own file):
///
/// ```toml
/// paths = ["tests/fixtures/**", "**/*.snap"]
/// rules = ["generic.password-assignment"]
/// fingerprints = ["fp1:0123…"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistConfig {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

/// A compiled [`AllowlistConfig`].
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    paths: GlobSet,
    rules: BTreeSet<String>,
    fingerprints: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AllowError {
    #[error("allowlist: path glob {glob:?}: {message}")]
    Glob { glob: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error(transparent)]
    Read(#[from] warrant_input::InputError),
}

impl Allowlist {
    pub fn new(config: &AllowlistConfig) -> Result<Allowlist, AllowError> {
        let mut builder = GlobSetBuilder::new();
        for glob in &config.paths {
            builder.add(Glob::new(glob).map_err(|e| AllowError::Glob {
                glob: glob.clone(),
                message: e.kind().to_string(),
            })?);
        }
        let paths = builder.build().map_err(|e| AllowError::Glob {
            glob: config.paths.join(", "),
            message: e.to_string(),
        })?;
        Ok(Allowlist {
            paths,
            rules: config.rules.iter().cloned().collect(),
            fingerprints: config.fingerprints.iter().cloned().collect(),
        })
    }

    /// Parses a standalone allowlist TOML file (`name` is used in errors).
    pub fn from_toml(name: &str, text: &str) -> Result<Allowlist, AllowError> {
        let config: AllowlistConfig = toml::from_str(text).map_err(|e| AllowError::Parse {
            file: name.to_string(),
            message: e.to_string(),
        })?;
        Allowlist::new(&config)
    }

    /// True when a path (as displayed, archive members included: `a.zip!x/y`) is allowed.
    /// A glob matches the path itself or, for archive members, the member path.
    pub fn allows_path(&self, display_path: &str) -> bool {
        if self.paths.is_empty() {
            return false;
        }
        let trimmed = display_path.trim_start_matches("./");
        self.paths.is_match(trimmed)
            || trimmed
                .rsplit_once('!')
                .is_some_and(|(_, member)| self.paths.is_match(member))
    }

    pub fn allows(&self, finding: &SecretFinding) -> bool {
        self.rules.contains(&finding.rule)
            || self.fingerprints.contains(&finding.fingerprint)
            || self.allows_path(&finding.origin.display_path())
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.rules.is_empty() && self.fingerprints.is_empty()
    }
}

/// One accepted finding in a baseline file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
}

/// Accepted findings (`--write-baseline` writes one, `--baseline` reads it). A finding is
/// accepted when its fingerprint and rule are listed: the path is kept for reviewers, and moving
/// an accepted secret to another file does not make it new.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
}

impl Baseline {
    pub const VERSION: u32 = 1;

    /// The baseline accepting every given finding (sorted, one entry per fingerprint/rule/path).
    pub fn from_findings(findings: &[SecretFinding]) -> Baseline {
        let entries: BTreeSet<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.clone(),
                path: f.origin.display_path(),
            })
            .collect();
        Baseline {
            version: Baseline::VERSION,
            findings: entries.into_iter().collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    pub fn parse(name: &str, text: &str) -> Result<Baseline, AllowError> {
        let baseline: Baseline = serde_json::from_str(text).map_err(|e| AllowError::Parse {
            file: name.to_string(),
            message: format!("line {} column {}: {e}", e.line(), e.column()),
        })?;
        if baseline.version != Baseline::VERSION {
            return Err(AllowError::Parse {
                file: name.to_string(),
                message: format!(
                    "unsupported baseline version {} (expected {})",
                    baseline.version,
                    Baseline::VERSION
                ),
            });
        }
        Ok(baseline)
    }

    pub fn load(path: &Path) -> Result<Baseline, AllowError> {
        let text = warrant_input::read_file_to_string(path, warrant_input::SMALL_FILE_LIMIT)?;
        Baseline::parse(&path.display().to_string(), &text)
    }

    pub fn accepts(&self, finding: &SecretFinding) -> bool {
        self.findings
            .iter()
            .any(|e| e.fingerprint == finding.fingerprint && e.rule == finding.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::Origin;
    use crate::rules::Confidence;

    #[test]
    fn inline_marker_on_the_same_line_or_the_line_above() {
        let text = b"a = 1\nkey = SECRET # warrant:allow\n# WARRANT:ALLOW test key\nk2 = SECRET\nk3 = SECRET\n";
        let at = |needle: &str, nth: usize| {
            let s = std::str::from_utf8(text).unwrap();
            s.match_indices(needle).nth(nth).unwrap().0
        };
        assert!(inline_allowed(text, at("SECRET", 0)));
        assert!(inline_allowed(text, at("SECRET", 1)));
        assert!(!inline_allowed(text, at("SECRET", 2)));
        assert!(!inline_allowed(b"SECRET", 0));
        assert!(inline_allowed(b"warrant:allow\nSECRET", 14));
    }

    #[test]
    fn inline_marks_match_the_line_by_line_definition() {
        let text = b"x:1\n:warrant:allow\nWarrant:Allow a\nb\nc warrant:allo\n\nd\nwarrant:allow";
        let marks = InlineMarks::of(text);
        // Lines 2 and 3 carry the marker (any case); line 5's is cut short; line 8 ends the blob.
        let expected = [false, true, true, true, false, false, false, true, true];
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(marks.allows(i + 1), *want, "line {}", i + 1);
        }
        assert!(!InlineMarks::of(b"").allows(1));
    }

    fn finding(path: &str) -> SecretFinding {
        SecretFinding {
            rule: "github.pat-classic".into(),
            rule_name: "r".into(),
            provider: "github".into(),
            kind: None,
            confidence: Confidence::High,
            origin: Origin::File { path: path.into() },
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            fingerprint: "fp1:aa".into(),
            preview: "…".into(),
            entropy: 4.0,
            snippet_redacted: "…".into(),
            handles: Vec::new(),
            fixture: false,
        }
    }

    #[test]
    fn allowlist_by_path_rule_and_fingerprint() {
        let list = Allowlist::from_toml("a.toml", "paths = [\"tests/**\"]\n").unwrap();
        assert!(list.allows(&finding("tests/x/y.rs")));
        assert!(list.allows(&finding("./tests/y.rs")));
        assert!(!list.allows(&finding("src/y.rs")));
        let archive = SecretFinding {
            origin: Origin::Archive {
                container: Box::new(Origin::File {
                    path: "dist/a.zip".into(),
                }),
                member: "tests/k.env".into(),
            },
            ..finding("")
        };
        assert!(list.allows(&archive));
        let list = Allowlist::from_toml("a.toml", "rules = [\"github.pat-classic\"]").unwrap();
        assert!(list.allows(&finding("src/y.rs")));
        let list = Allowlist::from_toml("a.toml", "fingerprints = [\"fp1:aa\"]").unwrap();
        assert!(list.allows(&finding("src/y.rs")));
        assert!(Allowlist::from_toml("a.toml", "pathz = []").is_err());
        assert!(Allowlist::from_toml("a.toml", "paths = [\"a[\"]").is_err());
    }

    #[test]
    fn baseline_round_trips_and_accepts_by_fingerprint_and_rule() {
        let b = Baseline::from_findings(&[finding("a"), finding("a"), finding("b")]);
        assert_eq!(b.findings.len(), 2);
        let parsed = Baseline::parse("b.json", &b.to_json()).unwrap();
        assert_eq!(parsed, b);
        assert!(parsed.accepts(&finding("moved/elsewhere")));
        let other = SecretFinding {
            fingerprint: "fp1:bb".into(),
            ..finding("a")
        };
        assert!(!parsed.accepts(&other));
        let err = Baseline::parse("b.json", "{\"version\": 1, \"findings\": [{}]}").unwrap_err();
        assert!(err.to_string().contains("b.json: line 1"), "{err}");
    }
}
