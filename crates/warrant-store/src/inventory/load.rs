//! Reading the inventory graph back, one table at a time.

use futures_util::TryStreamExt;
use serde::de::DeserializeOwned;
use sqlx::{AnyConnection, Row};
use warrant_core::{Credential, Identity, Inventory, Timestamp};

use super::{
    ACCOUNTS, ATTACHMENTS, CREDENTIALS, IDENTITIES, OWNERS, POLICIES, RESOURCES, StoredIdentity,
    StoredRecord, TRUST_EDGES, Table,
};
use crate::dialect;
use crate::{Backend, Store, StoreError};

/// Records between two progress reports of [`Store::load_inventory_observed`] (beside one per
/// table).
pub const LOAD_PROGRESS_STEP: u64 = 10_000;

/// Calls `each(key, data, activity_last_used)` for every row of one table, in key order.
/// Rows are streamed so that only one record's JSON is held at a time.
async fn for_each_row(
    conn: &mut AnyConnection,
    backend: Backend,
    filter: &str,
    table: &Table,
    each: impl FnMut(String, String, Option<String>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for_each_row_bound(conn, backend, filter, &[], table, each).await
}

/// [`for_each_row`] with `binds` for the placeholders of `filter`.
async fn for_each_row_bound(
    conn: &mut AnyConnection,
    backend: Backend,
    filter: &str,
    binds: &[&str],
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
    let mut query = backend.query(&sql);
    for b in binds {
        query = query.bind(*b);
    }
    let mut rows = query.fetch(&mut *conn);
    while let Some(r) = rows.try_next().await? {
        each(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)?;
    }
    Ok(())
}

pub(super) fn decode<T: DeserializeOwned>(
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

/// Reports the records loaded so far every [`LOAD_PROGRESS_STEP`].
fn tick(inv: &Inventory, loaded: &(dyn Fn(u64) + Sync)) {
    let n = inv.n_records() as u64;
    if n.is_multiple_of(LOAD_PROGRESS_STEP) {
        loaded(n);
    }
}

/// Activity may have seen a use later than the source reported; the later one wins.
fn raise(last_used: &mut Option<Timestamp>, activity: Option<Timestamp>) {
    if let Some(seen) = activity
        && last_used.is_none_or(|l| l < seen)
    {
        *last_used = Some(seen);
    }
}

/// An identity row, with the last use activity logs saw.
fn decode_identity(
    key: &str,
    data: &str,
    activity: Option<String>,
) -> Result<Identity, StoreError> {
    let mut identity: Identity = decode(IDENTITIES.name, key, data)?;
    let seen = dialect::parse_opt_timestamp(IDENTITIES.name, key, activity)?;
    raise(&mut identity.last_used, seen);
    Ok(identity)
}

/// A credential row, with the last use activity logs saw.
fn decode_credential(
    key: &str,
    data: &str,
    activity: Option<String>,
) -> Result<Credential, StoreError> {
    let mut credential: Credential = decode(CREDENTIALS.name, key, data)?;
    let seen = dialect::parse_opt_timestamp(CREDENTIALS.name, key, activity)?;
    raise(&mut credential.last_used, seen);
    Ok(credential)
}

impl Store {
    /// The current inventory: every record not marked removed. `scopes` is empty.
    pub async fn load_inventory(&self) -> Result<Inventory, StoreError> {
        self.load(false, None, false, &|_| {}).await
    }

    /// [`Store::load_inventory`], calling `loaded` with the number of records read so far every
    /// [`LOAD_PROGRESS_STEP`] records and after each table (for progress; the total is
    /// [`Store::count_current_records`]).
    pub async fn load_inventory_observed(
        &self,
        loaded: &(dyn Fn(u64) + Sync),
    ) -> Result<Inventory, StoreError> {
        self.load(false, None, false, loaded).await
    }

    /// Like [`Store::load_inventory`], including records marked removed.
    pub async fn load_inventory_including_removed(&self) -> Result<Inventory, StoreError> {
        self.load(true, None, false, &|_| {}).await
    }

    /// [`Store::load_inventory`] with only the policies of one kind (e.g. an agent's declared
    /// tools for activity detection): a large AWS estate's policy statements are most of its
    /// inventory, and readers that do not judge privilege need not hold them.
    pub async fn load_inventory_with_policies_of(
        &self,
        kind: warrant_core::PolicyKind,
    ) -> Result<Inventory, StoreError> {
        self.load(false, Some(kind), false, &|_| {}).await
    }

    /// Identities, credentials and attachments only (no policies, trust, resources, owners or
    /// accounts): what writing remediation plans for many identities reads.
    pub async fn load_identities_and_credentials(&self) -> Result<Inventory, StoreError> {
        self.load(
            false,
            Some(warrant_core::PolicyKind::McpTools),
            true,
            &|_| {},
        )
        .await
    }

    /// Whether a current identity has exactly this id (one index lookup).
    pub async fn has_identity(&self, id: &str) -> Result<bool, StoreError> {
        let row = self
            .query("SELECT 1 FROM identities WHERE key = ? AND removed_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// How many current (not removed) identities the store holds.
    pub async fn count_identities(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .query("SELECT COUNT(*) FROM identities WHERE removed_at IS NULL")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many current (not removed) records the inventory tables hold together.
    pub async fn count_current_records(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for table in super::TABLES {
            let sql = format!(
                "SELECT COUNT(*) FROM {} WHERE removed_at IS NULL",
                table.name
            );
            let n: i64 = self.query(&sql).fetch_one(&self.pool).await?.try_get(0)?;
            total += u64::try_from(n).unwrap_or(0);
        }
        Ok(total)
    }

    async fn load(
        &self,
        include_removed: bool,
        policy_kind: Option<warrant_core::PolicyKind>,
        lean: bool,
        loaded: &(dyn Fn(u64) + Sync),
    ) -> Result<Inventory, StoreError> {
        let mut tx = self.backend.begin_read(&self.pool).await?;
        let conn: &mut AnyConnection = &mut tx;
        let backend = self.backend;
        let mut inv = Inventory::default();
        let filter = if include_removed {
            ""
        } else {
            " WHERE removed_at IS NULL"
        };
        for_each_row(conn, backend, filter, &IDENTITIES, |key, data, activity| {
            inv.identities.push(decode_identity(&key, &data, activity)?);
            tick(&inv, loaded);
            Ok(())
        })
        .await?;
        loaded(inv.n_records() as u64);
        for_each_row(
            conn,
            backend,
            filter,
            &CREDENTIALS,
            |key, data, activity| {
                inv.credentials
                    .push(decode_credential(&key, &data, activity)?);
                tick(&inv, loaded);
                Ok(())
            },
        )
        .await?;
        loaded(inv.n_records() as u64);
        // A kind is matched on the stored JSON first (serde writes `"kind":"…"` without
        // spaces), so other policies are not even decoded; the decoded kind decides.
        let (policy_filter, policy_binds) = match policy_kind {
            Some(kind) => (
                format!(
                    "{}{} data LIKE ?",
                    filter,
                    if filter.is_empty() { " WHERE" } else { " AND" }
                ),
                vec![format!("%\"kind\":\"{}\"%", kind.as_str())],
            ),
            None => (filter.to_string(), Vec::new()),
        };
        let binds: Vec<&str> = policy_binds.iter().map(String::as_str).collect();
        for_each_row_bound(
            conn,
            backend,
            &policy_filter,
            &binds,
            &POLICIES,
            |key, data, _| {
                let policy: warrant_core::Policy = decode(POLICIES.name, &key, &data)?;
                if policy_kind.is_none_or(|kind| policy.kind == kind) {
                    inv.policies.push(policy);
                }
                tick(&inv, loaded);
                Ok(())
            },
        )
        .await?;
        loaded(inv.n_records() as u64);
        for_each_row(conn, backend, filter, &ATTACHMENTS, |key, data, _| {
            inv.attachments.push(decode(ATTACHMENTS.name, &key, &data)?);
            tick(&inv, loaded);
            Ok(())
        })
        .await?;
        loaded(inv.n_records() as u64);
        if lean {
            tx.commit().await?;
            return Ok(inv);
        }
        for_each_row(conn, backend, filter, &TRUST_EDGES, |key, data, _| {
            inv.trust_edges.push(decode(TRUST_EDGES.name, &key, &data)?);
            tick(&inv, loaded);
            Ok(())
        })
        .await?;
        loaded(inv.n_records() as u64);
        for_each_row(conn, backend, filter, &RESOURCES, |key, data, _| {
            inv.resources.push(decode(RESOURCES.name, &key, &data)?);
            tick(&inv, loaded);
            Ok(())
        })
        .await?;
        loaded(inv.n_records() as u64);
        for_each_row(conn, backend, filter, &OWNERS, |key, data, _| {
            inv.owners.push(decode(OWNERS.name, &key, &data)?);
            tick(&inv, loaded);
            Ok(())
        })
        .await?;
        loaded(inv.n_records() as u64);
        for_each_row(conn, backend, filter, &ACCOUNTS, |key, data, _| {
            inv.accounts.push(decode(ACCOUNTS.name, &key, &data)?);
            tick(&inv, loaded);
            Ok(())
        })
        .await?;
        loaded(inv.n_records() as u64);
        tx.commit().await?;
        Ok(inv)
    }

    /// The part of the inventory one identity's detail needs, without loading the rest: the
    /// identity (not removed), its credentials, its policy attachments and the policies they
    /// name (and its permissions boundary), trust edges into and out of it, and its owners'
    /// directory records. Empty when no current identity has the id.
    pub async fn load_neighbourhood(&self, id: &str) -> Result<Inventory, StoreError> {
        let mut tx = self.backend.begin_read(&self.pool).await?;
        let conn: &mut AnyConnection = &mut tx;
        let backend = self.backend;
        let mut inv = Inventory::default();
        let current = " WHERE removed_at IS NULL";
        let by_key = format!("{current} AND key = ?");
        let by_identity = format!("{current} AND identity = ?");
        for_each_row_bound(
            conn,
            backend,
            &by_key,
            &[id],
            &IDENTITIES,
            |key, data, activity| {
                inv.identities.push(decode_identity(&key, &data, activity)?);
                Ok(())
            },
        )
        .await?;
        let Some(identity) = inv.identities.first() else {
            tx.commit().await?;
            return Ok(inv);
        };
        let owners: Vec<String> = identity.owners.iter().map(|o| o.id.clone()).collect();
        let boundary = identity
            .attributes
            .get(warrant_core::attribute::PERMISSIONS_BOUNDARY)
            .and_then(|b| b.as_str())
            .map(str::to_string);
        for_each_row_bound(
            conn,
            backend,
            &by_identity,
            &[id],
            &CREDENTIALS,
            |key, data, activity| {
                inv.credentials
                    .push(decode_credential(&key, &data, activity)?);
                Ok(())
            },
        )
        .await?;
        for_each_row_bound(
            conn,
            backend,
            &by_identity,
            &[id],
            &ATTACHMENTS,
            |key, data, _| {
                inv.attachments.push(decode(ATTACHMENTS.name, &key, &data)?);
                Ok(())
            },
        )
        .await?;
        let mut policies: Vec<String> = inv.attachments.iter().map(|a| a.policy.clone()).collect();
        policies.extend(boundary);
        policies.sort();
        policies.dedup();
        for chunk in policies.chunks(dialect::MAX_BIND_PARAMS) {
            let filter = format!(
                "{current} AND key IN ({})",
                dialect::placeholders(chunk.len())
            );
            let binds: Vec<&str> = chunk.iter().map(String::as_str).collect();
            for_each_row_bound(conn, backend, &filter, &binds, &POLICIES, |key, data, _| {
                inv.policies.push(decode(POLICIES.name, &key, &data)?);
                Ok(())
            })
            .await?;
        }
        // Edges into it carry its key in `identity`; edges out of it start their key with its
        // id and the separator (see `prepare`).
        let from = format!("{id}{}", super::prepare::KEY_SEP);
        let mut push_edge = |key: String, data: String| -> Result<(), StoreError> {
            inv.trust_edges.push(decode(TRUST_EDGES.name, &key, &data)?);
            Ok(())
        };
        match backend {
            // SQLite compares keys byte by byte: the edges out are one range of the primary
            // key (the separator is followed by the next character up), read through its
            // index instead of a scan of every edge.
            Backend::Sqlite => {
                let upper = format!("{id}{}", '\u{20}');
                let into = format!("{current} AND identity = ?");
                let out = format!(
                    "{current} AND key >= ? AND key < ? AND (identity IS NULL OR identity <> ?)"
                );
                for_each_row_bound(conn, backend, &into, &[id], &TRUST_EDGES, |k, d, _| {
                    push_edge(k, d)
                })
                .await?;
                for_each_row_bound(
                    conn,
                    backend,
                    &out,
                    &[&from, &upper, id],
                    &TRUST_EDGES,
                    |k, d, _| push_edge(k, d),
                )
                .await?;
            }
            // PostgreSQL orders text by the database's collation, which need not be byte
            // order: the prefix is compared by characters.
            Backend::Postgres => {
                let n_chars = from.chars().count().to_string();
                let trust = format!(
                    "{current} AND (identity = ? OR substr(key, 1, CAST(? AS INTEGER)) = ?)"
                );
                for_each_row_bound(
                    conn,
                    backend,
                    &trust,
                    &[id, &n_chars, &from],
                    &TRUST_EDGES,
                    |k, d, _| push_edge(k, d),
                )
                .await?;
            }
        }
        for chunk in owners.chunks(dialect::MAX_BIND_PARAMS / 2) {
            let filter = format!(
                "{current} AND key IN ({})",
                dialect::placeholders(chunk.len())
            );
            // Directory keys are lower-cased; an identity may name its owner otherwise.
            let mut keys: Vec<String> = chunk.to_vec();
            keys.extend(chunk.iter().map(|o| o.to_lowercase()));
            keys.sort();
            keys.dedup();
            let binds: Vec<&str> = keys.iter().map(String::as_str).collect();
            for_each_row_bound(conn, backend, &filter, &binds, &OWNERS, |key, data, _| {
                inv.owners.push(decode(OWNERS.name, &key, &data)?);
                Ok(())
            })
            .await?;
        }
        tx.commit().await?;
        Ok(inv)
    }

    /// The current identities among `ids`, in id order (ids that are none are left out).
    pub async fn current_identities(&self, ids: &[String]) -> Result<Vec<Identity>, StoreError> {
        let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        let mut tx = self.backend.begin_read(&self.pool).await?;
        for chunk in ids.chunks(dialect::MAX_BIND_PARAMS) {
            let filter = format!(
                " WHERE removed_at IS NULL AND key IN ({})",
                dialect::placeholders(chunk.len())
            );
            for_each_row_bound(
                &mut tx,
                self.backend,
                &filter,
                chunk,
                &IDENTITIES,
                |key, data, activity| {
                    out.push(decode_identity(&key, &data, activity)?);
                    Ok(())
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The id and name of every current identity, in id order, reading one record at a time:
    /// enough to resolve a name a person typed without loading the inventory.
    pub async fn identity_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Named {
            name: String,
        }
        let mut tx = self.backend.begin_read(&self.pool).await?;
        let mut out = Vec::new();
        for_each_row(
            &mut tx,
            self.backend,
            " WHERE removed_at IS NULL",
            &IDENTITIES,
            |key, data, _| {
                let named: Named = decode(IDENTITIES.name, &key, &data)?;
                out.push((key, named.name));
                Ok(())
            },
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// When each current identity was first imported, by id: how long Warrant has known it.
    pub async fn identities_first_seen(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        let rows = self
            .query("SELECT key, first_seen FROM identities WHERE removed_at IS NULL ORDER BY key")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let key: String = r.try_get(0)?;
                let first: String = r.try_get(1)?;
                let at = dialect::parse_timestamp("identities", &key, &first)?;
                Ok((key, at))
            })
            .collect()
    }

    /// One identity with its history and credentials, removed or not; `None` if never seen.
    pub async fn identity(&self, id: &str) -> Result<Option<StoredIdentity>, StoreError> {
        let table = IDENTITIES.name;
        let Some(row) = self
            .query(
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
        for row in self
            .query(
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
}
