//! Secret leak locations, activity aggregates, baselines and ingestion checkpoints.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use warrant_core::{Timestamp, UsageRecord};

use crate::dialect::{self, MAX_BIND_PARAMS};
use crate::{Store, StoreError, WriteTx};

/// Where a secret was found. Holds the keyed fingerprint, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretOccurrence {
    pub fingerprint: String,
    /// Scanner rule that matched.
    pub rule: String,
    pub path: String,
    /// Commit id for findings in git history; `None` for the working tree.
    pub commit: Option<String>,
    pub line: u32,
    pub column: u32,
    pub author: Option<String>,
    pub date: Option<Timestamp>,
    /// The identity the secret unlocks, when the scanner could link it.
    pub identity: Option<String>,
    /// The inventory credential the secret is part of, when linked and more than its key id:
    /// the leaked-secret finding is the identity's and this credential's, fixed when no
    /// location of the credential is left.
    pub credential: Option<String>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Adds usage aggregates inside `tx`: repeats within the batch are folded first so each key is
/// written once; counts and errors are summed, `first_seen` keeps the earliest, `last_seen` the
/// latest. Shared by `record_usage` and `apply_events`.
pub(crate) async fn add_usage<'a>(
    tx: &mut WriteTx,
    usage: impl Iterator<Item = &'a UsageRecord>,
) -> Result<(), StoreError> {
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut merged: BTreeMap<Key<'_>, (Timestamp, Timestamp, u64, u64)> = BTreeMap::new();
    for u in usage {
        let key = (
            u.identity.as_str(),
            u.credential.as_deref().unwrap_or(""),
            u.action.as_str(),
            u.resource.as_deref().unwrap_or(""),
        );
        let entry = merged
            .entry(key)
            .or_insert((u.first_seen, u.last_seen, 0, 0));
        entry.0 = entry.0.min(u.first_seen);
        entry.1 = entry.1.max(u.last_seen);
        entry.2 = entry.2.saturating_add(u.count);
        entry.3 = entry.3.saturating_add(u.errors);
    }
    let merged: Vec<_> = merged.into_iter().collect();
    const COLS: usize = 8;
    for chunk in merged.chunks(MAX_BIND_PARAMS / COLS) {
        let sql = format!(
            "INSERT INTO usage (identity, credential, action, resource, first_seen, \
             last_seen, count, errors) VALUES {} \
             ON CONFLICT (identity, credential, action, resource) DO UPDATE SET \
             first_seen = CASE WHEN excluded.first_seen < usage.first_seen \
                 THEN excluded.first_seen ELSE usage.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > usage.last_seen \
                 THEN excluded.last_seen ELSE usage.last_seen END, \
             count = usage.count + excluded.count, \
             errors = usage.errors + excluded.errors",
            dialect::value_rows(chunk.len(), COLS)
        );
        let mut query = tx.query(&sql);
        for ((identity, credential, action, resource), (first, last, count, errors)) in chunk {
            query = query
                .bind(*identity)
                .bind(*credential)
                .bind(*action)
                .bind(*resource)
                .bind(dialect::timestamp(first))
                .bind(dialect::timestamp(last))
                .bind(to_i64(*count))
                .bind(to_i64(*errors));
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Stores baselines inside `tx`, replacing old ones; the last of repeated identities wins.
pub(crate) async fn put_baselines(
    tx: &mut WriteTx,
    baselines: &[(String, Vec<u8>)],
) -> Result<(), StoreError> {
    let mut latest: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for (identity, data) in baselines {
        latest.insert(identity.as_str(), data.as_slice());
    }
    let rows: Vec<_> = latest.into_iter().collect();
    const COLS: usize = 2;
    for chunk in rows.chunks(MAX_BIND_PARAMS / COLS) {
        let sql = format!(
            "INSERT INTO baselines (identity, data) VALUES {} \
             ON CONFLICT (identity) DO UPDATE SET data = excluded.data",
            dialect::value_rows(chunk.len(), COLS)
        );
        let mut query = tx.query(&sql);
        for (identity, data) in chunk {
            query = query.bind(*identity).bind(*data);
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

impl Store {
    /// Records leak locations; re-recording one keeps it once and fills in a newly known
    /// identity link or commit metadata.
    pub async fn record_secret_occurrences(
        &self,
        occurrences: &[SecretOccurrence],
    ) -> Result<(), StoreError> {
        // Repeats within the batch are folded as consecutive upserts would have left them.
        type Key<'a> = (&'a str, &'a str, &'a str, u32, u32);
        let mut merged: Vec<SecretOccurrence> = Vec::with_capacity(occurrences.len());
        let mut index: HashMap<Key<'_>, usize> = HashMap::with_capacity(occurrences.len());
        for o in occurrences {
            let key = (
                o.fingerprint.as_str(),
                o.path.as_str(),
                o.commit.as_deref().unwrap_or(""),
                o.line,
                o.column,
            );
            match index.get(&key).and_then(|&i| merged.get_mut(i)) {
                Some(earlier) => {
                    earlier.rule.clone_from(&o.rule);
                    earlier.author = o.author.clone().or(earlier.author.take());
                    earlier.date = o.date.or(earlier.date);
                    earlier.identity = o.identity.clone().or(earlier.identity.take());
                    earlier.credential = o.credential.clone().or(earlier.credential.take());
                }
                None => {
                    index.insert(key, merged.len());
                    merged.push(o.clone());
                }
            }
        }
        let mut tx = self.begin_write().await?;
        // Where secrets were seen is shown beside an assessment, not read by it.
        tx.changes_inputs = false;
        const COLS: usize = 10;
        for chunk in merged.chunks(MAX_BIND_PARAMS / COLS) {
            let sql = format!(
                "INSERT INTO secret_occurrences (fingerprint, rule, path, git_commit, line, col, \
                 author, committed, identity, credential) VALUES {} \
                 ON CONFLICT (fingerprint, path, git_commit, line, col) DO UPDATE SET \
                 rule = excluded.rule, \
                 author = COALESCE(excluded.author, secret_occurrences.author), \
                 committed = COALESCE(excluded.committed, secret_occurrences.committed), \
                 identity = COALESCE(excluded.identity, secret_occurrences.identity), \
                 credential = COALESCE(excluded.credential, secret_occurrences.credential)",
                dialect::value_rows(chunk.len(), COLS)
            );
            let mut query = tx.query(&sql);
            for o in chunk {
                query = query
                    .bind(o.fingerprint.as_str())
                    .bind(o.rule.as_str())
                    .bind(o.path.as_str())
                    .bind(o.commit.as_deref().unwrap_or(""))
                    .bind(i64::from(o.line))
                    .bind(i64::from(o.column))
                    .bind(o.author.as_deref())
                    .bind(o.date.as_ref().map(dialect::timestamp))
                    .bind(o.identity.as_deref())
                    .bind(o.credential.as_deref());
            }
            query.execute(tx.conn()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// After a complete rescan of the working-tree paths under `roots` (paths as the scan names
    /// them), forgets the locations there that `found` (this scan's occurrences) no longer holds
    /// and that are not in `unscanned` (files the scan skipped). History locations are kept: a
    /// secret once committed stays in history until history is rewritten.
    ///
    /// Returns the leaks left with no location at all, whose findings are then fixed, as
    /// (leaked, identity) pairs: `leaked` is the credential when the forgotten locations named
    /// one (no location of any secret of it is left for the identity), else the secret's
    /// fingerprint (no location of it is left: locations recorded before leaks were tied to
    /// credentials, and key ids). One transaction.
    pub async fn prune_secret_occurrences(
        &self,
        roots: &[String],
        found: &[SecretOccurrence],
        unscanned: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let under = |path: &str| {
            roots.iter().any(|root| {
                let root = root.trim_end_matches('/');
                path == root
                    || path
                        .strip_prefix(root)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
        };
        let kept: std::collections::HashSet<(&str, &str, u32, u32)> = found
            .iter()
            .filter(|o| o.commit.is_none())
            .map(|o| (o.fingerprint.as_str(), o.path.as_str(), o.line, o.column))
            .collect();
        let unscanned: std::collections::HashSet<&str> =
            unscanned.iter().map(String::as_str).collect();
        let mut tx = self.begin_write().await?;
        tx.changes_inputs = false;
        let rows = tx
            .query(
                "SELECT fingerprint, path, line, col, identity, credential \
                 FROM secret_occurrences WHERE git_commit = ''",
            )
            .fetch_all(tx.conn())
            .await?;
        /// A forgotten location: its key, and the identity and credential it was linked to.
        struct Stale {
            fingerprint: String,
            path: String,
            line: i64,
            col: i64,
            identity: Option<String>,
            credential: Option<String>,
        }
        let mut stale: Vec<Stale> = Vec::new();
        for r in rows {
            let row = Stale {
                fingerprint: r.try_get(0)?,
                path: r.try_get(1)?,
                line: r.try_get(2)?,
                col: r.try_get(3)?,
                identity: r.try_get(4)?,
                credential: r.try_get(5)?,
            };
            let key = (
                row.fingerprint.as_str(),
                row.path.as_str(),
                u32::try_from(row.line).unwrap_or(0),
                u32::try_from(row.col).unwrap_or(0),
            );
            if under(&row.path) && !unscanned.contains(row.path.as_str()) && !kept.contains(&key) {
                stale.push(row);
            }
        }
        for row in &stale {
            tx.query(
                "DELETE FROM secret_occurrences WHERE fingerprint = ? AND path = ? \
                 AND git_commit = '' AND line = ? AND col = ?",
            )
            .bind(row.fingerprint.as_str())
            .bind(row.path.as_str())
            .bind(row.line)
            .bind(row.col)
            .execute(tx.conn())
            .await?;
        }
        // (credential or fingerprint, identity, whether it is a credential)
        let mut candidates: Vec<(String, String, bool)> = stale
            .into_iter()
            .filter_map(|row| {
                let identity = row.identity?;
                Some(match row.credential {
                    Some(credential) => (credential, identity, true),
                    None => (row.fingerprint, identity, false),
                })
            })
            .collect();
        candidates.sort();
        candidates.dedup();
        let mut gone = Vec::new();
        for (leaked, identity, is_credential) in candidates {
            let sql = if is_credential {
                "SELECT COUNT(*) FROM secret_occurrences WHERE credential = ? AND identity = ?"
            } else {
                "SELECT COUNT(*) FROM secret_occurrences WHERE fingerprint = ? AND identity = ?"
            };
            let left: i64 = tx
                .query(sql)
                .bind(leaked.as_str())
                .bind(identity.as_str())
                .fetch_one(tx.conn())
                .await?
                .try_get(0)?;
            if left == 0 {
                gone.push((leaked, identity));
            }
        }
        tx.commit().await?;
        Ok(gone)
    }

    /// A page of every leak location, linked ones first (by identity), then by path, commit
    /// and position; `offset` rows skipped. With how many there are in all.
    pub async fn secret_occurrences_page(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<SecretOccurrence>, u64), StoreError> {
        let total: i64 = self
            .query("SELECT COUNT(*) FROM secret_occurrences")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let rows = self
            .query(
                "SELECT fingerprint, rule, path, git_commit, line, col, author, committed, identity, \
                 credential FROM secret_occurrences \
                 ORDER BY CASE WHEN identity IS NULL THEN 1 ELSE 0 END, identity, path, git_commit, \
                 line, col, fingerprint LIMIT ? OFFSET ?",
            )
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(occurrence(&r)?);
        }
        Ok((out, u64::try_from(total).unwrap_or(0)))
    }

    /// Leak locations linked to an identity, by path, commit and position.
    pub async fn secret_occurrences_for_identity(
        &self,
        identity: &str,
    ) -> Result<Vec<SecretOccurrence>, StoreError> {
        let rows = self.query(
            "SELECT fingerprint, rule, path, git_commit, line, col, author, committed, identity, \
             credential FROM secret_occurrences WHERE identity = ? \
             ORDER BY path, git_commit, line, col",
        )
        .bind(identity)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(occurrence(&r)?);
        }
        Ok(out)
    }

    /// Adds usage aggregates: counts and errors are summed, `first_seen` keeps the earliest,
    /// `last_seen` the latest.
    pub async fn record_usage(&self, usage: &[UsageRecord]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // Usage aggregates feed right-sizing, not posture (last use is raised separately).
        tx.changes_inputs = false;
        add_usage(&mut tx, usage.iter()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Usage of one identity, most used first, optionally only aggregates seen at or after
    /// `since`.
    pub async fn usage_for(
        &self,
        identity: &str,
        since: Option<Timestamp>,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        let since = since.map(|s| dialect::timestamp(&s)).unwrap_or_default();
        let rows = self.query(
            "SELECT identity, credential, action, resource, first_seen, last_seen, count, errors \
             FROM usage WHERE identity = ? AND last_seen >= ? \
             ORDER BY count DESC, action, resource, credential",
        )
        .bind(identity)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let identity: String = r.try_get(0)?;
            let credential: String = r.try_get(1)?;
            let resource: String = r.try_get(3)?;
            let first: String = r.try_get(4)?;
            let last: String = r.try_get(5)?;
            out.push(UsageRecord {
                first_seen: dialect::parse_timestamp("usage", &identity, &first)?,
                last_seen: dialect::parse_timestamp("usage", &identity, &last)?,
                identity,
                credential: (!credential.is_empty()).then_some(credential),
                action: r.try_get(2)?,
                resource: (!resource.is_empty()).then_some(resource),
                count: to_u64(r.try_get(6)?),
                errors: to_u64(r.try_get(7)?),
            });
        }
        Ok(out)
    }

    /// Stores an identity's behaviour baseline (opaque to the store), replacing the old one.
    pub async fn put_baseline(&self, identity: &str, data: &[u8]) -> Result<(), StoreError> {
        self.query(
            "INSERT INTO baselines (identity, data) VALUES (?, ?) \
             ON CONFLICT (identity) DO UPDATE SET data = excluded.data",
        )
        .bind(identity)
        .bind(data)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One identity's stored baseline, if it has one.
    pub async fn baseline(&self, identity: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .query("SELECT data FROM baselines WHERE identity = ?")
            .bind(identity)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    /// Every stored baseline as (identity, bytes).
    pub async fn baselines(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows = self
            .query("SELECT identity, data FROM baselines ORDER BY identity")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Whether a log file with this content (hex SHA-256) was ingested before.
    pub async fn ingested(&self, content_sha256: &str) -> Result<bool, StoreError> {
        let row = self
            .query("SELECT 1 FROM ingested WHERE sha256 = ?")
            .bind(content_sha256.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Whether the file at `path` was ingested with this size and modification time: the same
    /// file, unchanged, known without reading it.
    pub async fn ingested_unchanged(
        &self,
        path: &str,
        size: u64,
        modified: Timestamp,
    ) -> Result<bool, StoreError> {
        let row = self
            .query("SELECT 1 FROM ingested WHERE path = ? AND size = ? AND modified = ?")
            .bind(path)
            .bind(to_i64(size))
            .bind(dialect::timestamp(&modified))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Records that a log file was ingested, so re-ingesting it is skipped. Idempotent: the
    /// same content seen again keeps its first event count and time, and takes the newest path
    /// and stamp.
    pub async fn mark_ingested(
        &self,
        file: &IngestedFile<'_>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.query(
            "INSERT INTO ingested (sha256, path, events, ingested, size, modified) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (sha256) DO UPDATE SET \
             path = excluded.path, size = excluded.size, modified = excluded.modified",
        )
        .bind(file.sha256.to_ascii_lowercase())
        .bind(file.path)
        .bind(to_i64(file.events))
        .bind(dialect::timestamp(&at))
        .bind(file.size.map(to_i64))
        .bind(file.modified.as_ref().map(dialect::timestamp))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A log file whose events were counted: its content hash and, when known, the size and
/// modification time it had, which let a later run skip it without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestedFile<'a> {
    pub path: &'a str,
    /// SHA-256 of its raw bytes (hex).
    pub sha256: &'a str,
    pub events: u64,
    pub size: Option<u64>,
    pub modified: Option<Timestamp>,
}

/// A `secret_occurrences` row (fingerprint, rule, path, git_commit, line, col, author,
/// committed, identity, credential) as read.
fn occurrence(r: &sqlx::any::AnyRow) -> Result<SecretOccurrence, StoreError> {
    let fingerprint: String = r.try_get(0)?;
    let commit: String = r.try_get(3)?;
    let line: i64 = r.try_get(4)?;
    let column: i64 = r.try_get(5)?;
    let date = dialect::parse_opt_timestamp("secret_occurrences", &fingerprint, r.try_get(7)?)?;
    Ok(SecretOccurrence {
        rule: r.try_get(1)?,
        path: r.try_get(2)?,
        commit: (!commit.is_empty()).then_some(commit),
        line: u32::try_from(line).unwrap_or(0),
        column: u32::try_from(column).unwrap_or(0),
        author: r.try_get(6)?,
        date,
        identity: r.try_get(8)?,
        credential: r.try_get(9)?,
        fingerprint,
    })
}
