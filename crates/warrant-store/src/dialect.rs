//! Everything that differs between SQL dialects lives here: placeholder syntax, bind limits and
//! timestamp encoding. Queries elsewhere use only portable SQL (`INSERT … ON CONFLICT … DO
//! UPDATE`, `CASE`, `IN` lists), which SQLite ≥ 3.24 and PostgreSQL both accept, so a PostgreSQL
//! backend needs a second version of this module, not of the queries.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{DateTime, SecondsFormat, Utc};
use warrant_core::Timestamp;

use crate::StoreError;

/// Bind parameters allowed in one statement. SQLite (since 3.32) allows 32766, PostgreSQL
/// 65535; staying below both keeps chunking identical on either backend.
pub(crate) const MAX_BIND_PARAMS: usize = 30_000;

/// Starts a transaction that will write. SQLite's default deferred `BEGIN` takes the write lock
/// only at the first write, and a reader upgraded that way fails at once (busy snapshot) if
/// another writer committed meanwhile; `IMMEDIATE` takes the lock up front and so waits in the
/// busy timeout instead. PostgreSQL would use a plain `BEGIN`.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

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
