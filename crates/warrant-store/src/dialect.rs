//! Everything that differs between the SQL dialects lives here: placeholder syntax, how a
//! writing transaction begins, bind limits and timestamp encoding. Queries elsewhere are written
//! once in portable SQL (`?` placeholders, `INSERT … ON CONFLICT … DO UPDATE`, `CASE`, `IN`
//! lists), which SQLite ≥ 3.24 and PostgreSQL both accept, and go through [`Backend::query`].

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, AssertSqlSafe, Transaction};
use warrant_core::Timestamp;

use crate::StoreError;

/// The database a store lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// One SQLite file (or a private in-memory database): the embedded default.
    Sqlite,
    /// A PostgreSQL database, which several processes and machines may share.
    Postgres,
}

/// Key of the PostgreSQL advisory lock every writing transaction holds (see
/// [`Backend::begin_write`]); an arbitrary constant ("warrant" in ASCII).
const WRITER_LOCK_KEY: i64 = 0x0077_6172_7261_6e74;

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// A portable statement (`?` placeholders) in this backend's syntax: PostgreSQL numbers its
    /// placeholders `$1, $2, …`. Every statement of the crate goes through here.
    pub(crate) fn sql(self, portable: &str) -> String {
        match self {
            Backend::Sqlite => portable.to_string(),
            Backend::Postgres => numbered_placeholders(portable),
        }
    }

    /// A query for a portable statement, ready for `bind`.
    pub(crate) fn query<'q>(self, portable: &str) -> Query<'q, Any, AnyArguments> {
        sqlx::query(AssertSqlSafe(self.sql(portable)))
    }

    /// Begins a transaction that will write. Writers take turns on both backends, so concurrent
    /// imports and consumers give the result of running them one after another, and no two
    /// writers can deadlock on row locks taken in different orders.
    ///
    /// SQLite: the default deferred `BEGIN` takes the write lock only at the first write, and a
    /// reader upgraded that way fails at once (busy snapshot) if another writer committed
    /// meanwhile; `IMMEDIATE` takes the lock up front and so waits in the busy timeout instead.
    ///
    /// PostgreSQL: a transaction-scoped advisory lock taken first, before any read, so every
    /// statement after it (read committed) sees all earlier writers' commits; readers are never
    /// blocked. It is released at commit or rollback, also when the process dies.
    pub(crate) async fn begin_write(
        self,
        pool: &AnyPool,
    ) -> Result<Transaction<'static, Any>, StoreError> {
        match self {
            Backend::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS writer_lock")
                    .bind(WRITER_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// Begins a read-only transaction: its statements see one snapshot, so a load spanning
    /// several tables never mixes states from before and after a concurrent import.
    pub(crate) async fn begin_read(
        self,
        pool: &AnyPool,
    ) -> Result<Transaction<'static, Any>, StoreError> {
        match self {
            // Deferred: the snapshot starts at the first read and takes no write lock.
            Backend::Sqlite => Ok(pool.begin_with("BEGIN").await?),
            Backend::Postgres => Ok(pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?),
        }
    }

    /// Statements to run after copying rows with explicit ids into a table whose ids are
    /// generated, so the next generated id follows the copied ones.
    pub(crate) fn after_explicit_ids(self, table: &str, column: &str) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )),
        }
    }
}

/// Rewrites `?` placeholders as `$1, $2, …`, leaving quoted literals and identifiers alone.
fn numbered_placeholders(portable: &str) -> String {
    let mut out = String::with_capacity(portable.len() + portable.len() / 4);
    let mut n = 0usize;
    let mut quote: Option<char> = None;
    for c in portable.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            (None, _) => {}
        }
        out.push(c);
    }
    out
}

/// Bind parameters allowed in one statement. SQLite (since 3.32) allows 32766, PostgreSQL
/// 65535; staying below both keeps chunking identical on either backend.
pub(crate) const MAX_BIND_PARAMS: usize = 30_000;

/// The last item of each key, in the order keys first appear. One multi-row upsert must not
/// touch a row twice (PostgreSQL rejects that), and the last version is what one statement per
/// item would have left.
pub(crate) fn last_per_key<'a, T, K: Hash + Eq>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut index: HashMap<K, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<&'a T> = Vec::with_capacity(items.len());
    for item in items {
        let k = key(item);
        match index.get(&k).and_then(|&i| out.get_mut(i)) {
            Some(slot) => *slot = item,
            None => {
                index.insert(k, out.len());
                out.push(item);
            }
        }
    }
    out
}

/// `(?, ?, ?), (?, ?, ?)` for `rows` rows of `cols` columns.
pub(crate) fn value_rows(rows: usize, cols: usize) -> String {
    let one = format!("({})", placeholders(cols));
    let mut out = String::with_capacity(rows * (one.len() + 2));
    for i in 0..rows {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&one);
    }
    out
}

/// `?, ?, ?` for an `IN` list or one row.
pub(crate) fn placeholders(n: usize) -> String {
    let mut out = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('?');
    }
    out
}

/// Timestamps are stored as fixed-width RFC 3339 text in UTC (microseconds, `Z`), so text
/// comparison in SQL is chronological comparison.
pub(crate) fn timestamp(at: &Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_timestamp(
    table: &'static str,
    key: &str,
    text: &str,
) -> Result<Timestamp, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            table,
            key: key.to_string(),
            message: format!("bad timestamp `{text}`: {e}"),
        })
}

pub(crate) fn parse_opt_timestamp(
    table: &'static str,
    key: &str,
    text: Option<String>,
) -> Result<Option<Timestamp>, StoreError> {
    text.map(|t| parse_timestamp(table, key, &t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn placeholders_match_row_shape() {
        assert_eq!(value_rows(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(placeholders(1), "?");
    }

    #[test]
    fn postgres_numbers_placeholders_outside_literals() {
        let portable = "UPDATE t SET a = ?, b = '?' WHERE \"c?\" IN (?, ?)";
        assert_eq!(Backend::Sqlite.sql(portable), portable);
        assert_eq!(
            Backend::Postgres.sql(portable),
            "UPDATE t SET a = $1, b = '?' WHERE \"c?\" IN ($2, $3)"
        );
    }

    #[test]
    fn timestamps_sort_as_text() {
        let a = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert!(timestamp(&a) < timestamp(&b));
        assert_eq!(parse_timestamp("t", "k", &timestamp(&b)).unwrap(), b);
    }

    #[test]
    fn last_per_key_keeps_first_positions_and_last_versions() {
        let items = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        let kept = last_per_key(&items, |(k, _)| *k);
        assert_eq!(kept, [&("a", 3), &("b", 5), &("c", 4)]);
    }
}
