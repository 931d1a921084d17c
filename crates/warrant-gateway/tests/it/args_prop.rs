//! JSON → Cedar conversion: never panics, and round-trips what it claims to.

use proptest::prelude::*;
use serde_json::{Map, Value};
use warrant_gateway::CedarValue;

/// Any JSON value, floats and nulls included.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// JSON the conversion keeps exactly: no nulls, integers only, arrays already sorted sets.
fn exact_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::btree_set(inner.clone().prop_map(|v| v.to_string()), 0..5).prop_map(
                |set| {
                    // Sort as Cedar's set would: by the converted value.
                    let mut values: Vec<(CedarValue, Value)> = set
                        .iter()
                        .map(|text| {
                            let v: Value = serde_json::from_str(text).unwrap();
                            let wrapped = serde_json::json!({ "v": v.clone() });
                            let CedarValue::Record(r) =
                                CedarValue::from_arguments(&wrapped).unwrap()
                            else {
                                unreachable!()
                            };
                            (r["v"].clone(), v)
                        })
                        .collect();
                    values.sort_by(|a, b| a.0.cmp(&b.0));
                    values.dedup_by(|a, b| a.0 == b.0);
                    Value::Array(values.into_iter().map(|(_, v)| v).collect())
                }
            ),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn conversion_never_panics(value in any_json()) {
        let wrapped = serde_json::json!({ "x": value });
        if let Ok(converted) = CedarValue::from_arguments(&wrapped) {
            // What converts also builds a Cedar context.
            let expression = converted.to_restricted();
            prop_assert!(cedar_policy::Context::from_pairs([("args".to_string(), expression)]).is_ok());
            // And converting what the policy sees again changes nothing.
            let seen = converted.to_json();
            prop_assert_eq!(CedarValue::from_arguments(&seen).unwrap(), converted);
        }
    }

    #[test]
    fn exact_json_round_trips(fields in prop::collection::btree_map("[a-z_]{1,6}", exact_json(), 0..6)) {
        let value = Value::Object(fields.into_iter().collect());
        let converted = CedarValue::from_arguments(&value).unwrap();
        prop_assert_eq!(converted.to_json(), value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The fuzz targets' bodies (fuzz/fuzz_targets/gateway_*.rs), as no-panic tests in `cargo test`.
    #[test]
    fn parsers_never_panic(text in "(permit|forbid|@id|@approval|\\(|\\)|principal|action|resource|when|unless|\\{|\\}|context|\\.args|\\.|has|like|\"[a-z/*]{0,6}\"|==|;|,| |\n|[a-z]{1,4}|[0-9]{1,3}|\\[|\\]|=|version|upstream|url|command|tools|labels)*") {
        let _ = warrant_gateway::PolicyEngine::load(None, &[warrant_gateway::Source::new("p", text.clone())]);
        if let Err(e) = warrant_gateway::GatewayConfig::from_toml(&text, "g.toml") {
            prop_assert!(e.to_string().starts_with("g.toml"));
        }
    }
}
