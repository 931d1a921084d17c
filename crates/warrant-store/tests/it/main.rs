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
//!
//! Most tests are a conformance suite run on both backends ([`conformance!`]); the rest concern
//! SQLite files (paths, reopening) or copying between backends.

#[macro_use]
mod backends;
mod pg;

mod accounts;
mod activity;
mod copy;
mod findings;
mod gateway;
mod governance;
mod inventory;
mod open;
mod review;
