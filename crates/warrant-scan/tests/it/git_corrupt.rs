#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Damaged repositories: the bodies of the `scan_git_*` fuzz targets under proptest, plus
//! located messages for missing and corrupt objects.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use proptest::prelude::*;
use warrant_scan::git::{GitOptions, scan_history, scan_staged};
use warrant_scan::{BlobSink, Origin};

#[derive(Default)]
struct Collect {
    blobs: Mutex<Vec<(String, Vec<u8>)>>,
    skipped: Mutex<Vec<String>>,
}

impl BlobSink for Collect {
    fn blob(&self, origin: &Origin, data: &[u8]) {
        self.blobs
            .lock()
            .unwrap()
            .push((origin.display_path(), data.to_vec()));
    }
    fn skipped(&self, _: &Origin, reason: &str) {
        self.skipped.lock().unwrap().push(reason.to_string());
    }
}

const COMMIT: &str = "2222222222222222222222222222222222222222";
const TREE: &str = "1111111111111111111111111111111111111111";
const BLOB: &str = "3333333333333333333333333333333333333333";

/// What `git init` writes that gitoxide needs, without the git binary.
fn bare_layout(dir: &Path) {
    let git = dir.join(".git");
    for sub in ["objects/info", "objects/pack", "refs/heads", "refs/tags"] {
        std::fs::create_dir_all(git.join(sub)).unwrap();
    }
    std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(
        git.join("config"),
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n",
    )
    .unwrap();
}

/// Loose objects are found by the id in their path and not re-hashed on read, so fixed ids
/// can stand for arbitrary content.
fn write_loose(dir: &Path, id: &str, kind: &str, body: &[u8]) {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    write!(encoder, "{kind} {}\0", body.len()).unwrap();
    encoder.write_all(body).unwrap();
    let folder = dir.join(".git/objects").join(&id[..2]);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(&id[2..]), encoder.finish().unwrap()).unwrap();
}

fn commit_body(tree: &str) -> String {
    format!(
        "tree {tree}\nauthor A <a@example.com> 0 +0000\ncommitter A <a@example.com> 0 +0000\n\nm\n"
    )
}

fn tree_entry(mode: &str, name: &str, id_hex: &str) -> Vec<u8> {
    let mut out = format!("{mode} {name}\0").into_bytes();
    for i in 0..20 {
        out.push(u8::from_str_radix(&id_hex[2 * i..2 * i + 2], 16).unwrap());
    }
    out
}

#[test]
fn missing_and_corrupt_objects_are_located_and_the_rest_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bare_layout(d);
    std::fs::write(d.join(".git/refs/heads/main"), format!("{COMMIT}\n")).unwrap();
    std::fs::write(
        d.join(".git/refs/heads/gone"),
        "4444444444444444444444444444444444444444\n",
    )
    .unwrap();
    write_loose(d, COMMIT, "commit", commit_body(TREE).as_bytes());
    let mut tree = tree_entry("100644", "good.env", BLOB);
    tree.extend(tree_entry(
        "100644",
        "missing.env",
        "5555555555555555555555555555555555555555",
    ));
    tree.extend(tree_entry(
        "40000",
        "sub",
        "6666666666666666666666666666666666666666",
    ));
    write_loose(d, TREE, "tree", &tree);
    write_loose(d, BLOB, "blob", b"token=abc\n");

    let sink = Collect::default();
    let stats = scan_history(d, &GitOptions::default(), &sink).unwrap();
    let blobs = sink.blobs.lock().unwrap();
    assert_eq!(blobs.len(), 1);
    assert_eq!(blobs[0].0, "good.env");
    let mut reasons = sink.skipped.lock().unwrap().clone();
    reasons.sort();
    let repo = d.display();
    let mut expected = vec![
        format!(
            "{repo}@4444444444444444444444444444444444444444: object missing (reached from refs/heads/gone)"
        ),
        format!(
            "{repo}@{COMMIT}:missing.env: blob 5555555555555555555555555555555555555555 unreadable: An object with id 5555555555555555555555555555555555555555 could not be found"
        ),
        format!("{repo}@{COMMIT}:sub: tree 6666666666666666666666666666666666666666 missing"),
    ];
    expected.sort();
    assert_eq!(reasons, expected);
    assert_eq!(stats.unreadable, 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_commit_or_tree_bodies_never_panic(
        as_tree in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        bare_layout(d);
        std::fs::write(d.join(".git/refs/heads/main"), format!("{COMMIT}\n")).unwrap();
        if as_tree {
            write_loose(d, COMMIT, "commit", commit_body(TREE).as_bytes());
            write_loose(d, TREE, "tree", &body);
        } else {
            write_loose(d, COMMIT, "commit", &body);
        }
        let _ = scan_history(d, &GitOptions::default(), &Collect::default());
    }

    #[test]
    fn arbitrary_index_bytes_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..1024),
        real_header in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        bare_layout(d);
        let mut index = Vec::new();
        if real_header {
            // A valid header makes the entry parser, not the signature check, see the bytes.
            index.extend_from_slice(b"DIRC\0\0\0\x02\0\0\0\x03");
        }
        index.extend_from_slice(&body);
        std::fs::write(d.join(".git/index"), &index).unwrap();
        let _ = scan_staged(d, &GitOptions::default(), &Collect::default());
    }
}
