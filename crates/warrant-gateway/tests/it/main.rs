#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
#![allow(clippy::disallowed_methods, reason = "tests read their own fixtures")]
//! The gateway's decisions, end to end through its public API, in one test binary.

mod args_prop;
mod common;
mod decisions;
mod examples;
mod tokens;
