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

mod detect_schedule;
mod detect_snapshot;
mod detect_stratus;
mod detect_week;
mod detection_corpus;
mod ingest_attribution;
mod ingest_formats;
mod ingest_okta_proptest;
mod ingest_proptest;
mod ingest_shared;
mod rightsize_policy;
