//! Activity ingestion: files in batches, re-runs, parsed events, cancellation.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use warrant_activity::{Event, IngestOptions};
use warrant_app::{AppError, Cancel, NoProgress};
use warrant_core::FindingSource;

use crate::common::{config, demo_store, now};

pub const ROLE: &str = "arn:aws:iam::111111111111:role/config-loader";

fn record(n: usize, time: &str, role: &str, name: &str) -> Value {
    let session = role
        .replace(":iam::", ":sts::")
        .replace(":role/", ":assumed-role/")
        + "/worker";
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:worker",
            "arn": session,
            "accountId": "111111111111",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEID", "arn": role,
                                  "accountId": "111111111111", "userName": role.rsplit('/').next().unwrap()}
            }
        },
        "eventTime": time,
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.20.1.15",
        "userAgent": "aws-sdk-go-v2/1.30.0",
        "requestParameters": {"bucketName": "acme-config"},
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "eventType": "AwsApiCall",
        "recipientAccountId": "111111111111"
    })
}

/// Two days of CloudTrail: the demo's config-loader role, and a role the inventory lacks.
pub fn write_logs(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (day, names) in [
        ("30", ["GetObject", "ListBucket"]),
        ("31", ["GetObject", "PutObject"]),
    ] {
        let records: Vec<Value> = names
            .iter()
            .enumerate()
            .flat_map(|(i, name)| {
                let time = format!("2026-10-{day}T10:0{i}:00Z");
                [
                    record(100 * usize::from(day == "31") + i, &time, ROLE, name),
                    record(
                        5000 + 100 * usize::from(day == "31") + i,
                        &time,
                        "arn:aws:iam::111111111111:role/not-in-the-inventory",
                        name,
                    ),
                ]
            })
            .collect();
        let path = dir.join(format!("2026-10-{day}.json"));
        std::fs::write(&path, json!({ "Records": records }).to_string()).unwrap();
        files.push(path);
    }
    files
}

#[tokio::test]
async fn ingest_attributes_records_and_skips_what_it_read_before() {
    let store = demo_store().await;
    let dir = tempfile::tempdir().unwrap();
    write_logs(dir.path());
    let mut config = config();
    // One file per batch: the batching path runs twice.
    config.activity.batch_mib = 0;
    let paths = [dir.path().to_path_buf()];
    let first = warrant_app::ingest_paths(
        &store,
        None,
        &paths,
        &config.activity,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(first.files_ingested(), 2);
    assert_eq!(first.report.events, 8);
    assert_eq!(first.attributed, 4);
    assert_eq!(first.shadow, 4);
    assert_eq!(first.identities, 1);
    assert!(first.usage_rows > 0);
    assert!(
        first
            .alerts
            .iter()
            .any(|a| a.identity.starts_with("shadow:")),
        "{:#?}",
        first.alerts
    );
    let usage = store.usage_for(ROLE, None).await.unwrap();
    assert!(!usage.is_empty());
    let stored = store.open_findings(FindingSource::Activity).await.unwrap();
    assert_eq!(stored.len(), first.alerts.len());

    let again = warrant_app::ingest_paths(
        &store,
        None,
        &paths,
        &config.activity,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(again.report.events, 0);
    assert_eq!(again.already_ingested.len(), 2);
    assert_eq!(store.usage_for(ROLE, None).await.unwrap(), usage);
}

#[tokio::test]
async fn parsed_events_give_what_the_files_give() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_logs(dir.path());
    let config = config();

    let from_files = demo_store().await;
    let outcome = warrant_app::ingest_paths(
        &from_files,
        None,
        &files,
        &config.activity,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();

    // As a stream consumer would: events already parsed, one batch.
    let from_events = demo_store().await;
    let mut events: Vec<Event> = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        warrant_activity::ingest::ingest_reader(
            &file.display().to_string(),
            bytes.as_slice(),
            &IngestOptions::default(),
            &mut |e| events.push(e),
        );
    }
    let inventory = from_events.load_inventory().await.unwrap();
    let batch =
        warrant_app::process_events(&from_events, &inventory, &config.activity, now(), events)
            .await
            .unwrap();
    assert_eq!(batch.attributed, outcome.attributed);
    assert_eq!(batch.shadow, outcome.shadow);
    assert_eq!(batch.alerts.len(), outcome.alerts.len());
    for store in [&from_files, &from_events] {
        assert!(!store.usage_for(ROLE, None).await.unwrap().is_empty());
    }
    assert_eq!(
        from_files.usage_for(ROLE, None).await.unwrap(),
        from_events.usage_for(ROLE, None).await.unwrap()
    );
    assert_eq!(
        from_files.baselines().await.unwrap(),
        from_events.baselines().await.unwrap()
    );
}

#[tokio::test]
async fn a_cancelled_ingest_stops_before_reading() {
    let store = demo_store().await;
    let dir = tempfile::tempdir().unwrap();
    write_logs(dir.path());
    let cancel = Cancel::new();
    cancel.cancel();
    let result = warrant_app::ingest_paths(
        &store,
        None,
        &[dir.path().to_path_buf()],
        &config().activity,
        now(),
        &NoProgress,
        &cancel,
    )
    .await;
    assert!(matches!(result, Err(AppError::Cancelled)), "{result:?}");
    assert!(store.usage_for(ROLE, None).await.unwrap().is_empty());
}

/// Stream consumers run the batch step inside `Send` futures (a `warrant_stream::Processor`).
#[test]
fn the_batch_step_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    // The store's pool uses timers (acquire timeouts).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(crate::common::store());
    let inventory = warrant_core::Inventory::default();
    let config = config();
    let future = warrant_app::process_events(
        &store,
        &inventory,
        &config.activity,
        now(),
        Vec::<Event>::new(),
    );
    assert_send(&future);
    let outcome = runtime.block_on(future).unwrap();
    assert_eq!(outcome.attributed, 0);
}

/// A person attaching AdministratorAccess to the demo's config-loader role: the alert lands on
/// the role (issue 14), while the role gets no usage or last use from a call it did not make.
#[tokio::test]
async fn a_change_made_to_an_identity_by_a_person_is_its_alert_not_its_usage() {
    let store = demo_store().await;
    let inventory = store.load_inventory().await.unwrap();
    let record = json!({"Records": [{
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLESSO:dana@acme.example",
            "arn": "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/dana@acme.example",
            "accountId": "111111111111",
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_Admin_0123456789abcdef",
                "arn": "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"}}
        },
        "eventTime": "2026-10-31T16:20:11Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "AttachRolePolicy",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        "requestParameters": {"roleName": "config-loader", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        "responseElements": null,
        "eventID": "00000000-0000-4000-8000-00000000c0de",
        "eventType": "AwsApiCall",
        "recipientAccountId": "111111111111"
    }]})
    .to_string();
    let mut events: Vec<Event> = Vec::new();
    warrant_activity::ingest::ingest_reader(
        "change.json",
        record.as_bytes(),
        &IngestOptions::default(),
        &mut |e| events.push(e),
    );
    let batch = warrant_app::process_events(&store, &inventory, &config().activity, now(), events)
        .await
        .unwrap();
    let on_role: Vec<_> = batch.alerts.iter().filter(|a| a.identity == ROLE).collect();
    assert!(
        on_role
            .iter()
            .any(|a| a.rule.as_str() == "activity-privilege-change"
                && a.severity == warrant_core::Severity::Critical),
        "{:?}",
        batch.alerts
    );
    assert!(!batch.identities.contains(ROLE));
    assert!(store.usage_for(ROLE, None).await.unwrap().is_empty());
}

/// A person binding cluster-admin to a service account: the alert lands on the service
/// account, which did not act itself, so it gets no usage, no last use and no "unknown
/// identity acting" alert.
#[tokio::test]
async fn a_change_made_to_a_service_account_by_a_person_alerts_on_it_without_counting_as_its_use() {
    let store = demo_store().await;
    let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"5b0e7c1d-4a2f-4e55-9d61-0c8e2f7a9b13","stage":"ResponseComplete","verb":"create","user":{"username":"jordan.reyes@corp.example","groups":["system:authenticated"]},"sourceIPs":["192.0.2.44"],"userAgent":"kubectl/v1.30.2 (linux/amd64) kubernetes/9f3c1a2","objectRef":{"resource":"clusterrolebindings","name":"metrics-agent-admin","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"metrics-agent-admin"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"metrics-agent","namespace":"monitoring"}]},"requestReceivedTimestamp":"2026-10-31T14:02:12.482913Z","stageTimestamp":"2026-10-31T14:02:12.512913Z"}"#;
    let mut events: Vec<Event> = Vec::new();
    warrant_activity::ingest::ingest_reader(
        "audit.jsonl",
        line.as_bytes(),
        &IngestOptions::default(),
        &mut |e| events.push(e),
    );
    assert_eq!(events.len(), 1);
    let inventory = store.load_inventory().await.unwrap();
    let config = config();
    let batch = warrant_app::process_events(&store, &inventory, &config.activity, now(), events)
        .await
        .unwrap();
    let sa = "shadow:system:serviceaccount:monitoring:metrics-agent";
    // The caller is a person: outside the machine identities, not a shadow one.
    assert_eq!((batch.shadow, batch.outside), (0, 1));
    let rules: Vec<String> = batch
        .alerts
        .iter()
        .filter(|a| a.identity == sa)
        .map(|a| a.rule.to_string())
        .collect();
    assert_eq!(rules, ["activity-privilege-change"], "{:#?}", batch.alerts);
    assert_eq!(batch.usage_rows, 0);
}
