//! Writing a batch: one transaction, multi-row upserts of new and changed rows, history moves
//! for unchanged ones, removal marks for what complete snapshots no longer list.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::Row;
use warrant_core::{Inventory, Timestamp};

use super::prepare::{BatchScopes, Prepared, prepare_table};
use super::{CREDENTIALS, IDENTITIES, ImportStats, KindStats, TABLES, Table};
use crate::dialect::{self, MAX_BIND_PARAMS};
use crate::{Store, StoreError, WriteTx};

async fn import_table(
    tx: &mut WriteTx,
    table: &Table,
    rows: &[&Prepared],
    scopes: &[warrant_core::SourceScope],
    at: &str,
) -> Result<KindStats, StoreError> {
    let mut stats = KindStats::default();
    // What the store holds now: key → (hash, currently removed).
    let existing_sql = format!(
        "SELECT key, hash, CASE WHEN removed_at IS NULL THEN 0 ELSE 1 END FROM {}",
        table.name
    );
    let mut existing: HashMap<String, (String, bool)> = HashMap::new();
    for row in tx.query(&existing_sql).fetch_all(tx.conn()).await? {
        let removed: i64 = row.try_get(2)?;
        existing.insert(row.try_get(0)?, (row.try_get(1)?, removed != 0));
    }

    let mut upserts: Vec<&Prepared> = Vec::new();
    let mut touched: Vec<&str> = Vec::new();
    for row in rows {
        match existing.get(&row.key) {
            None => {
                stats.new += 1;
                upserts.push(row);
            }
            Some((hash, removed)) if *hash != row.hash || *removed => {
                stats.changed += 1;
                upserts.push(row);
            }
            Some(_) => {
                stats.unchanged += 1;
                touched.push(&row.key);
            }
        }
    }

    if table.name == IDENTITIES.name {
        record_owner_changes(tx, &upserts, &existing, at).await?;
    }

    // New and changed rows: one multi-row upsert per chunk. `first_seen` is only written by
    // the INSERT branch, so an update keeps it.
    let mut cols: Vec<&str> = vec!["key"];
    cols.extend(table.extra);
    cols.extend(["source", "scope", "data", "hash", "first_seen", "last_seen"]);
    // History only widens: an import dated before earlier ones (a back-dated `--as-of`) moves
    // `first_seen` back rather than `last_seen` back.
    let mut updates: Vec<String> = cols
        .iter()
        .filter(|c| !matches!(**c, "key" | "first_seen" | "last_seen"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    updates.push(format!(
        "first_seen = CASE WHEN excluded.first_seen < {t}.first_seen \
         THEN excluded.first_seen ELSE {t}.first_seen END",
        t = table.name
    ));
    updates.push(format!(
        "last_seen = CASE WHEN excluded.last_seen > {t}.last_seen \
         THEN excluded.last_seen ELSE {t}.last_seen END",
        t = table.name
    ));
    let per_chunk = (MAX_BIND_PARAMS / cols.len()).max(1);
    for chunk in upserts.chunks(per_chunk) {
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {} ON CONFLICT (key) DO UPDATE SET {}, removed_at = NULL",
            table.name,
            cols.join(", "),
            dialect::value_rows(chunk.len(), cols.len()),
            updates.join(", ")
        );
        let mut query = tx.query(&sql);
        for row in chunk {
            query = query.bind(row.key.as_str());
            for e in &row.extra {
                query = query.bind(e.as_deref());
            }
            query = query
                .bind(row.source.as_str())
                .bind(row.scope.as_str())
                .bind(row.data.as_str())
                .bind(row.hash.as_str())
                .bind(at)
                .bind(at);
        }
        query.execute(tx.conn()).await?;
    }

    // Unchanged rows: only their history moves.
    for chunk in touched.chunks(MAX_BIND_PARAMS - 4) {
        let sql = format!(
            "UPDATE {} SET \
             first_seen = CASE WHEN first_seen > ? THEN ? ELSE first_seen END, \
             last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END \
             WHERE key IN ({})",
            table.name,
            dialect::placeholders(chunk.len())
        );
        let mut query = tx.query(&sql).bind(at).bind(at).bind(at).bind(at);
        for key in chunk {
            query = query.bind(*key);
        }
        query.execute(tx.conn()).await?;
    }

    // Complete snapshots: what the store holds from that scope and the batch lacks is gone.
    if !scopes.is_empty() {
        let present: HashSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        let select = format!(
            "SELECT key FROM {} WHERE source = ? AND scope = ? AND removed_at IS NULL",
            table.name
        );
        let mut gone: Vec<String> = Vec::new();
        for scope in scopes {
            for row in tx
                .query(&select)
                .bind(scope.source.as_str())
                .bind(scope.scope.as_str())
                .fetch_all(tx.conn())
                .await?
            {
                let key: String = row.try_get(0)?;
                if !present.contains(key.as_str()) {
                    gone.push(key);
                }
            }
        }
        gone.sort();
        gone.dedup();
        stats.removed = gone.len() as u64;
        for chunk in gone.chunks(MAX_BIND_PARAMS - 1) {
            let sql = format!(
                "UPDATE {} SET removed_at = ? WHERE key IN ({})",
                table.name,
                dialect::placeholders(chunk.len())
            );
            let mut query = tx.query(&sql).bind(at);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            query.execute(tx.conn()).await?;
        }
    }
    Ok(stats)
}

/// The owners an identity record names (`owners` of its JSON), as JSON text for the audit;
/// `None` when the record cannot be read.
fn owners_json(data: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    Some(
        value
            .get("owners")
            .cloned()
            .unwrap_or(serde_json::Value::Array(Vec::new()))
            .to_string(),
    )
}

/// Ownership changes are history, not overwrites: for each changed identity whose owners (as
/// its provider records them) differ from what the store held, an `owner.provider` audit row
/// keeps the owners before and after. A new identity's first owners are not a change.
async fn record_owner_changes(
    tx: &mut WriteTx,
    upserts: &[&Prepared],
    existing: &HashMap<String, (String, bool)>,
    at: &str,
) -> Result<(), StoreError> {
    let changed: Vec<&Prepared> = upserts
        .iter()
        .copied()
        .filter(|r| existing.contains_key(&r.key))
        .collect();
    for chunk in changed.chunks(MAX_BIND_PARAMS) {
        let sql = format!(
            "SELECT key, data FROM identities WHERE key IN ({})",
            dialect::placeholders(chunk.len())
        );
        let mut query = tx.query(&sql);
        for row in chunk {
            query = query.bind(row.key.as_str());
        }
        let mut before: HashMap<String, String> = HashMap::new();
        for row in query.fetch_all(tx.conn()).await? {
            let data: String = row.try_get(1)?;
            if let Some(owners) = owners_json(&data) {
                before.insert(row.try_get(0)?, owners);
            }
        }
        for row in chunk {
            let (Some(old), Some(new)) = (before.get(&row.key), owners_json(&row.data)) else {
                continue;
            };
            if *old != new {
                crate::governance::audit(
                    tx,
                    at,
                    &format!("provider:{}", row.source),
                    "owner.provider",
                    &row.key,
                    Some(old),
                    Some(&new),
                )
                .await?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Upserts every record of `batch` in one transaction and marks records of the batch's
    /// complete scopes that it no longer lists as removed (see the module docs for scopes).
    pub async fn import(
        &self,
        batch: &Inventory,
        at: Timestamp,
    ) -> Result<ImportStats, StoreError> {
        self.import_owned(batch.clone(), at).await
    }

    /// [`Store::import`] consuming the batch: each record is dropped once serialised, so a
    /// large import never holds its records and their JSON whole at the same time.
    pub async fn import_owned(
        &self,
        batch: Inventory,
        at: Timestamp,
    ) -> Result<ImportStats, StoreError> {
        self.import_observed(batch, at, &|_| {}).await
    }

    /// [`Store::import_owned`], calling `written` with the number of the batch's records
    /// written so far after each table (for progress; the total is the batch's record count).
    pub async fn import_observed(
        &self,
        mut batch: Inventory,
        at: Timestamp,
        written: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportStats, StoreError> {
        let scopes = BatchScopes::new(&batch);
        let mut done = 0u64;
        let at = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        let mut stats = ImportStats::default();
        for table in TABLES {
            let started = std::time::Instant::now();
            let all = prepare_table(&mut batch, &scopes, table)?;
            // A batch may repeat a record.
            let rows = dialect::last_per_key(&all, |r| r.key.as_str());
            let prepared = started.elapsed();
            let s = import_table(&mut tx, table, &rows, &batch.scopes, &at).await?;
            done += all.len() as u64;
            written(done);
            tracing::debug!(
                table = table.name,
                rows = rows.len(),
                ?prepared,
                written = ?started.elapsed().saturating_sub(prepared),
                "Table imported."
            );
            let slot = match table.name {
                "identities" => &mut stats.identities,
                "credentials" => &mut stats.credentials,
                "policies" => &mut stats.policies,
                "attachments" => &mut stats.attachments,
                "trust_edges" => &mut stats.trust_edges,
                "resources" => &mut stats.resources,
                "owners" => &mut stats.owners,
                _ => &mut stats.accounts,
            };
            *slot = s;
        }
        let total = stats.total();
        tx.changes_inputs = total.new + total.changed + total.removed > 0;
        tx.commit().await?;
        tracing::info!(%stats, "Inventory imported.");
        Ok(stats)
    }

    /// Raises identities' and credentials' last use to what activity logs saw; never lowers it.
    /// Each update is (identity id, credential id if the log names one, instant of use).
    pub async fn touch_last_used(
        &self,
        updates: &[(String, Option<String>, Timestamp)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        raise_last_used(
            &mut tx,
            updates
                .iter()
                .map(|(identity, credential, at)| (identity.as_str(), credential.as_deref(), *at)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Raises identities' (and credentials') last use inside `tx`; never lowers it. Each update is
/// (identity, credential if known, instant of use). Updates are folded to the latest instant per
/// row and written in multi-row statements. Shared by `touch_last_used` and `apply_events`.
pub(crate) async fn raise_last_used<'a>(
    tx: &mut WriteTx,
    updates: impl IntoIterator<Item = (&'a str, Option<&'a str>, Timestamp)>,
) -> Result<(), StoreError> {
    let mut identities: BTreeMap<&str, Timestamp> = BTreeMap::new();
    let mut credentials: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for (identity, credential, at) in updates {
        let latest = identities.entry(identity).or_insert(at);
        *latest = (*latest).max(at);
        if let Some(credential) = credential {
            let latest = credentials.entry(credential).or_insert(at);
            *latest = (*latest).max(at);
        }
    }
    for (table, latest) in [(&IDENTITIES, identities), (&CREDENTIALS, credentials)] {
        let rows: Vec<(&str, String)> = latest
            .into_iter()
            .map(|(key, at)| (key, dialect::timestamp(&at)))
            .collect();
        for chunk in rows.chunks(MAX_BIND_PARAMS / 2) {
            // A VALUES list names its columns column1, column2 on both backends.
            let sql = format!(
                "UPDATE {t} SET activity_last_used = v.column2 FROM (VALUES {}) AS v \
                 WHERE {t}.key = v.column1 \
                 AND ({t}.activity_last_used IS NULL OR {t}.activity_last_used < v.column2)",
                dialect::value_rows(chunk.len(), 2),
                t = table.name
            );
            let mut query = tx.query(&sql);
            for (key, at) in chunk {
                query = query.bind(*key).bind(at.as_str());
            }
            query.execute(tx.conn()).await?;
        }
    }
    Ok(())
}
