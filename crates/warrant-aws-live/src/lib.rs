//! Live AWS discovery through the official AWS SDK for Rust.
