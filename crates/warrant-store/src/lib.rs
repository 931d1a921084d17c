//! Persistence for Warrant, on two backends behind one [`Store`]: SQLite (one file) is the
//! embedded default; PostgreSQL (`Store::open_url("postgres://…")`) serves several processes
//! and machines sharing one database.
//!
//! Every statement is written once, in portable SQL (`?` placeholders, `INSERT … ON CONFLICT …
//! DO UPDATE`, `CASE`, `IN` lists), and runs through sqlx's `Any` driver. The dialect
//! differences (placeholder numbering, how a writing transaction begins, bind limits, timestamp
//! encoding) live in the private `dialect` module; each backend has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`) describing the same schema.
//!
//! INVARIANT: every import runs in one transaction: a failed or killed import leaves the previous
//! state intact.
//!
//! INVARIANT: writers take turns (SQLite's write lock, a PostgreSQL advisory lock taken first in
//! each writing transaction), so processes sharing a store give the result of running one after
//! another.
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

mod accounts;
mod activity;
mod copy;
mod dialect;
mod findings;
mod gateway;
mod gateway_tools;
mod governance;
mod inventory;
mod migrations;
mod ownership;
mod remediation;
mod review;
mod usage;

use std::path::{Path, PathBuf};

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions};
use sqlx::query::Query;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Row, Transaction};

pub use accounts::{ApiTokenRow, SessionRow, UserRow};
pub use activity::{ActivityCount, ActivityWrites, AppliedEvent, ApplyOutcome, LedgerKey};
pub use copy::{CopyReport, TableCopy};
pub use dialect::Backend;
pub use findings::{
    AssessmentId, EXCEPTION_NOTE, FindingFilter, FindingStatus, SavedRun, ScoredFacets,
    ScoredFilter, ScoredIdentity, ScoredKey, ScoredOrder, ScoredRow, ScoredSort, StoredFinding,
    TierFilter,
};
pub use gateway::{ApprovalRow, ApprovalStatus, GatewayCallAudit, GrantRow, RevocationRow};
pub use gateway_tools::{ObservedTool, SeenTool, ToolPinStatus, ToolRow};
pub use governance::{AuditEntry, ExceptionRow};
pub use inventory::{
    ImportStats, KindStats, StoredIdentity, StoredRecord, TrustDirection, TrustWalk,
};
pub use ownership::{AssignmentRow, OwnerEvidence, RegistrationRow};
pub use remediation::{DecisionRow, JournalRow, PlanRow};
pub use review::{
    CampaignCounts, CampaignRow, CloseOutcome, LastReview, ReviewDecisionRow, ReviewItemRow,
};
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
    #[error("cannot open the store {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("the copy differs from its source: {0}")]
    CopyMismatch(String),
    /// The write contradicts what the store holds — another writer got there first (two
    /// applies of one plan at once), or the record exists already (a user of that name):
    /// nothing was written.
    #[error("{0}")]
    Conflict(String),
}

/// A handle on the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// How many identities of a saved run each listing filter admits, once counted (see
    /// [`Store::count_scored`]).
    #[allow(clippy::type_complexity)]
    scored_counts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(i64, String), u64>>>,
    /// SQLite's one writer at a time, taken in turn within this process: a writer waiting on
    /// SQLite's own lock sleeps in its busy handler (a millisecond and more); one waiting here
    /// wakes as soon as the other commits.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// Applied to each new SQLite connection: WAL lets readers run beside the one writer,
/// `synchronous = NORMAL` is durable at each checkpoint and safe with WAL, and the busy timeout
/// makes writers of several processes queue instead of failing.
// busy_timeout first: switching to WAL needs a moment of exclusive access, and a second
// process opening the same store must wait for it rather than fail with "database is locked".
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn is_memory_url(url: &str) -> bool {
    url == "sqlite::memory:" || url == "sqlite://:memory:" || url == ":memory:"
}

/// The file a SQLite store location names: `sqlite://PATH`, `sqlite:PATH` or a bare path.
/// `None` for PostgreSQL and in-memory stores and for unknown URL schemes.
pub fn sqlite_file(location: &str) -> Option<PathBuf> {
    if is_postgres_url(location) || is_memory_url(location) {
        return None;
    }
    if let Some(path) = location
        .strip_prefix("sqlite://")
        .or_else(|| location.strip_prefix("sqlite:"))
    {
        return Some(PathBuf::from(path));
    }
    if location.contains("://") {
        return None;
    }
    Some(PathBuf::from(location))
}

/// A store location fit to print: a URL's password is replaced by `***`.
pub fn redacted_location(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => location.to_string(),
        },
        None => location.to_string(),
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Directory {
                path: parent.display().to_string(),
                source,
            })?;
        }
        // The generic driver is configured by URL; the SQLite options render one that names
        // the file exactly (any character escaped) and creates it when missing.
        let url = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .to_url_lossy();
        // SQLite allows one writer at a time; a small pool serves concurrent readers.
        // No ping before each use: a connection to a local file cannot go stale, and the ping
        // is a round trip to the connection's worker thread, as dear as the query itself.
        let options = AnyPoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false);
        // sqlx's migrator locks only on PostgreSQL: processes opening a new SQLite store together
        // would each create the tables ("table identities already exists"). An advisory lock on
        // the database file (independent of SQLite's own locks) makes them take turns; the
        // first migrates, the others find the schema current. Released when `guard` drops.
        let lock_path = path.to_path_buf();
        let guard = tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)?;
            // Blocks while another process (or task) is opening the store.
            file.lock()?;
            Ok::<_, std::io::Error>(file)
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|locked| locked)
        .map_err(|source| StoreError::File {
            path: path.display().to_string(),
            source,
        })?;
        let store =
            Self::connect(Backend::Sqlite, options, AnyConnectOptions::from_url(&url)?).await;
        drop(guard);
        store
    }

    /// Opens a store by URL: `postgres://…` or `postgresql://…` (a PostgreSQL database, which
    /// must exist; the schema is created or brought up to date), `sqlite://PATH` (relative or
    /// `sqlite:///absolute`), `sqlite:PATH`, a bare path, or `sqlite::memory:` (a private
    /// in-memory store, for tests and dry runs).
    pub async fn open_url(url: &str) -> Result<Store, StoreError> {
        if is_postgres_url(url) {
            // Several processes share the database; each keeps a modest pool.
            let options = AnyPoolOptions::new().max_connections(8);
            return Self::connect(Backend::Postgres, options, url.parse()?).await;
        }
        if is_memory_url(url) {
            // An in-memory database lives as long as one connection to it: keep exactly one,
            // forever, so every query sees the same database.
            let options = AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            return Self::connect(Backend::Sqlite, options, "sqlite::memory:".parse()?).await;
        }
        match sqlite_file(url) {
            Some(path) => Self::open(&path).await,
            None => Err(StoreError::Unsupported(format!(
                "unknown store URL scheme `{}`; use sqlite://PATH or postgres://…",
                url.split_once("://").map(|(s, _)| s).unwrap_or(url)
            ))),
        }
    }

    async fn connect(
        backend: Backend,
        options: AnyPoolOptions,
        connect: AnyConnectOptions,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let options = match backend {
            Backend::Sqlite => options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_SETUP).await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options,
        };
        let pool = options.connect_with(connect).await?;
        // On PostgreSQL the migrator holds an advisory lock, so processes starting together
        // apply each migration once.
        migrations::migrator(backend).await?.run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            scored_counts: Default::default(),
            writer: Default::default(),
        })
    }

    /// The database this store lives in.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A query for a portable statement (see the `dialect` module).
    fn query<'q>(&self, portable: &str) -> Query<'q, Any, AnyArguments> {
        self.backend.query(portable)
    }

    /// Begins a transaction that writes (see [`Backend::begin_write`]).
    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let turn = self.writer_turn().await;
        Ok(WriteTx {
            tx: self.backend.begin_write(&self.pool).await?,
            backend: self.backend,
            changes_inputs: true,
            _turn: turn,
        })
    }

    /// This process's turn to write to SQLite (see `writer`); none needed on PostgreSQL.
    pub(crate) async fn writer_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// The store's revision: raised by every committed transaction that changed what an
    /// assessment reads (see [`WriteTx::changes_inputs`]). 0 for a store never written.
    pub async fn revision(&self) -> Result<i64, StoreError> {
        let value = self.meta_get(REVISION_KEY).await?;
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// A small setting (e.g. the installation id), `None` when unset.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .query("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Sets a small setting, replacing any previous value.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes the pool (on SQLite, checkpointing the WAL into the database file).
    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// A writing transaction with the dialect of its store, so helpers that take one can build
/// their statements.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    /// Whether committing raises the store's revision: true unless the transaction only
    /// records conclusions (a saved assessment) or changed nothing (an unchanged re-import).
    /// A saved assessment is current while the revision it evaluated is the store's.
    pub(crate) changes_inputs: bool,
    /// Held until the transaction ends (declared last: dropped after `tx` rolls back).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// `meta` key of the store's revision (schema 5).
const REVISION_KEY: &str = "revision";

impl WriteTx {
    fn query<'q>(&self, portable: &str) -> Query<'q, Any, AnyArguments> {
        self.backend.query(portable)
    }

    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    async fn commit(mut self) -> Result<(), StoreError> {
        if self.changes_inputs {
            // Last statement before the commit: on PostgreSQL the row lock it takes is held
            // only while committing, so concurrent writers barely wait on each other.
            self.backend
                .query(
                    "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE \
                     SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)",
                )
                .bind(REVISION_KEY)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(self.tx.commit().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::{redacted_location, sqlite_file};
    use crate::dialect::Backend;
    use crate::migrations::Embedded;

    #[test]
    fn locations_name_files_or_databases() {
        assert_eq!(sqlite_file("sqlite://a/b.db"), Some("a/b.db".into()));
        assert_eq!(sqlite_file("sqlite:///abs/b.db"), Some("/abs/b.db".into()));
        assert_eq!(sqlite_file("sqlite:b.db"), Some("b.db".into()));
        assert_eq!(sqlite_file(".warrant/w.db"), Some(".warrant/w.db".into()));
        assert_eq!(sqlite_file("postgres://h/db"), None);
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("mysql://h/db"), None);
        assert_eq!(
            redacted_location("postgres://warrant:s3cret@db:5432/w"),
            "postgres://warrant:***@db:5432/w"
        );
        assert_eq!(redacted_location("postgres://db/w"), "postgres://db/w");
        assert_eq!(redacted_location("a/b.db"), "a/b.db");
    }

    /// Counts the columns of every table of `migrator`, checking each is commented and, when
    /// `strict`, that each table is STRICT.
    fn check_schema_documented(backend: Backend, strict: bool) -> usize {
        // Every embedded migration, so a new one cannot skip the check.
        let embedded = Embedded::of(backend).migrations().unwrap();
        let migrations: Vec<&str> = embedded.iter().map(|m| m.sql.as_str()).collect();
        assert!(
            migrations.len() >= 4,
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
                    assert!(
                        !strict || trimmed.contains("STRICT"),
                        "table not STRICT: {line}"
                    );
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
        n_columns
    }

    /// The schema is documentation too: every column commented, every SQLite table STRICT.
    #[test]
    fn every_migration_column_is_commented_and_every_sqlite_table_strict() {
        let sqlite = check_schema_documented(Backend::Sqlite, true);
        assert!(sqlite > 80, "parsed only {sqlite} columns");
        // Both backends describe the same schema, migration for migration.
        let postgres = check_schema_documented(Backend::Postgres, false);
        assert_eq!(postgres, sqlite);
        let versions = |b: Backend| -> Vec<i64> {
            let migrations = Embedded::of(b).migrations().unwrap();
            migrations.iter().map(|m| m.version).collect()
        };
        assert_eq!(versions(Backend::Postgres), versions(Backend::Sqlite));
    }
}
