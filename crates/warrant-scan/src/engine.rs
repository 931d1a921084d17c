//! The detection engine: one keyword prefilter over every rule's keywords
//! ([`crate::prefilter`]) finds candidate positions; only the rules owning a hit keyword run
//! their regex, and only on a bounded window around the hit. Entropy, checksum and structure
//! validators then drop look-alikes.
//!
//! The no-hit path does no allocation: the prefilter streams over the bytes and all per-scan
//! state lives in a reusable [`Scratch`].

use regex_automata::meta;
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input, PatternID};

use std::sync::OnceLock;

use warrant_core::shannon_entropy;

use crate::rules::{Confidence, Rule, RuleError, RuleSet, Validator};

/// Bytes each side of a keyword that a single-line rule looks at (bounded so that minified files
/// with megabyte lines do not make every hit cost a megabyte of regex work).
const LINE_WINDOW: usize = 4096;
/// Lazy-DFA cache of each anchored rule, per thread.
const ANCHORED_DFA_CACHE: usize = 512 * 1024;

/// Window for rules whose pattern can cross lines but that declare no `window`.
const MULTILINE_WINDOW: usize = 8192;

/// A rule ready to run.
#[derive(Debug)]
pub struct CompiledRule {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub kind: Option<String>,
    pub confidence: Confidence,
    pattern: String,
    /// The regex and the capture group holding the secret (`secret`, else 1, else the whole
    /// match), built the first time a keyword of the rule is seen: most of a large rule set
    /// never fires on a given input, and building every regex up front cost seconds per run.
    /// `None` when the pattern cannot be built (checked on load; size limits can still fail).
    compiled: OnceLock<Option<(meta::Regex, usize)>>,
    entropy: Option<f64>,
    validator: Option<Validator>,
    /// `None`: the keyword's line (capped at [`LINE_WINDOW`]); `Some(n)`: `n` bytes each side.
    window: Option<usize>,
    /// Every match starts at a keyword (keyword-context rules, and `\b(KEYWORD…` patterns):
    /// searched forward from each keyword hit, anchored, `window` bytes at most.
    anchored: bool,
}

/// A compiled rule set: the prefilter automaton plus every rule's regex.
#[derive(Debug)]
pub struct Scanner {
    keywords: crate::prefilter::Keywords,
    /// For each prefilter keyword (a distinct lower-cased keyword), the rules that own it.
    keyword_rules: Vec<Box<[u32]>>,
    rules: Vec<CompiledRule>,
    /// Rules whose format carries a checksum (`github-crc32`, `npm-crc32`) and whose matches
    /// begin with their keyword.
    checksummed: Vec<usize>,
}

/// A secret found in one blob. Offsets are byte offsets into the blob; lines and columns are
/// 1-based, columns counted in Unicode scalar values (bytes where the text is not UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index into [`Scanner::rules`].
    pub rule: usize,
    /// The whole regex match.
    pub start: usize,
    pub end: usize,
    /// The secret within it.
    pub secret_start: usize,
    pub secret_end: usize,
    /// Position of the secret's first and last characters.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Shannon entropy of the secret, bits per byte (scaled by 1000 to keep `Eq`).
    pub entropy_milli: u32,
}

impl Match {
    pub fn entropy(&self) -> f64 {
        f64::from(self.entropy_milli) / 1000.0
    }

    pub fn secret<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        data.get(self.secret_start..self.secret_end)
            .unwrap_or_default()
    }
}

/// Reusable per-thread state; allocate one per worker with [`Scanner::scratch`].
#[derive(Debug)]
pub struct Scratch {
    /// Per rule, made when the rule first runs.
    caps: Vec<Option<Captures>>,
    /// Per rule: the last window scanned and the end of the last match emitted.
    state: Vec<RuleState>,
    matches: Vec<Match>,
}

#[derive(Debug, Clone, Copy, Default)]
struct RuleState {
    window_start: usize,
    window_end: usize,
    emitted_end: usize,
    /// End of the last keyword hit this rule ran for: a hit overlapping it (a run of `A`s
    /// matching a keyword of `A`s at every position) is the same occurrence.
    hit_end: usize,
    touched: bool,
}

impl Scanner {
    /// Compiles every rule. Errors name the rule (patterns are already checked on load, but a
    /// pattern can still exceed the regex size limits).
    pub fn new(rules: &RuleSet) -> Result<Scanner, RuleError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        let mut compiled = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            compiled.push(compile_rule(rule)?);
            let index = u32::try_from(index).map_err(|_| RuleError::Invalid {
                file: "<rule set>".into(),
                id: rule.id.clone(),
                message: "too many rules".into(),
            })?;
            for keyword in &rule.keywords {
                let keyword = keyword.to_ascii_lowercase();
                // `keyword_rules` runs parallel to `keywords`.
                match keywords
                    .iter()
                    .position(|k| *k == keyword)
                    .and_then(|pos| keyword_rules.get_mut(pos))
                {
                    Some(rules) => {
                        if !rules.contains(&index) {
                            rules.push(index);
                        }
                    }
                    None => {
                        keywords.push(keyword);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        let keywords = crate::prefilter::Keywords::new(&keywords);
        Ok(Scanner {
            keywords,
            keyword_rules: keyword_rules
                .into_iter()
                .map(Vec::into_boxed_slice)
                .collect(),
            checksummed: rules
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    matches!(
                        r.validator,
                        Some(Validator::GithubCrc32 | Validator::NpmCrc32)
                    ) && starts_with_keyword(r)
                })
                .map(|(i, _)| i)
                .collect(),
            rules: compiled,
        })
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Number of distinct keywords in the prefilter.
    pub fn keyword_count(&self) -> usize {
        self.keyword_rules.len()
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            caps: (0..self.rules.len()).map(|_| None).collect(),
            state: vec![RuleState::default(); self.rules.len()],
            matches: Vec::new(),
        }
    }

    /// Every secret in `data`, ordered by position. The slice lives in `scratch` until the next
    /// call.
    pub fn scan<'s>(&self, data: &[u8], scratch: &'s mut Scratch) -> &'s [Match] {
        scratch.matches.clear();
        if scratch.state.len() != self.rules.len() {
            *scratch = self.scratch();
        }
        for s in &mut scratch.state {
            s.touched = false;
        }
        // Every occurrence, overlapping ones included, so that a short keyword (`sk-`) does not
        // hide a longer one that shares its start (`sk-ant-`).
        self.keywords.for_each(data, |hit| {
            let Some(owners) = self.keyword_rules.get(hit.keyword as usize) else {
                return;
            };
            for &rule_index in owners.iter() {
                self.run_rule(data, rule_index as usize, hit.start, hit.end, scratch);
            }
        });
        let matches = &mut scratch.matches;
        if matches.len() > 1 {
            // Same secret span from several rules (a JWT seen by a generic and a bearer rule):
            // report it once, under the most confident rule (ties: the first rule by id).
            let rules = &self.rules;
            let confidence = |m: &Match| rules.get(m.rule).map(|r| r.confidence);
            matches.sort_unstable_by(|a, b| {
                (a.secret_start, a.secret_end)
                    .cmp(&(b.secret_start, b.secret_end))
                    .then_with(|| confidence(b).cmp(&confidence(a)))
                    .then_with(|| a.rule.cmp(&b.rule))
            });
            matches.dedup_by(|later, kept| {
                (later.secret_start, later.secret_end) == (kept.secret_start, kept.secret_end)
            });
        }
        locate(data, matches);
        matches
    }

    /// A generic rule's secret that is a checksummed format with a failing checksum (a `gho_…`
    /// with a broken CRC): its provider's rule dropped it as fabricated or mangled, and a
    /// generic assignment does not bring it back.
    fn mangled(&self, rule: &CompiledRule, secret: &[u8]) -> bool {
        rule.provider == "generic"
            && self.checksummed.iter().any(|&i| {
                let Some(owner) = self.rules.get(i) else {
                    return false;
                };
                let (Some((regex, _)), Some(validator)) = (owner.compiled(), owner.validator)
                else {
                    return false;
                };
                let whole = Input::new(secret).anchored(Anchored::Yes);
                regex
                    .search(&whole)
                    .is_some_and(|m| m.end() == secret.len())
                    && !validate(validator, secret)
            })
    }

    fn run_rule(
        &self,
        data: &[u8],
        rule_index: usize,
        kw_start: usize,
        kw_end: usize,
        scratch: &mut Scratch,
    ) {
        let (Some(rule), Some(state), Some(caps)) = (
            self.rules.get(rule_index),
            scratch.state.get_mut(rule_index),
            scratch.caps.get_mut(rule_index),
        ) else {
            return;
        };
        let Some((regex, secret_group)) = rule.compiled() else {
            return;
        };
        let caps = caps.get_or_insert_with(|| regex.create_captures());
        if !state.touched {
            *state = RuleState {
                window_start: 0,
                window_end: 0,
                emitted_end: 0,
                hit_end: 0,
                touched: true,
            };
        }
        if kw_start < state.hit_end {
            return;
        }
        state.hit_end = kw_end;
        if rule.anchored {
            // The match starts at the keyword: one anchored search forward from it, instead of
            // an unanchored one over the window on both sides.
            if kw_start < state.emitted_end {
                return;
            }
            // Context rules carry their window (`context::CONTEXT_WINDOW` by default).
            let forward = rule.window.unwrap_or(LINE_WINDOW);
            let end = kw_start.saturating_add(forward).min(data.len());
            let input = Input::new(data).span(kw_start..end).anchored(Anchored::Yes);
            regex.search_captures(&input, caps);
            if let Some(m) = accept(rule, rule_index, data, caps, *secret_group)
                .filter(|m| !self.mangled(rule, m.secret(data)))
            {
                state.emitted_end = m.end;
                scratch.matches.push(m);
            }
            return;
        }
        let (ws, we) = window(data, kw_start, kw_end, rule.window);
        if state.window_end > 0 && ws >= state.window_start && we <= state.window_end {
            // Another keyword inside a window this rule has already searched.
            return;
        }
        state.window_start = ws;
        state.window_end = we;
        let mut at = ws;
        while at <= we {
            // The span bounds the search while look-around (`\b`) still sees the bytes outside.
            let input = Input::new(data).span(at..we);
            regex.search_captures(&input, caps);
            let Some(whole) = caps.get_match() else {
                break;
            };
            let (ms, me) = (whole.start(), whole.end());
            at = if me > ms { me } else { me + 1 };
            if ms < state.emitted_end {
                continue;
            }
            if let Some(m) = accept(rule, rule_index, data, caps, *secret_group)
                .filter(|m| !self.mangled(rule, m.secret(data)))
            {
                state.emitted_end = m.end;
                scratch.matches.push(m);
            }
        }
    }
}

/// The match `caps` holds, if its secret passes the rule's entropy floor, validator and the
/// placeholder checks.
fn accept(
    rule: &CompiledRule,
    rule_index: usize,
    data: &[u8],
    caps: &Captures,
    secret_group: usize,
) -> Option<Match> {
    let whole = caps.get_match()?;
    let secret = caps.get_group(secret_group).unwrap_or_else(|| whole.span());
    let bytes = data.get(secret.start..secret.end)?;
    if bytes.is_empty() {
        return None;
    }
    let entropy = shannon_entropy(bytes);
    if rule.entropy.is_some_and(|min| entropy < min) {
        return None;
    }
    if let Some(v) = rule.validator
        && !validate(v, bytes)
    {
        return None;
    }
    if crate::fake::looks_fake(bytes, rule.kind.as_deref()) {
        return None;
    }
    Some(Match {
        rule: rule_index,
        start: whole.start(),
        end: whole.end(),
        secret_start: secret.start,
        secret_end: secret.end,
        line: 0,
        column: 0,
        end_line: 0,
        end_column: 0,
        entropy_milli: (entropy * 1000.0).round() as u32,
    })
}

impl CompiledRule {
    /// The rule's regex and secret group, built on first use.
    fn compiled(&self) -> Option<&(meta::Regex, usize)> {
        self.compiled
            .get_or_init(|| match build_regex(&self.pattern, self.anchored) {
                Ok(built) => Some(built),
                Err(error) => {
                    tracing::warn!(rule = %self.id, %error, "The rule's pattern cannot be built; it is skipped.");
                    None
                }
            })
            .as_ref()
    }
}

fn build_regex(pattern: &str, anchored: bool) -> Result<(meta::Regex, usize), String> {
    let mut config = meta::Config::new().utf8_empty(false);
    if anchored {
        // Anchored searches of at most a window: a smaller lazy-DFA cache per rule and thread
        // than the default 2 MiB (which, for a thousand rules, cost hundreds of megabytes),
        // and no full DFA. Not too small: the context rules' nested form needs thousands of
        // states, and a cache cleared over and over makes the lazy DFA give up for a
        // backtracker (64 KiB cost a sixth of the scan in one rule on real source trees).
        // Caches grow only as states are made, so rules that never fire cost nothing.
        config = config.dfa(false).hybrid_cache_capacity(ANCHORED_DFA_CACHE);
    }
    let regex = meta::Regex::builder()
        // ASCII classes and word boundaries: tokens are ASCII, and a Unicode `\b` makes the
        // lazy DFA give up at the first non-ASCII byte, falling back to a backtracker that cost
        // a fifth of the scan on real source trees.
        .syntax(
            regex_automata::util::syntax::Config::new()
                .utf8(false)
                .unicode(false),
        )
        .configure(config)
        .build(pattern)
        .map_err(|e| e.to_string())?;
    let secret_group = regex
        .group_info()
        .to_index(PatternID::ZERO, "secret")
        .unwrap_or(if regex.captures_len() > 1 { 1 } else { 0 });
    Ok((regex, secret_group))
}

fn compile_rule(rule: &Rule) -> Result<CompiledRule, RuleError> {
    let multiline = rule.pattern.contains("(?s")
        || rule.pattern.contains("\\n")
        || rule.pattern.contains("\\r");
    let window = rule.window.or(if multiline {
        Some(MULTILINE_WINDOW)
    } else {
        None
    });
    Ok(CompiledRule {
        id: rule.id.clone(),
        name: rule.name.clone(),
        provider: rule.provider.clone(),
        kind: rule.kind.clone(),
        confidence: rule.confidence,
        pattern: rule.pattern.clone(),
        compiled: OnceLock::new(),
        entropy: rule.entropy,
        validator: rule.validator,
        window,
        anchored: rule.context.is_some() || starts_with_keyword(rule),
    })
}

/// Whether every match of a classic rule begins with one of its keywords: a pattern
/// `\bKEYWORD…` or `\b(KEYWORD…` where every keyword is what follows the boundary
/// (`\b(ghp_…`, `\b(SG\.…`, `\bAAAA…`).
/// Such a rule can search forward from each keyword hit, anchored, like a context rule.
fn starts_with_keyword(rule: &Rule) -> bool {
    let Some(rest) = rule.pattern.strip_prefix("\\b") else {
        return false;
    };
    let rest = rest
        .strip_prefix("(?P<secret>")
        .or_else(|| rest.strip_prefix('('))
        .unwrap_or(rest);
    // An inline flag or an alternation at the start could put something else first.
    if rest.starts_with('(') || rest.starts_with('[') {
        return false;
    }
    !rule.keywords.is_empty()
        && rule
            .keywords
            .iter()
            .all(|k| rest.starts_with(k.as_str()) || rest.starts_with(regex::escape(k).as_str()))
}

/// The byte range a rule searches around a keyword at `start..end`.
fn window(data: &[u8], start: usize, end: usize, span: Option<usize>) -> (usize, usize) {
    match span {
        Some(n) => (
            start.saturating_sub(n),
            end.saturating_add(n).min(data.len()),
        ),
        None => {
            let lo = start.saturating_sub(LINE_WINDOW);
            let ws = match data.get(lo..start).and_then(|b| memchr::memrchr(b'\n', b)) {
                Some(p) => lo + p + 1,
                None => lo,
            };
            let hi = end.saturating_add(LINE_WINDOW).min(data.len());
            let we = match data.get(end..hi).and_then(|b| memchr::memchr(b'\n', b)) {
                Some(p) => end + p,
                None => hi,
            };
            (ws, we)
        }
    }
}

/// Fills line/column of matches in one forward pass over the blob, whatever their order and
/// overlaps: every position asked for is sorted first, so the work is linear in the blob's length
/// (a 20 MB single-line file with thousands of matches is no slower than the same bytes on many
/// lines).
fn locate(data: &[u8], matches: &mut [Match]) {
    let mut offsets: Vec<usize> = Vec::with_capacity(matches.len() * 2);
    for m in matches.iter() {
        offsets.push(m.secret_start);
        // The last character of the secret, not the exclusive end.
        offsets.push(last_char_start(data, m.secret_start, m.secret_end));
    }
    offsets.sort_unstable();
    offsets.dedup();
    let mut cursor = LineCursor::default();
    let positions: Vec<(usize, usize)> = offsets
        .iter()
        .map(|&offset| cursor.advance(data, offset))
        .collect();
    let at = |offset: usize| {
        offsets
            .binary_search(&offset)
            .ok()
            .and_then(|i| positions.get(i).copied())
            .unwrap_or((0, 0))
    };
    for m in matches.iter_mut() {
        (m.line, m.column) = at(m.secret_start);
        (m.end_line, m.end_column) = at(last_char_start(data, m.secret_start, m.secret_end));
    }
}

fn last_char_start(data: &[u8], start: usize, end: usize) -> usize {
    let mut p = end.saturating_sub(1).max(start);
    while p > start && data.get(p).is_some_and(|b| (b & 0xC0) == 0x80) {
        p -= 1;
    }
    p
}

/// Characters (not UTF-8 continuation bytes) in `bytes`.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

/// Walks forward through a blob keeping the line and column of its position.
struct LineCursor {
    pos: usize,
    line: usize,
    /// 1-based column of `pos`.
    column: usize,
}

impl Default for LineCursor {
    fn default() -> Self {
        LineCursor {
            pos: 0,
            line: 1,
            column: 1,
        }
    }
}

impl LineCursor {
    /// The 1-based line and column of `offset`, which must not be before the previous one (an
    /// earlier offset is answered from the top, still correctly).
    fn advance(&mut self, data: &[u8], offset: usize) -> (usize, usize) {
        if offset < self.pos {
            *self = LineCursor::default();
        }
        let segment = data.get(self.pos..offset).unwrap_or_default();
        match memchr::memrchr(b'\n', segment) {
            Some(last_nl) => {
                self.line += memchr::memchr_iter(b'\n', segment).count();
                self.column = chars(segment.get(last_nl + 1..).unwrap_or_default()) + 1;
            }
            None => self.column += chars(segment),
        }
        self.pos = offset;
        (self.line, self.column)
    }
}

/// Runs a checksum or structure validator on a secret.
pub fn validate(validator: Validator, secret: &[u8]) -> bool {
    match validator {
        Validator::GithubCrc32 | Validator::NpmCrc32 => crc32_base62_suffix(secret),
        Validator::Jwt => crate::structure::jwt(secret),
        Validator::PypiMacaroon => crate::structure::pypi_macaroon(secret),
        Validator::PemBody => crate::structure::pem_body(secret),
        Validator::BasicCredentials => crate::structure::basic_credentials(secret),
        Validator::Mixed => {
            secret.iter().any(u8::is_ascii_digit) && secret.iter().any(u8::is_ascii_alphabetic)
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The last 36 characters are 30 random base62 characters and the 6-digit base62 CRC32 of them.
fn crc32_base62_suffix(secret: &[u8]) -> bool {
    let Some(body) = secret.len().checked_sub(36).and_then(|s| secret.get(s..)) else {
        return false;
    };
    if !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, check) = body.split_at(30);
    let mut crc = crc32fast::hash(random);
    let mut expected = [b'0'; 6];
    for slot in expected.iter_mut().rev() {
        // `crc % 62` is always a valid index: the `else` is never taken.
        let Some(&digit) = BASE62.get((crc % 62) as usize) else {
            return false;
        };
        *slot = digit;
        crc /= 62;
    }
    // A CRC32 needs at most 6 base62 digits (62^6 > 2^32), so nothing is left over.
    crc == 0 && expected == check
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH: &str = "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";

    fn rules(toml: &str) -> RuleSet {
        let mut set = RuleSet::default();
        set.add_file("test.toml", toml).unwrap();
        set
    }

    fn github() -> RuleSet {
        rules(&format!(
            r#"[[rule]]
id = "github.pat-classic"
name = "GitHub PAT"
provider = "github"
pattern = '''\b(ghp_[A-Za-z0-9]{{36}})\b'''
keywords = ["ghp_"]
validator = "github-crc32"
confidence = "high"
examples = ["{GH}"]
"#
        ))
    }

    fn found(set: &RuleSet, text: &str) -> Vec<(String, usize, usize)> {
        let scanner = Scanner::new(set).unwrap();
        let mut scratch = scanner.scratch();
        scanner
            .scan(text.as_bytes(), &mut scratch)
            .iter()
            .map(|m| {
                (
                    String::from_utf8_lossy(m.secret(text.as_bytes())).into_owned(),
                    m.line,
                    m.column,
                )
            })
            .collect()
    }

    #[test]
    fn a_generic_rule_does_not_report_a_token_whose_provider_checksum_fails() {
        // The provider's rule (with its checksum) beside a generic one.
        let mut set = github();
        set.add_file(
            "generic.toml",
            r#"[[rule]]
id = 'generic.token'
name = 'x'
provider = 'generic'
pattern = 'token = "(?P<secret>[A-Za-z0-9_]{20,})"'
keywords = ['token']
confidence = 'low'
examples = ['token = "q8WcR2vLm5TzXy7KpB3n"']
"#,
        )
        .unwrap();
        let broken = format!("token = \"{}Z\"", &GH[..GH.len() - 1]);
        assert!(found(&set, &broken).is_empty());
        assert_eq!(found(&set, &format!("token = \"{GH}\"")).len(), 1);
        assert_eq!(found(&set, "token = \"q8WcR2vLm5TzXy7KpB3n\"").len(), 1);
    }

    #[test]
    fn crc32_validator_accepts_the_documented_construction() {
        assert!(validate(Validator::GithubCrc32, GH.as_bytes()));
        assert!(!validate(
            Validator::GithubCrc32,
            b"ghp_abcdefghijklmnopqrstuvwxyz0123000000"
        ));
        assert!(!validate(Validator::GithubCrc32, b"ghp_short"));
    }

    #[test]
    fn finds_at_start_end_and_reports_lines_and_columns() {
        let set = github();
        assert_eq!(found(&set, GH), vec![(GH.to_string(), 1, 1)]);
        let text = format!("a\r\nb\r\n  x = \"{GH}\"");
        assert_eq!(found(&set, &text), vec![(GH.to_string(), 3, 8)]);
        let text = format!("→{GH}\n");
        assert_eq!(found(&set, &text), vec![(GH.to_string(), 1, 2)]);
    }

    #[test]
    fn keyword_is_case_insensitive_but_regex_decides() {
        let set = github();
        assert!(found(&set, &GH.to_uppercase()).is_empty());
        assert!(
            found(&set, &format!("x{GH}")).is_empty(),
            "needs a word boundary"
        );
    }

    #[test]
    fn very_long_lines_still_find_tokens_in_the_middle() {
        let set = github();
        let pad = "a".repeat(100_000);
        let text = format!("{pad} {GH} {pad}\n{GH}");
        let got = found(&set, &text);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].1, got[0].2), (1, 100_002));
        assert_eq!((got[1].1, got[1].2), (2, 1));
    }

    #[test]
    fn truncated_window_does_not_invent_a_shorter_token() {
        let set = rules(
            r#"[[rule]]
id = "t.long"
name = "t"
provider = "t"
pattern = '''\b(tok_[a-z]{10,})\b'''
keywords = ["tok_"]
confidence = "low"
examples = ["tok_qwhzkpmeij"]
"#,
        );
        // The token runs past the 4096-byte window: it must be reported whole or not at all.
        let text = format!("tok_{}", "a".repeat(9000));
        for (secret, ..) in found(&set, &text) {
            assert_eq!(secret.len(), 9004);
        }
    }

    #[test]
    fn entropy_threshold_drops_low_entropy_values() {
        let set = rules(
            r#"[[rule]]
id = "g.password"
name = "password"
provider = "generic"
pattern = '''password\s*=\s*"([^"]{8,})"'''
keywords = ["password"]
entropy = 3.0
confidence = "low"
examples = ['password = "x9Kq2LmZ8pQ"']
"#,
        );
        assert_eq!(found(&set, r#"password = "x9Kq2LmZ8pQ""#).len(), 1);
        assert!(found(&set, r#"password = "aaaaaaaaaaaa""#).is_empty());
    }

    #[test]
    fn overlapping_keywords_of_different_rules_both_fire() {
        let set = rules(
            r#"[[rule]]
id = "a.short"
name = "short"
provider = "a"
pattern = '''\b(sk-[a-z]{5})\b'''
keywords = ["sk-"]
confidence = "low"
examples = ["sk-abcde"]

[[rule]]
id = "a.long"
name = "long"
provider = "a"
pattern = '''\b(sk-ant-[a-z]{5})\b'''
keywords = ["sk-ant-"]
confidence = "high"
examples = ["sk-ant-abcde"]
"#,
        );
        let got = found(&set, "x sk-ant-abcde y");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "sk-ant-abcde");
    }

    #[test]
    fn patterns_that_begin_with_their_keyword_search_anchored() {
        let builtin = RuleSet::builtin().unwrap();
        let anchored = |id: &str| starts_with_keyword(builtin.get(id).unwrap());
        assert!(anchored("github.pat-classic"));
        assert!(anchored("sendgrid.api-key"));
        // A keyword-led alternation, a context group, a boundary class: not provably first.
        assert!(!anchored("twilio.api-key"));
        assert!(!anchored("launchdarkly.access-token"));
        let scanner = Scanner::new(&builtin).unwrap();
        let n = scanner.rules().iter().filter(|r| r.anchored).count();
        assert!(
            n * 2 > scanner.rules().len(),
            "{n} of {}",
            scanner.rules().len()
        );
        // Anchored or not, a token is found where it is.
        let text = "x = 1\nGITHUB_TOKEN=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\n";
        let mut scratch = scanner.scratch();
        assert_eq!(scanner.scan(text.as_bytes(), &mut scratch).len(), 1);
    }

    #[test]
    fn overlapping_hits_of_a_keyword_run_are_one_occurrence_and_later_tokens_still_found() {
        let set = rules(
            r#"[[rule]]
id = "x.bearer"
name = "bearer"
provider = "x"
pattern = '''(?:(?m:^)|[^A-Za-z0-9%])AAAAAAAAAAAAAAAAAAAAA(?P<secret>[B-Za-z0-9%][A-Za-z0-9%]{40,160})(?:[^A-Za-z0-9%]|(?m:$))'''
keywords = ["AAAAAAAAAAAAAAAAAAAAA"]
confidence = "high"
examples = ["x"]
"#,
        );
        // A base64 blob of zero bytes: thousands of overlapping keyword hits, no token.
        let blob = "A".repeat(20_000);
        let token = "AAAAAAAAAAAAAAAAAAAAAMLh4QEAAAAAq7bJq%2FX9kZ3mWp0Lr5Tn8Vy2Gd4Hs6Jf1Ke";
        let text = format!("image = \"{blob}\"\nX_BEARER={token}\n");
        let got = found(&set, &text);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].1, 2);
    }

    #[test]
    fn one_match_per_rule_even_with_many_keyword_hits() {
        let set = rules(
            r#"[[rule]]
id = "aws.pair"
name = "pair"
provider = "aws"
pattern = '''aws_secret[a-z_]*\s*=\s*([A-Za-z0-9/+]{40})'''
keywords = ["aws_secret", "secret"]
confidence = "high"
examples = ["aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYzzzzzzzzzzzz"]
"#,
        );
        let got = found(
            &set,
            "aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYqm3kz8hd2wpt\n",
        );
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn multiline_window_spans_pem_blocks() {
        let set = rules(
            r#"[[rule]]
id = "pem.rsa"
name = "RSA"
provider = "pem"
pattern = '''(?s)-----BEGIN RSA PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]{64,}-----END RSA PRIVATE KEY-----'''
keywords = ["-----BEGIN RSA PRIVATE KEY-----"]
confidence = "high"
examples = ["x"]
"#,
        );
        let body = "QUJDRA".repeat(20);
        let text = format!(
            "key:\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n{body}\n-----END RSA PRIVATE KEY-----\n"
        );
        let got = found(&set, &text);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].1, got[0].2), (2, 1));
    }

    #[test]
    fn one_secret_span_is_reported_once_under_the_most_confident_rule() {
        let set = rules(
            r#"[[rule]]
id = "a.generic"
name = "generic"
provider = "a"
pattern = '''\b(tok_[a-z]{8})\b'''
keywords = ["tok_"]
confidence = "low"
examples = ["tok_qwhzkpme"]

[[rule]]
id = "b.specific"
name = "specific"
provider = "b"
pattern = '''auth: (tok_[a-z]{8})\b'''
keywords = ["auth"]
confidence = "high"
examples = ["auth: tok_qwhzkpme"]
"#,
        );
        let scanner = Scanner::new(&set).unwrap();
        let mut scratch = scanner.scratch();
        let got = scanner.scan(b"auth: tok_qwhzkpme tok_mfjrdovx", &mut scratch);
        let ids: Vec<&str> = got
            .iter()
            .map(|m| scanner.rules()[m.rule].id.as_str())
            .collect();
        assert_eq!(ids, vec!["b.specific", "a.generic"]);
    }

    #[test]
    fn jwt_validator_needs_a_json_header_with_alg() {
        // {"alg":"HS256","typ":"JWT"}
        let good = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2ln";
        assert!(validate(Validator::Jwt, good));
        assert!(!validate(Validator::Jwt, b"eyJub3RhbGciOjF9.eyJ.c2ln"));
        assert!(!validate(Validator::Jwt, b"eyJhbGciOiJIUzI1NiJ9.x"));
    }

    /// Line and column of `offset` counted the slow, obvious way.
    fn naive_position(data: &[u8], offset: usize) -> (usize, usize) {
        let before = &data[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        (line, chars(&before[line_start..]) + 1)
    }

    fn span(start: usize, end: usize) -> Match {
        Match {
            rule: 0,
            start,
            end,
            secret_start: start,
            secret_end: end,
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            entropy_milli: 0,
        }
    }

    #[test]
    fn overlapping_matches_on_one_long_line_are_located_exactly() {
        // Defect: a long single-line file was quadratic (each position recounted from the line's
        // start, and an overlapping match restarted the count from the top of the blob).
        let data = "é".repeat(1000) + "\n" + &"x".repeat(5000);
        let data = data.as_bytes();
        let mut matches = vec![
            span(2100, 2400),
            span(2200, 2300),
            span(10, 3000),
            span(0, 1),
        ];
        locate(data, &mut matches);
        for m in &matches {
            assert_eq!((m.line, m.column), naive_position(data, m.secret_start));
            let last = last_char_start(data, m.secret_start, m.secret_end);
            assert_eq!((m.end_line, m.end_column), naive_position(data, last));
        }
        assert_eq!((matches[0].line, matches[0].column), (2, 2100 - 2001 + 1));
    }

    proptest::proptest! {
        #[test]
        fn locate_agrees_with_counting_from_the_top(
            text in "(\\PC|\n|é|€){0,300}",
            spans in proptest::collection::vec((0usize..400, 0usize..40), 0..12),
        ) {
            let data = text.as_bytes();
            let mut matches: Vec<Match> = spans
                .iter()
                .filter(|(start, _)| *start < data.len())
                .map(|&(start, len)| span(start, (start + len + 1).min(data.len())))
                .collect();
            locate(data, &mut matches);
            for m in &matches {
                proptest::prop_assert_eq!((m.line, m.column), naive_position(data, m.secret_start));
                let last = last_char_start(data, m.secret_start, m.secret_end);
                proptest::prop_assert_eq!((m.end_line, m.end_column), naive_position(data, last));
            }
        }
    }
}
