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

mod accounts;
mod activity;
mod cli;
mod common;
mod consume;
mod demo_org;
mod discover_live;
mod gateway;
mod governance;
mod hostile;
mod postgres;
mod posture_config;
mod remediation_live;
mod review;
mod scan;
mod serve_live;
