//! Exactly-once application of activity events delivered at least once (stream consumers,
//! re-published files).
//!
//! [`Store::apply_events`] writes, in one transaction, each event's key into the
//! `activity_events_seen` ledger and, only for keys new to it, the event's usage aggregates,
//! last-used updates and per-identity count. A redelivered event therefore changes nothing, and a
//! consumer killed between commit and acknowledgement loses nothing either: the event comes back
//! and is recognised as a duplicate.
//!
//! Several processes may share one SQLite file (WAL, busy timeout and `BEGIN IMMEDIATE` make
//! writers queue); a cluster of consumers on several machines uses the PostgreSQL backend, where
//! writers take turns on an advisory lock and the same statements (`ON CONFLICT … DO NOTHING
//! RETURNING`) give the same guarantee.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use warrant_core::{Timestamp, UsageRecord};

use crate::dialect::{self, MAX_BIND_PARAMS};
use crate::{Store, StoreError};

/// Meta key holding the ledger's prune cut-off (see [`Store::prune_seen_before`]).
const PRUNED_BEFORE_KEY: &str = "activity_seen_pruned_before";

/// One event as the store applies it: its identity in the ledger and what it contributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedEvent {
    /// The provider's unique event id (`warrant_activity::Event::id`).
    pub event_id: String,
    /// The log kind (`warrant_activity::LogKind` in snake_case); ids are unique within a kind.
    pub log: String,
    /// When the event happened.
    pub time: Timestamp,
    /// The inventory identity it was attributed to (or a `shadow:` key), if any.
    pub identity: Option<String>,
    /// The credential it was made with, when attribution knows it; its last use is raised too.
    pub credential: Option<String>,
    /// Usage the event adds (usually one record with `count` 1).
    pub usage: Vec<UsageRecord>,
}

/// What one [`Store::apply_events`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// Events applied for the first time.
    pub applied: u64,
    /// Events already in the ledger (redeliveries, repeats within the batch): nothing changed.
    pub duplicates: u64,
    /// Events older than the ledger's prune cut-off: refused, since the ledger can no longer
    /// tell whether they were applied before.
    pub expired: u64,
    /// Events refused as malformed (empty id or log kind, usage with more errors than calls or
    /// first seen after last seen); the rest of the batch is applied regardless.
    pub rejected: u64,
    /// Positions in the batch of the events applied now, for work that must see each event once
    /// (baselines, detections).
    pub applied_indices: Vec<usize>,
}

/// Events applied per identity (see [`Store::activity_counts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCount {
    /// `None` for events attributed to no identity.
    pub identity: Option<String>,
    pub events: u64,
    pub first_event: Timestamp,
    pub last_event: Timestamp,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Why an event cannot be applied, checked before the transaction so that one bad event (a
/// CHECK constraint violation) cannot abort the batch.
fn malformed(event: &AppliedEvent) -> Option<&'static str> {
    if event.event_id.is_empty() {
        return Some("empty event id");
    }
    if event.log.is_empty() {
        return Some("empty log kind");
    }
    for u in &event.usage {
        if u.identity.is_empty() || u.action.is_empty() {
            return Some("usage without identity or action");
        }
        if u.errors > u.count {
            return Some("usage with more errors than calls");
        }
        if u.first_seen > u.last_seen {
            return Some("usage first seen after last seen");
        }
    }
    None
}

impl Store {
    /// Applies a batch of events exactly once, in one transaction: each event's key
    /// (`log`, `event_id`) goes into the ledger, and only events new to it add their usage
    /// (counts and errors summed, first/last seen widened, as [`Store::record_usage`]), raise
    /// their identity's and credential's last use (as [`Store::touch_last_used`]) and count for
    /// [`Store::activity_counts`]. Re-applying a batch changes nothing.
    pub async fn apply_events(&self, batch: &[AppliedEvent]) -> Result<ApplyOutcome, StoreError> {
        let mut outcome = ApplyOutcome::default();
        let mut tx = self.begin_write().await?;
        let pruned_before: Option<String> = tx
            .query("SELECT value FROM meta WHERE key = ?")
            .bind(PRUNED_BEFORE_KEY)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;

        // Events that may be new: well-formed, not expired, first of their key in the batch.
        let mut candidates: Vec<(usize, &AppliedEvent, String)> = Vec::new();
        let mut keys_in_batch: HashSet<(&str, &str)> = HashSet::new();
        for (index, event) in batch.iter().enumerate() {
            if let Some(reason) = malformed(event) {
                tracing::warn!(
                    log = %event.log,
                    event_id = %event.event_id,
                    index,
                    reason,
                    "activity event refused"
                );
                outcome.rejected += 1;
                continue;
            }
            let time = dialect::timestamp(&event.time);
            if pruned_before
                .as_deref()
                .is_some_and(|cut| time.as_str() < cut)
            {
                outcome.expired += 1;
                continue;
            }
            if !keys_in_batch.insert((event.log.as_str(), event.event_id.as_str())) {
                outcome.duplicates += 1;
                continue;
            }
            candidates.push((index, event, time));
        }

        // The ledger, in multi-row statements; `RETURNING` names the keys it did not hold.
        let mut inserted: HashSet<(String, String)> = HashSet::with_capacity(candidates.len());
        const COLS: usize = 4;
        for chunk in candidates.chunks(MAX_BIND_PARAMS / COLS) {
            let sql = format!(
                "INSERT INTO activity_events_seen (log, event_id, event_time, identity) \
                 VALUES {} ON CONFLICT (log, event_id) DO NOTHING RETURNING log, event_id",
                dialect::value_rows(chunk.len(), COLS)
            );
            let mut query = tx.query(&sql);
            for (_, event, time) in chunk {
                query = query
                    .bind(event.log.as_str())
                    .bind(event.event_id.as_str())
                    .bind(time.as_str())
                    .bind(event.identity.as_deref().unwrap_or(""));
            }
            for row in query.fetch_all(tx.conn()).await? {
                inserted.insert((row.try_get(0)?, row.try_get(1)?));
            }
        }

        let mut usage: Vec<&UsageRecord> = Vec::new();
        let mut last_used: BTreeMap<(&str, Option<&str>), Timestamp> = BTreeMap::new();
        let mut counts: BTreeMap<&str, (u64, Timestamp, Timestamp)> = BTreeMap::new();
        for (index, event, _) in candidates {
            if !inserted.contains(&(event.log.clone(), event.event_id.clone())) {
                outcome.duplicates += 1;
                continue;
            }
            outcome.applied += 1;
            outcome.applied_indices.push(index);

            usage.extend(&event.usage);
            if let Some(identity) = event.identity.as_deref() {
                let at = last_used
                    .entry((identity, event.credential.as_deref()))
                    .or_insert(event.time);
                *at = (*at).max(event.time);
            }
            let count = counts
                .entry(event.identity.as_deref().unwrap_or(""))
                .or_insert((0, event.time, event.time));
            count.0 += 1;
            count.1 = count.1.min(event.time);
            count.2 = count.2.max(event.time);
        }

        crate::usage::add_usage(&mut tx, usage.into_iter()).await?;
        crate::inventory::raise_last_used(
            &mut tx,
            last_used
                .into_iter()
                .map(|((identity, credential), at)| (identity, credential, at)),
        )
        .await?;

        let counts: Vec<_> = counts.into_iter().collect();
        for chunk in counts.chunks(MAX_BIND_PARAMS / COLS) {
            let sql = format!(
                "INSERT INTO activity_counts (identity, events, first_event, last_event) \
                 VALUES {} ON CONFLICT (identity) DO UPDATE SET \
                 events = activity_counts.events + excluded.events, \
                 first_event = CASE WHEN excluded.first_event < activity_counts.first_event \
                     THEN excluded.first_event ELSE activity_counts.first_event END, \
                 last_event = CASE WHEN excluded.last_event > activity_counts.last_event \
                     THEN excluded.last_event ELSE activity_counts.last_event END",
                dialect::value_rows(chunk.len(), COLS)
            );
            let mut query = tx.query(&sql);
            for (identity, (events, first, last)) in chunk {
                query = query
                    .bind(*identity)
                    .bind(to_i64(*events))
                    .bind(dialect::timestamp(first))
                    .bind(dialect::timestamp(last));
            }
            query.execute(tx.conn()).await?;
        }

        tx.commit().await?;
        Ok(outcome)
    }

    /// Distinct events applied per identity (unattributed ones under `None`), by identity.
    /// Unaffected by [`Store::prune_seen_before`].
    pub async fn activity_counts(&self) -> Result<Vec<ActivityCount>, StoreError> {
        let rows = self
            .query(
                "SELECT identity, events, first_event, last_event FROM activity_counts \
             ORDER BY identity",
            )
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let identity: String = r.try_get(0)?;
            let first: String = r.try_get(2)?;
            let last: String = r.try_get(3)?;
            out.push(ActivityCount {
                events: to_u64(r.try_get(1)?),
                first_event: dialect::parse_timestamp("activity_counts", &identity, &first)?,
                last_event: dialect::parse_timestamp("activity_counts", &identity, &last)?,
                identity: (!identity.is_empty()).then_some(identity),
            });
        }
        Ok(out)
    }

    /// Ids of the events of one log kind the ledger holds, sorted (diagnostics and tests: which
    /// events were applied; pruned ones are gone).
    pub async fn activity_seen_ids(&self, log: &str) -> Result<Vec<String>, StoreError> {
        let rows = self
            .query("SELECT event_id FROM activity_events_seen WHERE log = ? ORDER BY event_id")
            .bind(log)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Forgets ledger entries of events that happened before `cutoff`, and from then on refuses
    /// events older than the latest cut-off (counted as `expired`), so none can be applied twice.
    /// Choose a cut-off older than anything still in flight or likely to be re-published (e.g.
    /// the stream's retention). Returns the number of entries removed.
    pub async fn prune_seen_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let cutoff = dialect::timestamp(&cutoff);
        let mut tx = self.begin_write().await?;
        let removed = tx
            .query("DELETE FROM activity_events_seen WHERE event_time < ?")
            .bind(&cutoff)
            .execute(tx.conn())
            .await?
            .rows_affected();
        // The cut-off only moves forward: an earlier one would readmit pruned events.
        tx.query(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET \
             value = CASE WHEN excluded.value > meta.value THEN excluded.value ELSE meta.value END",
        )
        .bind(PRUNED_BEFORE_KEY)
        .bind(&cutoff)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(removed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// Same rule as the crate's schema test, for this migration.
    #[test]
    fn migration_columns_are_commented_and_tables_strict() {
        let sql = include_str!("../migrations/sqlite/0003_activity.sql");
        let (mut in_table, mut n_columns, mut n_tables) = (false, 0, 0);
        for line in sql.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with("CREATE TABLE") {
                in_table = true;
                n_tables += 1;
            } else if trimmed.starts_with(')') {
                assert!(trimmed.contains("STRICT"), "table not STRICT: {line}");
                in_table = false;
            } else if in_table && !trimmed.starts_with("PRIMARY KEY") {
                n_columns += 1;
                assert!(trimmed.contains("-- "), "column without a comment: {line}");
            }
        }
        assert_eq!((n_tables, n_columns), (2, 8));
    }

    fn usage(errors: u64, count: u64) -> UsageRecord {
        let t = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().unwrap();
        UsageRecord {
            identity: "arn:aws:iam::1:user/a".into(),
            credential: None,
            action: "s3:GetObject".into(),
            resource: None,
            first_seen: t,
            last_seen: t,
            count,
            errors,
        }
    }

    #[test]
    fn malformed_events_are_named() {
        let ok = AppliedEvent {
            event_id: "e1".into(),
            log: "cloud_trail".into(),
            time: Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().unwrap(),
            identity: None,
            credential: None,
            usage: vec![usage(0, 1)],
        };
        assert_eq!(malformed(&ok), None);
        let mut bad = ok.clone();
        bad.event_id.clear();
        assert_eq!(malformed(&bad), Some("empty event id"));
        let mut bad = ok.clone();
        bad.usage = vec![usage(2, 1)];
        assert_eq!(malformed(&bad), Some("usage with more errors than calls"));
    }
}
