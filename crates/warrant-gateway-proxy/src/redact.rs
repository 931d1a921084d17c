//! Secret-like strings in what passes through the gateway, found with the secret scanner's
//! rules and replaced by redacted previews (`warrant_core::fingerprint::redact`): in a held
//! call's arguments before an approver or the store sees them, and in tool results before the
//! agent does.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::Value;
use warrant_scan::{RuleError, RuleSet, Scanner};

/// The scanner's built-in rules, compiled once.
pub struct Redactor {
    scanner: Scanner,
    /// One scratch, reused: redaction runs on small values, one at a time per redactor.
    scratch: Mutex<warrant_scan::engine::Scratch>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { .. }")
    }
}

impl Redactor {
    pub fn builtin() -> Result<Redactor, RuleError> {
        let scanner = Scanner::new(&RuleSet::builtin()?)?;
        let scratch = Mutex::new(scanner.scratch());
        Ok(Redactor { scanner, scratch })
    }

    /// `value` with every secret in its strings (keys included) replaced by its redacted
    /// preview, and the ids of the rules that found them.
    pub fn redact(&self, value: &Value) -> (Value, BTreeSet<String>) {
        let mut rules = BTreeSet::new();
        let out = self.walk(value, &mut rules);
        (out, rules)
    }

    fn walk(&self, value: &Value, rules: &mut BTreeSet<String>) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact_text(s, rules)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.walk(v, rules)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.redact_text(k, rules), self.walk(v, rules)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn redact_text(&self, text: &str, rules: &mut BTreeSet<String>) -> String {
        let mut scratch = self
            .scratch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let matches = self.scanner.scan(text.as_bytes(), &mut scratch);
        if matches.is_empty() {
            return text.to_string();
        }
        let mut spans: Vec<(usize, usize, usize)> = matches
            .iter()
            .map(|m| (m.secret_start, m.secret_end, m.rule))
            .filter(|(s, e, _)| s < e && *e <= text.len())
            .collect();
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, rule) in spans {
            // Overlapping findings: the earlier one already covers this text.
            if start < at || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                continue;
            }
            out.push_str(&text[at..start]);
            out.push_str(&warrant_core::fingerprint::redact(&text[start..end]));
            out.push_str("[redacted]");
            if let Some(r) = self.scanner.rules().get(rule) {
                rules.insert(r.id.clone());
            }
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_strings_and_keys_are_redacted_and_the_rest_kept() {
        let redactor = Redactor::builtin().unwrap();
        // Shaped like a GitLab personal access token (prefix + 20 url-safe characters); made up.
        let token = format!("glpat-{}", "Q7w_Zk2Rm9Tx4Vb-8Nc1");
        let value = serde_json::json!({
            "repo": "acme/api",
            "headers": {"Authorization": format!("token {token}")},
            "count": 3,
            "notes": [format!("use {token} please")],
        });
        let (out, rules) = redactor.redact(&value);
        let text = out.to_string();
        assert!(!text.contains(&token), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert_eq!(out["repo"], "acme/api");
        assert_eq!(out["count"], 3);
        assert!(!rules.is_empty());
        let (plain, none) = redactor.redact(&serde_json::json!({"q": "what time is it in Tokyo"}));
        assert_eq!(plain["q"], "what time is it in Tokyo");
        assert!(none.is_empty());
    }
}
