//! The MCP gateway's shared state (schema 16): what several gateway processes behind a load
//! balancer must agree on. Revoked task tokens, the task tokens minted and how they were used,
//! the taint labels each task has gathered, and calls held for a person's approval.
//!
//! INVARIANT: no token and no raw argument reaches this module: a grant arrives as its revocation
//! ids and what it allows, a held call as the SHA-256 of its canonical arguments and a redacted
//! view. Revocations and approval decisions add their audit row in the same transaction; nothing
//! here raises the store's revision.

use std::collections::BTreeSet;

use sqlx::Row;
use sqlx::any::AnyRow;
use warrant_core::Timestamp;

use crate::dialect;
use crate::governance::{AuditRow, audit, audit_rows};
use crate::{Store, StoreError, WriteTx};

/// A task token as minted: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// The first (authority) revocation id.
    pub id: String,
    pub agent: String,
    pub task: String,
    /// What it allows (tools, argument constraints), as JSON.
    pub grant_json: String,
    /// Every block's revocation id.
    pub revocation_ids: Vec<String>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub issued_by: String,
    /// Calls allowed under it, and calls it did not allow.
    pub uses: u64,
    pub refused: u64,
    pub first_used_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// A revoked token block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRow {
    pub revocation_id: String,
    pub revoked_at: Timestamp,
    pub revoked_by: String,
    pub reason: String,
}

/// Where a held call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    /// Pending past its deadline: the call is denied.
    Expired,
    /// Approved, and the gateway forwarded the call: the approval is spent.
    Used,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Used => "used",
        }
    }
}

/// A call held for a person's approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    /// Hash of agent, task, tool and arguments: the same call asks once.
    pub id: String,
    pub agent: String,
    pub task: Option<String>,
    /// `server::tool`.
    pub tool: String,
    pub arguments_sha256: String,
    /// The arguments with secrets redacted, as JSON.
    pub arguments_view: String,
    /// The task's labels when it was held.
    pub taint: Vec<String>,
    /// Why it needs approval.
    pub reason: String,
    pub requested_at: Timestamp,
    pub expires_at: Timestamp,
    /// As stored: pending, approved or denied (see [`ApprovalRow::status_at`]).
    pub status: ApprovalStatus,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub note: Option<String>,
    /// When the gateway forwarded the approved call (an approval is used once).
    pub used_at: Option<Timestamp>,
}

impl ApprovalRow {
    /// Its status at `now`: a pending request past its deadline has expired, an approval the
    /// gateway forwarded is used.
    pub fn status_at(&self, now: Timestamp) -> ApprovalStatus {
        match self.status {
            ApprovalStatus::Pending if now >= self.expires_at => ApprovalStatus::Expired,
            ApprovalStatus::Approved if self.used_at.is_some() => ApprovalStatus::Used,
            status => status,
        }
    }

    /// Whether the same call asked again opens a new request: once this one is used, or ran
    /// out unanswered, or was denied and its deadline has passed (a denial stands until then).
    fn reopens_at(&self, now: Timestamp) -> bool {
        match self.status_at(now) {
            ApprovalStatus::Used | ApprovalStatus::Expired => true,
            ApprovalStatus::Denied => now >= self.expires_at,
            ApprovalStatus::Pending | ApprovalStatus::Approved => false,
        }
    }
}

const GRANT_COLUMNS: &str = "id, agent, task, grant_json, revocation_ids, issued_at, expires_at, \
     issued_by, uses, refused, first_used_at, last_used_at";
const APPROVAL_COLUMNS: &str = "id, agent, task, tool, arguments_sha256, arguments_view, taint, \
     reason, requested_at, expires_at, status, decided_at, decided_by, note, used_at";

fn corrupt(table: &'static str, key: &str, message: String) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.to_string(),
        message,
    }
}

fn string_list(table: &'static str, key: &str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(table, key, format!("not a JSON list: {e}")))
}

fn count(table: &'static str, key: &str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt(table, key, format!("negative count {n}")))
}

fn grant_row(r: &AnyRow) -> Result<GrantRow, StoreError> {
    let t = "gateway_grants";
    let id: String = r.try_get(0)?;
    Ok(GrantRow {
        agent: r.try_get(1)?,
        task: r.try_get(2)?,
        grant_json: r.try_get(3)?,
        revocation_ids: string_list(t, &id, &r.try_get::<String, _>(4)?)?,
        issued_at: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(5)?)?,
        expires_at: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(6)?)?,
        issued_by: r.try_get(7)?,
        uses: count(t, &id, r.try_get(8)?)?,
        refused: count(t, &id, r.try_get(9)?)?,
        first_used_at: dialect::parse_opt_timestamp(t, &id, r.try_get(10)?)?,
        last_used_at: dialect::parse_opt_timestamp(t, &id, r.try_get(11)?)?,
        id,
    })
}

fn approval_row(r: &AnyRow) -> Result<ApprovalRow, StoreError> {
    let t = "gateway_approvals";
    let id: String = r.try_get(0)?;
    let status = match r.try_get::<String, _>(10)?.as_str() {
        "pending" => ApprovalStatus::Pending,
        "approved" => ApprovalStatus::Approved,
        "denied" => ApprovalStatus::Denied,
        other => return Err(corrupt(t, &id, format!("unknown status `{other}`"))),
    };
    Ok(ApprovalRow {
        agent: r.try_get(1)?,
        task: r.try_get(2)?,
        tool: r.try_get(3)?,
        arguments_sha256: r.try_get(4)?,
        arguments_view: r.try_get(5)?,
        taint: string_list(t, &id, &r.try_get::<String, _>(6)?)?,
        reason: r.try_get(7)?,
        requested_at: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(8)?)?,
        expires_at: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(9)?)?,
        status,
        decided_at: dialect::parse_opt_timestamp(t, &id, r.try_get(11)?)?,
        decided_by: r.try_get(12)?,
        note: r.try_get(13)?,
        used_at: dialect::parse_opt_timestamp(t, &id, r.try_get(14)?)?,
        id,
    })
}

fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

/// A writing transaction for gateway records, which are not inputs of an assessment.
async fn begin(store: &Store) -> Result<WriteTx, StoreError> {
    let mut tx = store.begin_write().await?;
    tx.changes_inputs = false;
    Ok(tx)
}

/// Adds labels a task gathered through `tool` at `at` (a label it has keeps its first time).
async fn insert_taint(
    tx: &mut WriteTx,
    task_key: &str,
    labels: &[String],
    tool: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let when = dialect::timestamp(&at);
    for label in labels {
        // Portable insert-if-absent: both backends accept ON CONFLICT DO NOTHING.
        tx.query(
            "INSERT INTO gateway_taint (task_key, label, first_at, tool) VALUES (?, ?, ?, ?) \
             ON CONFLICT (task_key, label) DO NOTHING",
        )
        .bind(task_key)
        .bind(label.as_str())
        .bind(when.as_str())
        .bind(tool)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

impl Store {
    /// Records a minted task token (never the token). Minting the same token twice is a
    /// [`StoreError::Conflict`].
    pub async fn record_grant(&self, row: &GrantRow) -> Result<(), StoreError> {
        let mut tx = begin(self).await?;
        let exists = tx
            .query("SELECT id FROM gateway_grants WHERE id = ?")
            .bind(row.id.as_str())
            .fetch_optional(tx.conn())
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "grant {} is already recorded",
                row.id
            )));
        }
        tx.query(&format!(
            "INSERT INTO gateway_grants ({GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(row.id.as_str())
        .bind(row.agent.as_str())
        .bind(row.task.as_str())
        .bind(row.grant_json.as_str())
        .bind(json_list(&row.revocation_ids))
        .bind(dialect::timestamp(&row.issued_at))
        .bind(dialect::timestamp(&row.expires_at))
        .bind(row.issued_by.as_str())
        .bind(i64::try_from(row.uses).unwrap_or(i64::MAX))
        .bind(i64::try_from(row.refused).unwrap_or(i64::MAX))
        .bind(row.first_used_at.as_ref().map(dialect::timestamp))
        .bind(row.last_used_at.as_ref().map(dialect::timestamp))
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Counts a call under a grant: `allowed` ones as uses (the first sets `first_used_at`),
    /// the others as refused. An unknown grant (minted elsewhere, with no store) is ignored.
    pub async fn record_grant_use(
        &self,
        id: &str,
        allowed: bool,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at = dialect::timestamp(&at);
        // One statement, no transaction: the gateway counts a use on every call.
        let sql = if allowed {
            "UPDATE gateway_grants SET uses = uses + 1, \
             first_used_at = COALESCE(first_used_at, ?), last_used_at = ? WHERE id = ?"
        } else {
            "UPDATE gateway_grants SET refused = refused + 1, \
             first_used_at = COALESCE(first_used_at, ?), last_used_at = ? WHERE id = ?"
        };
        let _turn = self.writer_turn().await;
        self.query(sql)
            .bind(at.as_str())
            .bind(at.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Grants, newest first: all, or those whose token expired by `expired_by` (to find the
    /// ones never used).
    pub async fn grants(&self, expired_by: Option<Timestamp>) -> Result<Vec<GrantRow>, StoreError> {
        let rows = match expired_by {
            Some(at) => {
                self.query(&format!(
                    "SELECT {GRANT_COLUMNS} FROM gateway_grants WHERE expires_at <= ? \
                     ORDER BY issued_at DESC, id"
                ))
                .bind(dialect::timestamp(&at))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                self.query(&format!(
                    "SELECT {GRANT_COLUMNS} FROM gateway_grants ORDER BY issued_at DESC, id"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(grant_row).collect()
    }

    /// The grant a revocation id belongs to (any block of it).
    pub async fn grant_of(&self, revocation_id: &str) -> Result<Option<GrantRow>, StoreError> {
        // Revocation ids are hex: matching the quoted id inside the JSON list is exact.
        let rows = self
            .query(&format!(
                "SELECT {GRANT_COLUMNS} FROM gateway_grants WHERE id = ? OR revocation_ids LIKE ?"
            ))
            .bind(revocation_id)
            .bind(format!("%\"{revocation_id}\"%"))
            .fetch_all(&self.pool)
            .await?;
        rows.first().map(grant_row).transpose()
    }

    /// Revokes token blocks by revocation id, each with its audit row (`gateway.revoke`).
    /// Returns the ids newly revoked (revoking twice changes nothing).
    pub async fn revoke_tokens(
        &self,
        ids: &[String],
        by: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        let when = dialect::timestamp(&at);
        let mut tx = begin(self).await?;
        let mut newly = Vec::new();
        for id in ids {
            let exists = tx
                .query("SELECT revocation_id FROM gateway_revocations WHERE revocation_id = ?")
                .bind(id.as_str())
                .fetch_optional(tx.conn())
                .await?;
            if exists.is_some() {
                continue;
            }
            tx.query(
                "INSERT INTO gateway_revocations (revocation_id, revoked_at, revoked_by, reason) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(id.as_str())
            .bind(when.as_str())
            .bind(by)
            .bind(reason)
            .execute(tx.conn())
            .await?;
            let after = serde_json::json!({"reason": reason}).to_string();
            audit(&mut tx, &when, by, "gateway.revoke", id, None, Some(&after)).await?;
            newly.push(id.clone());
        }
        tx.commit().await?;
        Ok(newly)
    }

    /// Which of `ids` are revoked (a gateway asks with a token's ids on every call).
    pub async fn revoked_among(&self, ids: &[String]) -> Result<BTreeSet<String>, StoreError> {
        let mut out = BTreeSet::new();
        for chunk in ids.chunks(dialect::MAX_BIND_PARAMS.min(500)) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT revocation_id FROM gateway_revocations WHERE revocation_id IN ({marks})"
            );
            let mut query = self.query(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                out.insert(row.try_get::<String, _>(0)?);
            }
        }
        Ok(out)
    }

    /// Every revocation, newest first.
    pub async fn revocations(&self) -> Result<Vec<RevocationRow>, StoreError> {
        let rows = self
            .query(
                "SELECT revocation_id, revoked_at, revoked_by, reason FROM gateway_revocations \
                 ORDER BY revoked_at DESC, revocation_id",
            )
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                Ok(RevocationRow {
                    revoked_at: dialect::parse_timestamp(
                        "gateway_revocations",
                        &id,
                        &r.try_get::<String, _>(1)?,
                    )?,
                    revoked_by: r.try_get(2)?,
                    reason: r.try_get(3)?,
                    revocation_id: id,
                })
            })
            .collect()
    }

    /// Adds taint labels to a task (labels only accumulate, so concurrent gateways cannot
    /// lose one another's). Returns the task's labels afterwards.
    pub async fn add_taint(
        &self,
        task_key: &str,
        labels: &[String],
        tool: &str,
        at: Timestamp,
    ) -> Result<BTreeSet<String>, StoreError> {
        let mut tx = begin(self).await?;
        insert_taint(&mut tx, task_key, labels, tool, at).await?;
        tx.commit().await?;
        self.taint_of(task_key).await
    }

    /// Adds `labels` (gathered by `tool`) to a task's taint only if its labels are still
    /// exactly `seen`, in one transaction under the store's write turn: a gateway process that
    /// decided on an old taint learns so (`None`) instead of overwriting a concurrent call's
    /// labels. Returns the labels after the addition.
    pub async fn add_taint_if(
        &self,
        task_key: &str,
        seen: &BTreeSet<String>,
        labels: &[String],
        tool: &str,
        at: Timestamp,
    ) -> Result<Option<BTreeSet<String>>, StoreError> {
        let mut tx = begin(self).await?;
        let rows = tx
            .query("SELECT label FROM gateway_taint WHERE task_key = ?")
            .bind(task_key)
            .fetch_all(tx.conn())
            .await?;
        let current: BTreeSet<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        if current != *seen {
            return Ok(None);
        }
        insert_taint(&mut tx, task_key, labels, tool, at).await?;
        tx.commit().await?;
        Ok(Some(
            current.into_iter().chain(labels.iter().cloned()).collect(),
        ))
    }

    /// A task's taint labels.
    pub async fn taint_of(&self, task_key: &str) -> Result<BTreeSet<String>, StoreError> {
        let rows = self
            .query("SELECT label FROM gateway_taint WHERE task_key = ? ORDER BY label")
            .bind(task_key)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    /// Holds a call for approval. The same call (same id) asked again returns the request
    /// held, unless that one is spent (used, expired, or denied past its deadline): then it is
    /// opened again as a new pending request, the earlier decisions staying in the audit trail.
    pub async fn request_approval(&self, row: &ApprovalRow) -> Result<ApprovalRow, StoreError> {
        let mut tx = begin(self).await?;
        let existing = tx
            .query(&format!(
                "SELECT {APPROVAL_COLUMNS} FROM gateway_approvals WHERE id = ?"
            ))
            .bind(row.id.as_str())
            .fetch_optional(tx.conn())
            .await?;
        let existing = existing.as_ref().map(approval_row).transpose()?;
        match existing {
            Some(existing) if !existing.reopens_at(row.requested_at) => return Ok(existing),
            Some(_) => {
                tx.query(
                    "UPDATE gateway_approvals SET agent = ?, task = ?, tool = ?, \
                     arguments_sha256 = ?, arguments_view = ?, taint = ?, reason = ?, \
                     requested_at = ?, expires_at = ?, status = 'pending', decided_at = NULL, \
                     decided_by = NULL, note = NULL, used_at = NULL WHERE id = ?",
                )
                .bind(row.agent.as_str())
                .bind(row.task.as_deref())
                .bind(row.tool.as_str())
                .bind(row.arguments_sha256.as_str())
                .bind(row.arguments_view.as_str())
                .bind(json_list(&row.taint))
                .bind(row.reason.as_str())
                .bind(dialect::timestamp(&row.requested_at))
                .bind(dialect::timestamp(&row.expires_at))
                .bind(row.id.as_str())
                .execute(tx.conn())
                .await?;
            }
            None => {
                tx.query(&format!(
                    "INSERT INTO gateway_approvals ({APPROVAL_COLUMNS}) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL, NULL, NULL, NULL)"
                ))
                .bind(row.id.as_str())
                .bind(row.agent.as_str())
                .bind(row.task.as_deref())
                .bind(row.tool.as_str())
                .bind(row.arguments_sha256.as_str())
                .bind(row.arguments_view.as_str())
                .bind(json_list(&row.taint))
                .bind(row.reason.as_str())
                .bind(dialect::timestamp(&row.requested_at))
                .bind(dialect::timestamp(&row.expires_at))
                .execute(tx.conn())
                .await?;
            }
        }
        tx.commit().await?;
        Ok(ApprovalRow {
            status: ApprovalStatus::Pending,
            decided_at: None,
            decided_by: None,
            note: None,
            used_at: None,
            ..row.clone()
        })
    }

    /// Spends an approval as the gateway forwards its call: true for exactly one caller, and
    /// only while the request is approved and unused (several gateways may race for it).
    pub async fn consume_approval(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        let mut tx = begin(self).await?;
        let done = tx
            .query(
                "UPDATE gateway_approvals SET used_at = ? \
                 WHERE id = ? AND status = 'approved' AND used_at IS NULL",
            )
            .bind(dialect::timestamp(&at))
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// One held call.
    pub async fn approval(&self, id: &str) -> Result<Option<ApprovalRow>, StoreError> {
        let row = self
            .query(&format!(
                "SELECT {APPROVAL_COLUMNS} FROM gateway_approvals WHERE id = ?"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(approval_row).transpose()
    }

    /// Held calls, oldest first: all, or those stored with `status` (pending ones include the
    /// expired; see [`ApprovalRow::status_at`]).
    pub async fn approvals(
        &self,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<ApprovalRow>, StoreError> {
        let stored = match status {
            Some(ApprovalStatus::Expired) => Some(ApprovalStatus::Pending),
            Some(ApprovalStatus::Used) => Some(ApprovalStatus::Approved),
            other => other,
        };
        let rows = match stored {
            Some(status) => {
                self.query(&format!(
                    "SELECT {APPROVAL_COLUMNS} FROM gateway_approvals WHERE status = ? \
                     ORDER BY requested_at, id"
                ))
                .bind(status.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                self.query(&format!(
                    "SELECT {APPROVAL_COLUMNS} FROM gateway_approvals ORDER BY requested_at, id"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(approval_row).collect()
    }

    /// Approves or denies a pending call, with its audit row (`gateway.approve` /
    /// `gateway.deny`); `None` when no such call is held. A request already decided or past
    /// its deadline is a [`StoreError::Conflict`].
    pub async fn decide_approval(
        &self,
        id: &str,
        approve: bool,
        by: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<Option<ApprovalRow>, StoreError> {
        let mut tx = begin(self).await?;
        let row = tx
            .query(&format!(
                "SELECT {APPROVAL_COLUMNS} FROM gateway_approvals WHERE id = ?"
            ))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
        let Some(row) = row.as_ref().map(approval_row).transpose()? else {
            return Ok(None);
        };
        match row.status_at(at) {
            ApprovalStatus::Pending => {}
            status => {
                return Err(StoreError::Conflict(format!(
                    "held call {id} is {} already",
                    status.as_str()
                )));
            }
        }
        let status = if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Denied
        };
        let when = dialect::timestamp(&at);
        tx.query(
            "UPDATE gateway_approvals SET status = ?, decided_at = ?, decided_by = ?, note = ? \
             WHERE id = ? AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(when.as_str())
        .bind(by)
        .bind(note)
        .bind(id)
        .execute(tx.conn())
        .await?;
        let after = serde_json::json!({
            "status": status,
            "tool": row.tool,
            "agent": row.agent,
            "task": row.task,
            "arguments_sha256": row.arguments_sha256,
            "note": note,
        })
        .to_string();
        let action = if approve {
            "gateway.approve"
        } else {
            "gateway.deny"
        };
        audit(&mut tx, &when, by, action, id, None, Some(&after)).await?;
        tx.commit().await?;
        Ok(Some(ApprovalRow {
            status,
            decided_at: Some(at),
            decided_by: Some(by.to_string()),
            note: note.map(str::to_string),
            used_at: None,
            ..row
        }))
    }
}

/// One call through the gateway, as the audit trail records it: the decision and what it was
/// about, never the raw arguments (`detail` holds their digest and a redacted view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayCallAudit {
    pub at: Timestamp,
    /// The agent that called.
    pub agent: String,
    /// `gateway.call.allow`, `gateway.call.deny`, `gateway.call.approval_required`, or
    /// `gateway.call` when no decision was reached (an error first).
    pub action: String,
    /// What was called: `server::tool`, or the server and method.
    pub subject: String,
    /// The call's record, as JSON.
    pub detail: String,
}

impl Store {
    /// Appends gateway calls to the audit trail, in one transaction (the gateway sends them in
    /// batches, off its request path).
    pub async fn audit_gateway_calls(&self, calls: &[GatewayCallAudit]) -> Result<(), StoreError> {
        if calls.is_empty() {
            return Ok(());
        }
        let times: Vec<String> = calls.iter().map(|c| dialect::timestamp(&c.at)).collect();
        let rows: Vec<AuditRow<'_>> = calls
            .iter()
            .zip(&times)
            .map(|(call, at)| AuditRow {
                at,
                actor: &call.agent,
                action: &call.action,
                subject: &call.subject,
                before: None,
                after: Some(&call.detail),
            })
            .collect();
        let mut tx = begin(self).await?;
        audit_rows(&mut tx, &rows).await?;
        tx.commit().await
    }
}
