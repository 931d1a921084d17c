//! Persistence for Warrant. SQLite (one file) is the embedded default.
//!
//! The SQL is plain and portable: `INSERT … ON CONFLICT … DO UPDATE`, `CASE`, `IN` lists, which
//! SQLite ≥ 3.24 and PostgreSQL both accept. The dialect differences (placeholders, bind limits,
//! timestamp encoding) live in the private `dialect` module and connection setup (WAL,
//! `synchronous=NORMAL`, foreign keys, busy timeout) in [`Store::open`], so a PostgreSQL backend
//! can implement the same [`Store`] methods over `sqlx::PgPool` with its own migrations.
//!
//! INVARIANT: every import runs in one transaction: a failed or killed import leaves the previous
//! state intact.
//!
//! # Record scopes
//! Each stored record carries the connector that produced it (`source`, its
//! `Provenance::source`) and a snapshot `scope`, so that a batch declaring
//! `SourceScope { source, scope }` as complete can mark what the store holds from that exact
//! snapshot but the batch no longer lists. The scope of a record is:
//! - identity: its `account`, else its provenance location (the file it was read from);
//! - credential: the scope of its identity (from the batch, else derived from the identity id);
//! - attachment: the scope of its identity; trust edge: the scope of its `to` identity;
//! - policy: the scope of the first identity in the batch it is attached to, else the account
//!   named in its id (`arn:…::ACCOUNT:…`, `k8s:CLUSTER/…`, `IDENTITY#inline/…`);
//! - resource: its `account`, else its location; owner: its location (the directory export);
//! - account: its own id.
//!
//! These match the scopes connectors declare (an AWS account id, a Kubernetes cluster, an MCP
//! config path, a directory export path). A record without any of these gets the empty scope.
//!
//! A policy attached in several accounts of one batch takes the first one's scope; AWS managed
//! policies are shared, so a complete snapshot of one account that no longer uses one marks it
//! removed only if that account was its scope, and any later import listing it brings it back.
//!
//! # Unchanged records
//! Each row keeps a hash of its JSON; a re-import compares hashes and only moves `last_seen` of
//! unchanged rows. Activity-observed last use lives in its own column (`activity_last_used`)
//! and is merged into `last_used` on load, so it neither changes the hash nor is lowered by an
//! import of an older source value.

mod activity;
mod dialect;
mod findings;
mod inventory;
mod usage;

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

pub use activity::{ActivityCount, AppliedEvent, ApplyOutcome};
pub use findings::{AssessmentId, FindingFilter, FindingStatus, StoredFinding};
pub use inventory::{ImportStats, KindStats, StoredIdentity, StoredRecord};
pub use usage::{IngestedFile, SecretOccurrence};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("schema migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("a stored record could not be decoded ({table} {key}): {message}")]
    Corrupt {
        table: &'static str,
        key: String,
        message: String,
    },
    #[error("cannot create the store directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}

/// A handle on the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens (creating if needed) the SQLite store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Directory {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(30));
        Self::connect(options).await
    }

    /// Opens a store by URL: `sqlite://PATH` (relative or `sqlite:///absolute`), a bare path,
    /// or `sqlite::memory:` (a private in-memory store, for tests and dry runs).
    /// `postgres://` URLs are recognised but refused with [`StoreError::Unsupported`] until the
    /// PostgreSQL backend lands.
    pub async fn open_url(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Err(StoreError::Unsupported(
                "PostgreSQL stores are not available yet (planned as the PostgreSQL store \
                 backend follow-up); use a SQLite file, e.g. sqlite://warrant.db"
                    .into(),
            ));
        }
        if url == "sqlite::memory:" || url == "sqlite://:memory:" || url == ":memory:" {
            let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
            // An in-memory database lives as long as one connection to it: keep exactly one,
            // forever, so every query sees the same database.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            MIGRATOR.run(&pool).await?;
            return Ok(Store { pool });
        }
        if let Some(scheme) = url
            .split_once("://")
            .map(|(s, _)| s)
            .filter(|s| *s != "sqlite")
        {
            return Err(StoreError::Unsupported(format!(
                "unknown store URL scheme `{scheme}`; use sqlite://PATH"
            )));
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Self::open(Path::new(path)).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Store, StoreError> {
        // SQLite allows one writer at a time; a small pool serves concurrent readers.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool })
    }

    /// Begins a transaction that writes (see `dialect::BEGIN_WRITE`).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with(dialect::BEGIN_WRITE).await?)
    }

    /// A small setting (e.g. the installation id), `None` when unset.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Sets a small setting, replacing any previous value.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes the pool, checkpointing the WAL into the database file.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    /// The schema is documentation too: every table STRICT, every column commented.
    #[test]
    fn every_migration_column_is_commented_and_every_table_strict() {
        // Every embedded migration, so a new one cannot skip the check.
        let migrations: Vec<&str> = super::MIGRATOR.iter().map(|m| m.sql.as_str()).collect();
        assert!(
            migrations.len() >= 3,
            "found {} migrations",
            migrations.len()
        );
        let mut n_columns = 0;
        for sql in migrations {
            let mut in_table = false;
            for line in sql.lines() {
                let trimmed = line.trim();
                if trimmed.starts_with("CREATE TABLE") {
                    in_table = true;
                } else if trimmed.starts_with(')') {
                    assert!(trimmed.contains("STRICT"), "table not STRICT: {line}");
                    in_table = false;
                } else if in_table
                    && !trimmed.starts_with("CHECK")
                    && !trimmed.starts_with("PRIMARY KEY")
                {
                    n_columns += 1;
                    assert!(trimmed.contains("-- "), "column without a comment: {line}");
                }
            }
        }
        assert!(n_columns > 80, "parsed only {n_columns} columns");
    }
}
