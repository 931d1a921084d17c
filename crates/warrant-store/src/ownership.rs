//! Ownership and registration records: explicit owner assignments (a history: the latest per
//! identity is in force, none is overwritten) and registrations of intended identities with the
//! decisions on them. Owners and registrations change what an assessment reads, so these writes
//! raise the revision; each adds its audit row in the same transaction.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use warrant_core::Timestamp;

use crate::dialect;
use crate::governance::{DecisionTable, append_decision, audit};
use crate::{Store, StoreError};

/// One explicit owner assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentRow {
    pub seq: i64,
    pub identity: String,
    /// The owner's email; empty when the assignment withdrew the explicit owner.
    pub owner: String,
    pub assigned_by: String,
    pub at: Timestamp,
    pub reason: Option<String>,
}

/// An owner found outside the inventory's own records: the person who created the identity
/// or its key, or the CODEOWNERS of a repository that uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerEvidence {
    /// The identity's id (or its ARN as logged, when the inventory did not list it yet).
    pub identity: String,
    /// The person or team.
    pub owner: String,
    /// `creator` or `codeowners`.
    pub source: String,
    /// Where exactly: `cloudtrail:iam:CreateUser:EVENT-ID`, `codeowners:FILE:LINE:PATH`.
    pub detail: String,
    /// When the evidence dates from.
    pub at: Timestamp,
}

/// A registration as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub owner: String,
    pub requested_by: String,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    /// The registration as JSON (warrant_lifecycle::Registration).
    pub data: String,
    /// The latest decision on it (`approve`, `reject`, `withdraw`) and who made it.
    pub decision: Option<(String, String)>,
}

fn assignment(r: &AnyRow) -> Result<AssignmentRow, StoreError> {
    let seq: i64 = r.try_get(0)?;
    Ok(AssignmentRow {
        identity: r.try_get(1)?,
        owner: r.try_get(2)?,
        assigned_by: r.try_get(3)?,
        at: dialect::parse_timestamp(
            "owner_assignments",
            &seq.to_string(),
            &r.try_get::<String, _>(4)?,
        )?,
        reason: r.try_get(5)?,
        seq,
    })
}

/// Adds owner evidence not held yet; returns how many rows were new.
pub(crate) async fn add_owner_evidence(
    tx: &mut crate::WriteTx,
    rows: &[OwnerEvidence],
    recorded: Timestamp,
) -> Result<u64, StoreError> {
    let recorded = dialect::timestamp(&recorded);
    let mut added = 0;
    for row in rows {
        let done = tx
            .query(
                "INSERT INTO owner_evidence (identity, owner, source, detail, at, recorded) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (identity, source, owner, detail) DO NOTHING",
            )
            .bind(row.identity.as_str())
            .bind(row.owner.as_str())
            .bind(row.source.as_str())
            .bind(row.detail.as_str())
            .bind(dialect::timestamp(&row.at))
            .bind(recorded.as_str())
            .execute(tx.conn())
            .await?;
        added += done.rows_affected();
    }
    if added > 0 {
        // Owners are what the ownership rules judge.
        tx.changes_inputs = true;
    }
    Ok(added)
}

fn evidence(r: &AnyRow) -> Result<OwnerEvidence, StoreError> {
    let identity: String = r.try_get(0)?;
    let at: String = r.try_get(4)?;
    Ok(OwnerEvidence {
        owner: r.try_get(1)?,
        source: r.try_get(2)?,
        detail: r.try_get(3)?,
        at: dialect::parse_timestamp("owner_evidence", &identity, &at)?,
        identity,
    })
}

impl Store {
    /// Records owner evidence (kept alongside what was there: evidence is never overwritten).
    /// Returns how many rows were new.
    pub async fn record_owner_evidence(
        &self,
        rows: &[OwnerEvidence],
        recorded: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        // Raised below only if some evidence is new.
        tx.changes_inputs = false;
        let added = add_owner_evidence(&mut tx, rows, recorded).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Owner evidence, of one identity or of all, by identity then date.
    pub async fn owner_evidence(
        &self,
        identity: Option<&str>,
    ) -> Result<Vec<OwnerEvidence>, StoreError> {
        const COLUMNS: &str = "SELECT identity, owner, source, detail, at FROM owner_evidence";
        let rows = match identity {
            Some(id) => {
                self.query(&format!(
                    "{COLUMNS} WHERE identity = ? ORDER BY identity, at, source, owner, detail"
                ))
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                self.query(&format!(
                    "{COLUMNS} ORDER BY identity, at, source, owner, detail"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(evidence).collect()
    }

    /// Records an explicit owner assignment (`owner.set`, or `owner.clear` for an empty
    /// owner) with the owner in force before it.
    pub async fn assign_owner(
        &self,
        identity: &str,
        owner: &str,
        assigned_by: &str,
        at: Timestamp,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        let before: Option<String> = tx
            .query(
                "SELECT owner FROM owner_assignments WHERE identity = ? ORDER BY seq DESC LIMIT 1",
            )
            .bind(identity)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        tx.query(
            "INSERT INTO owner_assignments (identity, owner, assigned_by, at, reason) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(identity)
        .bind(owner)
        .bind(assigned_by)
        .bind(&at)
        .bind(reason)
        .execute(tx.conn())
        .await?;
        let json = |o: &str| serde_json::json!({ "owner": o }).to_string();
        audit(
            &mut tx,
            &at,
            assigned_by,
            if owner.is_empty() {
                "owner.clear"
            } else {
                "owner.set"
            },
            identity,
            before
                .as_deref()
                .filter(|b| !b.is_empty())
                .map(json)
                .as_deref(),
            (!owner.is_empty()).then(|| json(owner)).as_deref(),
        )
        .await?;
        tx.changes_inputs = true;
        tx.commit().await?;
        Ok(())
    }

    /// The assignments of one identity, oldest first.
    pub async fn owner_history(&self, identity: &str) -> Result<Vec<AssignmentRow>, StoreError> {
        let rows = self
            .query(
                "SELECT seq, identity, owner, assigned_by, at, reason FROM owner_assignments \
                 WHERE identity = ? ORDER BY seq",
            )
            .bind(identity)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(assignment).collect()
    }

    /// The latest assignment of every identity that has one (the explicit owners in force, or
    /// their withdrawal).
    pub async fn latest_owner_assignments(&self) -> Result<Vec<AssignmentRow>, StoreError> {
        let rows = self
            .query(
                "SELECT a.seq, a.identity, a.owner, a.assigned_by, a.at, a.reason \
                 FROM owner_assignments a \
                 WHERE a.seq = (SELECT MAX(b.seq) FROM owner_assignments b WHERE b.identity = a.identity) \
                 ORDER BY a.identity",
            )
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(assignment).collect()
    }

    /// Records a registration request (`registration.request`). Returns false, changing
    /// nothing, when one with its id exists.
    pub async fn register(&self, row: &RegistrationRow) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = tx
            .query(
                "INSERT INTO registrations (id, name, kind, owner, requested_by, created, expires, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(row.id.as_str())
            .bind(row.name.as_str())
            .bind(row.kind.as_str())
            .bind(row.owner.as_str())
            .bind(row.requested_by.as_str())
            .bind(dialect::timestamp(&row.created))
            .bind(row.expires.as_ref().map(dialect::timestamp))
            .bind(row.data.as_str())
            .execute(tx.conn())
            .await?;
        let saved = done.rows_affected() > 0;
        if saved {
            audit(
                &mut tx,
                &dialect::timestamp(&row.created),
                &row.requested_by,
                "registration.request",
                &row.id,
                None,
                Some(&row.data),
            )
            .await?;
        }
        // A request sanctions nothing until approved.
        tx.changes_inputs = false;
        tx.commit().await?;
        Ok(saved)
    }

    /// Appends a decision on a registration (`registration.approve`, …).
    pub async fn decide_registration(
        &self,
        id: &str,
        decided_by: &str,
        at: Timestamp,
        decision: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        // An approval sanctions identities: what an assessment reads changes.
        append_decision(
            self,
            &DecisionTable {
                table: "registration_decisions",
                subject_column: "registration",
                audit_prefix: "registration",
                changes_inputs: true,
            },
            id,
            decided_by,
            at,
            decision,
            reason,
        )
        .await
    }

    /// Every registration with its latest decision, oldest first.
    pub async fn registrations(&self) -> Result<Vec<RegistrationRow>, StoreError> {
        let rows = self
            .query(
                "SELECT r.id, r.name, r.kind, r.owner, r.requested_by, r.created, r.expires, r.data, \
                 (SELECT d.decision FROM registration_decisions d WHERE d.registration = r.id ORDER BY d.seq DESC LIMIT 1), \
                 (SELECT d.decided_by FROM registration_decisions d WHERE d.registration = r.id ORDER BY d.seq DESC LIMIT 1) \
                 FROM registrations r ORDER BY r.created, r.id",
            )
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let t = "registrations";
                let decision: Option<String> = r.try_get(8)?;
                let by: Option<String> = r.try_get(9)?;
                Ok(RegistrationRow {
                    name: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    owner: r.try_get(3)?,
                    requested_by: r.try_get(4)?,
                    created: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(5)?)?,
                    expires: dialect::parse_opt_timestamp(t, &id, r.try_get(6)?)?,
                    data: r.try_get(7)?,
                    decision: decision.zip(by),
                    id,
                })
            })
            .collect()
    }
}
