#![no_main]
//! Fuzz target: the shared directory walk over a tree built from the input — directories, files
//! and symbolic links pointing anywhere (themselves, ancestors, each other, nowhere) — always
//! ends, lists each regular file once, and never panics, following links or not.

use std::collections::BTreeSet;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use warrant_input::walk::{WalkOptions, collect_files};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let root = dir.path().to_path_buf();
    let mut dirs: Vec<PathBuf> = vec![root.clone()];
    let mut made: Vec<PathBuf> = Vec::new();
    // Each pair of bytes: an operation and a choice among what exists so far.
    for (n, pair) in data.chunks(2).take(64).enumerate() {
        let (op, pick) = (pair[0] % 4, usize::from(*pair.get(1).unwrap_or(&0)));
        let parent = dirs[pick % dirs.len()].clone();
        let path = parent.join(format!("e{n}"));
        let ok = match op {
            0 => std::fs::create_dir(&path).is_ok().then(|| dirs.push(path.clone())).is_some(),
            1 => std::fs::write(&path, b"x").is_ok(),
            2 => {
                let target = dirs[(pick / 7) % dirs.len()].clone();
                std::os::unix::fs::symlink(&target, &path).is_ok()
            }
            _ => std::os::unix::fs::symlink(root.join("nowhere"), &path).is_ok(),
        };
        if ok {
            made.push(path);
        }
    }
    for follow_symlinks in [false, true] {
        let options = WalkOptions {
            follow_symlinks,
            max_entries: 10_000,
            ..WalkOptions::default()
        };
        let walked = collect_files(std::slice::from_ref(&root), &options);
        let unique: BTreeSet<&PathBuf> = walked.files.iter().collect();
        assert_eq!(unique.len(), walked.files.len(), "each file once");
        if !follow_symlinks {
            // Without following, the files are exactly the regular files created.
            let regular: BTreeSet<&PathBuf> = made.iter().filter(|p| {
                std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file())
            }).collect();
            assert_eq!(unique, regular);
        }
    }
});
