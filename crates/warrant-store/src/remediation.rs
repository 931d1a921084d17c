//! Remediation records: plans (the lifecycle engine's JSON, content-addressed, never changed
//! once stored), the decisions people make on them, and the journal of applying and undoing
//! them. Decisions and journal records are only ever appended, each with its audit row in the
//! same transaction; a plan's state is derived from them by the lifecycle engine.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use warrant_core::Timestamp;

use crate::dialect;
use crate::governance::{DecisionTable, append_decision, audit};
use crate::{Store, StoreError};

/// A plan as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRow {
    pub id: String,
    pub identity: String,
    pub action: String,
    pub requested_by: String,
    pub created: Timestamp,
    /// Approvals it needs (from the identity's tier when it was written).
    pub required_approvals: i64,
    /// The plan as JSON (warrant_lifecycle::Plan).
    pub data: String,
}

/// A decision on a plan: `approve`, `reject`, or `waive` (approval waived by policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRow {
    pub seq: i64,
    pub plan: String,
    pub decided_by: String,
    pub at: Timestamp,
    pub decision: String,
    pub reason: Option<String>,
}

/// One journal record of applying (`apply`) or undoing (`undo`) a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalRow {
    pub seq: i64,
    pub plan: String,
    pub step: i64,
    pub direction: String,
    /// `started`, `done`, `waiting`, `failed`.
    pub state: String,
    pub at: Timestamp,
    pub actor: String,
    /// What the step produced, as JSON; never a secret.
    pub output: Option<String>,
    pub error: Option<String>,
}

const PLAN_COLUMNS: &str = "id, identity, action, requested_by, created, required_approvals, data";

fn plan_row(r: &AnyRow) -> Result<PlanRow, StoreError> {
    let id: String = r.try_get(0)?;
    Ok(PlanRow {
        identity: r.try_get(1)?,
        action: r.try_get(2)?,
        requested_by: r.try_get(3)?,
        created: dialect::parse_timestamp("plans", &id, &r.try_get::<String, _>(4)?)?,
        required_approvals: r.try_get(5)?,
        data: r.try_get(6)?,
        id,
    })
}

impl Store {
    /// Stores a plan and its audit row (`plan.propose`). Returns false, changing nothing, when
    /// the plan is already stored (the same content is the same plan).
    pub async fn save_plan(&self, row: &PlanRow) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = tx
            .query(&format!(
                "INSERT INTO plans ({PLAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO NOTHING"
            ))
            .bind(row.id.as_str())
            .bind(row.identity.as_str())
            .bind(row.action.as_str())
            .bind(row.requested_by.as_str())
            .bind(dialect::timestamp(&row.created))
            .bind(row.required_approvals)
            .bind(row.data.as_str())
            .execute(tx.conn())
            .await?;
        let saved = done.rows_affected() > 0;
        if saved {
            audit(
                &mut tx,
                &dialect::timestamp(&row.created),
                &row.requested_by,
                "plan.propose",
                &row.id,
                None,
                Some(&row.data),
            )
            .await?;
        }
        // Plans are not inputs of an assessment: listings stay current.
        tx.changes_inputs = false;
        tx.commit().await?;
        Ok(saved)
    }

    /// Stores many plans at once (proposals in bulk), each with its audit row, in one
    /// transaction of multi-row statements. Plans already stored are left as they are.
    /// Returns how many were new.
    pub async fn save_plans(&self, rows: &[PlanRow]) -> Result<u64, StoreError> {
        const COLS: usize = 7;
        let mut tx = self.begin_write().await?;
        let mut saved = 0u64;
        for chunk in rows.chunks(crate::dialect::MAX_BIND_PARAMS / COLS) {
            let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
            let sql = format!(
                "SELECT id FROM plans WHERE id IN ({})",
                dialect::placeholders(ids.len())
            );
            let mut q = tx.query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            let existing: std::collections::HashSet<String> = q
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
            let mut seen = std::collections::HashSet::new();
            let new: Vec<&PlanRow> = chunk
                .iter()
                .filter(|r| !existing.contains(&r.id) && seen.insert(r.id.as_str()))
                .collect();
            if new.is_empty() {
                continue;
            }
            let sql = format!(
                "INSERT INTO plans ({PLAN_COLUMNS}) VALUES {}",
                dialect::value_rows(new.len(), COLS)
            );
            let mut q = tx.query(&sql);
            for r in &new {
                q = q
                    .bind(r.id.as_str())
                    .bind(r.identity.as_str())
                    .bind(r.action.as_str())
                    .bind(r.requested_by.as_str())
                    .bind(dialect::timestamp(&r.created))
                    .bind(r.required_approvals)
                    .bind(r.data.as_str());
            }
            q.execute(tx.conn()).await?;
            // The audit rows hold the plan id, not its whole text again: `plan show` has it.
            let sql = format!(
                "INSERT INTO audit (at, actor, action, subject, before, after) VALUES {}",
                dialect::value_rows(new.len(), 6)
            );
            let mut q = tx.query(&sql);
            for r in &new {
                q = q
                    .bind(dialect::timestamp(&r.created))
                    .bind(r.requested_by.as_str())
                    .bind("plan.propose")
                    .bind(r.id.as_str())
                    .bind(None::<String>)
                    .bind(
                        serde_json::json!({"action": r.action, "identity": r.identity}).to_string(),
                    );
            }
            q.execute(tx.conn()).await?;
            saved += new.len() as u64;
        }
        tx.changes_inputs = false;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn plan(&self, id: &str) -> Result<Option<PlanRow>, StoreError> {
        let row = self
            .query(&format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(plan_row).transpose()
    }

    /// Plans whose id starts with `prefix` (people type the first few characters).
    pub async fn plans_with_prefix(&self, prefix: &str) -> Result<Vec<PlanRow>, StoreError> {
        // Ids are `plan-` and hex: a prefix with LIKE's wildcards matches nothing anyway.
        let rows = self
            .query(&format!(
                "SELECT {PLAN_COLUMNS} FROM plans WHERE id LIKE ? ORDER BY id"
            ))
            .bind(format!("{}%", prefix.replace(['%', '_'], "")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(plan_row).collect()
    }

    /// Every plan, newest first.
    pub async fn plans(&self) -> Result<Vec<PlanRow>, StoreError> {
        let rows = self
            .query(&format!(
                "SELECT {PLAN_COLUMNS} FROM plans ORDER BY created DESC, id"
            ))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(plan_row).collect()
    }

    /// Appends a decision and its audit row (`plan.approve`, `plan.reject`, `plan.waive`).
    pub async fn decide_plan(
        &self,
        plan: &str,
        decided_by: &str,
        at: Timestamp,
        decision: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        // Decisions on plans are not inputs of an assessment.
        append_decision(
            self,
            &DecisionTable {
                table: "plan_decisions",
                subject_column: "plan",
                audit_prefix: "plan",
                changes_inputs: false,
            },
            plan,
            decided_by,
            at,
            decision,
            reason,
        )
        .await
    }

    /// At most `limit` plans, newest first (then by id) as [`Store::plans`] lists them, for
    /// `identity` when given, starting after the plan `after` names. The position is a key
    /// (created, id), so a page reads only its own rows. `None` when no plan has the id `after`.
    pub async fn plans_after(
        &self,
        identity: Option<&str>,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Option<Vec<PlanRow>>, StoreError> {
        let mut sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(identity) = identity {
            sql.push_str(" AND identity = ?");
            binds.push(identity.to_string());
        }
        if let Some(after) = after {
            let Some(row) = self
                .query("SELECT created FROM plans WHERE id = ?")
                .bind(after)
                .fetch_optional(&self.pool)
                .await?
            else {
                return Ok(None);
            };
            let created: String = row.try_get(0)?;
            sql.push_str(" AND (created < ? OR (created = ? AND id > ?))");
            binds.extend([created.clone(), created, after.to_string()]);
        }
        sql.push_str(&format!(
            " ORDER BY created DESC, id LIMIT {}",
            limit.min(i64::MAX as u64)
        ));
        let mut q = self.query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        Ok(Some(rows.iter().map(plan_row).collect::<Result<_, _>>()?))
    }

    /// The decisions on `plan`, in the order they were made.
    pub async fn plan_decisions(&self, plan: &str) -> Result<Vec<DecisionRow>, StoreError> {
        self.decisions_where(Some(&[plan])).await
    }

    /// The decisions on each of `plans`, in the order they were made (for a page: one query).
    pub async fn plan_decisions_of(&self, plans: &[&str]) -> Result<Vec<DecisionRow>, StoreError> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        self.decisions_where(Some(plans)).await
    }

    /// Every decision on every plan, in the order they were made (for listings: one query).
    pub async fn all_plan_decisions(&self) -> Result<Vec<DecisionRow>, StoreError> {
        self.decisions_where(None).await
    }

    async fn decisions_where(
        &self,
        plans: Option<&[&str]>,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let sql = format!(
            "SELECT seq, plan, decided_by, at, decision, reason FROM plan_decisions{} ORDER BY seq",
            plans
                .map(|p| format!(" WHERE plan IN ({})", dialect::placeholders(p.len())))
                .unwrap_or_default()
        );
        let mut q = self.query(&sql);
        for plan in plans.unwrap_or_default() {
            q = q.bind(*plan);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0)?;
                Ok(DecisionRow {
                    plan: r.try_get(1)?,
                    decided_by: r.try_get(2)?,
                    at: dialect::parse_timestamp(
                        "plan_decisions",
                        &seq.to_string(),
                        &r.try_get::<String, _>(3)?,
                    )?,
                    decision: r.try_get(4)?,
                    reason: r.try_get(5)?,
                    seq,
                })
            })
            .collect()
    }

    /// Appends a journal record and its audit row (`plan.apply.done`, `plan.undo.started`, …),
    /// provided the plan's journal still ends at `after_seq` (0: empty). Two applies of one plan
    /// at once cannot both go on: the second finds the journal moved and gets
    /// [`StoreError::Conflict`], having written nothing. Returns the new record's seq.
    pub async fn append_journal(
        &self,
        row: &JournalRow,
        after_seq: i64,
    ) -> Result<i64, StoreError> {
        let at = dialect::timestamp(&row.at);
        let mut tx = self.begin_write().await?;
        let last: Option<i64> = tx
            .query("SELECT MAX(seq) FROM plan_journal WHERE plan = ?")
            .bind(row.plan.as_str())
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        if last.unwrap_or(0) != after_seq {
            return Err(StoreError::Conflict(format!(
                "plan {} is being applied or rolled back by someone else (its journal moved on); nothing was changed by this run",
                row.plan
            )));
        }
        let seq: i64 = tx
            .query(
                "INSERT INTO plan_journal (plan, step, direction, state, at, actor, output, error) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            )
            .bind(row.plan.as_str())
            .bind(row.step)
            .bind(row.direction.as_str())
            .bind(row.state.as_str())
            .bind(&at)
            .bind(row.actor.as_str())
            .bind(row.output.as_deref())
            .bind(row.error.as_deref())
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        let after = serde_json::json!({
            "step": row.step + 1,
            "state": row.state,
            "output": row.output.as_deref().and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok()),
            "error": row.error,
        })
        .to_string();
        audit(
            &mut tx,
            &at,
            &row.actor,
            &format!("plan.{}.{}", row.direction, row.state),
            &row.plan,
            None,
            Some(&after),
        )
        .await?;
        tx.changes_inputs = false;
        tx.commit().await?;
        Ok(seq)
    }

    /// The journal of `plan`, in the order it was written.
    pub async fn plan_journal(&self, plan: &str) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_where(Some(&[plan])).await
    }

    /// The journals of each of `plans`, in the order written (for a page: one query).
    pub async fn plan_journals_of(&self, plans: &[&str]) -> Result<Vec<JournalRow>, StoreError> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        self.journal_where(Some(plans)).await
    }

    /// Every plan's journal, in the order written (for listings: one query).
    pub async fn all_plan_journals(&self) -> Result<Vec<JournalRow>, StoreError> {
        self.journal_where(None).await
    }

    async fn journal_where(&self, plans: Option<&[&str]>) -> Result<Vec<JournalRow>, StoreError> {
        let sql = format!(
            "SELECT seq, plan, step, direction, state, at, actor, output, error \
             FROM plan_journal{} ORDER BY seq",
            plans
                .map(|p| format!(" WHERE plan IN ({})", dialect::placeholders(p.len())))
                .unwrap_or_default()
        );
        let mut q = self.query(&sql);
        for plan in plans.unwrap_or_default() {
            q = q.bind(*plan);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0)?;
                Ok(JournalRow {
                    plan: r.try_get(1)?,
                    step: r.try_get(2)?,
                    direction: r.try_get(3)?,
                    state: r.try_get(4)?,
                    at: dialect::parse_timestamp(
                        "plan_journal",
                        &seq.to_string(),
                        &r.try_get::<String, _>(5)?,
                    )?,
                    actor: r.try_get(6)?,
                    output: r.try_get(7)?,
                    error: r.try_get(8)?,
                    seq,
                })
            })
            .collect()
    }
}
