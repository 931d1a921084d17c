//! What the binary's integration tests share: running `warrant` against a store, and the demo
//! organisation.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `warrant --store STORE ARGS…` in the store's directory, without the developer's
/// configuration, key or colours.
pub fn warrant(store: &Path, args: &[&str]) -> Output {
    warrant_at(store.parent().unwrap(), store, args)
}

/// [`warrant`] run in the directory `cwd` (paths in `args` are relative to it).
pub fn warrant_at(cwd: &Path, store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warrant"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("WARRANT_CONFIG")
        .env_remove("WARRANT_FINGERPRINT_KEY")
        .env("NO_COLOR", "1")
        .current_dir(cwd)
        .output()
        .expect("the warrant binary runs")
}

pub fn demo_org() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-org")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
