//! A throwaway PostgreSQL server for tests, and a fresh database per test on it.
//!
//! `WARRANT_TEST_POSTGRES_URL` names a server to use (a URL whose user may create databases,
//! without a database name, e.g. `postgres://postgres@127.0.0.1:5432`). Without it, the first
//! test that asks starts a private cluster for this test process: Debian's `initdb` and
//! `postgres` (package `postgresql`, `scripts/test` installs it) on a free loopback port, with its
//! data in a temporary directory. A watchdog stops the server and deletes the directory once
//! this process has exited, so test processes running side by side never share or leak one.
//!
//! When PostgreSQL is not installed, tests skip their PostgreSQL half with a message, except
//! under CI (`CI` set), where that is a failure.
//!
//! Shared by the store's and the CLI's integration tests (`#[path]`), so it uses only `std`.
#![allow(dead_code, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running server: an admin URL without database name.
struct Server {
    admin_url: String,
}

fn bin(name: &str) -> PathBuf {
    Path::new(BIN).join(name)
}

/// Whether this process runs as root, which PostgreSQL refuses: its commands then run as the
/// `postgres` user.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the user owning the cluster.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Initialises a cluster in a new directory and starts it under a watchdog.
fn start_cluster() -> Result<Server, String> {
    if !bin("initdb").exists() {
        return Err(format!(
            "PostgreSQL 15 is not installed ({BIN}/initdb missing; apt-get install postgresql)"
        ));
    }
    let dir = std::env::temp_dir().join(format!(
        "warrant-test-pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if is_root() {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(&dir);
                c
            },
            "chown",
        )?;
    }
    let data = dir.join("data");
    let mut initdb = as_owner(&bin("initdb"));
    initdb
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "-D",
        ])
        .arg(&data);
    run(initdb, "initdb")?;

    let mut last_error = String::new();
    // A port found free may be taken before the server binds it: try a few.
    for _ in 0..5 {
        let port = free_port()?;
        // The watchdog (a shell as the cluster owner) runs the server, waits for this test
        // process to exit, then stops the server (fast shutdown) and deletes the cluster.
        let script = format!(
            "{postgres} -D {data} -k {dir} -h 127.0.0.1 -p {port} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
             >{dir}/log 2>&1 & server=$!; \
             while [ -d /proc/{parent} ] && kill -0 $server 2>/dev/null; do sleep 1; done; \
             kill -INT $server 2>/dev/null; wait $server; rm -rf {dir}",
            postgres = bin("postgres").display(),
            data = data.display(),
            dir = dir.display(),
            parent = std::process::id(),
        );
        let mut watchdog = as_owner(Path::new("/bin/sh"));
        watchdog
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        watchdog
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        for _ in 0..600 {
            let ready = Command::new(bin("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return Ok(Server {
                    admin_url: format!("postgres://postgres@127.0.0.1:{port}"),
                });
            }
            if !dir.join("data").exists() {
                break;
            }
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            // Only a taken port is worth another try: any other failure would fail again, and
            // a retry while this server still runs would meet its lock file.
            if log.contains("could not bind") {
                last_error = log;
                break;
            }
            // pg_isready's own probes make a starting server log "FATAL: the database system
            // is starting up"; that is progress, not failure (seen on a loaded machine).
            if log
                .lines()
                .any(|line| line.contains("FATAL") && !line.contains("starting up"))
            {
                return Err(format!("postgres did not start: {log}"));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    Err(format!("postgres did not start: {last_error}"))
}

fn server() -> Result<&'static Server, String> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("WARRANT_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Ok(Server {
                admin_url: url.trim_end_matches('/').to_string(),
            }),
            _ => start_cluster(),
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A new, empty database for one test, as a `postgres://` URL; `None` (after saying why) when
/// PostgreSQL is unavailable outside CI.
///
/// # Panics
/// Under CI when PostgreSQL is unavailable: a missing backend must fail, not skip.
pub fn fresh_database() -> Option<String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let server = match server() {
        Ok(server) => server,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("PostgreSQL is required under CI: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED the PostgreSQL half of this test: {e}");
            return None;
        }
    };
    let name = format!(
        "warrant_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut psql = Command::new(bin("psql"));
    psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(format!("{}/postgres", server.admin_url))
        .args(["-c", &format!("CREATE DATABASE {name}")]);
    if let Err(e) = run(psql, "create database") {
        panic!("{e}");
    }
    Some(format!("{}/{name}", server.admin_url))
}
