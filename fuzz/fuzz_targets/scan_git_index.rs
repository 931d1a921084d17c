#![no_main]
//! Fuzz target: arbitrary bytes as `.git/index` must give staged blobs, skip messages or a
//! located error from `scan_staged`, never a panic.

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use warrant_scan::git::{GitOptions, scan_staged};
use warrant_scan::{BlobSink, Origin};

struct Discard;

impl BlobSink for Discard {
    fn blob(&self, _: &Origin, data: &[u8]) {
        std::hint::black_box(data);
    }
    fn skipped(&self, _: &Origin, reason: &str) {
        std::hint::black_box(reason);
    }
}

/// A minimal repository (what `git init` writes that gitoxide needs), made once per process.
fn repo() -> &'static PathBuf {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("warrant-fuzz-index-{}", std::process::id()));
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
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = repo();
    if std::fs::write(dir.join(".git/index"), data).is_ok() {
        let _ = scan_staged(dir, &GitOptions::default(), &Discard);
    }
});
