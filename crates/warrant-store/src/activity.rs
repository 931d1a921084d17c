//! Exactly-once application of activity events delivered at least once (stream consumers,
//! re-published files).
//!
//! [`Store::apply_events`] writes, in one transaction, each event's key into the
//! `activity_events_seen` ledger and, only for keys new to it, the event's usage aggregates,
//! last-used updates and per-identity count. A redelivered event therefore changes nothing, and a
//! consumer killed between commit and acknowledgement loses nothing either: the event comes back
//! and is recognised as a duplicate.
//!
//! [`Store::record_activity`] gives the same guarantee to the whole ingest of a batch (usage, last
//! use, baselines, alerts): the caller's planning step runs inside the transaction, on the events
//! the ledger admitted and the baselines read in that transaction.
//!
//! Several processes may share one SQLite file (WAL, busy timeout and `BEGIN IMMEDIATE` make
//! writers queue); a cluster of consumers on several machines uses the PostgreSQL backend, where
//! writers take turns on an advisory lock and the same statements (`ON CONFLICT … DO NOTHING
//! RETURNING`) give the same guarantee.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use warrant_core::{Finding, Timestamp, UsageRecord};

use crate::dialect::{self, MAX_BIND_PARAMS};
use crate::{Store, StoreError, WriteTx};

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

/// One event's key as the ledger sees it, borrowed from whatever form the caller holds.
struct KeyRef<'a> {
    log: &'a str,
    event_id: &'a str,
    time: Timestamp,
    identity: Option<&'a str>,
    /// Why the event cannot be applied, if it cannot.
    malformed: Option<&'static str>,
}

/// Admits a batch into the ledger inside `tx`: refuses malformed and expired events, counts
/// repeats within the batch and keys the ledger already holds as duplicates, inserts the others
/// (multi-row statements) and returns their positions in `applied_indices`.
async fn admit(tx: &mut WriteTx, keys: &[KeyRef<'_>]) -> Result<ApplyOutcome, StoreError> {
    let mut outcome = ApplyOutcome::default();
    let pruned_before: Option<String> = tx
        .query("SELECT value FROM meta WHERE key = ?")
        .bind(PRUNED_BEFORE_KEY)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;

    // Events that may be new: well-formed, not expired, first of their key in the batch.
    let mut candidates: Vec<(usize, &KeyRef<'_>, String)> = Vec::new();
    let mut keys_in_batch: HashSet<(&str, &str)> = HashSet::new();
    for (index, key) in keys.iter().enumerate() {
        if let Some(reason) = key.malformed {
            tracing::warn!(
                log = %key.log,
                event_id = %key.event_id,
                index,
                reason,
                "activity event refused"
            );
            outcome.rejected += 1;
            continue;
        }
        let time = dialect::timestamp(&key.time);
        if pruned_before
            .as_deref()
            .is_some_and(|cut| time.as_str() < cut)
        {
            outcome.expired += 1;
            continue;
        }
        if !keys_in_batch.insert((key.log, key.event_id)) {
            outcome.duplicates += 1;
            continue;
        }
        candidates.push((index, key, time));
    }

    // `RETURNING` names the keys the ledger did not hold.
    let mut inserted: HashSet<(String, String)> = HashSet::with_capacity(candidates.len());
    const COLS: usize = 4;
    for chunk in candidates.chunks(MAX_BIND_PARAMS / COLS) {
        let sql = format!(
            "INSERT INTO activity_events_seen (log, event_id, event_time, identity) \
             VALUES {} ON CONFLICT (log, event_id) DO NOTHING RETURNING log, event_id",
            dialect::value_rows(chunk.len(), COLS)
        );
        let mut query = tx.query(&sql);
        for (_, key, time) in chunk {
            query = query
                .bind(key.log)
                .bind(key.event_id)
                .bind(time.as_str())
                .bind(key.identity.unwrap_or(""));
        }
        for row in query.fetch_all(tx.conn()).await? {
            inserted.insert((row.try_get(0)?, row.try_get(1)?));
        }
    }
    for (index, key, _) in candidates {
        if inserted.contains(&(key.log.to_string(), key.event_id.to_string())) {
            outcome.applied += 1;
            outcome.applied_indices.push(index);
        } else {
            outcome.duplicates += 1;
        }
    }
    Ok(outcome)
}

/// Adds the admitted events to the per-identity counts of [`Store::activity_counts`].
async fn add_counts(
    tx: &mut WriteTx,
    admitted: impl Iterator<Item = (Option<&str>, Timestamp)>,
) -> Result<(), StoreError> {
    let mut counts: BTreeMap<&str, (u64, Timestamp, Timestamp)> = BTreeMap::new();
    for (identity, time) in admitted {
        let count = counts
            .entry(identity.unwrap_or(""))
            .or_insert((0, time, time));
        count.0 += 1;
        count.1 = count.1.min(time);
        count.2 = count.2.max(time);
    }
    let counts: Vec<_> = counts.into_iter().collect();
    const COLS: usize = 4;
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
    Ok(())
}

/// One event's key in the exactly-once ledger, for [`Store::record_activity`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerKey {
    /// The provider's unique event id.
    pub event_id: String,
    /// The log kind (snake_case); ids are unique within a kind.
    pub log: String,
    /// When the event happened (checked against the prune cut-off).
    pub time: Timestamp,
    /// The identity (or `shadow:` key) it was attributed to, if any; counted per identity.
    pub identity: Option<String>,
}

/// What one batch of activity writes, planned by the caller from the batch's events and the
/// stored baselines (see [`Store::record_activity`]).
#[derive(Debug, Clone, Default)]
pub struct ActivityWrites {
    /// Usage aggregates to add (as [`Store::record_usage`]).
    pub usage: Vec<UsageRecord>,
    /// Last-use raises (as [`Store::touch_last_used`]).
    pub last_used: Vec<(String, Option<String>, Timestamp)>,
    /// Baselines to store, replacing the old ones (as [`Store::put_baseline`]).
    pub baselines: Vec<(String, Vec<u8>)>,
    /// Alerts to open or refresh (as [`Store::record_findings`]).
    pub findings: Vec<Finding>,
    /// Owners the events show (people who created identities or their keys), as
    /// [`Store::record_owner_evidence`].
    pub owner_evidence: Vec<crate::OwnerEvidence>,
}

impl Store {
    /// Applies a batch of events exactly once, in one transaction: each event's key
    /// (`log`, `event_id`) goes into the ledger, and only events new to it add their usage
    /// (counts and errors summed, first/last seen widened, as [`Store::record_usage`]), raise
    /// their identity's and credential's last use (as [`Store::touch_last_used`]) and count for
    /// [`Store::activity_counts`]. Re-applying a batch changes nothing.
    pub async fn apply_events(&self, batch: &[AppliedEvent]) -> Result<ApplyOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let keys: Vec<KeyRef<'_>> = batch
            .iter()
            .map(|event| KeyRef {
                log: &event.log,
                event_id: &event.event_id,
                time: event.time,
                identity: event.identity.as_deref(),
                malformed: malformed(event),
            })
            .collect();
        let outcome = admit(&mut tx, &keys).await?;
        let admitted: Vec<&AppliedEvent> = outcome
            .applied_indices
            .iter()
            .filter_map(|&i| batch.get(i))
            .collect();

        let mut last_used: BTreeMap<(&str, Option<&str>), Timestamp> = BTreeMap::new();
        for event in admitted.iter().copied() {
            if let Some(identity) = event.identity.as_deref() {
                let at = last_used
                    .entry((identity, event.credential.as_deref()))
                    .or_insert(event.time);
                *at = (*at).max(event.time);
            }
        }
        crate::usage::add_usage(&mut tx, admitted.iter().copied().flat_map(|e| &e.usage)).await?;
        crate::inventory::raise_last_used(
            &mut tx,
            last_used
                .into_iter()
                .map(|((identity, credential), at)| (identity, credential, at)),
        )
        .await?;
        add_counts(
            &mut tx,
            admitted
                .iter()
                .copied()
                .map(|e| (e.identity.as_deref(), e.time)),
        )
        .await?;
        // Only a new use raises last use, which posture reads.
        tx.changes_inputs = !admitted.is_empty();
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records one batch of activity — usage, last use, baselines and alerts — in one
    /// transaction, exactly once per event when `ledger` names the batch's events.
    ///
    /// Inside the transaction (which holds the store's write turn, so concurrent callers act as
    /// if one ran after the other): the `ledger` keys are admitted as by [`Store::apply_events`]
    /// (new ones recorded and counted, the others reported as duplicates, expired or rejected),
    /// the stored baselines named in `baselines_for` are read, and `plan` is called with the
    /// admission outcome and those baselines; what it returns is written and committed with the
    /// ledger rows. A crash anywhere leaves either all of it or none of it. `plan` must use only
    /// the events of `applied_indices` (positions in `ledger`).
    ///
    /// With an empty `ledger` nothing is admitted and `plan` decides alone what to write (file
    /// ingestion, which remembers files by content instead of events by id). Alerts are recorded
    /// at `findings_at`. `plan` runs while the write turn is held: keep it to computation.
    pub async fn record_activity<T, F>(
        &self,
        ledger: &[LedgerKey],
        baselines_for: &[&str],
        findings_at: Timestamp,
        plan: F,
    ) -> Result<(ApplyOutcome, T), StoreError>
    where
        F: FnOnce(&ApplyOutcome, Vec<(String, Vec<u8>)>) -> (ActivityWrites, T),
    {
        let mut tx = self.begin_write().await?;
        let keys: Vec<KeyRef<'_>> = ledger
            .iter()
            .map(|key| KeyRef {
                log: &key.log,
                event_id: &key.event_id,
                time: key.time,
                identity: key.identity.as_deref(),
                malformed: if key.event_id.is_empty() {
                    Some("empty event id")
                } else if key.log.is_empty() {
                    Some("empty log kind")
                } else {
                    None
                },
            })
            .collect();
        let outcome = admit(&mut tx, &keys).await?;
        add_counts(
            &mut tx,
            outcome
                .applied_indices
                .iter()
                .filter_map(|&i| ledger.get(i))
                .map(|key| (key.identity.as_deref(), key.time)),
        )
        .await?;

        let mut wanted: Vec<&str> = baselines_for.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut baselines = Vec::new();
        for chunk in wanted.chunks(MAX_BIND_PARAMS) {
            let sql = format!(
                "SELECT identity, data FROM baselines WHERE identity IN ({}) ORDER BY identity",
                dialect::placeholders(chunk.len())
            );
            let mut query = tx.query(&sql);
            for identity in chunk {
                query = query.bind(*identity);
            }
            for row in query.fetch_all(tx.conn()).await? {
                baselines.push((row.try_get(0)?, row.try_get(1)?));
            }
        }

        let (writes, planned) = plan(&outcome, baselines);
        // Posture reads last use and open alerts; usage and baselines feed other commands.
        tx.changes_inputs = !writes.last_used.is_empty() || !writes.findings.is_empty();
        crate::usage::add_usage(&mut tx, writes.usage.iter()).await?;
        crate::inventory::raise_last_used(
            &mut tx,
            writes
                .last_used
                .iter()
                .map(|(identity, credential, at)| (identity.as_str(), credential.as_deref(), *at)),
        )
        .await?;
        crate::usage::put_baselines(&mut tx, &writes.baselines).await?;
        crate::findings::upsert_findings(
            &mut tx,
            &dialect::timestamp(&findings_at),
            &writes.findings,
            false,
            &|_| {},
        )
        .await?;
        crate::ownership::add_owner_evidence(&mut tx, &writes.owner_evidence, findings_at).await?;
        tx.commit().await?;
        Ok((outcome, planned))
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
        // Forgetting which events were seen changes nothing an assessment reads.
        tx.changes_inputs = false;
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
