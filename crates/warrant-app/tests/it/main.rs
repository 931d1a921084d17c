#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! The use cases on the demo organisation and small logs, against an in-memory store.

mod accounts;
mod activity;
mod assess;
mod common;
mod scan;
mod stream;
