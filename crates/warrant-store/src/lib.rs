//! Persistence for Warrant. SQLite (one file) is the embedded default.
//!
//! The SQL is plain and portable (no SQLite-only constructs in queries beyond `STRICT` tables and
//! `json_valid` checks in the schema); the few dialect choices — placeholders, upsert syntax,
//! pragmas — live in [`dialect`], so a PostgreSQL backend can implement the same [`Store`]
//! methods over `sqlx::PgPool`.
//!
//! INVARIANT: every import runs in one transaction: a failed or killed import leaves the previous
//! state intact.

mod dialect;
mod findings;
mod inventory;
mod usage;

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

pub use findings::{AssessmentId, FindingFilter, FindingStatus, StoredFinding};
pub use inventory::{ImportStats, KindStats, StoredIdentity, StoredRecord};
pub use usage::SecretOccurrence;

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

    /// Opens a store by URL: `sqlite://PATH` (or a bare path).
    pub async fn open_url(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Err(StoreError::Unsupported(
                "PostgreSQL stores are not available in this build yet; use a SQLite file".into(),
            ));
        }
        match url.strip_prefix("sqlite://") {
            Some(path) => Self::open(Path::new(path)).await,
            None => {
                let options = SqliteConnectOptions::from_str(url)?;
                Self::connect(options).await
            }
        }
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

    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    pub async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}
