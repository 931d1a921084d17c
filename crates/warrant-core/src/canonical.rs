//! JSON text that does not depend on the order object keys were read in.
//!
//! serde_json keeps objects sorted by key unless some crate in the build enables its
//! `preserve_order` feature (Cedar's does), which keeps insertion order instead; features are
//! unified across the build. Ids and hashes computed from JSON values use this form, so they
//! are the same whichever way serde_json was built and whatever order a source wrote keys in.

use serde_json::Value;

/// `value` as compact JSON text with every object's keys sorted, at every depth.
pub fn canonical_json(value: &Value) -> String {
    sorted(value).to_string()
}

/// Serialises a JSON value with every object's keys sorted (`#[serde(serialize_with = …)]`):
/// reports and snapshots read the same however serde_json was built.
pub fn serialize_sorted<S: serde::Serializer>(
    value: &Value,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&sorted(value), serializer)
}

/// A copy of `value` with every object's keys sorted, at every depth.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_json;

    #[test]
    fn keys_are_sorted_at_every_depth_whatever_order_they_came_in() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": {"d": [ {"z": 1, "y": 2} ], "c": null}}"#)
                .unwrap_or_default();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a": {"c": null, "d": [ {"y": 2, "z": 1} ]}, "b": 1}"#)
                .unwrap_or_default();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}"#
        );
    }
}
