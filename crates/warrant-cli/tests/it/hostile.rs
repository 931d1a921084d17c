#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The hostile-input corpus of issue 10 (`tests/hostile/generate.py --scale small`) through
//! `import`, `ingest` and `scan`: for each kind of hostile input, the exit code, the hostile path
//! named on stderr, and the good input generated beside it still processed (the good user
//! imported with its activity, the good trail's three events ingested, the planted token found)
//! without the token ever being printed. One test per defect class, each generating only its own
//! case. Time and memory bounds are checked by `tests/hostile/run.sh`, never here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::warrant_at;

const GOOD_USER: &str = "svc-hostile-good";

/// One generated case: its directory and a place for stores outside it (a store inside the
/// tree would be read as input).
struct Case {
    tmp: TempDir,
    dir: PathBuf,
    manifest: Value,
}

impl Case {
    fn generate(name: &str) -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let corpus = tmp.path().join("corpus");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/hostile/generate.py");
        let out = Command::new("python3")
            .arg(&script)
            .arg(&corpus)
            .args(["--scale", "small", "--case", name])
            .output()
            .unwrap_or_else(|e| panic!("python3 {} runs: {e}", script.display()));
        assert!(
            out.status.success(),
            "generate.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(corpus.join("MANIFEST.json")).unwrap();
        let manifest: Value = serde_json::from_str(&text).unwrap();
        Case {
            dir: corpus.join(name),
            manifest: manifest["cases"][name].clone(),
            tmp,
        }
    }

    /// Runs `warrant --store STORE ARGS…` in the case directory (paths in `args` are relative
    /// to it), with a fresh store per call.
    fn run(&self, args: &[&str]) -> Run {
        let store = self.tmp.path().join(format!(
            "store-{}.db",
            args.join("-").replace(['/', '.'], "_")
        ));
        let output = warrant_at(&self.dir, &store, args);
        let run = Run {
            args: args.join(" "),
            store,
            cwd: self.dir.clone(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            output,
        };
        // Whatever happened, no planted secret reaches the terminal.
        for token in self.tokens() {
            assert!(
                !run.stdout.contains(&token) && !run.stderr.contains(&token),
                "{}: a planted secret was printed",
                run.args
            );
        }
        assert!(
            !run.stderr.contains("panicked"),
            "{}: {}",
            run.args,
            run.stderr
        );
        run
    }

    fn tokens(&self) -> Vec<String> {
        let mut tokens = vec![self.manifest["good_token"].as_str().unwrap().to_string()];
        if let Some(others) = self.manifest["other_tokens"].as_array() {
            tokens.extend(others.iter().map(|t| t.as_str().unwrap().to_string()));
        }
        tokens
    }

    fn import(&self, extra: &[&str]) -> Run {
        let mut args = vec!["import", "."];
        args.extend(extra);
        self.run(&args)
    }

    fn ingest(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--format", "json", "ingest", "."];
        args.extend(extra);
        self.run(&args)
    }

    fn scan(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--format", "json", "scan", "."];
        args.extend(extra);
        self.run(&args)
    }
}

struct Run {
    args: String,
    store: PathBuf,
    cwd: PathBuf,
    output: Output,
    stdout: String,
    stderr: String,
}

impl Run {
    fn exits(&self, code: i32) -> &Run {
        assert_eq!(
            self.output.status.code(),
            Some(code),
            "{}:\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stderr names each of `paths` (relative to the case directory, as the commands see them).
    fn names(&self, paths: &[&str]) -> &Run {
        for path in paths {
            assert!(
                self.stderr.contains(&format!("./{path}")),
                "{}: stderr does not name {path}:\n{}",
                self.args,
                self.stderr
            );
        }
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}):\n{}", self.args, self.stdout))
    }

    /// The stored inventory, by identity name.
    fn inventory(&self) -> serde_json::Map<String, Value> {
        let out = warrant_at(&self.cwd, &self.store, &["--format", "json", "inventory"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        list.into_iter()
            .map(|i| (i["name"].as_str().unwrap().to_string(), i))
            .collect()
    }

    /// Import: the good user is stored, its trail was ingested (last used), and the import's
    /// secret scan found the planted token.
    fn imported_the_good_input(&self) -> serde_json::Map<String, Value> {
        let inventory = self.inventory();
        let good = inventory
            .get(GOOD_USER)
            .unwrap_or_else(|| panic!("{}: {GOOD_USER} imported: {inventory:?}", self.args));
        assert!(
            good["last_used"].is_string(),
            "{}: the good trail was ingested: {good}",
            self.args
        );
        assert!(
            self.stdout.contains("Found ") && self.stdout.contains("secret(s)"),
            "{}: the planted token was found:\n{}",
            self.args,
            self.stdout
        );
        inventory
    }

    /// Ingest: the good trail's three events, and the per-file report.
    fn ingested_the_good_input(&self) -> Value {
        let doc = self.json();
        assert_eq!(
            file(&doc, "good-cloudtrail.json")["events"],
            3,
            "{}: {doc:#}",
            self.args
        );
        doc
    }

    /// Scan: the planted token in `file_name` (a prefix of the file name) was found.
    fn found_token_in(&self, file_name: &str) -> Value {
        let doc = self.json();
        let found = doc["findings"].as_array().unwrap().iter().any(|f| {
            f["rule"] == "github.pat-classic"
                && f["origin"]["path"]
                    .as_str()
                    .and_then(|p| p.rsplit('/').next())
                    .is_some_and(|name| name.starts_with(file_name))
        });
        assert!(
            found,
            "{}: the token in {file_name} was found: {doc:#}",
            self.args
        );
        doc
    }

    fn scanned_the_good_input(&self) -> Value {
        self.found_token_in("good.env")
    }
}

/// The ingest report of the file named `name`.
fn file<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with(&format!("/{name}")))
        .unwrap_or_else(|| panic!("{name} in the report: {doc:#}"))
}

/// What the scan could not scan, each entry as its JSON text (origin and reason).
fn skipped(doc: &Value) -> Vec<String> {
    doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn symlink_loops_and_dangling_links_end_and_the_files_beside_them_are_processed() {
    let case = Case::generate("symlink-loops");
    // Links inside a tree are passed over (not errors); the one under sub/ is found once.
    case.import(&[]).exits(0).imported_the_good_input();
    let ingest = case.ingest(&[]);
    let doc = ingest.exits(0).ingested_the_good_input();
    assert_eq!(file(&doc, "nested-cloudtrail.json")["events"], 1);
    assert_eq!(doc["events"], 4, "each log read once: {doc:#}");
    case.scan(&[]).exits(1).scanned_the_good_input();
    // Followed on request: every loop and the dangling link are named, and the walk ends.
    let scan = case.scan(&["--follow-symlinks"]);
    scan.exits(1)
        .names(&["self", "sub/up", "a", "b", "dangling.json"]);
    let doc = scan.scanned_the_good_input();
    let nested = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["origin"]["path"] == "./sub/nested-cloudtrail.json")
        .count();
    assert_eq!(
        nested, 1,
        "sub/ is scanned once, not once per loop: {doc:#}"
    );
}

#[test]
fn directories_nested_past_the_walk_limit_are_named_by_import_ingest_and_scan() {
    let case = Case::generate("deep-dirs");
    let deep = "deep/d/d/d";
    let import = case.import(&[]);
    import.exits(2).names(&[deep]).imported_the_good_input();
    assert!(
        import
            .stderr
            .contains("nested deeper than the walk's limit of 256 levels")
    );
    case.ingest(&[])
        .exits(2)
        .names(&[deep])
        .ingested_the_good_input();
    // The token planted below the limit is not read, and the scan says so (it said nothing).
    let scan = case.scan(&[]);
    let doc = scan.exits(2).names(&[deep]).scanned_the_good_input();
    assert_eq!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "github.pat-classic")
            .count(),
        1
    );
    assert!(
        skipped(&doc)
            .iter()
            .any(|s| s.contains("nested deeper than")),
        "{doc:#}"
    );
}

#[test]
fn deeply_nested_json_is_refused_naming_the_file_and_the_rest_is_processed() {
    let case = Case::generate("deep-json");
    case.import(&[])
        .exits(2)
        .names(&["deep-authorization-details.json"])
        .imported_the_good_input();
    let ingest = case.ingest(&[]);
    let doc = ingest.exits(2).ingested_the_good_input();
    // 10^5 brackets as a record and an unclosed one are bad records with their place; objects
    // nested 10^5 deep inside request parameters are skipped over and both events kept.
    for bad in ["deep-cloudtrail.json", "unclosed-cloudtrail.json"] {
        assert_eq!(file(&doc, bad)["bad_count"], 1, "{bad}: {doc:#}");
    }
    assert_eq!(
        file(&doc, "deep-record-cloudtrail.json")["events"],
        2,
        "{doc:#}"
    );
    // Each file with bad records is named on stderr with its first bad record's place.
    for place in [
        "deep-cloudtrail.json:1: record 0",
        "unclosed-cloudtrail.json:1: record 0",
    ] {
        assert!(ingest.stderr.contains(place), "{}", ingest.stderr);
    }
    case.scan(&[]).exits(1).scanned_the_good_input();
}

#[test]
fn decompression_bombs_are_stopped_at_their_limits_and_the_rest_is_processed() {
    let case = Case::generate("bombs");
    // The record inflating past the 64 MiB record limit is a bad record (exit 2, named); the
    // blank-padded trail is valid and empty; zeros and nested gzip are not logs, and what the
    // secret pass could not open is said rather than dropped.
    let import = case.import(&[]);
    import
        .exits(2)
        .names(&["record-bomb-cloudtrail.json.gz"])
        .imported_the_good_input();
    for bomb in [
        "./overlapping.zip",
        "./nested.gz",
        "./zeros-cloudtrail.json.gz",
    ] {
        assert!(
            import
                .stdout
                .contains(&format!("Not scanned for secrets: {bomb}")),
            "{}",
            import.stdout
        );
    }
    let ingest = case.ingest(&[]);
    let doc = ingest.exits(2).ingested_the_good_input();
    let bomb = file(&doc, "record-bomb-cloudtrail.json.gz");
    assert_eq!(bomb["bad_count"], 1, "{doc:#}");
    assert!(
        bomb["bad"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("record larger than 67108864 bytes"),
        "{doc:#}"
    );
    assert_eq!(file(&doc, "blank-bomb-cloudtrail.json.gz")["events"], 0);
    assert!(file(&doc, "zeros-cloudtrail.json.gz")["not_ingested"].is_string());
    let scan = case.scan(&[]);
    scan.exits(1).names(&[
        "zeros-cloudtrail.json.gz",
        "record-bomb-cloudtrail.json.gz",
        "blank-bomb-cloudtrail.json.gz",
        "overlapping.zip",
        "nested.gz",
    ]);
    let doc = scan.scanned_the_good_input();
    let skipped = skipped(&doc);
    assert!(
        skipped.iter().filter(|s| s.contains("(zip bomb?)")).count() >= 4,
        "{skipped:#?}"
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("overlapping.zip!config.env")
                && s.contains("larger than its declared")),
        "{skipped:#?}"
    );
}

#[test]
fn single_line_giant_exports_and_logs_are_read_whole() {
    let case = Case::generate("giant-lines");
    let identities = case.manifest["giant_identities"].as_u64().unwrap();
    let events = case.manifest["giant_events"].as_u64().unwrap();
    let import = case.import(&[]);
    let inventory = import.exits(0).imported_the_good_input();
    let giants = inventory
        .keys()
        .filter(|n| n.starts_with("svc-giant-"))
        .count();
    assert_eq!(
        giants as u64, identities,
        "every role of the one-line export"
    );
    let doc = case.ingest(&[]).exits(0).ingested_the_good_input();
    assert_eq!(file(&doc, "giant-cloudtrail.json")["events"], events);
    // The token at the very end of a multi-megabyte line is found.
    let scan = case.scan(&[]);
    scan.exits(1).scanned_the_good_input();
    scan.found_token_in("giant-line.txt");
}

#[test]
fn binary_and_broken_files_under_export_and_log_names_are_refused_or_passed_over() {
    let case = Case::generate("binary");
    // An export that turns into random bytes is refused with its place; binary files (a NUL
    // early) are not exports and pass quietly; invalid UTF-8 inside a JSON string is read lossily.
    let import = case.import(&[]);
    let inventory = import
        .exits(2)
        .names(&["broken-authorization-details.json"])
        .imported_the_good_input();
    assert!(
        inventory.keys().any(|n| n.starts_with("svc-latin1-")),
        "{inventory:?}"
    );
    for quiet in ["random.json", "random.log", "elf-cloudtrail.json"] {
        assert!(
            !import.stderr.contains(quiet),
            "{quiet}:\n{}",
            import.stderr
        );
    }
    let doc = case.ingest(&[]).exits(2).ingested_the_good_input();
    let broken = file(&doc, "broken-cloudtrail.json");
    assert_eq!(
        (broken["events"].as_u64(), broken["bad_count"].as_u64()),
        (Some(1), Some(1))
    );
    let doc = case.scan(&[]).exits(1).scanned_the_good_input();
    assert_eq!(doc["summary"]["binary_skipped"], 3, "{:#}", doc["summary"]);
}

#[test]
fn unreadable_files_and_directories_are_named_and_exit_2_while_the_rest_is_processed() {
    let case = Case::generate("unreadable");
    // Given as paths: a link to /proc/self/mem (every read fails, even as root) and a FIFO (a
    // reader that opened it would wait forever). In the tree: a directory path longer than
    // PATH_MAX, and mode-000 entries (unreadable unless root).
    let named = ["./mem-cloudtrail.json", "./fifo-cloudtrail.json"];
    let mut unreadable = vec!["mem-cloudtrail.json", "long/"];
    let mode_bits_work = std::fs::File::open(case.dir.join("locked-cloudtrail.json")).is_err();
    if mode_bits_work {
        unreadable.extend(["locked-cloudtrail.json", "locked-dir"]);
    }
    let import = case.import(&named);
    import.exits(2).names(&unreadable).imported_the_good_input();
    assert!(
        import.stderr.contains("Input/output error"),
        "{}",
        import.stderr
    );
    assert!(
        import.stderr.contains("File name too long"),
        "{}",
        import.stderr
    );
    let ingest = case.ingest(&named);
    ingest
        .exits(2)
        .names(&unreadable)
        .names(&["fifo-cloudtrail.json"])
        .ingested_the_good_input();
    // Input that could not be read makes the scan exit 2 too (the token found beside it is
    // still reported).
    case.scan(&named)
        .exits(2)
        .names(&unreadable)
        .names(&["fifo-cloudtrail.json"])
        .scanned_the_good_input();
    if mode_bits_work {
        restore_modes(&case.dir);
    }
}

/// Gives mode-000 entries their bits back, so the temporary directory can be removed.
fn restore_modes(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for path in [dir.join("locked-dir"), dir.join("locked-cloudtrail.json")] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn non_utf8_file_and_directory_names_are_read_like_any_other() {
    let case = Case::generate("non-utf8-names");
    let inventory = case.import(&[]).exits(0).imported_the_good_input();
    let latin1 = &inventory["svc-hostile-latin1"];
    assert!(
        latin1["last_used"].is_string(),
        "the trail under logs-\\xfe\\xfd/: {latin1}"
    );
    let doc = case.ingest(&[]).exits(0).ingested_the_good_input();
    assert_eq!(doc["events"], 5, "{doc:#}");
    let scan = case.scan(&[]);
    scan.exits(1).scanned_the_good_input();
    scan.found_token_in("secrets-");
}

#[test]
fn empty_files_are_not_errors_unless_named_to_ingest() {
    let case = Case::generate("empty");
    let named = ["./empty-cloudtrail.json"];
    case.import(&named).exits(0).imported_the_good_input();
    case.ingest(&named)
        .exits(2)
        .names(&["empty-cloudtrail.json"])
        .ingested_the_good_input();
    // Inside a named directory, files that are not logs are not problems.
    let ingest = case.ingest(&[]);
    ingest.exits(0).ingested_the_good_input();
    assert!(ingest.stderr.is_empty(), "{}", ingest.stderr);
    case.scan(&named).exits(1).scanned_the_good_input();
}

#[test]
fn unknown_fields_are_ignored_and_wrong_types_name_the_file_and_the_place() {
    let case = Case::generate("wrong-types");
    let import = case.import(&[]);
    let inventory = import
        .exits(2)
        .names(&["wrong-types-authorization-details.json", "wrong-keys.json"])
        .imported_the_good_input();
    assert!(
        inventory.contains_key("svc-hostile-unknown-fields"),
        "{inventory:?}"
    );
    assert!(
        import
            .stderr
            .contains("$.UserDetailList[0].UserName: invalid type: integer `42`"),
        "{}",
        import.stderr
    );
    let doc = case.ingest(&[]).exits(2).ingested_the_good_input();
    let wrong = file(&doc, "wrong-types-cloudtrail.json");
    assert_eq!(
        (wrong["events"].as_u64(), wrong["bad_count"].as_u64()),
        (Some(1), Some(2))
    );
    case.scan(&[]).exits(1).scanned_the_good_input();
}

/// Defect (README, exit codes: bad log records make `import` exit 2, each named on stderr): a
/// log with bad records inside an imported directory was reported only among the notes on
/// stdout, and the import exited 0 when nothing else failed.
#[test]
fn bad_log_records_in_an_import_exit_2_naming_the_file() {
    let case = Case::generate("bombs");
    case.import(&[])
        .exits(2)
        .names(&["record-bomb-cloudtrail.json.gz"]);
}

/// Defect (README, exit codes: each input that could not be read or understood is named on
/// stderr): `ingest` said only "N bad record(s) could not be read" on stderr; the files and
/// places were on stdout only (the table's notes, the JSON's `files[].bad`).
#[test]
fn bad_log_records_are_named_on_ingest_stderr() {
    let case = Case::generate("wrong-types");
    case.ingest(&[])
        .exits(2)
        .names(&["wrong-types-cloudtrail.json"]);
}

/// A FIFO (or device) named as the path to import is input the person meant to give: it is
/// named and the import exits 2 (inside a directory such an entry is only passed over).
#[test]
fn a_fifo_named_to_import_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("auth.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = crate::common::warrant(
        &dir.path().join("w.db"),
        &["import", fifo.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "could not import {}: not a regular file",
            fifo.display()
        )),
        "{stderr}"
    );
}
