//! Persistence: the SQLite store (default) behind a backend-neutral interface.
