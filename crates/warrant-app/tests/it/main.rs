#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The use cases on the demo organisation and small logs, against an in-memory store.

mod activity;
mod assess;
mod common;
mod scan;
mod stream;
