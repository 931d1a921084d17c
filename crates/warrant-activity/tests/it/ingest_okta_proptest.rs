#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The Okta System Log parser: arbitrary Okta-shaped input never panics, and generated
//! LogEvents (a JSON array as `/api/v1/logs` returns it, or JSON Lines) round-trip into events
//! with the right principal, outcome and subject.

use proptest::prelude::*;
use warrant_activity::ingest::{IngestOptions, ingest_reader};
use warrant_activity::{LogKind, Outcome, PrincipalKind};

fn actor_kind() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "User",
        "PublicClientApp",
        "AppInstance",
        "SystemPrincipal",
    ])
}

fn result() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "SUCCESS",
        "FAILURE",
        "DENY",
        "SKIPPED",
        "ALLOW",
        "CHALLENGE",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Okta-shaped records with fields of surprising types or cut short never panic, and
    /// every record is an event or a counted bad record.
    #[test]
    fn mangled_okta_records_never_panic(
        value in prop_oneof![
            Just(serde_json::json!(null)),
            Just(serde_json::json!(7)),
            Just(serde_json::json!([1, {"a": "b"}])),
            "[a-zA-Z0-9 .:é\"]{0,16}".prop_map(serde_json::Value::from),
        ],
        field in prop::sample::select(vec!["actor", "client", "outcome", "target", "transaction", "debugContext", "published", "uuid", "authenticationContext"]),
        cut in 0usize..400,
    ) {
        let mut record = serde_json::json!({
            "uuid": "u-1", "published": "2026-11-04T09:10:07.101Z", "eventType": "system.api_token.create",
            "actor": {"id": "00u1", "type": "User", "alternateId": "a@b.test"},
            "target": [{"id": "00T1", "type": "Token", "displayName": "t"}],
            "transaction": {"type": "WEB", "id": "x", "detail": {"requestApiTokenId": "00T9"}},
        });
        record[field] = value;
        let text = serde_json::to_string(&record).unwrap();
        for bytes in [text.as_bytes(), &text.as_bytes()[..cut.min(text.len())]] {
            let mut n = 0u64;
            let options = IngestOptions { format: Some(LogKind::OktaSystemLog), buffer_bytes: 64, ..IngestOptions::default() };
            let report = ingest_reader("okta", bytes, &options, &mut |_| n += 1);
            prop_assert_eq!(report.events, n);
            prop_assert!(n + report.bad_count <= report.records.max(1));
        }
    }

    #[test]
    fn generated_log_events_round_trip(
        records in proptest::collection::vec(
            (actor_kind(), result(), any::<bool>(), "[a-z]{3,12}\\.[a-z_]{3,12}\\.[a-z]{3,10}", 0u32..86400, any::<bool>()),
            1..30,
        ),
        array in any::<bool>(),
    ) {
        let mut values = Vec::new();
        for (i, (kind, result, token, event_type, secs, target_app)) in records.iter().enumerate() {
            let mut record = serde_json::json!({
                "uuid": format!("okta-{i}"),
                "published": format!("2026-11-04T{:02}:{:02}:{:02}.{:03}Z", secs / 3600, secs / 60 % 60, secs % 60, i % 1000),
                "eventType": event_type,
                "actor": {"id": format!("id{i}"), "type": kind, "alternateId": format!("actor{i}@corp.test"), "displayName": "Actor"},
                "client": {"ipAddress": "198.51.100.4", "userAgent": {"rawUserAgent": "okta-sdk-java/8.2"}},
                "outcome": {"result": result, "reason": null},
                "target": [],
                "transaction": {"type": "WEB", "id": format!("tx{i}"), "detail": {}},
            });
            if *token {
                record["transaction"]["detail"]["requestApiTokenId"] = format!("00T{i}").into();
            }
            if *target_app {
                record["target"] = serde_json::json!([{"id": format!("0oa{i}"), "type": "PublicClientApp", "alternateId": "x", "displayName": "app"}]);
            }
            values.push(record);
        }
        let body = if array {
            serde_json::to_string(&values).unwrap()
        } else {
            values.iter().map(|v| serde_json::to_string(v).unwrap()).collect::<Vec<_>>().join("\n")
        };
        let mut events = Vec::new();
        let options = IngestOptions { buffer_bytes: 128, ..IngestOptions::default() };
        let report = ingest_reader("gen", body.as_bytes(), &options, &mut |e| events.push(e));
        prop_assert_eq!(report.bad_count, 0, "{:?}", report.bad);
        prop_assert_eq!(report.format, Some(LogKind::OktaSystemLog));
        prop_assert_eq!(events.len(), records.len());
        for (i, (e, (kind, result, token, event_type, secs, target_app))) in events.iter().zip(&records).enumerate() {
            prop_assert_eq!(&e.id, &format!("okta-{i}"));
            prop_assert_eq!(&e.action, event_type);
            prop_assert_eq!(e.time.timestamp() % 86400, i64::from(*secs));
            let want = if *token {
                PrincipalKind::OktaApiToken
            } else if matches!(*kind, "PublicClientApp" | "AppInstance") {
                PrincipalKind::OktaApp
            } else if *kind == "User" {
                PrincipalKind::OktaUser
            } else {
                PrincipalKind::Unknown
            };
            prop_assert_eq!(e.principal.kind, Some(want));
            if *token {
                prop_assert_eq!(e.principal.credential.clone(), Some(format!("00T{i}")));
            }
            let outcome = match *result {
                "DENY" => Outcome::Denied,
                "FAILURE" => Outcome::Error,
                _ => Outcome::Success,
            };
            prop_assert_eq!(e.outcome, outcome);
            prop_assert_eq!(
                e.subject.as_ref().and_then(|s| s.credential.clone()),
                target_app.then(|| format!("0oa{i}"))
            );
        }
    }
}
