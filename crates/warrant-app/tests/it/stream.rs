//! Parity of the two ingest paths: the same events through `warrant ingest`'s file ingestion
//! and through a real NATS JetStream server (Debian's `nats-server -js` on a free loopback port)
//! and the stream consumer's processor leave equal store contents; redelivering the whole
//! stream changes nothing.
//!
//! The test skips, saying so, when `nats-server` is not installed (`WARRANT_NATS_SERVER` may name
//! the binary).

use std::time::Duration;

use warrant_activity::{Event, IngestOptions};
use warrant_app::{Cancel, NoProgress};
use warrant_core::FindingSource;
use warrant_store::{Store, TableCopy};
use warrant_stream::{ConsumerSettings, StreamSettings};

use crate::activity::{ROLE, write_logs};
use crate::common::{config, demo_store, now};

#[path = "../../../warrant-stream/tests/support/nats.rs"]
mod nats;
use nats::start_nats;

/// Every table's checksum except the bookkeeping each path keeps for itself: files read
/// (`ingested`, file ingestion) and the event ledger with its counts (the stream).
async fn contents(store: &Store) -> Vec<TableCopy> {
    let mut tables = store.content_summary().await.unwrap();
    tables.retain(|t| {
        !matches!(
            t.table,
            "ingested" | "activity_events_seen" | "activity_counts"
        )
    });
    tables
}

fn consumer(durable: &str, batch_size: usize) -> ConsumerSettings {
    ConsumerSettings {
        stream: "PARITY".into(),
        durable: durable.into(),
        batch_size,
        fetch_wait: Duration::from_millis(500),
        stop_when_drained: true,
        ..ConsumerSettings::default()
    }
}

#[tokio::test]
async fn the_stream_and_file_ingestion_leave_equal_stores() {
    let Some(nats) = start_nats() else { return };
    let dir = tempfile::tempdir().unwrap();
    let files = write_logs(dir.path());
    let config = config();

    // (a) File ingestion, as `warrant ingest` runs it: both files fit one batch (512 MiB).
    let by_file = demo_store().await;
    let ingested = warrant_app::ingest_paths(
        &by_file,
        None,
        &[dir.path().to_path_buf()],
        &config.activity,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(ingested.report.events, 8);

    // (b) The same events, parsed the same way and in the same (path) order, through JetStream.
    // `collect_files` lists in path order, as the file ingestion reads them.
    let (paths, _) = warrant_activity::ingest::collect_files(&files);
    let events: Vec<Event> =
        warrant_activity::ingest::ingest_each(&paths, &IngestOptions::default())
            .into_iter()
            .flat_map(|(_, events)| events)
            .collect();
    assert_eq!(events.len(), 8);
    let js = warrant_stream::connect(&nats.url).await.unwrap();
    let stream = StreamSettings {
        stream: "PARITY".into(),
        subject_prefix: "parity.activity".into(),
        ..StreamSettings::default()
    };
    warrant_stream::ensure_stream(&js, &stream).await.unwrap();
    let published = warrant_stream::publish_events(&js, &stream, &events)
        .await
        .unwrap();
    assert_eq!(published.published, 8);

    // Detection windows end at each identity's newest event *of the batch*, so the comparison
    // is exact only if the consumer's batch holds what the file ingestion's batch held: every
    // event. The batch size allows all of them, they are all in the stream before the consumer
    // starts, and the report must show one batch.
    let by_stream = demo_store().await;
    let outcome = warrant_app::stream::consume(
        &by_stream,
        &config.activity,
        &nats.url,
        &consumer("parity", 1_000),
        now,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.report.batches, 1, "{:?}", outcome.report);
    assert_eq!(outcome.report.applied, 8);
    assert_eq!(outcome.totals.attributed, ingested.attributed);
    assert_eq!(outcome.totals.shadow, ingested.shadow);
    assert_eq!(outcome.totals.alerts, ingested.alerts);

    // Equal stores, and not trivially: usage, baselines and alerts were written.
    let (file_tables, stream_tables) = (contents(&by_file).await, contents(&by_stream).await);
    assert_eq!(file_tables, stream_tables);
    for table in ["usage", "baselines", "findings"] {
        let rows = file_tables.iter().find(|t| t.table == table).unwrap().rows;
        assert!(rows > 0, "{table} is empty");
    }
    assert_eq!(
        by_file.usage_for(ROLE, None).await.unwrap(),
        by_stream.usage_for(ROLE, None).await.unwrap()
    );
    assert_eq!(
        by_file.baselines().await.unwrap(),
        by_stream.baselines().await.unwrap()
    );
    let open = by_file
        .open_findings(FindingSource::Activity)
        .await
        .unwrap();
    assert!(open.iter().any(|a| a.identity.starts_with("shadow:")));
    assert_eq!(
        open,
        by_stream
            .open_findings(FindingSource::Activity)
            .await
            .unwrap()
    );
    assert_eq!(
        by_file.identity(ROLE).await.unwrap(),
        by_stream.identity(ROLE).await.unwrap()
    );

    // Redelivery: a second durable consumer receives the whole stream again, in small batches;
    // the ledger recognises every event and the store does not change.
    let again = warrant_app::stream::consume(
        &by_stream,
        &config.activity,
        &nats.url,
        &consumer("again", 3),
        now,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!((again.report.applied, again.report.duplicates), (0, 8));
    assert!(again.totals.alerts.is_empty());
    assert_eq!(contents(&by_stream).await, stream_tables);
    assert_eq!(
        by_stream
            .activity_seen_ids("cloud_trail")
            .await
            .unwrap()
            .len(),
        8
    );
}
