//! What a scan reports about one secret at one place. No type here holds the raw secret: only
//! its keyed fingerprint and a redacted preview ([`RevealedSecrets`] is the one exception, kept
//! out of every serialised type, for `--show-secrets` on a terminal).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use warrant_core::{Fingerprinter, redact};

use crate::engine::{CompiledRule, Match};
use crate::origin::Origin;
use crate::rules::Confidence;

/// Longest redacted snippet, in characters.
const SNIPPET_CHARS: usize = 200;
/// Bytes each side of a secret searched for its line's ends (4 bytes per character at most).
const SNIPPET_REACH: usize = SNIPPET_CHARS * 4 + 4;

/// One secret at one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretFinding {
    pub rule: String,
    pub rule_name: String,
    pub provider: String,
    pub kind: Option<String>,
    pub confidence: Confidence,
    pub origin: Origin,
    /// 1-based position of the secret's first and last characters (columns in characters).
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Keyed fingerprint (`fp1:…`) of the secret: the same secret anywhere gets the same one.
    pub fingerprint: String,
    /// Redacted preview of the secret.
    pub preview: String,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// The line holding the secret, the secret replaced by its preview, at most 200 characters.
    pub snippet_redacted: String,
    /// Keyed fingerprints of what ties the secret to its credential without being it (a GitHub
    /// token's last eight characters, a private key's public key; [`crate::link::handles`]),
    /// for linking in the process that scanned. Not serialised: reports stay as they were.
    #[serde(skip)]
    pub handles: Vec<String>,
    /// Found in test code or fixture data (`--fixture-path`): kept, one confidence level lower.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixture: bool,
}

impl SecretFinding {
    /// Builds a finding from an engine match in `data`.
    pub fn new(
        rule: &CompiledRule,
        origin: &Origin,
        data: &[u8],
        m: &Match,
        fingerprinter: &Fingerprinter,
    ) -> SecretFinding {
        let secret = m.secret(data);
        let secret_text = String::from_utf8_lossy(secret);
        let preview = redact(&secret_text);
        SecretFinding {
            rule: rule.id.clone(),
            rule_name: rule.name.clone(),
            provider: rule.provider.clone(),
            kind: rule.kind.clone(),
            confidence: rule.confidence,
            origin: origin.clone(),
            line: m.line,
            column: m.column,
            end_line: m.end_line,
            end_column: m.end_column,
            fingerprint: fingerprinter.fingerprint(secret),
            preview: preview.clone(),
            entropy: (m.entropy() * 100.0).round() / 100.0,
            snippet_redacted: snippet(data, m.secret_start, m.secret_end, &preview),
            handles: crate::link::handles(secret, fingerprinter),
            fixture: false,
        }
    }
}

/// The line around `start..end` with the secret replaced by `preview`, whitespace-trimmed and cut
/// to [`SNIPPET_CHARS`] characters centred on the secret.
pub fn snippet(data: &[u8], start: usize, end: usize, preview: &str) -> String {
    // Look for the line's ends only within reach of the secret: on a 200 MB single-line file a
    // search to the real line start, for every finding, made scanning quadratic. The reach holds
    // more than SNIPPET_CHARS characters of any UTF-8, so a cut line still fills the snippet.
    let mut lo = start.saturating_sub(SNIPPET_REACH);
    while lo < start && data.get(lo).is_some_and(|b| (b & 0xC0) == 0x80) {
        lo += 1;
    }
    let line_start = data
        .get(lo..start)
        .and_then(|b| memchr::memrchr(b'\n', b))
        .map_or(lo, |p| lo + p + 1);
    let hi = end.saturating_add(SNIPPET_REACH).min(data.len());
    let line_end = data
        .get(end..hi)
        .and_then(|b| memchr::memchr(b'\n', b))
        .map_or(hi, |p| end + p);
    let before = String::from_utf8_lossy(data.get(line_start..start).unwrap_or_default());
    let after = String::from_utf8_lossy(data.get(end..line_end).unwrap_or_default());
    // A multi-line secret (PEM) ends on a later line: keep only the text after its last line.
    let after = after.rsplit('\n').next().unwrap_or_default();
    let before = before.trim_start();
    let after = after.trim_end();
    let budget = SNIPPET_CHARS.saturating_sub(preview.chars().count());
    let before_n = before.chars().count();
    let after_n = after.chars().count();
    let keep_before = before_n.min(budget / 2 + budget.saturating_sub(after_n).min(budget / 2));
    let keep_after = after_n.min(budget.saturating_sub(keep_before));
    let mut out = String::new();
    if keep_before < before_n {
        out.push('…');
        out.extend(before.chars().skip(before_n - keep_before));
    } else {
        out.push_str(before);
    }
    out.push_str(preview);
    out.extend(after.chars().take(keep_after));
    if keep_after < after_n {
        out.push('…');
    }
    out
}

/// One distinct secret (by fingerprint) and every place it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingGroup {
    pub fingerprint: String,
    pub rule: String,
    pub provider: String,
    pub confidence: Confidence,
    pub preview: String,
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub origin: Origin,
    pub line: usize,
    pub column: usize,
}

/// Groups findings by fingerprint (one secret, many locations), in order of first appearance.
/// A secret matched by several rules keeps the most confident rule.
///
/// Linear in the number of findings: a key id in every record of a CloudTrail file is one secret
/// found hundreds of thousands of times, and looking each location up in the group's list made
/// that quadratic (286,889 locations: a debug build was killed after 10 minutes; issue 10's
/// hostile corpus).
pub fn group_by_fingerprint(findings: &[SecretFinding]) -> Vec<FindingGroup> {
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<&str, FindingGroup> = BTreeMap::new();
    let mut seen: HashSet<(&str, &Origin, usize, usize)> = HashSet::new();
    for f in findings {
        let group = groups.entry(&f.fingerprint).or_insert_with(|| {
            order.push(&f.fingerprint);
            FindingGroup {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.clone(),
                provider: f.provider.clone(),
                confidence: f.confidence,
                preview: f.preview.clone(),
                locations: Vec::new(),
            }
        });
        if f.confidence > group.confidence {
            group.rule = f.rule.clone();
            group.provider = f.provider.clone();
            group.confidence = f.confidence;
        }
        if seen.insert((&f.fingerprint, &f.origin, f.line, f.column)) {
            group.locations.push(Location {
                origin: f.origin.clone(),
                line: f.line,
                column: f.column,
            });
        }
    }
    order
        .into_iter()
        .filter_map(|fp| groups.remove(fp))
        .collect()
}

/// Raw secrets by fingerprint, collected only when asked (`--show-secrets` on a terminal).
/// Deliberately neither `Serialize` nor a readable `Debug`.
#[derive(Default, Clone)]
pub struct RevealedSecrets {
    by_fingerprint: BTreeMap<String, String>,
}

impl std::fmt::Debug for RevealedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RevealedSecrets({} hidden)", self.by_fingerprint.len())
    }
}

impl RevealedSecrets {
    pub fn insert(&mut self, fingerprint: &str, secret: &[u8]) {
        self.by_fingerprint
            .entry(fingerprint.to_string())
            .or_insert_with(|| String::from_utf8_lossy(secret).into_owned());
    }

    pub fn get(&self, fingerprint: &str) -> Option<&str> {
        self.by_fingerprint.get(fingerprint).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_fingerprint.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty()
    }

    /// Forgets every raw value (kept only for validation, not to be shown).
    pub fn clear(&mut self) {
        self.by_fingerprint.clear();
    }

    pub(crate) fn merge(&mut self, other: RevealedSecrets) {
        for (k, v) in other.by_fingerprint {
            self.by_fingerprint.entry(k).or_insert(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_replaces_the_secret_and_trims() {
        let data = b"first\n    token = \"ghp_SECRETSECRETSECRET\";  \nlast";
        let start = 19;
        let end = start + 24;
        assert_eq!(&data[start..end], b"ghp_SECRETSECRETSECRET\";");
        let s = snippet(data, start, start + 22, "ghp_…ET");
        assert_eq!(s, "token = \"ghp_…ET\";");
    }

    #[test]
    fn snippet_is_bounded_on_long_lines() {
        let line = format!("{}SECRET{}", "a".repeat(1000), "b".repeat(1000));
        let s = snippet(line.as_bytes(), 1000, 1006, "…");
        assert!(s.chars().count() <= SNIPPET_CHARS + 2, "{}", s.len());
        assert!(s.contains("a…b") || s.contains("a…"), "{s}");
        assert!(!s.contains("SECRET"));
    }

    fn finding(fp: &str, path: &str, confidence: Confidence) -> SecretFinding {
        SecretFinding {
            rule: format!("r.{confidence:?}"),
            rule_name: "r".into(),
            provider: "p".into(),
            kind: None,
            confidence,
            origin: Origin::File { path: path.into() },
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            fingerprint: fp.into(),
            preview: "…".into(),
            entropy: 4.0,
            snippet_redacted: "…".into(),
            handles: Vec::new(),
            fixture: false,
        }
    }

    #[test]
    fn grouping_merges_locations_and_keeps_the_most_confident_rule() {
        let findings = vec![
            finding("fp1:a", "x", Confidence::Low),
            finding("fp1:b", "x", Confidence::High),
            finding("fp1:a", "y", Confidence::High),
            finding("fp1:a", "y", Confidence::Low),
        ];
        let groups = group_by_fingerprint(&findings);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].fingerprint, "fp1:a");
        assert_eq!(groups[0].locations.len(), 2);
        assert_eq!(groups[0].confidence, Confidence::High);
        assert_eq!(groups[1].fingerprint, "fp1:b");
    }

    /// Defect (issue 10's hostile corpus, case giant-lines): one secret found at every record of
    /// a large log grouped in quadratic time (`scan` of a 200 MB CloudTrail file naming one key
    /// 286,889 times did not finish in 10 minutes in a debug build). Quadratic, these 200,000
    /// locations take minutes; linear, well under a second.
    #[test]
    fn one_secret_at_many_places_groups_in_linear_time() {
        let mut findings: Vec<SecretFinding> = (1..=200_000)
            .map(|line| SecretFinding {
                line,
                ..finding("fp1:a", "trail.json", Confidence::High)
            })
            .collect();
        findings.push(finding("fp1:a", "trail.json", Confidence::Low));
        let groups = group_by_fingerprint(&findings);
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].locations.len(),
            200_000,
            "the repeat at line 1 is one place"
        );
    }

    #[test]
    fn revealed_secrets_do_not_print() {
        let mut r = RevealedSecrets::default();
        r.insert("fp1:a", b"hunter2hunter2");
        assert!(!format!("{r:?}").contains("hunter2"));
        assert_eq!(r.get("fp1:a"), Some("hunter2hunter2"));
    }
}
