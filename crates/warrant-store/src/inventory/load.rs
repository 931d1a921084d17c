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

/// Calls `each(key, data, activity_last_used)` for every row of one table, in key order.
/// Rows are streamed so that only one record's JSON is held at a time.
async fn for_each_row(
    conn: &mut AnyConnection,
    backend: Backend,
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
    let mut rows = backend.query(&sql).fetch(&mut *conn);
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
    /// The current inventory: every record not marked removed. `scopes` is empty.
    pub async fn load_inventory(&self) -> Result<Inventory, StoreError> {
        self.load(false).await
    }

    /// Like [`Store::load_inventory`], including records marked removed.
    pub async fn load_inventory_including_removed(&self) -> Result<Inventory, StoreError> {
        self.load(true).await
    }

    async fn load(&self, include_removed: bool) -> Result<Inventory, StoreError> {
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
            let mut identity: Identity = decode(IDENTITIES.name, &key, &data)?;
            let seen = dialect::parse_opt_timestamp(IDENTITIES.name, &key, activity)?;
            raise(&mut identity.last_used, seen);
            inv.identities.push(identity);
            Ok(())
        })
        .await?;
        for_each_row(
            conn,
            backend,
            filter,
            &CREDENTIALS,
            |key, data, activity| {
                let mut credential: Credential = decode(CREDENTIALS.name, &key, &data)?;
                let seen = dialect::parse_opt_timestamp(CREDENTIALS.name, &key, activity)?;
                raise(&mut credential.last_used, seen);
                inv.credentials.push(credential);
                Ok(())
            },
        )
        .await?;
        for_each_row(conn, backend, filter, &POLICIES, |key, data, _| {
            inv.policies.push(decode(POLICIES.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(conn, backend, filter, &ATTACHMENTS, |key, data, _| {
            inv.attachments.push(decode(ATTACHMENTS.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(conn, backend, filter, &TRUST_EDGES, |key, data, _| {
            inv.trust_edges.push(decode(TRUST_EDGES.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(conn, backend, filter, &RESOURCES, |key, data, _| {
            inv.resources.push(decode(RESOURCES.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(conn, backend, filter, &OWNERS, |key, data, _| {
            inv.owners.push(decode(OWNERS.name, &key, &data)?);
            Ok(())
        })
        .await?;
        for_each_row(conn, backend, filter, &ACCOUNTS, |key, data, _| {
            inv.accounts.push(decode(ACCOUNTS.name, &key, &data)?);
            Ok(())
        })
        .await?;
        tx.commit().await?;
        Ok(inv)
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
