//! Governance records: exceptions (kept as the lifecycle engine's JSON, with the columns
//! listings filter on) and the append-only audit trail every governance write adds to in its own
//! transaction.

use serde::Serialize;
use sqlx::Row;
use warrant_core::Timestamp;

use crate::dialect;
use crate::{Store, StoreError, WriteTx};

/// An exception as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionRow {
    pub id: String,
    pub owner: String,
    pub expires: Timestamp,
    pub created: Timestamp,
    /// The exception as JSON, owned by the lifecycle engine.
    pub data: String,
    /// Withdrawn before it expired: when, and by whom.
    pub removed_at: Option<Timestamp>,
    pub removed_by: Option<String>,
}

/// One governance change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// The subject's state before and after, as JSON.
    pub before: Option<String>,
    pub after: Option<String>,
}

fn audit_entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    let seq: i64 = r.try_get(0)?;
    Ok(AuditEntry {
        at: dialect::parse_timestamp("audit", &seq.to_string(), &r.try_get::<String, _>(1)?)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        subject: r.try_get(4)?,
        before: r.try_get(5)?,
        after: r.try_get(6)?,
        seq,
    })
}

/// One row for the audit trail (see [`audit_rows`]).
pub(crate) struct AuditRow<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// Appends one audit row inside `tx`.
pub(crate) async fn audit(
    tx: &mut WriteTx,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), StoreError> {
    let row = AuditRow {
        at,
        actor,
        action,
        subject,
        before,
        after,
    };
    audit_rows(tx, std::slice::from_ref(&row)).await
}

/// Appends audit rows inside `tx`, in order, many per statement: a batch (the gateway's calls)
/// holds the one writer's lock briefly.
pub(crate) async fn audit_rows(tx: &mut WriteTx, rows: &[AuditRow<'_>]) -> Result<(), StoreError> {
    const COLUMNS: usize = 6;
    for chunk in rows.chunks((crate::dialect::MAX_BIND_PARAMS / COLUMNS).min(100)) {
        let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO audit (at, actor, action, subject, before, after) VALUES {values}"
        );
        let mut query = tx.query(&sql);
        for row in chunk {
            query = query
                .bind(row.at)
                .bind(row.actor)
                .bind(row.action)
                .bind(row.subject)
                .bind(row.before)
                .bind(row.after);
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// What a decision table is: its name, the column naming what is decided, the audit action
/// prefix (`plan` gives `plan.approve`), and whether its decisions change what an assessment
/// reads (raising the store's revision).
pub(crate) struct DecisionTable {
    pub table: &'static str,
    pub subject_column: &'static str,
    pub audit_prefix: &'static str,
    pub changes_inputs: bool,
}

/// Appends one decision (approve, reject, waive, withdraw…) and its audit row in one
/// transaction.
pub(crate) async fn append_decision(
    store: &Store,
    table: &DecisionTable,
    subject: &str,
    decided_by: &str,
    at: Timestamp,
    decision: &str,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let at = dialect::timestamp(&at);
    let mut tx = store.begin_write().await?;
    tx.query(&format!(
        "INSERT INTO {} ({}, decided_by, at, decision, reason) VALUES (?, ?, ?, ?, ?)",
        table.table, table.subject_column
    ))
    .bind(subject)
    .bind(decided_by)
    .bind(&at)
    .bind(decision)
    .bind(reason)
    .execute(tx.conn())
    .await?;
    let after = serde_json::json!({"decision": decision, "reason": reason}).to_string();
    audit(
        &mut tx,
        &at,
        decided_by,
        &format!("{}.{decision}", table.audit_prefix),
        subject,
        None,
        Some(&after),
    )
    .await?;
    tx.changes_inputs = table.changes_inputs;
    tx.commit().await?;
    Ok(())
}

impl Store {
    /// Records a granted exception and its audit row (`exception.grant` by `actor` at `at`), in
    /// one transaction. Returns false, changing nothing, when an exception with its id exists.
    pub async fn grant_exception(
        &self,
        row: &ExceptionRow,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        let done = tx
            .query(
                "INSERT INTO exceptions (id, owner, expires, created, data) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(row.id.as_str())
            .bind(row.owner.as_str())
            .bind(dialect::timestamp(&row.expires))
            .bind(dialect::timestamp(&row.created))
            .bind(row.data.as_str())
            .execute(tx.conn())
            .await?;
        let granted = done.rows_affected() > 0;
        if granted {
            audit(
                &mut tx,
                &at,
                actor,
                "exception.grant",
                &row.id,
                None,
                Some(&row.data),
            )
            .await?;
        }
        tx.changes_inputs = granted;
        tx.commit().await?;
        Ok(granted)
    }

    /// Withdraws an exception before it expires (marked, never deleted) and records
    /// `exception.withdraw`. Returns false when no exception in force has the id.
    pub async fn withdraw_exception(
        &self,
        id: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        let done = tx
            .query(
                "UPDATE exceptions SET removed_at = ?, removed_by = ? \
                 WHERE id = ? AND removed_at IS NULL AND expires > ?",
            )
            .bind(&at)
            .bind(actor)
            .bind(id)
            .bind(&at)
            .execute(tx.conn())
            .await?;
        let withdrawn = done.rows_affected() > 0;
        if withdrawn {
            let data: String = tx
                .query("SELECT data FROM exceptions WHERE id = ?")
                .bind(id)
                .fetch_one(tx.conn())
                .await?
                .try_get(0)?;
            audit(
                &mut tx,
                &at,
                actor,
                "exception.withdraw",
                id,
                Some(&data),
                None,
            )
            .await?;
        }
        tx.changes_inputs = withdrawn;
        tx.commit().await?;
        Ok(withdrawn)
    }

    /// Every exception ever granted, soonest to expire first.
    pub async fn exceptions(&self) -> Result<Vec<ExceptionRow>, StoreError> {
        let rows = self
            .query(
                "SELECT id, owner, expires, created, data, removed_at, removed_by \
                 FROM exceptions ORDER BY expires, id",
            )
            .fetch_all(&self.pool)
            .await?;
        exception_rows(&rows)
    }

    /// At most `limit` exceptions, soonest to expire first as [`Store::exceptions`] lists
    /// them, after the one `after` names; only those in force at `in_force_at` (not withdrawn,
    /// not yet expired) when given. `None` when no exception has the id `after`.
    pub async fn exceptions_after(
        &self,
        in_force_at: Option<&Timestamp>,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Option<Vec<ExceptionRow>>, StoreError> {
        let mut sql = String::from(
            "SELECT id, owner, expires, created, data, removed_at, removed_by \
             FROM exceptions WHERE 1 = 1",
        );
        let mut binds = Vec::new();
        if let Some(at) = in_force_at {
            // Timestamps are stored in one format that sorts as text.
            sql.push_str(" AND removed_at IS NULL AND expires > ?");
            binds.push(dialect::timestamp(at));
        }
        if let Some(after) = after {
            let Some(row) = self
                .query("SELECT expires FROM exceptions WHERE id = ?")
                .bind(after)
                .fetch_optional(&self.pool)
                .await?
            else {
                return Ok(None);
            };
            let expires: String = row.try_get(0)?;
            sql.push_str(" AND (expires > ? OR (expires = ? AND id > ?))");
            binds.extend([expires.clone(), expires, after.to_string()]);
        }
        sql.push_str(&format!(
            " ORDER BY expires, id LIMIT {}",
            limit.min(i64::MAX as u64)
        ));
        let mut q = self.query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        exception_rows(&rows).map(Some)
    }
}

fn exception_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<ExceptionRow>, StoreError> {
    let t = "exceptions";
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            Ok(ExceptionRow {
                owner: r.try_get(1)?,
                expires: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(2)?)?,
                created: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(3)?)?,
                data: r.try_get(4)?,
                removed_at: dialect::parse_opt_timestamp(t, &id, r.try_get(5)?)?,
                removed_by: r.try_get(6)?,
                id,
            })
        })
        .collect()
}

impl Store {
    /// The audit rows about one subject whose action starts with `prefix` (`owner.`), oldest
    /// first.
    pub async fn audit_of(
        &self,
        subject: &str,
        prefix: &str,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self
            .query(
                "SELECT seq, at, actor, action, subject, before, after FROM audit \
                 WHERE subject = ? ORDER BY seq",
            )
            .bind(subject)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(audit_entry)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|e| e.action.starts_with(prefix))
            .collect())
    }

    /// The audit trail, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self
            .query("SELECT seq, at, actor, action, subject, before, after FROM audit ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_entry).collect()
    }
}
