//! `warrant consume` end to end: events published to a real NATS JetStream server (Debian's
//! `nats-server -js` on a free loopback port) and consumed by the binary leave the same alerts
//! as `warrant ingest` of the files they came from; a second run finds nothing left.
//!
//! Skips, saying so, when `nats-server` is not installed (`WARRANT_NATS_SERVER` may name it).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use warrant_activity::{Event, IngestOptions};
use warrant_stream::StreamSettings;

use crate::activity::{ROLE, ok, write_logs};
use crate::common::{demo_org, warrant};

#[path = "../../../warrant-stream/tests/support/nats.rs"]
mod nats;
use nats::start_nats;

/// Publishes the events of the logs under `logs`, in path order, to the default stream.
fn publish(url: &str, logs: &Path) -> usize {
    let (paths, _) = warrant_activity::ingest::collect_files(&[logs.to_path_buf()]);
    let events: Vec<Event> =
        warrant_activity::ingest::ingest_each(&paths, &IngestOptions::default())
            .into_iter()
            .flat_map(|(_, events)| events)
            .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let js = warrant_stream::connect(url).await.unwrap();
        let settings = StreamSettings::default();
        warrant_stream::ensure_stream(&js, &settings).await.unwrap();
        let report = warrant_stream::publish_events(&js, &settings, &events)
            .await
            .unwrap();
        assert!(report.rejected.is_empty(), "{report:?}");
    });
    events.len()
}

fn alerts(store: &Path) -> Value {
    serde_json::from_str(&ok(&warrant(
        store,
        &["--as-of", "2026-10-08", "--format", "json", "alerts"],
    )))
    .unwrap()
}

#[test]
fn consume_records_what_ingest_records_and_stops_when_drained() {
    let Some(nats) = start_nats() else { return };
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    write_logs(&logs);
    let by_file = dir.path().join("file.db");
    let by_stream = dir.path().join("stream.db");
    for store in [&by_file, &by_stream] {
        ok(&warrant(store, &["import", demo_org().to_str().unwrap()]));
    }
    // Exit 2: the logs hold one planted bad record (everything else is ingested).
    let out = warrant(
        &by_file,
        &["--as-of", "2026-10-08", "ingest", logs.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let events = publish(&nats.url, &logs);
    assert_eq!(events, 77);
    // One batch holds every event, as the file ingestion's one batch did (detection windows
    // follow batches).
    let consume = |store: &Path| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_warrant"))
            .arg("--store")
            .arg(store)
            .args(["--as-of", "2026-10-08", "--format", "json", "consume"])
            .args(["--batch", "1000", "--drain"])
            .env("WARRANT_NATS_URL", &nats.url)
            .env_remove("WARRANT_CONFIG")
            .env_remove("WARRANT_FINGERPRINT_KEY")
            .current_dir(dir.path())
            .output()
            .unwrap();
        serde_json::from_str(&ok(&out)).unwrap()
    };
    let first = consume(&by_stream);
    assert_eq!(first["applied"], 77, "{first:#}");
    assert_eq!(first["batches"], 1, "{first:#}");
    assert_eq!(first["duplicates"], 0);
    let raised: Vec<&str> = first["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["identity"] == ROLE)
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert!(raised.contains(&"activity-defense-evasion"), "{raised:?}");

    let (from_file, from_stream) = (alerts(&by_file), alerts(&by_stream));
    assert!(!from_file.as_array().unwrap().is_empty());
    assert_eq!(from_file, from_stream);

    // The durable consumer acknowledged everything: a second run has nothing to do.
    let second = consume(&by_stream);
    assert_eq!(second["received"], 0, "{second:#}");
    assert_eq!(second["applied"], 0);
    assert_eq!(alerts(&by_stream), from_stream);
}
