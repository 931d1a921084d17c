#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! Every integration test of this crate, in one binary: one link instead of one per file
//! keeps the test build small and fast (see the workspace Cargo.toml).

mod archive_read;
mod codeowners_props;
mod engine_props;
mod git_bench;
mod git_corrupt;
mod git_history;
mod rule_examples;
mod scan_api;
mod validate;
