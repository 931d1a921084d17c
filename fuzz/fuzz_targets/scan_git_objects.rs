#![no_main]
//! Fuzz target: arbitrary bytes as the body of a loose commit or tree object reached from a
//! branch must give blobs, skip messages or an error from `scan_history`, never a panic.
//! The first byte picks which object the rest becomes.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use warrant_scan::git::{GitOptions, scan_history};
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

// Loose objects are found by the id in their path and not re-hashed on read, so fixed ids
// let the fuzzer's bytes sit behind a branch.
const COMMIT: &str = "2222222222222222222222222222222222222222";
const TREE: &str = "1111111111111111111111111111111111111111";

fn repo() -> &'static PathBuf {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("warrant-fuzz-objects-{}", std::process::id()));
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
        std::fs::write(git.join("refs/heads/main"), format!("{COMMIT}\n")).unwrap();
        dir
    })
}

fn write_loose(dir: &PathBuf, id: &str, kind: &str, body: &[u8]) {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = write!(encoder, "{kind} {}\0", body.len());
    let _ = encoder.write_all(body);
    let Ok(compressed) = encoder.finish() else {
        return;
    };
    let folder = dir.join(".git/objects").join(&id[..2]);
    let _ = std::fs::create_dir_all(&folder);
    let _ = std::fs::write(folder.join(&id[2..]), compressed);
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    let dir = repo();
    if selector % 2 == 0 {
        let commit = format!(
            "tree {TREE}\nauthor A <a@example.com> 0 +0000\ncommitter A <a@example.com> 0 +0000\n\nm\n"
        );
        write_loose(dir, COMMIT, "commit", commit.as_bytes());
        write_loose(dir, TREE, "tree", body);
    } else {
        write_loose(dir, COMMIT, "commit", body);
    }
    let _ = scan_history(dir, &GitOptions::default(), &Discard);
});
