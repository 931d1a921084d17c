//! The call's JSON arguments as a Cedar value, for `context.args`.
//!
//! Cedar has no null, no floating point and no ordered lists, so the conversion decides:
//!
//! - **objects** become records, **strings** strings, **booleans** booleans;
//! - **integers** in the range of `i64` become `Long`; a float that is a whole number in that range
//!   (`100.0`) becomes the same `Long`, since JSON does not distinguish them;
//! - **other numbers** (`100.5`) become a Cedar `decimal` when they have at most four fractional
//!   digits and fit its range (compare with `.greaterThan(decimal("100.0"))`); any other number
//!   (more digits, exponents, integers beyond `i64`) is an error, and the call is denied: a policy
//!   must never see a number that was silently rounded;
//! - **null** in an object leaves the attribute out (test it with `has`), as an absent optional
//!   argument; null in an array is dropped;
//! - **arrays** become sets: order and duplicates are lost (`["a","a"]` is `["a"]`);
//! - nesting deeper than [`MAX_DEPTH`] is an error (Cedar evaluates recursively).
//!
//! [`CedarValue::to_json`] gives back the JSON a policy effectively sees, so tests can check the
//! conversion round-trips.

use std::collections::{BTreeMap, BTreeSet};

use cedar_policy::RestrictedExpression;
use serde_json::Value;

/// How deep arguments may nest (objects and arrays), counting the top-level object as 1.
pub const MAX_DEPTH: usize = 32;

/// Why arguments cannot be given to the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("the arguments must be a JSON object, not {found}")]
    NotAnObject { found: &'static str },
    #[error(
        "argument `{path}` is the number {number}, which Cedar cannot represent exactly (whole numbers within 64 bits, or decimals with at most 4 fractional digits)"
    )]
    Number { path: String, number: String },
    #[error("argument `{path}` nests deeper than {MAX_DEPTH} levels")]
    TooDeep { path: String },
}

/// A Cedar value converted from JSON, before it becomes a `RestrictedExpression`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CedarValue {
    Bool(bool),
    Long(i64),
    /// A Cedar `decimal`, as its literal (`"100.5"`).
    Decimal(String),
    String(String),
    Set(BTreeSet<CedarValue>),
    Record(BTreeMap<String, CedarValue>),
}

impl CedarValue {
    /// Converts a call's arguments (a JSON object; absent arguments are `null` or `{}`).
    pub fn from_arguments(arguments: &Value) -> Result<CedarValue, ArgsError> {
        match arguments {
            Value::Null => Ok(CedarValue::Record(BTreeMap::new())),
            Value::Object(_) => convert(arguments, Path::Root, 1).map(|v| v.unwrap_or_default()),
            other => Err(ArgsError::NotAnObject { found: kind(other) }),
        }
    }

    /// The value for a Cedar context or entity attribute, consuming this one (no string is
    /// copied).
    pub fn into_restricted(self) -> RestrictedExpression {
        match self {
            CedarValue::Bool(b) => RestrictedExpression::new_bool(b),
            CedarValue::Long(n) => RestrictedExpression::new_long(n),
            CedarValue::Decimal(d) => RestrictedExpression::new_decimal(d),
            CedarValue::String(s) => RestrictedExpression::new_string(s),
            CedarValue::Set(items) => {
                RestrictedExpression::new_set(items.into_iter().map(CedarValue::into_restricted))
            }
            CedarValue::Record(fields) => {
                // Keys are unique in a BTreeMap, the only reason `new_record` can fail.
                RestrictedExpression::new_record(
                    fields.into_iter().map(|(k, v)| (k, v.into_restricted())),
                )
                .unwrap_or_else(|_| RestrictedExpression::new_bool(false))
            }
        }
    }

    /// The value for a Cedar context or entity attribute.
    pub fn to_restricted(&self) -> RestrictedExpression {
        match self {
            CedarValue::Bool(b) => RestrictedExpression::new_bool(*b),
            CedarValue::Long(n) => RestrictedExpression::new_long(*n),
            CedarValue::Decimal(d) => RestrictedExpression::new_decimal(d.clone()),
            CedarValue::String(s) => RestrictedExpression::new_string(s.clone()),
            CedarValue::Set(items) => {
                RestrictedExpression::new_set(items.iter().map(CedarValue::to_restricted))
            }
            CedarValue::Record(fields) => {
                // Keys are unique in a BTreeMap, the only reason `new_record` can fail.
                RestrictedExpression::new_record(
                    fields.iter().map(|(k, v)| (k.clone(), v.to_restricted())),
                )
                .unwrap_or_else(|_| RestrictedExpression::new_bool(false))
            }
        }
    }

    /// The JSON a policy effectively sees: sets as sorted arrays, decimals as JSON numbers.
    pub fn to_json(&self) -> Value {
        match self {
            CedarValue::Bool(b) => Value::Bool(*b),
            CedarValue::Long(n) => Value::from(*n),
            // Rust's float parsing is correctly rounded (serde_json's default parser may be one
            // unit off), so the decimal reads back as the number it was printed from.
            CedarValue::Decimal(d) => d
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::Null, Value::Number),
            CedarValue::String(s) => Value::String(s.clone()),
            CedarValue::Set(items) => Value::Array(items.iter().map(CedarValue::to_json).collect()),
            CedarValue::Record(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl Default for CedarValue {
    fn default() -> Self {
        CedarValue::Record(BTreeMap::new())
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

/// Where a value sits in the arguments, written out only for an error: a call's arguments are
/// converted on every decision, and most have no error to report.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// `a.b[2].c`; a top-level argument is its key alone.
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => {
                let parent = parent.render();
                if parent.is_empty() {
                    (*key).to_string()
                } else {
                    format!("{parent}.{key}")
                }
            }
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

/// `None` for null (left out by the caller).
fn convert(value: &Value, path: Path<'_>, depth: usize) -> Result<Option<CedarValue>, ArgsError> {
    if depth > MAX_DEPTH {
        return Err(ArgsError::TooDeep {
            path: path.render(),
        });
    }
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::Bool(b) => CedarValue::Bool(*b),
        Value::String(s) => CedarValue::String(s.clone()),
        Value::Number(n) => number(n, path)?,
        Value::Array(items) => {
            let mut set = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(v) = convert(item, Path::Index(&path, i), depth + 1)? {
                    set.insert(v);
                }
            }
            CedarValue::Set(set)
        }
        Value::Object(fields) => {
            let mut record = BTreeMap::new();
            for (key, item) in fields {
                if let Some(v) = convert(item, Path::Key(&path, key), depth + 1)? {
                    record.insert(key.clone(), v);
                }
            }
            CedarValue::Record(record)
        }
    }))
}

/// Cedar's decimal: four fractional digits, stored as an i64 of ten-thousandths.
const DECIMAL_DIGITS: usize = 4;

fn number(n: &serde_json::Number, path: Path<'_>) -> Result<CedarValue, ArgsError> {
    if let Some(i) = n.as_i64() {
        return Ok(CedarValue::Long(i));
    }
    let refuse = || ArgsError::Number {
        path: path.render(),
        number: n.to_string(),
    };
    if n.is_u64() {
        return Err(refuse());
    }
    let f = n.as_f64().ok_or_else(refuse)?;
    // Whole floats within i64: the bounds are exact powers of two, so the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    if f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
    {
        return Ok(CedarValue::Long(f as i64));
    }
    // serde_json prints the shortest text that reads back as the same f64: use it as the decimal
    // literal when Cedar's decimal holds it exactly.
    let text = n.to_string();
    let (whole, fraction) = text.split_once('.').ok_or_else(refuse)?;
    let digits_ok = !text.contains(['e', 'E'])
        && fraction.len() <= DECIMAL_DIGITS
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit());
    let whole_ok = whole
        .trim_start_matches('-')
        .parse::<i64>()
        .is_ok_and(|w| w.checked_mul(10_000).is_some());
    if digits_ok && whole_ok {
        Ok(CedarValue::Decimal(text))
    } else {
        Err(refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_each_kind() {
        let v = CedarValue::from_arguments(&json!({
            "repo": "acme/api", "n": 3, "whole": 100.0, "price": 100.5, "ok": true,
            "gone": null, "tags": ["b", "a", "a", null], "nested": {"x": {"y": 1}}
        }))
        .unwrap();
        assert_eq!(
            v.to_json(),
            json!({"repo": "acme/api", "n": 3, "whole": 100, "price": 100.5, "ok": true,
                   "tags": ["a", "b"], "nested": {"x": {"y": 1}}})
        );
    }

    /// Found by the property test: serde_json's default float parsing read this decimal back
    /// one unit off, so the policy saw a different number than the call carried.
    #[test]
    fn decimals_read_back_exactly() {
        let n = json!({"v": -16_754_366_685_729.475_f64});
        let converted = CedarValue::from_arguments(&n).unwrap();
        assert_eq!(
            CedarValue::from_arguments(&converted.to_json()).unwrap(),
            converted
        );
        assert_eq!(converted.to_json(), n);
    }

    #[test]
    fn refuses_what_cedar_cannot_hold() {
        for bad in [
            json!({"x": 0.12345}),
            json!({"x": 1e300}),
            json!({"x": u64::MAX}),
        ] {
            assert!(matches!(
                CedarValue::from_arguments(&bad),
                Err(ArgsError::Number { .. })
            ));
        }
        assert!(matches!(
            CedarValue::from_arguments(&json!([1])),
            Err(ArgsError::NotAnObject { .. })
        ));
        let mut deep = json!(1);
        for _ in 0..40 {
            deep = json!({ "a": deep });
        }
        assert!(matches!(
            CedarValue::from_arguments(&deep),
            Err(ArgsError::TooDeep { .. })
        ));
    }

    /// Errors name where the value sits, as the agent wrote it.
    #[test]
    fn errors_name_the_argument() {
        let path_of = |arguments: Value| match CedarValue::from_arguments(&arguments) {
            Err(ArgsError::Number { path, .. } | ArgsError::TooDeep { path }) => path,
            other => panic!("{other:?}"),
        };
        assert_eq!(path_of(json!({"x": 0.12345})), "x");
        assert_eq!(path_of(json!({"a": {"b": [1, {"c": 1e300}]}})), "a.b[1].c");
        assert_eq!(path_of(json!({"a": [[u64::MAX]]})), "a[0][0]");
        assert_eq!(path_of(json!({"": {"k": 0.5e-9}})), "k");
        let mut deep = json!(1);
        for _ in 0..40 {
            deep = json!({ "a": deep });
        }
        assert_eq!(path_of(deep), vec!["a"; 32].join("."));
    }

    /// Owned and borrowed conversions give Cedar the same value.
    #[test]
    fn into_restricted_is_to_restricted() {
        let v = CedarValue::from_arguments(&json!({
            "s": "x", "n": -3, "d": 1.5, "b": false, "set": ["b", "a"], "r": {"k": {"l": [1, 2]}}
        }))
        .unwrap();
        assert_eq!(v.to_restricted(), v.clone().into_restricted());
    }

    #[test]
    fn null_arguments_are_an_empty_record() {
        assert_eq!(
            CedarValue::from_arguments(&Value::Null).unwrap(),
            CedarValue::default()
        );
    }
}
