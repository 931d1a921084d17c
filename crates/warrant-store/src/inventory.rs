//! Importing and loading the inventory graph.
//!
//! How records get their snapshot scope is documented on the crate ("Record scopes").

use std::collections::{HashMap, HashSet};
use std::fmt;

use futures_util::TryStreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row, Sqlite, SqliteConnection, Transaction};
use warrant_core::{
    Account, Attachment, Credential, Identity, Inventory, Owner, Policy, Resource, Timestamp,
    TrustEdge,
};

use crate::dialect::{self, MAX_BIND_PARAMS};
use crate::{Store, StoreError};

/// Joins the parts of a composite key; U+001F (unit separator) never occurs in ids.
const KEY_SEP: char = '\u{1f}';

/// Per-kind outcome of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindStats {
    /// Records the store did not hold before.
    pub new: u64,
    /// Records whose content changed, or that came back after being marked removed.
    pub changed: u64,
    /// Records identical to what the store held (only `last_seen` moved).
    pub unchanged: u64,
    /// Records of a complete scope in the batch that the batch no longer lists.
    pub removed: u64,
}

impl KindStats {
    fn add(&mut self, other: KindStats) {
        self.new += other.new;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
    }
}

/// What an import did, per kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    pub identities: KindStats,
    pub credentials: KindStats,
    pub policies: KindStats,
    pub attachments: KindStats,
    pub trust_edges: KindStats,
    pub resources: KindStats,
    pub owners: KindStats,
    pub accounts: KindStats,
}

impl ImportStats {
    /// All kinds summed.
    pub fn total(&self) -> KindStats {
        let mut sum = KindStats::default();
        for k in [
            self.identities,
            self.credentials,
            self.policies,
            self.attachments,
            self.trust_edges,
            self.resources,
            self.owners,
            self.accounts,
        ] {
            sum.add(k);
        }
        sum
    }
}

impl fmt::Display for ImportStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.total();
        write!(
            f,
            "{} new, {} changed, {} unchanged, {} removed records",
            t.new, t.changed, t.unchanged, t.removed
        )
    }
}

/// A stored record with its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRecord<T> {
    pub record: T,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub removed_at: Option<Timestamp>,
}

/// An identity with its history and its credentials (removed ones included, with `removed_at`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredIdentity {
    pub identity: Identity,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub removed_at: Option<Timestamp>,
    pub credentials: Vec<StoredRecord<Credential>>,
}

/// Table layout shared by the eight inventory tables.
struct Table {
    name: &'static str,
    /// Typed columns between `key` and `source`, filled by [`Prepared::extra`].
    extra: &'static [&'static str],
    /// Whether the table has `activity_last_used` (merged into `last_used` on load).
    activity: bool,
}

const IDENTITIES: Table = Table {
    name: "identities",
    extra: &["kind", "provider", "account"],
    activity: true,
};
const CREDENTIALS: Table = Table {
    name: "credentials",
    extra: &["identity"],
    activity: true,
};
const POLICIES: Table = Table {
    name: "policies",
    extra: &[],
    activity: false,
};
const ATTACHMENTS: Table = Table {
    name: "attachments",
    extra: &["identity"],
    activity: false,
};
const TRUST_EDGES: Table = Table {
    name: "trust_edges",
    extra: &["identity"],
    activity: false,
};
const RESOURCES: Table = Table {
    name: "resources",
    extra: &[],
    activity: false,
};
const OWNERS: Table = Table {
    name: "owners",
    extra: &[],
    activity: false,
};
const ACCOUNTS: Table = Table {
    name: "accounts",
    extra: &[],
    activity: false,
};

/// One record ready to be written.
struct Prepared {
    key: String,
    extra: Vec<Option<String>>,
    source: String,
    scope: String,
    data: String,
    hash: String,
}

fn prepare<T: Serialize>(
    table: &'static str,
    key: String,
    extra: Vec<Option<String>>,
    source: &str,
    scope: String,
    record: &T,
) -> Result<Prepared, StoreError> {
    let data = serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
        table,
        key: key.clone(),
        message: format!("cannot serialise: {e}"),
    })?;
    let digest = Sha256::digest(data.as_bytes());
    // 128 bits is plenty to detect a change; the hash is not a security boundary.
    let hash = hex::encode(&digest[..16]);
    let source = if source.is_empty() { "unknown" } else { source };
    Ok(Prepared {
        key,
        extra,
        source: source.to_string(),
        scope,
        data,
        hash,
    })
}

/// Scope of policies every AWS account shares; no snapshot declares it.
const AWS_MANAGED_SCOPE: &str = "aws-managed";

/// The account or cluster named inside an id, for records whose batch gives no better scope.
fn scope_from_id(id: &str) -> Option<String> {
    if let Some((identity, _)) = id.split_once("#inline/") {
        return scope_from_id(identity);
    }
    if let Some(rest) = id.strip_prefix("arn:") {
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        let account = rest.split(':').nth(3)?;
        return (!account.is_empty() && account != "aws").then(|| account.to_string());
    }
    if let Some(rest) = id.strip_prefix("k8s:") {
        return rest.split('/').next().map(str::to_string);
    }
    None
}

fn identity_scope(identity: &Identity) -> String {
    identity
        .account
        .clone()
        .or_else(|| identity.provenance.location.clone())
        .unwrap_or_default()
}

fn opt_key(part: &Option<String>) -> &str {
    part.as_deref().unwrap_or("")
}

/// Scopes and sources derived once per batch (see the module docs).
struct BatchScopes<'a> {
    identity: HashMap<&'a str, String>,
    policy: HashMap<&'a str, String>,
    /// Attachments have no provenance of their own: they belong to the snapshot of the
    /// identity holding them, and so take that identity's source.
    source: HashMap<&'a str, &'a str>,
}

impl<'a> BatchScopes<'a> {
    fn new(batch: &'a Inventory) -> BatchScopes<'a> {
        let mut scopes = BatchScopes {
            identity: batch
                .identities
                .iter()
                .map(|i| (i.id.as_str(), identity_scope(i)))
                .collect(),
            policy: HashMap::new(),
            source: batch
                .identities
                .iter()
                .map(|i| (i.id.as_str(), i.provenance.source.as_str()))
                .collect(),
        };
        for a in &batch.attachments {
            if !scopes.policy.contains_key(a.policy.as_str()) {
                let scope = scopes.of_identity(&a.identity);
                scopes.policy.insert(a.policy.as_str(), scope);
            }
        }
        scopes
    }

    fn of_identity(&self, id: &str) -> String {
        self.identity
            .get(id)
            .cloned()
            .or_else(|| scope_from_id(id))
            .unwrap_or_default()
    }
}

/// Every inventory table, in import order.
const TABLES: [&Table; 8] = [
    &IDENTITIES,
    &CREDENTIALS,
    &POLICIES,
    &ATTACHMENTS,
    &TRUST_EDGES,
    &RESOURCES,
    &OWNERS,
    &ACCOUNTS,
];

/// Serialises the batch's records of one table, deriving keys and scopes. Done one table at
/// a time so only one table's JSON is in memory at once.
fn prepare_table(
    batch: &Inventory,
    scopes: &BatchScopes<'_>,
    table: &Table,
) -> Result<Vec<Prepared>, StoreError> {
    let rows = match table.name {
        "identities" => batch
            .identities
            .iter()
            .map(|i: &Identity| {
                prepare(
                    IDENTITIES.name,
                    i.id.clone(),
                    vec![
                        Some(i.kind.as_str().to_string()),
                        Some(i.provider.as_str().to_string()),
                        i.account.clone(),
                    ],
                    &i.provenance.source,
                    identity_scope(i),
                    i,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "credentials" => batch
            .credentials
            .iter()
            .map(|c: &Credential| {
                prepare(
                    CREDENTIALS.name,
                    c.id.clone(),
                    vec![Some(c.identity.clone())],
                    &c.provenance.source,
                    scopes.of_identity(&c.identity),
                    c,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "policies" => batch
            .policies
            .iter()
            .map(|p: &Policy| {
                // AWS managed policies are shared by every account: they belong to no account's
                // snapshot, so one account dropping them never marks them removed for the others.
                let scope = if p.id.starts_with("arn:aws:iam::aws:policy/") {
                    AWS_MANAGED_SCOPE.to_string()
                } else {
                    scopes
                        .policy
                        .get(p.id.as_str())
                        .cloned()
                        .or_else(|| scope_from_id(&p.id))
                        .or_else(|| p.provenance.location.clone())
                        .unwrap_or_default()
                };
                prepare(
                    POLICIES.name,
                    p.id.clone(),
                    vec![],
                    &p.provenance.source,
                    scope,
                    p,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "attachments" => batch
            .attachments
            .iter()
            .map(|a: &Attachment| {
                let key = [
                    a.identity.as_str(),
                    a.policy.as_str(),
                    opt_key(&a.via),
                    opt_key(&a.scope),
                ]
                .join(&KEY_SEP.to_string());
                let source = scopes
                    .source
                    .get(a.identity.as_str())
                    .copied()
                    .unwrap_or("");
                prepare(
                    ATTACHMENTS.name,
                    key,
                    vec![Some(a.identity.clone())],
                    source,
                    scopes.of_identity(&a.identity),
                    a,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "trust_edges" => batch
            .trust_edges
            .iter()
            .map(|t: &TrustEdge| {
                let key =
                    [t.from.as_str(), t.to.as_str(), t.kind.as_str()].join(&KEY_SEP.to_string());
                prepare(
                    TRUST_EDGES.name,
                    key,
                    vec![Some(t.to.clone())],
                    &t.provenance.source,
                    scopes.of_identity(&t.to),
                    t,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "resources" => batch
            .resources
            .iter()
            .map(|r: &Resource| {
                let scope = r
                    .account
                    .clone()
                    .or_else(|| r.provenance.location.clone())
                    .unwrap_or_default();
                prepare(
                    RESOURCES.name,
                    r.id.clone(),
                    vec![],
                    &r.provenance.source,
                    scope,
                    r,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "owners" => batch
            .owners
            .iter()
            .map(|o: &Owner| {
                prepare(
                    OWNERS.name,
                    o.id.clone(),
                    vec![],
                    &o.provenance.source,
                    o.provenance.location.clone().unwrap_or_default(),
                    o,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "accounts" => batch
            .accounts
            .iter()
            .map(|a: &Account| {
                let key = format!("{}{KEY_SEP}{}", a.provider.as_str(), a.id);
                prepare(
                    ACCOUNTS.name,
                    key,
                    vec![],
                    &a.provenance.source,
                    a.id.clone(),
                    a,
                )
            })
            .collect::<Result<Vec<_>, _>>(),

        _ => Ok(Vec::new()),
    }?;
    Ok(rows)
}

async fn import_table(
    tx: &mut Transaction<'static, Sqlite>,
    table: &Table,
    rows: &[&Prepared],
    scopes: &[warrant_core::SourceScope],
    at: &str,
) -> Result<KindStats, StoreError> {
    let mut stats = KindStats::default();
    // What the store holds now: key → (hash, currently removed).
    let existing_sql = format!(
        "SELECT key, hash, removed_at IS NOT NULL FROM {}",
        table.name
    );
    let mut existing: HashMap<String, (String, bool)> = HashMap::new();
    for row in sqlx::query(AssertSqlSafe(existing_sql))
        .fetch_all(&mut **tx)
        .await?
    {
        existing.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
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
        let mut query = sqlx::query(AssertSqlSafe(sql));
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
        query.execute(&mut **tx).await?;
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
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(at)
            .bind(at)
            .bind(at)
            .bind(at);
        for key in chunk {
            query = query.bind(*key);
        }
        query.execute(&mut **tx).await?;
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
            for row in sqlx::query(AssertSqlSafe(select.clone()))
                .bind(scope.source.as_str())
                .bind(scope.scope.as_str())
                .fetch_all(&mut **tx)
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
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(at);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            query.execute(&mut **tx).await?;
        }
    }
    Ok(stats)
}

/// Calls `each(key, data, activity_last_used)` for every row of one table, in key order.
/// Rows are streamed so that only one record's JSON is held at a time.
async fn for_each_row(
    conn: &mut SqliteConnection,
    filter: &str,
    table: &Table,
    mut each: impl FnMut(String, String, Option<String>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let activity = if table.activity {
        "activity_last_used"
    } else {
        "NULL"
    };
    let sql = format!(
        "SELECT key, data, {activity} FROM {}{filter} ORDER BY key",
        table.name
    );
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *conn);
    while let Some(r) = rows.try_next().await? {
        each(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)?;
    }
    Ok(())
}

fn decode<T: DeserializeOwned>(
    table: &'static str,
    key: &str,
    data: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(data).map_err(|e| StoreError::Corrupt {
        table,
        key: key.to_string(),
        message: e.to_string(),
    })
}

/// Activity may have seen a use later than the source reported; the later one wins.
fn raise(last_used: &mut Option<Timestamp>, activity: Option<Timestamp>) {
    if let Some(seen) = activity
        && last_used.is_none_or(|l| l < seen)
    {
        *last_used = Some(seen);
    }
}

impl Store {
    /// Upserts every record of `batch` in one transaction and marks records of the batch's
    /// complete scopes that it no longer lists as removed (see the module docs for scopes).
    pub async fn import(
        &self,
        batch: &Inventory,
        at: Timestamp,
    ) -> Result<ImportStats, StoreError> {
        let scopes = BatchScopes::new(batch);
        let at = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        let mut stats = ImportStats::default();
        for table in TABLES {
            let started = std::time::Instant::now();
            let all = prepare_table(batch, &scopes, table)?;
            // A batch may repeat a record.
            let rows = dialect::last_per_key(&all, |r| r.key.as_str());
            let prepared = started.elapsed();
            let s = import_table(&mut tx, table, &rows, &batch.scopes, &at).await?;
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
        tx.commit().await?;
        tracing::info!(%stats, "Inventory imported.");
        Ok(stats)
    }

    /// The current inventory: every record not marked removed. `scopes` is empty.
    pub async fn load_inventory(&self) -> Result<Inventory, StoreError> {
        self.load(false).await
    }

    /// Like [`Store::load_inventory`], including records marked removed.
    pub async fn load_inventory_including_removed(&self) -> Result<Inventory, StoreError> {
        self.load(true).await
    }

    async fn load(&self, include_removed: bool) -> Result<Inventory, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut inv = Inventory::default();
        let filter = if include_removed {
            ""
        } else {
            " WHERE removed_at IS NULL"
        };
        for_each_row(&mut conn, filter, &IDENTITIES, |key, data, activity| {
            let mut identity: Identity = decode(IDENTITIES.name, &key, &data)?;
            let seen = dialect::parse_opt_timestamp(IDENTITIES.name, &key, activity)?;
            raise(&mut identity.last_used, seen);
            inv.identities.push(identity);
            Ok(())
        })
        .await?;
        for_each_row(&mut conn, filter, &CREDENTIALS, |key, data, activity| {
            let mut credential: Credential = decode(CREDENTIALS.name, &key, &data)?;
            let seen = dialect::parse_opt_timestamp(CREDENTIALS.name, &key, activity)?;
            raise(&mut credential.last_used, seen);
            inv.credentials.push(credential);
            Ok(())
        })
        .await?;
        for_each_row(&mut conn, filter, &POLICIES, |key, data, _| {
            inv.policies.push(decode(POLICIES.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(&mut conn, filter, &ATTACHMENTS, |key, data, _| {
            inv.attachments.push(decode(ATTACHMENTS.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(&mut conn, filter, &TRUST_EDGES, |key, data, _| {
            inv.trust_edges.push(decode(TRUST_EDGES.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(&mut conn, filter, &RESOURCES, |key, data, _| {
            inv.resources.push(decode(RESOURCES.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(&mut conn, filter, &OWNERS, |key, data, _| {
            inv.owners.push(decode(OWNERS.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(&mut conn, filter, &ACCOUNTS, |key, data, _| {
            inv.accounts.push(decode(ACCOUNTS.name, &key, &data)?);
            Ok(())
        })
        .await?;
        Ok(inv)
    }

    /// One identity with its history and credentials, removed or not; `None` if never seen.
    pub async fn identity(&self, id: &str) -> Result<Option<StoredIdentity>, StoreError> {
        let table = IDENTITIES.name;
        let Some(row) = sqlx::query(
            "SELECT data, activity_last_used, first_seen, last_seen, removed_at \
             FROM identities WHERE key = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut identity: Identity = decode(table, id, &row.try_get::<String, _>(0)?)?;
        raise(
            &mut identity.last_used,
            dialect::parse_opt_timestamp(table, id, row.try_get(1)?)?,
        );
        let first_seen = dialect::parse_timestamp(table, id, &row.try_get::<String, _>(2)?)?;
        let last_seen = dialect::parse_timestamp(table, id, &row.try_get::<String, _>(3)?)?;
        let removed_at = dialect::parse_opt_timestamp(table, id, row.try_get(4)?)?;

        let mut credentials = Vec::new();
        for row in sqlx::query(
            "SELECT key, data, activity_last_used, first_seen, last_seen, removed_at \
             FROM credentials WHERE identity = ? ORDER BY key",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        {
            let t = CREDENTIALS.name;
            let key: String = row.try_get(0)?;
            let mut record: Credential = decode(t, &key, &row.try_get::<String, _>(1)?)?;
            raise(
                &mut record.last_used,
                dialect::parse_opt_timestamp(t, &key, row.try_get(2)?)?,
            );
            credentials.push(StoredRecord {
                record,
                first_seen: dialect::parse_timestamp(t, &key, &row.try_get::<String, _>(3)?)?,
                last_seen: dialect::parse_timestamp(t, &key, &row.try_get::<String, _>(4)?)?,
                removed_at: dialect::parse_opt_timestamp(t, &key, row.try_get(5)?)?,
            });
        }
        Ok(Some(StoredIdentity {
            identity,
            first_seen,
            last_seen,
            removed_at,
            credentials,
        }))
    }

    /// Raises identities' and credentials' last use to what activity logs saw; never lowers it.
    /// Each update is (identity id, credential id if the log names one, instant of use).
    pub async fn touch_last_used(
        &self,
        updates: &[(String, Option<String>, Timestamp)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (identity, credential, at) in updates {
            raise_last_used(&mut tx, identity, credential.as_deref(), at).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Raises an identity's (and a credential's) last use to `at` inside `tx`; never lowers it.
/// Shared by `touch_last_used` and `apply_events`.
pub(crate) async fn raise_last_used(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    identity: &str,
    credential: Option<&str>,
    at: &Timestamp,
) -> Result<(), StoreError> {
    let at = dialect::timestamp(at);
    sqlx::query(
        "UPDATE identities SET activity_last_used = ? \
         WHERE key = ? AND (activity_last_used IS NULL OR activity_last_used < ?)",
    )
    .bind(&at)
    .bind(identity)
    .bind(&at)
    .execute(&mut **tx)
    .await?;
    if let Some(credential) = credential {
        sqlx::query(
            "UPDATE credentials SET activity_last_used = ? \
             WHERE key = ? AND (activity_last_used IS NULL OR activity_last_used < ?)",
        )
        .bind(&at)
        .bind(credential)
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_come_from_ids_when_the_batch_has_none() {
        assert_eq!(
            scope_from_id("arn:aws:iam::123456789012:role/x").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            scope_from_id("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            None
        );
        assert_eq!(
            scope_from_id("k8s:prod/clusterrole/admin").as_deref(),
            Some("prod")
        );
        assert_eq!(
            scope_from_id("arn:aws:iam::1:user/u#inline/p").as_deref(),
            Some("1")
        );
        assert_eq!(scope_from_id("github:acme/app/x"), None);
    }
}
