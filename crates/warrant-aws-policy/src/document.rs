//! Parsing AWS policy documents as the IAM API and CLI emit them.

use serde_json::Value;
use warrant_core::{Effect, Statement};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyParseError {
    #[error("policy document is not valid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("at {path}: {message}")]
    Shape { path: String, message: String },
}

/// Parses a policy document given as text: plain JSON, or URL-encoded JSON as
/// `get-account-authorization-details` returns through some SDKs.
pub fn parse_policy_document_str(text: &str) -> Result<Vec<Statement>, PolicyParseError> {
    let trimmed = text.trim_start();
    let decoded;
    let json_text =
        if trimmed.starts_with('%') || (!trimmed.starts_with('{') && trimmed.contains('%')) {
            decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8_lossy()
                .into_owned();
            decoded.as_str()
        } else {
            trimmed
        };
    let value: Value = serde_json::from_str(json_text).map_err(|e| PolicyParseError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    parse_policy_document(&value)
}

/// Parses a policy document already decoded as JSON. A string value is treated as URL-encoded or
/// embedded JSON text.
pub fn parse_policy_document(doc: &Value) -> Result<Vec<Statement>, PolicyParseError> {
    let doc = match doc {
        Value::String(text) => return parse_policy_document_str(text),
        Value::Object(map) => map,
        other => {
            return Err(shape(
                "$",
                format!("expected an object, found {}", kind(other)),
            ));
        }
    };
    let statements = match doc.get("Statement") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(other) => {
            return Err(shape(
                "$.Statement",
                format!("expected an array or object, found {}", kind(other)),
            ));
        }
    };
    statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_statement(s, &format!("$.Statement[{i}]")))
        .collect()
}

fn parse_statement(value: &Value, path: &str) -> Result<Statement, PolicyParseError> {
    let Value::Object(map) = value else {
        return Err(shape(
            path,
            format!("expected an object, found {}", kind(value)),
        ));
    };
    let effect = match map.get("Effect").and_then(Value::as_str) {
        Some(e) if e.eq_ignore_ascii_case("allow") => Effect::Allow,
        Some(e) if e.eq_ignore_ascii_case("deny") => Effect::Deny,
        Some(e) => {
            return Err(shape(
                &format!("{path}.Effect"),
                format!("expected Allow or Deny, found `{e}`"),
            ));
        }
        None => return Err(shape(&format!("{path}.Effect"), "missing".to_string())),
    };
    let strings = |key: &str| -> Result<Vec<String>, PolicyParseError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(shape(
                        &format!("{path}.{key}[{i}]"),
                        format!("expected a string, found {}", kind(other)),
                    )),
                })
                .collect(),
            Some(other) => Err(shape(
                &format!("{path}.{key}"),
                format!("expected a string or array, found {}", kind(other)),
            )),
        }
    };
    let conditions = match map.get("Condition") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) if c.is_empty() => None,
        Some(c) => Some(c.clone()),
    };
    Ok(Statement {
        sid: map.get("Sid").and_then(Value::as_str).map(str::to_string),
        effect,
        actions: strings("Action")?,
        not_actions: strings("NotAction")?,
        resources: strings("Resource")?,
        not_resources: strings("NotResource")?,
        conditions,
    })
}

fn shape(path: &str, message: String) -> PolicyParseError {
    PolicyParseError::Shape {
        path: path.to_string(),
        message,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_url_encoded_documents_with_single_statement_objects() {
        let text = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D";
        let statements = parse_policy_document_str(text).unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0].actions, ["s3:*"]);
        assert_eq!(statements[0].effect, Effect::Allow);
    }

    #[test]
    fn reports_the_json_path_of_a_bad_field() {
        let doc =
            serde_json::json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", 7]}]});
        let err = parse_policy_document(&doc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "at $.Statement[0].Action[1]: expected a string, found a number"
        );
    }
}
