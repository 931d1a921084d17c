#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The ingester never panics on arbitrary input, and generated records round-trip.

use proptest::prelude::*;
use warrant_activity::ingest::{IngestOptions, ingest_reader};
use warrant_activity::{LogKind, Outcome};

fn run(bytes: &[u8]) -> (u64, u64) {
    let options = IngestOptions {
        buffer_bytes: 64,
        max_record_bytes: 4096,
        ..IngestOptions::default()
    };
    let mut n = 0u64;
    let report = ingest_reader("fuzz", bytes, &options, &mut |_| n += 1);
    assert_eq!(report.events, n);
    (n, report.bad_count)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run(&bytes);
    }

    #[test]
    fn json_like_bytes_never_panic(text in r#"[\[\]{}",:\\ \nabc0-9]{0,400}"#) {
        run(text.as_bytes());
        let wrapped = format!("{{\"Records\":[{text}");
        run(wrapped.as_bytes());
    }

    #[test]
    fn generated_records_round_trip(
        records in proptest::collection::vec(
            ("[a-zA-Z0-9_\"\\\\/ é]{1,20}", "[A-Z][a-zA-Z]{2,20}", 0u32..86400, any::<bool>(), any::<bool>()),
            1..40,
        ),
        jsonl in any::<bool>(),
        gz in any::<bool>(),
    ) {
        let mut lines = Vec::new();
        for (i, (user, name, secs, denied, ro)) in records.iter().enumerate() {
            let mut record = serde_json::json!({
                "eventID": format!("e{i}"),
                "eventTime": format!("2026-01-01T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60),
                "eventSource": "ec2.amazonaws.com",
                "eventName": name,
                "readOnly": ro,
                "userIdentity": {"type": "IAMUser", "userName": user, "arn": format!("arn:aws:iam::1:user/{user}")},
            });
            if *denied {
                record["errorCode"] = "AccessDenied".into();
            }
            lines.push(serde_json::to_string(&record).unwrap());
        }
        let body = if jsonl {
            lines.join("\n")
        } else {
            format!("{{\"Records\":[{}]}}", lines.join(","))
        };
        let bytes = if gz {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(body.as_bytes()).unwrap();
            enc.finish().unwrap()
        } else {
            body.into_bytes()
        };
        let mut events = Vec::new();
        let options = IngestOptions { buffer_bytes: 128, ..IngestOptions::default() };
        let report = ingest_reader("gen", &bytes[..], &options, &mut |e| events.push(e));
        prop_assert_eq!(report.bad_count, 0, "{:?}", report.bad);
        prop_assert_eq!(report.format, Some(LogKind::CloudTrail));
        prop_assert_eq!(events.len(), records.len());
        for (i, (e, (user, name, secs, denied, ro))) in events.iter().zip(&records).enumerate() {
            prop_assert_eq!(&e.id, &format!("e{i}"));
            prop_assert_eq!(e.principal.name.as_deref(), Some(user.as_str()));
            prop_assert_eq!(&e.action, &format!("ec2:{name}"));
            prop_assert_eq!(e.time.timestamp() % 86400, i64::from(*secs));
            prop_assert_eq!(e.outcome == Outcome::Denied, *denied);
            prop_assert_eq!(e.read_only, Some(*ro));
        }
    }
}
