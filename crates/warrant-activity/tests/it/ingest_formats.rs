#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Each log format from realistic fixtures, bad records with their place, gzip and truncation.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use warrant_activity::ingest::{IngestOptions, ingest_each, ingest_paths, ingest_reader};
use warrant_activity::{Actor, Event, FileReport, LogKind, Outcome, PrincipalKind};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ingest")
        .join(name)
}

fn ingest_bytes(name: &str, bytes: &[u8]) -> (FileReport, Vec<Event>) {
    let mut events = Vec::new();
    let report = ingest_reader(name, bytes, &IngestOptions::default(), &mut |e| {
        events.push(e)
    });
    (report, events)
}

fn ingest_fixture(name: &str) -> (FileReport, Vec<Event>) {
    let bytes = std::fs::read(data(name)).unwrap();
    ingest_bytes(name, &bytes)
}

#[test]
fn kubernetes_audit() {
    let (report, events) = ingest_fixture("k8s-audit.jsonl");
    assert_eq!(report.format, Some(LogKind::KubernetesAudit));
    assert_eq!(report.bad_count, 0, "{:?}", report.bad);
    assert_eq!(
        report.skipped, 1,
        "the RequestReceived stage is not a second event"
    );
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "get:secrets",
            "create:pods/exec",
            "list:secrets",
            "list:nodes",
            "list:deployments",
            "get:/healthz"
        ]
    );
    let get = &events[0];
    assert_eq!(
        get.principal.name.as_deref(),
        Some("system:serviceaccount:payments:billing-worker")
    );
    assert_eq!(
        get.principal.kind,
        Some(PrincipalKind::KubernetesServiceAccount)
    );
    assert_eq!(
        get.principal.credential.as_deref(),
        Some("JTI=7c9e6679-7425-40de-944b-e07fc1f90ae7")
    );
    assert_eq!(
        get.principal.session.as_deref(),
        Some("billing-worker-7d9f8c6b5-x2k4q")
    );
    assert_eq!(get.resources, ["payments/secrets/stripe-api"]);
    assert_eq!(get.actor, Actor::Application);
    assert_eq!(get.read_only, Some(true));
    assert_eq!(
        events[1].actor,
        Actor::Automation,
        "SA token used from kubectl"
    );
    assert_eq!(events[2].outcome, Outcome::Denied);
    assert_eq!(events[3].actor, Actor::Human);
    assert_eq!(events[4].outcome, Outcome::AuthFailed);
    assert_eq!(events[0].id, "6f1c2b3a-0001-4a7e-9a51-1b2c3d4e5f60");
}

#[test]
fn github_audit_array_and_lines() {
    let (report, events) = ingest_fixture("github-audit.json");
    assert_eq!(report.format, Some(LogKind::GitHubAudit));
    assert_eq!(report.bad_count, 0, "{:?}", report.bad);
    assert_eq!(events.len(), 4);
    let app = &events[0];
    assert_eq!(app.principal.kind, Some(PrincipalKind::GitHubApp));
    assert_eq!(app.principal.name.as_deref(), Some("deploy-bot"));
    assert_eq!(app.actor, Actor::Application);
    assert_eq!(app.action, "git.clone");
    assert_eq!(app.resources, ["acme/payments-api"]);
    assert_eq!(app.time.timestamp_millis(), 1_759_653_000_123);
    assert_eq!(app.id, "Xq3v9Zk2bLr8TnWmP0aYcQ");
    let token = &events[1];
    assert_eq!(token.principal.kind, Some(PrincipalKind::GitHubToken));
    assert_eq!(token.principal.credential.as_deref(), Some("8842115"));
    assert_eq!(token.actor, Actor::Automation);
    assert_eq!(token.source_ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(events[2].actor, Actor::Human);
    assert_eq!(events[2].principal.kind, Some(PrincipalKind::GitHubUser));
    assert_eq!(events[3].actor, Actor::Automation);

    let (report, events) = ingest_fixture("github-audit.jsonl");
    assert_eq!(events.len(), 2);
    assert_eq!(report.bad_count, 1);
    let bad = &report.bad[0];
    assert_eq!((bad.line, bad.record), (2, 1));
    assert!(bad.reason.contains("timestamp"), "{}", bad.reason);
}

#[test]
fn otel_genai_tool_calls() {
    let (report, events) = ingest_fixture("otel-genai.json");
    assert_eq!(report.format, Some(LogKind::OtelGenAi));
    assert_eq!(report.skipped, 1, "invoke_agent is not a tool call");
    assert_eq!(events.len(), 2);
    assert_eq!(report.bad_count, 1, "{:?}", report.bad);
    assert!(
        report.bad[0].reason.contains("spans[3]"),
        "{:?}",
        report.bad
    );
    let search = &events[0];
    assert_eq!(search.action, "tool:search_tickets");
    assert_eq!(search.actor, Actor::Agent);
    assert_eq!(search.principal.name.as_deref(), Some("support-triage"));
    assert_eq!(search.principal.session.as_deref(), Some("conv_7f3a"));
    assert_eq!(
        search.principal.credential.as_deref(),
        Some("asst_triage_01")
    );
    assert_eq!(
        search.id,
        "5b8efff798038103d269b633813fc60c/eee19b7ec3c1b175"
    );
    assert_eq!(search.time.timestamp(), 1_759_660_001);
    assert_eq!(events[1].outcome, Outcome::Denied);
    assert_eq!(events[1].error_code.as_deref(), Some("PermissionDenied"));
}

#[test]
fn cloudtrail_lines_keep_good_records_around_bad_ones() {
    let (report, events) = ingest_fixture("cloudtrail-lake.jsonl");
    assert_eq!(report.format, Some(LogKind::CloudTrail));
    assert_eq!(events.len(), 3);
    assert_eq!(report.bad_count, 2);
    assert_eq!(report.bad[0].line, 2);
    assert_eq!(report.bad[1].line, 4);
    assert!(
        report.bad[1].reason.contains("eventTime"),
        "{}",
        report.bad[1].reason
    );
    assert!(
        report.bad[0]
            .to_string()
            .starts_with("cloudtrail-lake.jsonl:2: record 1")
    );

    let put = &events[0];
    assert_eq!(put.action, "s3:PutObject");
    assert_eq!(put.principal.kind, Some(PrincipalKind::AwsAssumedRole));
    assert_eq!(
        put.principal.arn.as_deref(),
        Some("arn:aws:iam::111122223333:role/ci/gha-deploy")
    );
    assert_eq!(put.principal.name.as_deref(), Some("gha-deploy"));
    assert_eq!(
        put.principal.session.as_deref(),
        Some("GitHubActions-deploy-1412")
    );
    assert_eq!(
        put.principal.credential.as_deref(),
        Some("ASIAEXAMPLESESSION01")
    );
    assert_eq!(put.actor, Actor::Automation);
    assert_eq!(
        put.resources,
        [
            "arn:aws:s3:::acme-artifacts/releases/v1.4.2/app.tar.gz",
            "arn:aws:s3:::acme-artifacts"
        ]
    );
    let denied = &events[1];
    assert_eq!(denied.outcome, Outcome::Denied);
    assert_eq!(denied.error_code.as_deref(), Some("AccessDenied"));
    let login = &events[2];
    assert_eq!(login.action, "signin:ConsoleLogin");
    assert_eq!(login.outcome, Outcome::AuthFailed);
    assert!(login.console);
    assert_eq!(login.actor, Actor::Human);
}

fn delivery(n: usize) -> Vec<u8> {
    let records: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/etl","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE000000001","userName":"etl"}},"eventTime":"2026-10-05T10:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.{}","userAgent":"Boto3/1.34.69","requestParameters":{{"bucketName":"b","key":"k/{i}"}},"eventID":"id-{i:06}","readOnly":true}}"#,
                (i / 60) % 60,
                i % 60,
                i % 256
            )
        })
        .collect();
    format!("{{\"Records\":[{}]}}", records.join(",")).into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_delivery_file() {
    let plain = delivery(500);
    let (report, events) = ingest_bytes("x.json.gz", &gzip(&plain));
    assert!(report.gzip);
    assert_eq!(report.format, Some(LogKind::CloudTrail));
    assert_eq!(report.bad_count, 0, "{:?}", report.bad);
    assert_eq!(events.len(), 500);
    assert_eq!(report.bytes, plain.len() as u64);
    assert_eq!(events[499].resources, ["arn:aws:s3:::b/k/499"]);
}

#[test]
fn truncated_gzip_keeps_the_events_before_the_cut() {
    let compressed = gzip(&delivery(5000));
    let cut = &compressed[..compressed.len() / 2];
    let (report, events) = ingest_bytes("cut.json.gz", cut);
    assert!(
        events.len() > 1000 && events.len() < 5000,
        "{}",
        events.len()
    );
    assert_eq!(report.bad_count, 1, "{:?}", report.bad);
    let bad = &report.bad[0];
    assert_eq!(bad.record, events.len() as u64);
    assert!(bad.offset > 0);
    assert!(
        bad.reason.contains("truncated") || bad.reason.contains("read error"),
        "{}",
        bad.reason
    );
    // Ids are consecutive: nothing before the cut was lost.
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, format!("id-{i:06}"));
    }
}

#[test]
fn truncated_plain_json_and_broken_record_mid_file() {
    let mut bytes = delivery(10);
    // Break the fourth record's eventTime value type: the record is bad, the others stand.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let text = text.replacen(
        "\"eventTime\":\"2026-10-05T10:00:03Z\"",
        "\"eventTime\":3",
        1,
    );
    bytes = text.into_bytes();
    bytes.truncate(bytes.len() - 40);
    let (report, events) = ingest_bytes("t.json", &bytes);
    assert_eq!(events.len(), 8);
    assert_eq!(report.bad_count, 2, "{:?}", report.bad);
    assert_eq!(report.bad[0].record, 3);
    assert!(report.bad[1].reason.contains("truncated"));
}

#[test]
fn sniffing_ignores_extensions_and_skips_other_json() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir
        .path()
        .join("AWSLogs/123456789012/CloudTrail/us-east-1/2026/10/05");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.json.gz"), gzip(&delivery(100))).unwrap();
    std::fs::write(root.join("b.log"), delivery(50)).unwrap();
    std::fs::copy(data("k8s-audit.jsonl"), dir.path().join("audit.txt")).unwrap();
    std::fs::write(
        dir.path().join("policy.json"),
        br#"{"Version":"2012-10-17","Statement":[]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.md"), b"# not json").unwrap();
    let digest = dir.path().join("AWSLogs/123456789012/CloudTrail-Digest");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(
        digest.join("d.json.gz"),
        gzip(b"{\"digestStartTime\":\"x\"}"),
    )
    .unwrap();

    let events = Mutex::new(Vec::new());
    let report = ingest_paths(
        &[dir.path().to_path_buf()],
        &IngestOptions::default(),
        &|e| events.lock().unwrap().push(e),
    );
    assert_eq!(report.events, 156);
    assert_eq!(events.lock().unwrap().len(), 156);
    assert_eq!(report.bad_count, 0, "{:?}", report.bad);
    assert_eq!(report.files.len(), 5, "digest directory skipped");
    let ingested: Vec<_> = report.ingested_files().map(|f| f.format).collect();
    assert_eq!(ingested.len(), 3);
    let skipped: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.not_ingested.is_some())
        .collect();
    assert_eq!(skipped.len(), 2);
    // Files are reported in name order whatever order threads finished in.
    let names: Vec<_> = report.files.iter().map(|f| f.file.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn forced_format_and_missing_path() {
    let options = IngestOptions {
        format: Some(LogKind::GitHubAudit),
        ..IngestOptions::default()
    };
    let mut n = 0;
    let report = ingest_reader(
        "x",
        &br#"{"action":"repo.create","@timestamp":1}"#[..],
        &options,
        &mut |_| n += 1,
    );
    assert_eq!((n, report.bad_count), (1, 0));
    let report = ingest_paths(
        &[PathBuf::from("/nonexistent/activity")],
        &IngestOptions::default(),
        &|_| {},
    );
    assert!(
        report.files[0]
            .not_ingested
            .as_deref()
            .unwrap()
            .contains("cannot read")
    );
}

/// CloudTrail records are parsed straight from the read buffer as text validated once per
/// buffer; records around invalid UTF-8 fall back to the byte parser. Whatever the buffer size
/// (records crossing refills), the same events come out and bad records keep their line.
#[test]
fn pretty_array_with_invalid_utf8_and_a_bad_record_at_every_buffer_size() {
    let record = |i: usize, extra: &[u8], time: &str| -> Vec<u8> {
        let mut r = format!(
            "  {{\n    \"eventTime\": \"{time}\",\n    \"eventSource\": \"s3.amazonaws.com\",\n    \"eventName\": \"GetObject\",\n    \"eventID\": \"id-{i}\",\n    \"userAgent\": \"Boto3/1.34 é\",\n    \"errorMessage\": \""
        )
        .into_bytes();
        r.extend_from_slice(extra);
        r.extend_from_slice(b"\"\n  }");
        r
    };
    let mut bytes = b"[\n".to_vec();
    for i in 0..40 {
        if i > 0 {
            bytes.extend_from_slice(b",\n");
        }
        // Record 7 carries invalid UTF-8 in a field the parser skips; record 23 has a bad time.
        let extra: &[u8] = if i == 7 { b"bad \xff\xfe byte" } else { b"ok" };
        let time = if i == 23 {
            "noon"
        } else {
            "2026-10-05T10:00:00Z"
        };
        bytes.extend_from_slice(&record(i, extra, time));
    }
    bytes.extend_from_slice(b"\n]\n");
    let lines_per_record = 8;
    for buffer in [64, 100, 257, 1000, 1 << 20] {
        let options = IngestOptions {
            buffer_bytes: buffer,
            ..IngestOptions::default()
        };
        let mut events = Vec::new();
        let report = ingest_reader("p.json", &bytes[..], &options, &mut |e| events.push(e));
        assert_eq!(report.format, Some(LogKind::CloudTrail), "buffer {buffer}");
        assert_eq!(report.bad_count, 1, "buffer {buffer}: {:?}", report.bad);
        let bad = &report.bad[0];
        assert_eq!(bad.record, 23, "buffer {buffer}");
        assert_eq!(bad.line, 2 + 23 * lines_per_record, "buffer {buffer}");
        let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        let expected: Vec<String> = (0..40)
            .filter(|&i| i != 23)
            .map(|i| format!("id-{i}"))
            .collect();
        assert_eq!(ids, expected, "buffer {buffer}");
        assert_eq!(events[7].user_agent.as_deref(), Some("Boto3/1.34 é"));
        assert_eq!(report.records, 40, "buffer {buffer}");
    }
}

/// With `digest`, each log's report carries the SHA-256 of the file's bytes as stored, however
/// parsing ended (gzip, a record over the size limit that stops the file); files that are not
/// activity logs and runs without `digest` carry none. `ingest_each` keeps the order given.
#[test]
fn digest_is_the_hash_of_the_whole_file_and_ingest_each_keeps_files_apart() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("b-lake.jsonl");
    std::fs::copy(data("cloudtrail-lake.jsonl"), &plain).unwrap();
    let gz = dir.path().join("a-k8s.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&std::fs::read(data("k8s-audit.jsonl")).unwrap())
        .unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let notes = dir.path().join("c-notes.txt");
    std::fs::write(&notes, "not a log\n").unwrap();
    let oversized = dir.path().join("d-big.jsonl");
    let mut big = std::fs::read(data("cloudtrail-lake.jsonl")).unwrap();
    big.extend_from_slice(format!("{{\"pad\": \"{}\"}}\n", "x".repeat(4096)).as_bytes());
    big.extend_from_slice(&std::fs::read(data("cloudtrail-lake.jsonl")).unwrap());
    std::fs::write(&oversized, &big).unwrap();
    let files = vec![plain.clone(), gz.clone(), notes.clone(), oversized.clone()];
    let sha = |p: &Path| hex::encode(Sha256::digest(std::fs::read(p).unwrap()));

    let options = IngestOptions {
        digest: true,
        max_record_bytes: 2048,
        ..IngestOptions::default()
    };
    let read = ingest_each(&files, &options);
    let names: Vec<&str> = read.iter().map(|(r, _)| r.file.as_str()).collect();
    let expected: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(names, expected);
    for (report, events) in &read {
        assert_eq!(report.events, events.len() as u64, "{}", report.file);
    }
    assert_eq!(read[0].0.sha256.as_deref(), Some(sha(&plain).as_str()));
    assert!(read[0].0.events > 0);
    assert_eq!(read[1].0.format, Some(LogKind::KubernetesAudit));
    assert!(read[1].0.gzip);
    assert_eq!(read[1].0.sha256.as_deref(), Some(sha(&gz).as_str()));
    assert_eq!(read[2].0.format, None);
    assert_eq!(read[2].0.sha256, None);
    // The fixture's own bad records, then the oversized one that stops the file.
    assert_eq!(read[3].0.bad_count, read[0].0.bad_count + 1);
    let last = read[3].0.bad.last().unwrap();
    assert!(last.reason.contains("larger than 2048"), "{last:?}");
    assert_eq!(read[3].0.events, read[0].0.events);
    assert_eq!(read[3].0.sha256.as_deref(), Some(sha(&oversized).as_str()));

    let without = ingest_each(&files, &IngestOptions::default());
    assert!(without.iter().all(|(r, _)| r.sha256.is_none()));
    assert_eq!(without[0].1.len(), read[0].1.len());
}

/// Defect: ingest walked `self -> .` and `sub/up -> ..` forever with memory growing; now the
/// links are passed over (reported, not followed) and every log is read once.
#[test]
fn ingest_ends_on_symlink_loops() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/b.log"), delivery(7)).unwrap();
    std::fs::write(root.join("a.log"), delivery(5)).unwrap();
    std::os::unix::fs::symlink(".", root.join("self")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
    let report = ingest_paths(&[root.to_path_buf()], &IngestOptions::default(), &|_| {});
    assert_eq!(report.events, 12);
    let passed_over: Vec<_> = report
        .files
        .iter()
        .filter_map(|f| f.not_ingested.as_deref())
        .collect();
    assert_eq!(
        passed_over,
        ["symbolic link not followed", "symbolic link not followed"],
        "{:?}",
        report.files
    );
}
