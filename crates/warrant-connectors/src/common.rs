//! Helpers every connector needs: lenient dates, owners and purpose from tags, secret-looking
//! values, JSON decoding with located errors.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::de::DeserializeOwned;
use warrant_core::{Environment, OwnerRef, Timestamp};

use crate::ConnectorError;

/// Parses the date shapes providers emit: RFC 3339 (`2024-01-02T03:04:05Z`, with offsets or
/// fractions), the space-separated form some AWS tools print (`2023-03-09 10:41:45+00:00`), a bare
/// date, or epoch seconds. Placeholders (`N/A`, `no_information`, `not_supported`, empty) → `None`.
pub fn parse_date(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty()
        || matches!(
            text.to_ascii_lowercase().as_str(),
            "n/a" | "no_information" | "not_supported" | "null" | "none" | "-"
        )
    {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let with_t = text.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&with_t) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&with_t, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
    }
    if let Ok(seconds) = text.parse::<i64>() {
        // Millisecond epochs are 13 digits.
        let seconds = if seconds > 100_000_000_000 {
            seconds / 1000
        } else {
            seconds
        };
        return Utc.timestamp_opt(seconds, 0).single();
    }
    None
}

/// Tag/label/annotation keys that name who is accountable for something, unless the import
/// configuration names others (`[import] owner_keys`).
pub const OWNER_KEYS: &[&str] = &[
    "owner",
    "owners",
    "owner-email",
    "owner_email",
    "owneremail",
    "team",
    "owner-team",
    "contact",
    "contact-email",
    "created-by",
    "createdby",
    "created_by",
    "maintainer",
    "email",
    "responsible",
    "technical-owner",
    "business-owner",
];
const PURPOSE_KEYS: &[&str] = &[
    "purpose",
    "description",
    "app.kubernetes.io/description",
    "use",
    "usage",
];
const ENV_KEYS: &[&str] = &[
    "env",
    "environment",
    "stage",
    "tier",
    "app.kubernetes.io/environment",
];

/// The last path segment of a namespaced key (`acme.com/owner` → `owner`), lower-cased.
fn bare_key(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase()
}

/// Owner references from tags, labels or annotations; `kind` prefixes the source (`tag`, `label`…).
pub fn owners_from(map: &BTreeMap<String, String>, kind: &str, keys: &[String]) -> Vec<OwnerRef> {
    let mut owners = Vec::new();
    for (key, value) in map {
        let bare = bare_key(key);
        if keys.iter().any(|k| k.eq_ignore_ascii_case(&bare)) {
            for part in value
                .split([',', ';', ' '])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let owner = OwnerRef {
                    id: part.to_string(),
                    source: format!("{kind}:{key}"),
                };
                if !owners.contains(&owner) {
                    owners.push(owner);
                }
            }
        }
    }
    owners
}

pub fn purpose_from(map: &BTreeMap<String, String>) -> Option<String> {
    map.iter()
        .find(|(k, v)| PURPOSE_KEYS.contains(&bare_key(k).as_str()) && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
}

pub fn environment_from(map: &BTreeMap<String, String>) -> Environment {
    map.iter()
        .filter(|(k, _)| ENV_KEYS.contains(&bare_key(k).as_str()))
        .map(|(_, v)| Environment::guess(v))
        .find(|e| *e != Environment::Unknown)
        .unwrap_or(Environment::Unknown)
}

/// A lifecycle status some teams record in tags or labels (`lifecycle=decommissioned`).
pub fn status_from(map: &BTreeMap<String, String>) -> Option<warrant_core::IdentityStatus> {
    use warrant_core::IdentityStatus;
    map.iter()
        .filter(|(k, _)| {
            matches!(
                bare_key(k).as_str(),
                "lifecycle" | "status" | "state" | "lifecycle-status"
            )
        })
        .find_map(|(_, v)| match v.trim().to_ascii_lowercase().as_str() {
            "decommissioned" | "retired" | "deprecated" | "deleted" => {
                Some(IdentityStatus::Decommissioned)
            }
            "disabled" | "suspended" | "inactive" => Some(IdentityStatus::Disabled),
            _ => None,
        })
}

/// Decodes JSON into `T`, naming the JSON path of a value of the wrong shape.
pub fn decode_json<T: DeserializeOwned>(origin: &Path, bytes: &[u8]) -> Result<T, ConnectorError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| ConnectorError::json_path(origin, e))
}

/// Known token prefixes: a value starting with one is a credential whatever its key is called.
pub const TOKEN_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xapp-",
    "sk-",
    "sk_live_",
    "rk_live_",
    "sk-ant-",
    "hf_",
    "AKIA",
    "ASIA",
    "AIza",
    "npm_",
    "pypi-",
    "dop_v1_",
    "SG.",
    "shpat_",
    "xkeysib-",
    "glc_",
    "sq0atp-",
];

/// Whether a config value looks like a secret, judged by its key name and its shape.
pub fn looks_secret(key: &str, value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.len() < 6 {
        return false;
    }
    let lower_key = key.to_ascii_lowercase();
    let secret_key = [
        "token",
        "key",
        "secret",
        "password",
        "passwd",
        "pass",
        "pwd",
        "auth",
        "credential",
        "apikey",
        "private",
    ]
    .iter()
    .any(|k| lower_key.contains(k));
    let benign_value = matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "false" | "debug" | "info" | "warn" | "error"
    );
    if TOKEN_PREFIXES.iter().any(|p| value.starts_with(p)) && value.len() >= 16 {
        return true;
    }
    if uri_password(value).is_some() {
        return true;
    }
    if secret_key && !benign_value && !value.contains(' ') {
        return true;
    }
    // An environment-variable name (`GITHUB_TOKEN`) passed by reference is not a value.
    let variable_name = value
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let mixed = value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
        || value.chars().any(|c| c.is_ascii_lowercase())
            && value.chars().any(|c| c.is_ascii_uppercase());
    !variable_name
        && mixed
        && value.len() >= 20
        && !value.contains(['/', ' ', '.'])
        && warrant_core::shannon_entropy(value.as_bytes()) >= 3.5
}

/// The password in a URI like `postgres://user:pass@host/db`, if any.
pub fn uri_password(text: &str) -> Option<String> {
    let parsed = url::Url::parse(text.trim()).ok()?;
    if parsed.cannot_be_a_base() {
        return None;
    }
    parsed.password().filter(|p| !p.is_empty()).map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    })
}

/// The URI with its password replaced by `****`, for display.
pub fn redact_uri(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_provider_shapes() {
        let expect = Utc.with_ymd_and_hms(2023, 3, 9, 10, 41, 45).single();
        assert_eq!(parse_date("2023-03-09 10:41:45+00:00"), expect);
        assert_eq!(parse_date("2023-03-09T10:41:45Z"), expect);
        assert_eq!(parse_date("2023-03-09T10:41:45.000Z"), expect);
        assert_eq!(parse_date("N/A"), None);
        assert_eq!(parse_date("no_information"), None);
        assert!(parse_date("2023-03-09").is_some());
    }

    #[test]
    fn owners_from_tags_split_lists_and_ignore_other_keys() {
        let mut tags = BTreeMap::new();
        tags.insert("Owner".to_string(), "a@x.com, b@x.com".to_string());
        tags.insert("acme.com/team".to_string(), "payments".to_string());
        tags.insert("cost-center".to_string(), "42".to_string());
        let keys: Vec<String> = OWNER_KEYS.iter().map(|k| k.to_string()).collect();
        let owners: Vec<_> = owners_from(&tags, "tag", &keys)
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(owners, ["a@x.com", "b@x.com", "payments"]);
        // Configured keys replace the defaults.
        let owners: Vec<_> = owners_from(&tags, "tag", &["Cost-Center".to_string()])
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(owners, ["42"]);
    }

    #[test]
    fn secret_detection_by_key_and_shape() {
        assert!(looks_secret(
            "GITHUB_TOKEN",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
        ));
        assert!(looks_secret("DB", "postgres://app:hunter2@db:5432/x"));
        assert!(looks_secret("API_KEY", "abc123def456"));
        assert!(!looks_secret("LOG_LEVEL", "debug"));
        assert!(!looks_secret("DEBUG_MODE", "true"));
        assert!(!looks_secret("HOME", "/home/alice"));
        assert!(
            !looks_secret("-e", "GITHUB_PERSONAL_ACCESS_TOKEN"),
            "a variable name is not a secret"
        );
        assert!(looks_secret("--x", "q8ZtR3vB1nK9pW2mX7cL4dF6"));
        assert_eq!(
            uri_password("mongodb://u:p%40ss@h/db").as_deref(),
            Some("p@ss")
        );
        assert_eq!(
            redact_uri("postgres://app:hunter2@db:5432/x"),
            "postgres://app:****@db:5432/x"
        );
    }
}
