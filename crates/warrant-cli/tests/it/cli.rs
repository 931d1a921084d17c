#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The `warrant` binary end to end: real exports in, documented outputs and exit codes out.

use crate::common::warrant;
use std::path::PathBuf;
use std::process::{Command, Output};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn shared_aws() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/aws");
    if dir.join("authorization-details-example.json").exists() {
        Some(dir.canonicalize().unwrap())
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

fn schema() -> serde_json::Value {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/assessment.schema.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn assess_the_real_cloudsplaining_sample_as_schema_valid_json() {
    let Some(aws) = shared_aws() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let out = warrant(
        &store,
        &[
            "assess",
            aws.to_str().unwrap(),
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
    assert_eq!(doc["summary"]["identities"], 122);
    let admins: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "admin-equivalent")
        .map(|f| f["identity"].as_str().unwrap())
        .collect();
    // The sample's administrators: AdministratorAccess holders and self-granting privesc roles.
    assert!(
        admins.contains(&"arn:aws:iam::012345678901:user/obama"),
        "{admins:?}"
    );
    assert!(admins.contains(&"arn:aws:iam::200611803367:role/privesc-sre-role"));
    assert!(
        admins
            .iter()
            .all(|a| !a.ends_with("role/AWSServiceRoleForSupport")),
        "a read-mostly service role is not an administrator"
    );
    for f in doc["findings"].as_array().unwrap() {
        assert!(f["owasp"].as_str().unwrap().starts_with("NHI"));
        assert!(!f["remediation"].as_str().unwrap().is_empty());
    }
}

#[test]
fn reimport_is_idempotent_and_outputs_agree() {
    let Some(aws) = shared_aws() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let first = warrant(&store, &["import", aws.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    let second = warrant(&store, &["import", aws.to_str().unwrap()]);
    let text = stdout(&second);
    assert!(text.contains(" 0 new, 0 changed"), "{text}");
    let inventory = warrant(
        &store,
        &["inventory", "--format", "json", "--as-of", "2026-11-01"],
    );
    let identities: serde_json::Value = serde_json::from_slice(&inventory.stdout).unwrap();
    assert_eq!(identities.as_array().unwrap().len(), 122);
    // Filtered by OWASP risk, posture evaluated afresh: exactly the identities with such a finding.
    let by_risk = warrant(
        &store,
        &[
            "inventory",
            "--format",
            "json",
            "--as-of",
            "2026-11-01",
            "--owasp",
            "NHI5",
        ],
    );
    assert!(by_risk.status.success(), "{}", stderr(&by_risk));
    let by_risk: serde_json::Value = serde_json::from_slice(&by_risk.stdout).unwrap();
    let findings = warrant(
        &store,
        &[
            "findings",
            "--format",
            "json",
            "--as-of",
            "2026-11-01",
            "--owasp",
            "NHI5",
        ],
    );
    let findings: serde_json::Value = serde_json::from_slice(&findings.stdout).unwrap();
    let mut expected: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["identity"].as_str().unwrap())
        .collect();
    expected.sort_unstable();
    expected.dedup();
    let mut listed: Vec<&str> = by_risk
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    listed.sort_unstable();
    assert!(!listed.is_empty());
    assert_eq!(listed, expected);
    let show = warrant(&store, &["show", "obama", "--as-of", "2026-11-01"]);
    let text = stdout(&show);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(text.contains("ADMINISTRATOR-EQUIVALENT"), "{text}");
    assert!(text.contains("Risk"), "{text}");
    let sarif = warrant(
        &store,
        &["findings", "--format", "sarif", "--severity", "critical"],
    );
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn a_malformed_file_is_named_and_the_rest_still_lands() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("exports");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(
        input.join("good.json"),
        br#"{"UserDetailList":[{"UserName":"svc-ci","Arn":"arn:aws:iam::111111111111:user/svc-ci","CreateDate":"2024-01-01T00:00:00Z","AttachedManagedPolicies":[{"PolicyName":"AdministratorAccess","PolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        input.join("bad.json"),
        br#"{"RoleDetailList":[{"RoleName":"r","Arn":7}]}"#,
    )
    .unwrap();
    let store = dir.path().join("w.db");
    let out = warrant(
        &store,
        &[
            "assess",
            input.to_str().unwrap(),
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an input that could not be imported exits 2, before --fail-on's 1: {}",
        stderr(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bad = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("bad.json"))
        .unwrap();
    let error = bad["error"].as_str().unwrap();
    assert!(
        error.contains("bad.json") && error.contains("$.RoleDetailList[0].Arn"),
        "{error}"
    );
    assert_eq!(
        doc["summary"]["identities"], 1,
        "the good file still landed"
    );
    let high_bar = warrant(
        &store,
        &["findings", "--fail-on", "critical", "--rule", "no-owner"],
    );
    assert_eq!(
        high_bar.status.code(),
        Some(0),
        "no-owner is medium: below the bar"
    );
}

#[test]
fn usage_errors_exit_2_and_help_is_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let missing = warrant(&store, &["inventory"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no store"),
        "{}",
        stderr(&missing)
    );
    let bad_format = warrant(&store, &["rules", "--format", "sarif"]);
    assert_eq!(bad_format.status.code(), Some(2));
    for sub in [
        "import",
        "inventory",
        "findings",
        "show",
        "assess",
        "rules",
        "config",
    ] {
        let help = warrant(&store, &[sub, "--help"]);
        assert!(help.status.success(), "{sub} --help");
        assert!(stdout(&help).contains("Usage:"), "{sub}");
    }
}

fn rule_ids(store: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["rules", "--format", "json"];
    all.extend_from_slice(args);
    let out = warrant(store, &all);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rules_lists_every_engine_with_filters_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let all = rule_ids(&store, &[]);
    assert_eq!(all.len(), 58);
    assert!(all.iter().any(|r| r == "no-owner"));
    assert!(all.iter().any(|r| r == "activity-privilege-change"));
    assert!(all.iter().any(|r| r == "leaked-secret"));

    assert_eq!(rule_ids(&store, &["--engine", "secret"]), ["leaked-secret"]);
    assert_eq!(rule_ids(&store, &["--engine", "activity"]).len(), 22);
    // The MCP gateway's alerts are activity rules too.
    assert_eq!(
        rule_ids(&store, &["--owasp", "nhi3", "--engine", "activity"]),
        ["activity-mcp-tool-changed", "activity-mcp-tool-poisoned"]
    );
    // Related risks count: the legacy token is NHI4 first and NHI7 as well.
    let nhi7 = rule_ids(&store, &["--owasp", "nhi7"]);
    assert!(nhi7.contains(&"legacy-sa-token".to_string()));
    assert!(nhi7.contains(&"access-key-old".to_string()));
    assert!(!nhi7.contains(&"no-owner".to_string()));
    assert_eq!(
        rule_ids(&store, &["--technique", "T1098"]),
        [
            "activity-privilege-change",
            "activity-unregistered-credential"
        ]
    );
    assert_eq!(
        rule_ids(&store, &["--tactic", "discovery", "--severity", "medium"]),
        [
            "activity-credential-access",
            "activity-failure-burst",
            "activity-discovery-burst"
        ]
    );
    let critical = rule_ids(&store, &["--engine", "posture", "--severity", "critical"]);
    assert!(critical.contains(&"trust-anyone".to_string()));
    assert!(!critical.contains(&"no-owner".to_string()));

    let json = warrant(&store, &["rules", "--format", "json", "--engine", "secret"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[0]["tactics"], serde_json::json!(["credential-access"]));
    assert_eq!(rows[0]["techniques"], serde_json::json!(["T1552.001"]));
    assert_eq!(rows[0]["engine"], "secret");

    let csv = warrant(&store, &["rules", "--format", "csv", "--owasp", "NHI4"]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let text = stdout(&csv);
    assert!(
        text.starts_with("id,engine,owasp,related,severity,tactics,techniques,"),
        "{text}"
    );
    assert!(
        text.contains("legacy-sa-token,posture,NHI4,NHI7,medium,,,"),
        "{text}"
    );

    let table = warrant(&store, &["rules", "--engine", "secret"]);
    assert!(stdout(&table).contains("leaked-secret"));

    for bad in [
        ["--technique", "T98"],
        ["--tactic", "defence-evasion"],
        ["--engine", "postur"],
    ] {
        let mut args = vec!["rules"];
        args.extend_from_slice(&bad);
        assert_eq!(warrant(&store, &args).status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn html_and_csv_reports() {
    let Some(aws) = shared_aws() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let html = dir.path().join("report.html");
    let out = warrant(
        &store,
        &[
            "assess",
            aws.to_str().unwrap(),
            "--format",
            "html",
            "-o",
            html.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("Riskiest identities"));
    let csv = warrant(&store, &["findings", "--format", "csv"]);
    let text = stdout(&csv);
    assert!(
        text.starts_with("id,severity,owasp,rule,identity"),
        "{text}"
    );
}

/// Defect: the demo's JSON said `"git_hub"` / `"git_hub_app"`, which fail the schema and which
/// `--provider` / `--kind` rejected. The JSON validates, and its values filter the commands.
#[test]
fn the_demo_assessment_is_schema_valid_and_its_values_are_accepted_as_filters() {
    let demo = crate::common::demo_org();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let out = warrant(
        &store,
        &[
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
            "assess",
            demo.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
    let github = doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["provider"] == "github")
        .unwrap_or_else(|| panic!("no GitHub identity in {doc:#}"));
    let kind = github["kind"].as_str().unwrap();
    let out = warrant(
        &store,
        &[
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
            "inventory",
            "--provider",
            "github",
            "--kind",
            kind,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!listed.as_array().unwrap().is_empty(), "{listed:#}");
}

/// Defect: `import` exited 0 when an export could not be read or understood. Now exit 2, the
/// file named on stderr, and everything else imported.
#[test]
fn a_malformed_export_makes_import_and_assess_exit_2_and_the_rest_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let org = dir.path().join("org");
    crate::common::copy_dir(&crate::common::demo_org(), &org);
    let broken = org.join("aws/dev/access-keys/svc-dev-seeder.json");
    std::fs::write(&broken, "{\"AccessKeyMetadata\": [ {\"UserName\": ").unwrap();
    for command in ["import", "assess"] {
        let out = warrant(&store, &[command, org.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("svc-dev-seeder.json"),
            "{command}: {}",
            stderr(&out)
        );
    }
    let out = warrant(&store, &["--format", "json", "inventory"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(listed.as_array().unwrap().len() >= 70, "{listed:#}");
}

/// Completions and man pages come from the CLI definition and need no store or configuration.
#[test]
fn completions_and_man_pages_are_generated_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    for shell in ["bash", "zsh", "fish"] {
        let out = warrant(&store, &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in ["warrant", "assess", "scan", "ingest", "format"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let man = dir.path().join("man");
    let out = warrant(&store, &["man", man.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(man.join("warrant.1")).unwrap();
    assert!(page.contains(".TH warrant"), "{page}");
    let scan = std::fs::read_to_string(man.join("warrant-scan.1")).unwrap();
    assert!(scan.contains("\\-\\-validate"), "{scan}");
    assert!(!store.exists(), "no store was created");
}

/// `warrant … | head` ends quietly: a closed pipe is neither an error nor a panic.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let out = warrant(
        &store,
        &["import", crate::common::demo_org().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for args in [
        &["--format", "json", "inventory"][..],
        &["--format", "json", "findings"][..],
        &["rules"][..],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warrant"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte (the command has started writing), then hang up.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("error") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

/// `-vv` shows Warrant's own debug logs, not every SQL statement (the schema at each start).
#[test]
fn debug_logging_does_not_dump_sql() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let out = warrant(
        &store,
        &["-vv", "import", crate::common::demo_org().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("DEBUG"), "debug logging is on:\n{err}");
    assert!(
        !err.contains("CREATE TABLE") && !err.contains("INSERT INTO"),
        "{err}"
    );
}

/// After `assess --as-of D`, `findings`, `inventory` and `show` answer from the saved run and say
/// so; asked for another instant they evaluate it and say how to see the saved view.
#[test]
fn commands_over_the_store_say_which_date_they_use() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let demo = crate::common::demo_org();
    let out = warrant(
        &store,
        &["--as-of", "2026-11-01", "assess", demo.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let saved = "As of 2026-11-01 00:00 UTC, from the assessment `warrant assess` saved.";
    for command in [
        &["findings"][..],
        &["inventory"],
        &["show", "legacy-report-runner"],
    ] {
        let text = stdout(&warrant(&store, command));
        assert!(text.contains(saved), "{command:?}: {text}");
        let text = stdout(&warrant(
            &store,
            &[&["--as-of", "2026-11-01"][..], command].concat(),
        ));
        assert!(text.contains(saved), "{command:?}: {text}");
        let out = warrant(&store, &[&["--as-of", "2026-11-20"][..], command].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(
                "As of 2026-11-20 00:00 UTC, evaluated now: the last assessment was as of \
                 2026-11-01 00:00 UTC (pass --as-of 2026-11-01 for that view)."
            ),
            "{command:?}: {text}"
        );
    }
}

/// `findings`, `inventory` and `show` read the saved assessment while nothing it read has
/// changed, and give the same answers as evaluating afresh; a changed import makes them
/// evaluate again (saying why, on stderr for machine formats) until the next `assess`.
#[test]
fn listings_answer_from_the_saved_assessment_until_the_store_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let demo = dir.path().join("demo");
    crate::common::copy_dir(&crate::common::demo_org(), &demo);
    let at = ["--as-of", "2026-11-01"];
    let run = |args: &[&str]| {
        let out = warrant(&store, &[&at[..], args].concat());
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let out = warrant(
        &store,
        &[&at[..], &["import", demo.to_str().unwrap()]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Nothing saved yet: evaluated, and stderr says how to make it instant.
    let evaluated = run(&["findings", "--format", "json"]);
    assert!(
        stderr(&evaluated).contains("no assessment is saved"),
        "{}",
        stderr(&evaluated)
    );
    let evaluated_inventory = run(&["inventory", "--format", "json"]);
    run(&["assess", demo.to_str().unwrap()]);

    let saved = run(&["findings", "--format", "json"]);
    assert!(stderr(&saved).is_empty(), "{}", stderr(&saved));
    assert_eq!(stdout(&saved), stdout(&evaluated));
    let saved_inventory = run(&["inventory", "--format", "json"]);
    assert_eq!(stdout(&saved_inventory), stdout(&evaluated_inventory));
    let findings: serde_json::Value = serde_json::from_slice(&saved.stdout).unwrap();
    let n = findings.as_array().unwrap().len();
    assert!(n > 10, "{n}");
    // Every format streams the same findings.
    let jsonl = stdout(&run(&["findings", "--format", "jsonl"]));
    assert_eq!(jsonl.lines().count(), n);
    let csv = stdout(&run(&["findings", "--format", "csv"]));
    assert_eq!(csv.lines().count(), n + 1, "{csv}");
    // The table shows the most severe first, as many as asked.
    let table = stdout(&run(&["findings", "--limit", "3"]));
    assert!(
        table.contains(&format!("Showing 3 of {n} findings, most severe first")),
        "{table}"
    );
    assert!(table.contains("critical"), "{table}");
    // --fail-on sees the most severe even when the table shows fewer.
    let out = warrant(
        &store,
        &[&at[..], &["findings", "--limit", "1", "--fail-on", "high"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    let show = stdout(&run(&["show", "legacy-report-runner", "--format", "json"]));
    let show: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert!(!show["findings"].as_array().unwrap().is_empty());
    assert!(show["risk"]["score"].as_f64().unwrap() > 0.0);

    // A changed export: the saved run no longer answers.
    let path = demo.join("aws/prod/authorization-details.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("legacy-report-runner", "legacy-report-runner-2", 1),
    )
    .unwrap();
    run(&["import", demo.to_str().unwrap()]);
    let out = run(&["findings", "--format", "json"]);
    assert!(
        stderr(&out).contains("the store changed after the assessment"),
        "{}",
        stderr(&out)
    );
    let table = stdout(&run(&["inventory"]));
    assert!(
        table.contains("evaluated now: the store changed"),
        "{table}"
    );
    run(&["assess", demo.to_str().unwrap()]);
    let table = stdout(&run(&["inventory"]));
    assert!(
        table.contains("from the assessment `warrant assess` saved"),
        "{table}"
    );
}

/// Off a terminal no bar is drawn; long phases log a progress line instead (every 10 s, here
/// every time), shown with -v and not without.
#[test]
fn progress_is_logged_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    for n in 0..3 {
        std::fs::write(src.join(format!("f{n}.txt")), "x = 1\n".repeat(10_000)).unwrap();
    }
    let run = |verbose: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_warrant"));
        command.arg("--store").arg(dir.path().join("w.db"));
        if verbose {
            command.arg("-v");
        }
        let out = command
            .args([
                "scan",
                "--no-store",
                "--threads",
                "1",
                src.to_str().unwrap(),
            ])
            .env("WARRANT_PROGRESS_SECS", "0")
            .env_remove("WARRANT_LOG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    let logged = run(true);
    assert!(
        logged.contains("Scanning: ") && logged.contains("MB/s"),
        "{logged}"
    );
    assert!(!run(false).contains("Scanning: "));
}

/// Each command's help names the formats it supports (as the README's table does), and those
/// are exactly the ones it accepts.
#[test]
fn each_command_accepts_exactly_the_formats_its_help_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let all = ["table", "json", "jsonl", "csv", "html", "sarif"];
    let commands: [&[&str]; 19] = [
        &["import", missing],
        &["discover", "aws", "--live"],
        &["inventory"],
        &["findings"],
        &["show", "x"],
        &["assess", missing],
        &["rules"],
        &["scan", missing],
        &["ingest", missing],
        &["consume"],
        &["alerts"],
        &["rightsize", "x"],
        &["policy", "check", missing],
        &["exception", "list"],
        &["audit"],
        &["plan", "list"],
        &["contain", "x", "--as", "ada@example.com"],
        &["review", "list"],
        &["config"],
    ];
    for command in commands {
        let name = command[0];
        let help = stdout(&warrant(&store, &[name, "--help"]));
        if name == "config" {
            // Prints TOML only: no --format.
            continue;
        }
        let listed = help
            .split("Formats: ")
            .nth(1)
            // Up to the end of the paragraph, which the help may wrap.
            .and_then(|rest| rest.split("\n\n").next())
            .map(|text| text.trim().trim_end_matches('.'))
            .unwrap_or_else(|| panic!("{name} --help names no formats:\n{help}"));
        let listed: Vec<&str> = listed.split(',').map(str::trim).collect();
        for format in all {
            let out = warrant(&store, &[&["--format", format][..], command].concat());
            let refused = stderr(&out).contains(&format!("does not support --format {format}"));
            assert_eq!(
                refused,
                !listed.contains(&format),
                "{name} --format {format}: {}",
                stderr(&out)
            );
        }
    }
}

/// On a terminal long steps draw bars on stderr; `--quiet` draws none (only errors). The
/// terminal is util-linux's `script`; the test says so and passes where it is missing.
#[test]
fn quiet_draws_no_progress_bars_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("`script` (util-linux) is missing: no terminal to test on");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let demo = crate::common::demo_org();
    let on_terminal = |quiet: &str, store: &str| {
        let command = format!(
            "{} {quiet} --store {} --as-of 2026-11-01 assess {} --format json > /dev/null",
            env!("CARGO_BIN_EXE_warrant"),
            dir.path().join(store).display(),
            demo.display()
        );
        let out = Command::new("script")
            .args(["-qc", &command, "/dev/null"])
            .env("NO_COLOR", "1")
            .env_remove("WARRANT_CONFIG")
            .env_remove("WARRANT_FINGERPRINT_KEY")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let drawn = on_terminal("", "a.db");
    assert!(drawn.contains("Assessing"), "{drawn:?}");
    assert_eq!(on_terminal("--quiet", "b.db"), "");
}

/// A governance policy is read with every mistake refused naming the file, line and key, and a
/// good one is shown tier by tier (the first that holds decides).
#[test]
fn policy_check_refuses_mistakes_with_the_line_and_shows_the_tiers() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    // The documented example is a valid policy.
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/warrant-policy.toml");
    let out = warrant(&store, &["policy", "check", example.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("crown-jewels"), "{}", stdout(&out));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[defaults]\nrotation_dayz = 30\n").unwrap();
    let out = warrant(&store, &["policy", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.toml: line 2, column 1: unknown field `rotation_dayz`"),
        "{}",
        stderr(&out)
    );
    let good = dir.path().join("warrant-policy.toml");
    std::fs::write(
        &good,
        "fallback_reviewer = \"secops@example.com\"\n\
         [[tier]]\nname = \"crown-jewels\"\nmatch = { criticality = \"critical\" }\n\
         max_credential_age_days = 30\n",
    )
    .unwrap();
    // Found in the working directory without naming it.
    let text = stdout(&warrant(&store, &["policy", "check"]));
    assert!(
        text.contains("crown-jewels — match {\"criticality\":\"critical\"}"),
        "{text}"
    );
    assert!(text.contains("none older than 30"), "{text}");
    assert!(
        text.contains("unowned reviews go to secops@example.com"),
        "{text}"
    );
    let json = warrant(&store, &["--format", "json", "policy", "check"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["tiers"][0]["thresholds"]["max_credential_age_days"], 30);
    assert_eq!(doc["defaults"]["max_credential_age_days"], 90);
}

/// Exceptions through the CLI: refused without an owner who is a person or past the policy's
/// longest term, granted with a scope in words, listed (expiring soon, withdrawn with --all),
/// withdrawn, and every change in the audit trail.
#[test]
fn exceptions_are_granted_listed_withdrawn_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let at = ["--as-of", "2026-12-01"];
    let run = |args: &[&str]| warrant(&store, &[&at[..], args].concat());
    let add = |owner: &str, expires: &str| {
        run(&[
            "exception",
            "add",
            "--rule",
            "no-owner",
            "--tag",
            "team=data",
            "--match",
            "identity=arn:aws:iam::1:role/legacy",
            "--reason",
            "vendor migration",
            "--expires",
            expires,
            "--by",
            owner,
            "--as",
            "bob@example.com",
        ])
    };
    let out = add("platform-team", "2026-12-20");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not an email address"),
        "{}",
        stderr(&out)
    );
    let out = add("alice@example.com", "2028-01-01");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("more than 365 days"),
        "{}",
        stderr(&out)
    );

    let out = add("alice@example.com", "2026-12-20");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("until 2026-12-20: rule no-owner and tag team=data, or identity arn:aws:iam::1:role/legacy (owner alice@example.com)"),
        "{text}"
    );
    let id = text.split_whitespace().nth(1).unwrap().to_string();
    assert!(id.starts_with("exc-"), "{text}");

    let list = stdout(&run(&["exception", "list", "--expiring", "30d"]));
    assert!(
        list.contains(&id) && list.contains("expires in 19 days"),
        "{list}"
    );
    assert!(stdout(&run(&["exception", "list", "--expiring", "7d"])).contains("0 exception(s)"));

    let out = run(&["exception", "remove", &id, "--as", "carol@example.com"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&run(&["exception", "list"])).contains("0 exception(s)"));
    let all: serde_json::Value =
        serde_json::from_slice(&run(&["--format", "json", "exception", "list", "--all"]).stdout)
            .unwrap();
    assert_eq!(all[0]["withdrawn_by"], "carol@example.com");
    assert_eq!(all[0]["owner"], "alice@example.com");

    let audit = stdout(&run(&["audit"]));
    assert!(
        audit.contains("bob@example.com  exception.grant"),
        "{audit}"
    );
    assert!(
        audit.contains("carol@example.com  exception.withdraw"),
        "{audit}"
    );
    assert!(audit.contains("2 change(s)."), "{audit}");
}

/// A user's rule file is checked the way CI checks the built-in rules: a context rule whose
/// examples hold passes (exit 0); one whose negative example is found, or whose example holds
/// no keyword, fails (exit 1) naming the rule and the example. `--list-rules` shows it in force.
#[test]
fn scan_check_rules_runs_a_rule_files_examples_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        r#"[[rule]]
id = 'acme.token-context'
name = 'Acme API token (by name)'
provider = 'acme'
kind = 'token'
keywords = ['acme']
confidence = 'medium'
context = { charset = 'alnum', length = 40 }
examples = [
  'ACME_TOKEN=pX3q8Lm2Rz7Vt1Wn6Bc4Hy9Dj0Fs5GkA2uQe7Rox',
  "acme:\n  api_key: \"pX3q8Lm2Rz7Vt1Wn6Bc4Hy9Dj0Fs5GkA2uQe7Rox\"\n",
]
negative_examples = ['ACME_TOKEN=${ACME_TOKEN}', 'ACME_TOKEN=your_acme_token_here_0000000000000000000']
"#,
    )
    .unwrap();
    let out = warrant(
        &store,
        &["scan", "--check-rules", "--rules", good.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 rule(s), every example holds"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        r#"[[rule]]
id = 'acme.token-loose'
name = 'Acme API token (loose)'
provider = 'acme'
keywords = ['acme']
confidence = 'low'
context = { charset = 'hex', length = 32 }
examples = ['token: 9f2c4e7a1b3d5f6089a7c2e4b6d8f0a1']
negative_examples = ['ACME_KEY=9f2c4e7a1b3d5f6089a7c2e4b6d8f0a1']
"#,
    )
    .unwrap();
    let out = warrant(
        &store,
        &["scan", "--check-rules", "--rules", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("acme.token-loose: example contains none of the keywords"),
        "{text}"
    );
    assert!(
        text.contains("acme.token-loose: negative example found: ACME_KEY="),
        "{text}"
    );

    let out = warrant(
        &store,
        &[
            "scan",
            "--list-rules",
            "--rules",
            good.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mine = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "acme.token-context")
        .unwrap();
    assert_eq!(mine["context"], true);
    assert_eq!(mine["confidence"], "medium");
}
