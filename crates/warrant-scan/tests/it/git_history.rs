#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Git history and staged scans against repositories made with the `git` CLI in a tempdir.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use warrant_scan::archive::ArchiveLimits;
use warrant_scan::git::{GitError, GitOptions, scan_history, scan_staged};
use warrant_scan::{BlobSink, Origin};

#[derive(Default)]
struct Collect {
    blobs: Mutex<Vec<(Origin, Vec<u8>)>>,
    skipped: Mutex<Vec<(Origin, String)>>,
}

impl BlobSink for Collect {
    fn blob(&self, origin: &Origin, data: &[u8]) {
        self.blobs
            .lock()
            .unwrap()
            .push((origin.clone(), data.to_vec()));
    }
    fn skipped(&self, origin: &Origin, reason: &str) {
        self.skipped
            .lock()
            .unwrap()
            .push((origin.clone(), reason.to_string()));
    }
}

impl Collect {
    fn with_content(&self, needle: &[u8]) -> Vec<Origin> {
        self.blobs
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, d)| d.windows(needle.len()).any(|w| w == needle))
            .map(|(o, _)| o.clone())
            .collect()
    }
    fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .blobs
            .lock()
            .unwrap()
            .iter()
            .map(|(o, _)| o.display_path())
            .collect();
        paths.sort();
        paths
    }
    fn reasons(&self) -> Vec<String> {
        self.skipped
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }
}

/// Runs git with no user or system configuration and fixed identities and dates.
fn git(dir: &Path, args: &[&str], date: &str) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Alice Dev")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice Dev")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(dir: &Path, path: &str, data: &[u8]) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, data).unwrap();
}

const SECRET: &[u8] = b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const D1: &str = "2020-01-01T10:00:00Z";
const D2: &str = "2020-02-01T10:00:00Z";
const D3: &str = "2020-03-01T10:00:00Z";
const D4: &str = "2020-04-01T10:00:00Z";

fn init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"], D1);
}

fn commit_all(dir: &Path, message: &str, date: &str) -> String {
    git(dir, &["add", "-A"], date);
    git(dir, &["commit", "-q", "-m", message], date);
    git(dir, &["rev-parse", "HEAD"], date)
}

fn zip_with(name: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(data).unwrap();
    writer.finish().unwrap().into_inner()
}

struct History {
    dir: tempfile::TempDir,
    c1: String,
    c3: String,
    feature: String,
}

/// main: c1 adds the secret, c2 removes it, c3 copies README to a second path; branch
/// `feature` (off c1) adds a file; annotated tag on c1; a tag pointing straight at a blob;
/// a stash holding an uncommitted change.
fn history() -> History {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d);
    write(d, "README.md", b"# project\n");
    write(d, "config/app.env", SECRET);
    write(d, "img/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let c1 = commit_all(d, "initial", D1);
    git(d, &["tag", "-a", "v1", "-m", "release 1"], D1);

    std::fs::remove_file(d.join("config/app.env")).unwrap();
    write(d, "README.md", b"# project\nsecret removed\n");
    commit_all(d, "remove secret", D2);

    // Same content as c1's README at a new path: already seen, so not read again.
    write(d, "docs/old-readme.md", b"# project\n");
    write(
        d,
        "dist/bundle.zip",
        &zip_with("bundled.env", b"token=ghp_zipped\n"),
    );
    let c3 = commit_all(d, "copy", D3);

    git(d, &["checkout", "-q", "-b", "feature", &c1], D4);
    write(d, "feature.txt", b"feature work\n");
    let feature = commit_all(d, "feature", D4);
    git(d, &["checkout", "-q", "main"], D4);

    let loose = d.join("loose.txt");
    std::fs::write(&loose, b"only reachable from a tag\n").unwrap();
    let blob = git(d, &["hash-object", "-w", "loose.txt"], D4);
    std::fs::remove_file(loose).unwrap();
    git(d, &["tag", "blob-tag", &blob], D4);

    write(d, "README.md", b"# project\nstashed change\n");
    git(d, &["stash", "-q"], D4);
    History {
        dir,
        c1,
        c3,
        feature,
    }
}

#[test]
fn every_blob_once_with_the_commit_that_introduced_it() {
    let h = history();
    let sink = Collect::default();
    let stats = scan_history(h.dir.path(), &GitOptions::default(), &sink).unwrap();

    // The secret survives only in history, attributed to the commit that added it.
    let found = sink.with_content(b"wJalrXUtnFEMI");
    assert_eq!(found.len(), 1, "{found:?}");
    match &found[0] {
        Origin::Git {
            commit,
            path,
            author,
            email,
            date,
            ..
        } => {
            assert_eq!(commit, &h.c1);
            assert_eq!(path, "config/app.env");
            assert_eq!(author.as_deref(), Some("Alice Dev"));
            assert_eq!(email.as_deref(), Some("alice@example.com"));
            assert_eq!(date.unwrap().to_rfc3339(), "2020-01-01T10:00:00+00:00");
        }
        other => panic!("not a git origin: {other:?}"),
    }

    // README v1 is in c1 and again at docs/old-readme.md in c3: read once, at c1's path.
    let readme = sink.with_content(b"# project\n");
    let first_readme: Vec<_> = readme
        .iter()
        .filter(|o| o.display_path() == "README.md" || o.display_path() == "docs/old-readme.md")
        .collect();
    assert!(first_readme.iter().all(|o| o.display_path() == "README.md"));
    assert_eq!(
        sink.paths(),
        vec![
            "",
            "README.md",
            "README.md",
            "README.md",
            "config/app.env",
            "dist/bundle.zip!bundled.env",
            "feature.txt",
        ]
    );

    // Blob ids are unique across reports.
    {
        let blobs = sink.blobs.lock().unwrap();
        let mut contents: Vec<&Vec<u8>> = blobs.iter().map(|(_, d)| d).collect();
        contents.sort();
        let before = contents.len();
        contents.dedup();
        assert_eq!(before, contents.len());
    }

    // Branch, stash and blob-tag contents are all reached.
    assert_eq!(sink.with_content(b"stashed change").len(), 1);
    let feature = sink.with_content(b"feature work");
    assert_eq!(feature[0].commit(), Some(h.feature.as_str()));
    let loose = sink.with_content(b"only reachable from a tag");
    assert_eq!(loose[0].commit(), Some("refs/tags/blob-tag"));

    // The archive committed in c3 is opened; its member keeps the git origin.
    let zipped = sink.with_content(b"ghp_zipped");
    assert_eq!(zipped[0].commit(), Some(h.c3.as_str()));

    // The PNG is binary and said so.
    let reasons = sink.reasons();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].ends_with(":img/logo.png: binary blob (NUL byte) not scanned"));
    assert_eq!(stats.skipped_binary, 1);
    assert_eq!(stats.commits, 6, "{stats:?}"); // 3 main + feature + stash (2 commits)
    assert_eq!(stats.blobs, 8, "{stats:?}");
    assert_eq!(stats.unreadable, 0);
}

#[test]
fn size_limit_skips_without_reading_and_archives_can_be_left_closed() {
    let h = history();
    let options = GitOptions {
        max_blob_bytes: 20,
        threads: 1,
        archives: None,
    };
    let sink = Collect::default();
    let stats = scan_history(h.dir.path(), &options, &sink).unwrap();
    assert!(sink.with_content(b"wJalrXUtnFEMI").is_empty());
    let reasons = sink.reasons();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(":config/app.env: blob ")
                && r.ends_with("exceeds the 20 byte limit")),
        "{reasons:?}"
    );
    assert!(stats.skipped_large >= 4, "{stats:?}");
    // With archives off, the zip is just a binary blob (too large here anyway).
    assert!(sink.with_content(b"ghp_zipped").is_empty());
}

#[test]
fn bare_clone_and_packed_objects() {
    let h = history();
    let bare = tempfile::tempdir().unwrap();
    let target = bare.path().join("repo.git");
    git(
        h.dir.path(),
        &["clone", "-q", "--bare", ".", target.to_str().unwrap()],
        D4,
    );
    git(&target, &["gc", "-q", "--aggressive"], D4);
    let sink = Collect::default();
    let stats = scan_history(&target, &GitOptions::default(), &sink).unwrap();
    let found = sink.with_content(b"wJalrXUtnFEMI");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].commit(), Some(h.c1.as_str()));
    // A bare clone has no stash; everything else is there.
    assert_eq!(stats.commits, 4, "{stats:?}");
}

#[test]
fn not_a_repository_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = scan_history(dir.path(), &GitOptions::default(), &Collect::default()).unwrap_err();
    assert!(matches!(err, GitError::Open { .. }));
    assert!(err.to_string().starts_with(&format!(
        "{}: cannot open git repository",
        dir.path().display()
    )));
}

#[test]
fn empty_repository_has_nothing() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let sink = Collect::default();
    let stats = scan_history(dir.path(), &GitOptions::default(), &sink).unwrap();
    assert_eq!(stats.commits, 0);
    assert!(sink.paths().is_empty());
}

#[test]
fn staged_changes_only_and_their_staged_content() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d);
    write(d, "a.txt", b"a v1\n");
    write(d, "b.txt", b"b v1\n");
    write(d, "same.txt", b"unchanged\n");
    commit_all(d, "base", D1);

    write(d, "a.txt", SECRET);
    git(d, &["add", "a.txt"], D2);
    // Changed after staging: the commit would take the staged version.
    write(d, "a.txt", b"a worktree only\n");
    write(d, "b.txt", b"b unstaged change\n");
    write(d, "new/c.env", b"password=hunter2-staged\n");
    git(d, &["add", "new/c.env"], D2);
    git(d, &["rm", "-q", "--cached", "same.txt"], D2);

    let sink = Collect::default();
    let stats = scan_staged(d, &GitOptions::default(), &sink).unwrap();
    assert_eq!(sink.paths(), vec!["a.txt", "new/c.env"]);
    let a = sink.with_content(b"wJalrXUtnFEMI");
    assert_eq!(
        a,
        vec![Origin::Staged {
            repo: d.display().to_string(),
            path: "a.txt".into()
        }]
    );
    assert!(sink.with_content(b"a worktree only").is_empty());
    assert_eq!(stats.blobs, 2);
    assert_eq!(stats.blobs_scanned, 2);
}

#[test]
fn staged_before_the_first_commit_and_without_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d);
    let sink = Collect::default();
    let stats = scan_staged(d, &GitOptions::default(), &sink).unwrap();
    assert_eq!(stats.blobs, 0);

    write(d, "first.env", SECRET);
    write(d, "intent.txt", b"not staged yet\n");
    git(d, &["add", "first.env"], D1);
    git(d, &["add", "-N", "intent.txt"], D1);
    let sink = Collect::default();
    scan_staged(d, &GitOptions::default(), &sink).unwrap();
    assert_eq!(sink.paths(), vec!["first.env"]);
}

#[test]
fn staged_archive_and_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init(d);
    write(d, "keep.txt", b"x\n");
    commit_all(d, "base", D1);
    write(d, "secrets.zip", &zip_with("inner.env", SECRET));
    write(d, "blob.bin", b"\0\x01\x02");
    git(d, &["add", "."], D2);
    let sink = Collect::default();
    let stats = scan_staged(d, &GitOptions::default(), &sink).unwrap();
    assert_eq!(sink.paths(), vec!["secrets.zip!inner.env"]);
    assert_eq!(stats.skipped_binary, 1);
    let options = GitOptions {
        archives: Some(ArchiveLimits {
            max_depth: 1,
            ..ArchiveLimits::default()
        }),
        ..GitOptions::default()
    };
    let sink = Collect::default();
    scan_staged(d, &options, &sink).unwrap();
    assert_eq!(sink.paths(), vec!["secrets.zip!inner.env"]);
}
