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
    /// Scratch space for scans, one per scan running at once: a call takes one for its whole
    /// value and puts it back, so concurrent calls never wait on each other's scans.
    scratches: Mutex<Vec<warrant_scan::engine::Scratch>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { .. }")
    }
}

impl Redactor {
    pub fn builtin() -> Result<Redactor, RuleError> {
        let scanner = Scanner::new(&RuleSet::builtin()?)?;
        let scratches = Mutex::new(vec![scanner.scratch()]);
        Ok(Redactor { scanner, scratches })
    }

    /// `value` with every secret in its strings (keys included) replaced by its redacted
    /// preview, and the ids of the rules that found them.
    pub fn redact(&self, value: &Value) -> (Value, BTreeSet<String>) {
        let pool = || {
            self.scratches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let taken = pool().pop();
        let mut scratch = taken.unwrap_or_else(|| self.scanner.scratch());
        let mut rules = BTreeSet::new();
        let out = self.walk(value, &mut rules, &mut scratch);
        pool().push(scratch);
        (out, rules)
    }

    fn walk(
        &self,
        value: &Value,
        rules: &mut BTreeSet<String>,
        scratch: &mut warrant_scan::engine::Scratch,
    ) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact_text(s, rules, scratch)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.walk(v, rules, scratch)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        (
                            self.redact_text(k, rules, scratch),
                            self.walk(v, rules, scratch),
                        )
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn redact_text(
        &self,
        text: &str,
        rules: &mut BTreeSet<String>,
        scratch: &mut warrant_scan::engine::Scratch,
    ) -> String {
        let matches = self.scanner.scan(text.as_bytes(), scratch);
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

    #[test]
    fn concurrent_calls_each_get_their_own_scan() {
        let redactor = Redactor::builtin().unwrap();
        let token = format!("glpat-{}", "Q7w_Zk2Rm9Tx4Vb-8Nc1");
        std::thread::scope(|scope| {
            for n in 0..4 {
                let (redactor, token) = (&redactor, &token);
                scope.spawn(move || {
                    for i in 0..50 {
                        let value = serde_json::json!({"n": n, "text": format!("{i} {token}")});
                        let (out, rules) = redactor.redact(&value);
                        assert!(!out.to_string().contains(token.as_str()));
                        assert!(!rules.is_empty());
                        let (plain, none) =
                            redactor.redact(&serde_json::json!([format!("{n}-{i}")]));
                        assert_eq!(plain[0], format!("{n}-{i}"));
                        assert!(none.is_empty());
                    }
                });
            }
        });
        // Never more scratch space than scans that ran at once.
        assert!(redactor.scratches.lock().unwrap().len() <= 4);
    }
}
