//! `warrant consume` end to end: events published to a real NATS JetStream server (Debian's
//! `nats-server -js` on a free loopback port) and consumed by the binary leave the same alerts
//! as `warrant ingest` of the files they came from; a second run finds nothing left.
//!
//! Skips, saying so, when `nats-server` is not installed (`WARRANT_NATS_SERVER` may name it).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use warrant_activity::{Event, IngestOptions};
use warrant_stream::StreamSettings;

use crate::activity::{ROLE, ok, write_logs};
use crate::common::{demo_org, warrant};

struct NatsServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nats_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WARRANT_NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    // Debian installs it in /usr/sbin, which is not on every user's PATH.
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join("nats-server"))
        .find(|p| p.is_file())
}

/// Starts `nats-server -js` on a free loopback port; a port taken by someone else between
/// picking and binding makes our server exit, and we try another.
fn start_nats() -> Option<NatsServer> {
    let Some(binary) = nats_binary() else {
        eprintln!("SKIPPED: nats-server not found (install Debian's `nats-server` package)");
        return None;
    };
    for _attempt in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if server.child.try_wait().unwrap().is_some() {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                std::thread::sleep(Duration::from_millis(100));
                if server.child.try_wait().unwrap().is_none() {
                    return Some(server);
                }
                break;
            }
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("nats-server could not start on a free port in 5 attempts");
}

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
    ok(&warrant(
        &by_file,
        &["--as-of", "2026-10-08", "ingest", logs.to_str().unwrap()],
    ));

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
