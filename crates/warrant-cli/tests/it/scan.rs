#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! `warrant scan` end to end: a git repository whose history once held a key of the demo
//! organisation, staged changes, standard input, SARIF, baselines, and the link from a leaked
//! key to the identity it unlocks.

use crate::common::{copy_dir, demo_org};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const KEY_ID: &str = "AKIAZP6WDFRWPBJ3NNUJ"; // svc-dev-seeder's key in the demo organisation
const USER: &str = "arn:aws:iam::222222222222:user/svc-dev-seeder";
// Fabricated, with a valid GitHub checksum.
const GITHUB_TOKEN: &str = "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";

fn warrant_in(dir: &Path, store: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("WARRANT_CONFIG")
        .env_remove("WARRANT_FINGERPRINT_KEY")
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the warrant binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn text(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=Dana Ng",
            "-c",
            "user.email=dana@acme-analytics.example",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_DATE", "2026-03-02T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-03-02T10:00:00Z")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn history_staged_stdin_sarif_baseline_and_linkage() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(".warrant/w.db");
    let repo = dir.path().join("seeder");
    std::fs::create_dir_all(&repo).unwrap();
    let out = warrant_in(
        dir.path(),
        &store,
        &["import", demo_org().to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));

    // The key is committed, then removed: only history holds it.
    git(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join("seed.sh"),
        format!(
            "#!/bin/sh\nexport AWS_ACCESS_KEY_ID={KEY_ID}\nexport AWS_SECRET_ACCESS_KEY=q8Rb2Lw7XzN4vKp1Ts9Hc6Ym3Df0Gj5Ua2Ei7OkW\n./seed --env dev\n"
        ),
    )
    .unwrap();
    std::fs::write(repo.join("README.md"), "Seeds the dev database.\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "seed script"]);
    std::fs::write(repo.join("seed.sh"), "#!/bin/sh\n./seed --env dev\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "use the instance role"]);

    // The working tree is clean…
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "json", "scan", repo.to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 0);

    // …but history is not.
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "json", "scan", "--git", repo.to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 1, "findings fail the run: {}", text(&out));
    let doc = json(&out);
    let findings = doc["findings"].as_array().unwrap();
    let key = findings
        .iter()
        .find(|f| f["rule"] == "aws.access-key-id")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(key["origin"]["kind"], "git");
    assert_eq!(key["origin"]["path"], "seed.sh");
    assert_eq!(key["origin"]["author"], "Dana Ng");
    assert_eq!(key["line"], 2);
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "aws.secret-access-key")
    );
    let raw = serde_json::to_string(&doc).unwrap();
    assert!(
        !raw.contains("q8Rb2Lw7XzN4vKp1Ts9Hc6Ym3Df0Gj5Ua2Ei7OkW"),
        "no raw secret in output"
    );
    // Both halves of the key pair are linked to the user that owns the key.
    let links = doc["links"].as_array().unwrap();
    assert_eq!(links.len(), 2, "{links:#?}");
    assert!(links.iter().all(|l| l["identity"] == USER));

    // The user now carries an NHI2 finding that says where the key leaked.
    let out = warrant_in(
        dir.path(),
        &store,
        &[
            "--format",
            "json",
            "findings",
            "--source",
            "secret",
            "--identity",
            USER,
        ],
        None,
    );
    let leaks = json(&out);
    let leaks = leaks.as_array().unwrap();
    // One: the secret access key. The key id beside it names the key; alone it is no leak.
    assert_eq!(leaks.len(), 1, "the secret, not its key id: {leaks:#?}");
    let leak = &leaks[0];
    assert_eq!(leak["owasp"], "NHI2");
    assert_eq!(leak["severity"], "critical");
    let evidence = leak["evidence"].to_string();
    assert!(evidence.contains("seed.sh:3 in commit"), "{evidence}");
    assert!(evidence.contains("next to its key id"), "{evidence}");
    let out = warrant_in(dir.path(), &store, &["show", USER], None);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("seed.sh"),
        "{}",
        text(&out)
    );

    // Staged changes, as a pre-commit hook sees them.
    std::fs::write(
        repo.join("ci.env"),
        format!("GITHUB_TOKEN={GITHUB_TOKEN}\n"),
    )
    .unwrap();
    std::fs::write(repo.join("notes.txt"), format!("unstaged {GITHUB_TOKEN}\n")).unwrap();
    git(&repo, &["add", "ci.env"]);
    let out = warrant_in(
        &repo,
        &store,
        &["--format", "json", "scan", "--staged"],
        None,
    );
    assert_eq!(code(&out), 1, "{}", text(&out));
    let staged = json(&out);
    let staged = staged["findings"].as_array().unwrap();
    assert_eq!(staged.len(), 1, "only the staged file: {staged:#?}");
    assert_eq!(staged[0]["origin"]["kind"], "staged");
    assert_eq!(staged[0]["rule"], "github.pat-classic");

    // A baseline accepts known findings; the next run passes.
    let baseline = dir.path().join("baseline.json");
    let out = warrant_in(
        &repo,
        &store,
        &[
            "scan",
            "--staged",
            "--write-baseline",
            baseline.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = warrant_in(
        &repo,
        &store,
        &["scan", "--staged", "--baseline", baseline.to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));

    // Standard input.
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "jsonl", "scan", "-"],
        Some(&format!("token: {GITHUB_TOKEN}\n")),
    );
    assert_eq!(code(&out), 1, "{}", text(&out));
    let line: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(line["origin"]["kind"], "stdin");

    // Validation is opt-in and goes where it is told: a closed loopback port answers nothing,
    // so the verdict is unknown and the scan still reports the finding.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("github=http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = warrant_in(
        dir.path(),
        &store,
        &[
            "--format",
            "json",
            "scan",
            "--no-store",
            "--validate",
            "--validate-endpoint",
            &url,
            "-",
        ],
        Some(&format!("token: {GITHUB_TOKEN}\n")),
    );
    assert_eq!(code(&out), 1, "{}", text(&out));
    let doc = json(&out);
    assert_eq!(doc["validations"][0]["provider"], "github", "{doc:#}");
    assert_eq!(doc["validations"][0]["verdict"]["status"], "unknown");
    assert!(!serde_json::to_string(&doc).unwrap().contains(GITHUB_TOKEN));

    // SARIF for code scanning, valid against the SARIF 2.1.0 schema.
    let out = warrant_in(
        dir.path(),
        &store,
        &[
            "--format",
            "sarif",
            "scan",
            "--exit-zero",
            repo.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let sarif = json(&out);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../warrant-scan/tests/data/sarif-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        sarif["runs"][0]["results"].as_array().unwrap().len() >= 2,
        "ci.env and notes.txt"
    );
}

#[test]
fn import_scans_source_files_beside_the_exports() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let org = dir.path().join("org");
    copy_dir(&demo_org(), &org);
    std::fs::create_dir_all(org.join("src/seeder")).unwrap();
    std::fs::write(
        org.join("src/seeder/config.py"),
        format!("AWS_ACCESS_KEY_ID = \"{KEY_ID}\"\n"),
    )
    .unwrap();
    let out = warrant_in(dir.path(), &store, &["import", org.to_str().unwrap()], None);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 linked to inventory identities")
            || String::from_utf8_lossy(&out.stdout).contains("1 linked to inventory identities"),
        "{}",
        text(&out)
    );
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "json", "findings", "--rule", "leaked-secret"],
        None,
    );
    // Defect: a key id alone was reported as a critical leaked secret. It is linked (it names
    // the key) but raises no finding: key ids are public by design.
    let leaks = json(&out);
    assert_eq!(leaks.as_array().unwrap().len(), 0, "{leaks:#}");
}

/// Defect: at trace level `scan --validate` logged the HTTP client's request dumps, the
/// `Authorization: Bearer ghp_…` header among them. Every level, and a `WARRANT_LOG` that asks
/// for the wire log by name, must keep the secret out of stderr while it does go over the wire.
#[test]
fn no_secret_reaches_any_log_level() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("github=http://{}", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 16384];
            let n = stream.read(&mut buf).unwrap_or(0);
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
            let _ = stream.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let runs: [(&[&str], Option<&str>); 5] = [
        (&["-v"], None),
        (&["-vv"], None),
        (&["-vvv"], None),
        (&[], Some("trace")),
        (
            &[],
            Some("trace,ureq_proto=trace,ureq=trace,h2=trace,aws_smithy_runtime=trace"),
        ),
    ];
    for (flags, env) in runs {
        received.lock().unwrap().clear();
        let mut command = Command::new(env!("CARGO_BIN_EXE_warrant"));
        command
            .arg("--store")
            .arg(dir.path().join("w.db"))
            .args(flags)
            .args([
                "scan",
                "--no-store",
                "--validate",
                "--validate-endpoint",
                &endpoint,
                "-",
            ])
            .env_remove("WARRANT_CONFIG")
            .env_remove("WARRANT_LOG")
            .env("NO_COLOR", "1")
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(env) = env {
            command.env("WARRANT_LOG", env);
        }
        let mut child = command.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("token: {GITHUB_TOKEN}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), 1, "{flags:?} {env:?}: {}", text(&out));
        // The secret was sent to the provider (so the wire log had it to dump)…
        let sent = String::from_utf8_lossy(&received.lock().unwrap()).into_owned();
        assert!(sent.contains(GITHUB_TOKEN), "{flags:?} {env:?}: {sent}");
        // …and reached no log line, at any level.
        assert!(
            !stderr.contains(GITHUB_TOKEN) && !stderr.contains(&GITHUB_TOKEN[..12]),
            "{flags:?} {env:?}:\n{stderr}"
        );
        assert!(
            !stderr.contains("ureq_proto"),
            "{flags:?} {env:?}:\n{stderr}"
        );
    }
}

/// Defect: leaked-secret findings never closed when the file was fixed and rescanned, and could
/// not be accepted.
#[test]
fn a_fixed_leak_closes_on_rescan_and_a_leak_can_be_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let out = warrant_in(
        dir.path(),
        &store,
        &["import", demo_org().to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let leaky = format!(
        "export AWS_ACCESS_KEY_ID={KEY_ID}\nexport AWS_SECRET_ACCESS_KEY=q8Rb2Lw7XzN4vKp1Ts9Hc6Ym3Df0Gj5Ua2Ei7OkW\n"
    );
    let open_leaks = || -> Vec<Value> {
        let out = warrant_in(
            dir.path(),
            &store,
            &["--format", "json", "findings", "--source", "secret"],
            None,
        );
        assert_eq!(code(&out), 0, "{}", text(&out));
        json(&out).as_array().unwrap().clone()
    };
    let scan = || {
        let out = warrant_in(dir.path(), &store, &["scan", "--exit-zero", "src"], None);
        assert_eq!(code(&out), 0, "{}", text(&out));
    };
    std::fs::write(src.join("seed.sh"), &leaky).unwrap();
    scan();
    let leaks = open_leaks();
    assert_eq!(leaks.len(), 1, "{leaks:#?}");
    // Fixed: the file no longer holds the key; a rescan resolves the finding.
    std::fs::write(src.join("seed.sh"), "./seed --env dev\n").unwrap();
    scan();
    assert!(open_leaks().is_empty(), "resolved after the fix");
    // Leaked again, then accepted with a reason: later scans do not reopen it.
    std::fs::write(src.join("seed.sh"), &leaky).unwrap();
    scan();
    let leaks = open_leaks();
    assert_eq!(leaks.len(), 1, "reopened: {leaks:#?}");
    let id = leaks[0]["id"].as_str().unwrap().to_string();
    let out = warrant_in(dir.path(), &store, &["findings", "--accept", &id], None);
    assert_eq!(code(&out), 2, "--accept needs --note: {}", text(&out));
    let out = warrant_in(
        dir.path(),
        &store,
        &[
            "findings",
            "--accept",
            &id,
            "--note",
            "test fixture key, revoked",
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    scan();
    assert!(open_leaks().is_empty(), "accepted stays accepted");
    let out = warrant_in(
        dir.path(),
        &store,
        &["findings", "--accept", "0000", "--note", "x"],
        None,
    );
    assert_eq!(code(&out), 2, "an unknown id: {}", text(&out));
}

/// The CODEOWNERS of a repository that uses an identity own it: the owners of the file a
/// leaked key of the identity sits in, and the owners of a workflow that assumes a role.
/// They rank below the provider's tags, and they make an unowned role owned.
#[test]
fn codeowners_of_the_code_using_an_identity_are_its_owners() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(".warrant/w.db");
    let out = warrant_in(
        dir.path(),
        &store,
        &["import", demo_org().to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let repo = dir.path().join("reports");
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(repo.join("seed")).unwrap();
    std::fs::write(
        repo.join(".github/CODEOWNERS"),
        "# Reporting\n*            @acme-analytics/reporting\n/seed/       @acme-analytics/data frank.li@acme-analytics.example\nnot-an-entry nobody\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("seed/run.sh"),
        format!(
            "#!/bin/sh\nexport AWS_ACCESS_KEY_ID={KEY_ID}\nexport AWS_SECRET_ACCESS_KEY=Zk4Pq9Wm2Xv7Lr1Bt8Nc3Hy6Gd0Sf5Ja2Ue7ToQ\n"
        ),
    )
    .unwrap();
    std::fs::write(
        repo.join(".github/workflows/nightly.yml"),
        "on:\n  schedule: [{cron: '0 2 * * *'}]\njobs:\n  report:\n    runs-on: ubuntu-latest\n    permissions: {id-token: write}\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::111111111111:role/legacy-report-runner\n          aws-region: eu-west-1\n",
    )
    .unwrap();
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "json", "scan", "--exit-zero", "reports"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    // GitHub skips a line it cannot read; so does Warrant, and it says where.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CODEOWNERS:4:"),
        "{}",
        text(&out)
    );

    let show = |identity: &str| {
        let out = warrant_in(
            dir.path(),
            &store,
            &["owner", "show", identity, "--format", "json"],
            None,
        );
        assert_eq!(code(&out), 0, "{}", text(&out));
        json(&out)
    };
    let seeder = show(USER);
    let owners: Vec<(String, String)> = seeder["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_string(),
                o["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let from_codeowners: Vec<&str> = owners
        .iter()
        .filter(|(_, source)| source.starts_with("codeowners:"))
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        from_codeowners,
        ["@acme-analytics/data", "frank.li@acme-analytics.example"]
    );
    assert!(
        owners
            .iter()
            .any(|(_, source)| source.ends_with(".github/CODEOWNERS:3:seed/run.sh")),
        "{owners:?}"
    );
    assert!(
        !owners[0].1.starts_with("codeowners:"),
        "the provider's tag ranks first: {owners:?}"
    );

    let runner = show("legacy-report-runner");
    assert_eq!(runner["owners"][0]["id"], "@acme-analytics/reporting");
    assert!(
        runner["owners"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with(".github/CODEOWNERS:2:.github/workflows/nightly.yml")
    );
    let out = warrant_in(
        dir.path(),
        &store,
        &[
            "--format",
            "json",
            "assess",
            "--as-of",
            "2026-11-01",
            demo_org().to_str().unwrap(),
        ],
        None,
    );
    assert!(code(&out) <= 1, "{}", text(&out));
    let unowned = json(&out)["findings"].as_array().unwrap().iter().any(|f| {
        f["rule"] == "no-owner"
            && f["identity"] == "arn:aws:iam::111111111111:role/legacy-report-runner"
    });
    assert!(!unowned, "the workflow's owners own the role it assumes");
}

/// Issue 12: a key id and its secret are one credential, and raise one finding, not one each;
/// the same secret in a second file is that finding again. It is fixed when the secret is gone
/// from every file, though the key id, which only names the key, is left behind.
#[test]
fn a_key_id_and_its_secret_are_one_leaked_credential() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let out = warrant_in(
        dir.path(),
        &store,
        &["import", demo_org().to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    const SECRET: &str = "GDmQx3NJhYPmnmzTQQaRXFMsvcnEVcaGA70+2PGF";
    std::fs::write(
        src.join("seed.sh"),
        format!("export AWS_ACCESS_KEY_ID={KEY_ID}\nexport AWS_SECRET_ACCESS_KEY={SECRET}\n"),
    )
    .unwrap();
    std::fs::write(
        src.join("ci.env"),
        format!("AWS_ACCESS_KEY_ID={KEY_ID}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"),
    )
    .unwrap();
    let scan = || {
        let out = warrant_in(
            dir.path(),
            &store,
            &["--format", "json", "scan", "--exit-zero", "src"],
            None,
        );
        assert_eq!(code(&out), 0, "{}", text(&out));
        json(&out)
    };
    let leaks = || -> Vec<Value> {
        let out = warrant_in(
            dir.path(),
            &store,
            &[
                "--format",
                "json",
                "findings",
                "--rule",
                "leaked-secret",
                "--identity",
                USER,
            ],
            None,
        );
        assert_eq!(code(&out), 0, "{}", text(&out));
        json(&out).as_array().unwrap().clone()
    };
    let doc = scan();
    // Four pieces found (the key id and the secret, twice), each linked to the one key.
    let links = doc["links"].as_array().unwrap();
    assert_eq!(links.len(), 2, "one per distinct secret: {links:#?}");
    assert!(
        links
            .iter()
            .all(|l| l["identity"] == USER && l["credential"] == KEY_ID),
        "{links:#?}"
    );
    let found = leaks();
    assert_eq!(found.len(), 1, "one finding for one credential: {found:#?}");
    let evidence = found[0]["evidence"].to_string();
    assert!(evidence.contains(KEY_ID), "{evidence}");
    assert!(evidence.contains("in 4 place(s)"), "{evidence}");
    for place in [
        "src/seed.sh:1",
        "src/seed.sh:2",
        "src/ci.env:1",
        "src/ci.env:2",
    ] {
        assert!(evidence.contains(place), "{place}: {evidence}");
    }
    let id = found[0]["id"].as_str().unwrap().to_string();

    // The secret removed from one file: still leaked, the same finding.
    std::fs::write(src.join("ci.env"), format!("AWS_ACCESS_KEY_ID={KEY_ID}\n")).unwrap();
    scan();
    let found = leaks();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0]["id"],
        id.as_str(),
        "stable across runs, still open"
    );

    // Removed from the other file too, the key ids left in both: fixed.
    std::fs::write(
        src.join("seed.sh"),
        format!("export AWS_ACCESS_KEY_ID={KEY_ID}\n"),
    )
    .unwrap();
    scan();
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "json", "findings", "--source", "secret"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let open = json(&out);
    assert!(open.as_array().unwrap().is_empty(), "resolved: {open:#?}");
}

/// GitHub credentials link as the inventory lets them: a classic token by the last eight
/// characters a credential authorization lists, a private key by the public key of a deploy
/// key. A token GitHub did not list stays unlinked.
#[test]
fn github_tokens_and_deploy_keys_link_to_their_identities() {
    // Fabricated, with valid GitHub checksums; only the first is authorized in the export.
    const LISTED: &str = "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";
    const UNLISTED: &str = "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";
    // A throwaway key made for this test (`ssh-keygen -t ed25519 -N ''`) and its public key.
    const DEPLOY_PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACD7z9oIphv7+LJxAkKGXm/adP/DWwgKlim3RMlxK5uLmwAAAJDkVrM/5Faz
PwAAAAtzc2gtZWQyNTUxOQAAACD7z9oIphv7+LJxAkKGXm/adP/DWwgKlim3RMlxK5uLmw
AAAEC+aQKxQ4k9+RrlmIt6fCD0pZayOm3CGHYir0VUnI3+LvvP2gimG/v4snECQoZeb9p0
/8NbCAqWKbdEyXErm4ubAAAADXdhcnJhbnQtdGVzdHM=
-----END OPENSSH PRIVATE KEY-----
";
    const DEPLOY_PUBLIC: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPvP2gimG/v4snECQoZeb9p0/8NbCAqWKbdEyXErm4ub";
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let export = dir.path().join("github");
    std::fs::create_dir(&export).unwrap();
    std::fs::write(
        export.join("orgs_acme_credential-authorizations.json"),
        format!(
            r#"[{{"login":"build-bot","credential_id":4242,"credential_type":"personal access token","token_last_eight":"{}","scopes":["repo"]}}]"#,
            LISTED.get(LISTED.len() - 8..).unwrap()
        ),
    )
    .unwrap();
    std::fs::write(
        export.join("repos_acme_api_keys.json"),
        format!(r#"[{{"id":9001,"key":"{DEPLOY_PUBLIC}","title":"argo","read_only":true}}]"#),
    )
    .unwrap();
    let out = warrant_in(
        dir.path(),
        &store,
        &["import", export.to_str().unwrap()],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(
        src.join("release.env"),
        format!("GH_TOKEN={LISTED}\nOTHER_TOKEN={UNLISTED}\n"),
    )
    .unwrap();
    std::fs::write(src.join("deploy_key"), DEPLOY_PRIVATE).unwrap();
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "json", "scan", "--exit-zero", "src"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let doc = json(&out);
    let mut links: Vec<(String, String)> = doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["identity"].as_str().unwrap().to_string(),
                l["by"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    links.sort();
    assert_eq!(
        links,
        [
            (
                "github:acme/api/deploy-key/9001".to_string(),
                "public key".to_string()
            ),
            (
                "github:acme/credential/4242".to_string(),
                "last eight characters".to_string()
            ),
        ],
        "{doc:#}"
    );
    let out = warrant_in(
        dir.path(),
        &store,
        &["--format", "json", "findings", "--rule", "leaked-secret"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let mut leaked: Vec<String> = json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["identity"].as_str().unwrap().to_string())
        .collect();
    leaked.sort();
    assert_eq!(
        leaked,
        [
            "github:acme/api/deploy-key/9001",
            "github:acme/credential/4242"
        ]
    );
}
