//! Access-review records (schema 8): campaigns, their items with the evidence captured when
//! each campaign opened, and the decisions reviewers record — only ever appended, a correction
//! naming the decision it supersedes. Every write adds its audit row in the same transaction
//! and none raises the store's revision (reviews are not inputs of an assessment).

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use warrant_core::Timestamp;

use crate::dialect::{self, MAX_BIND_PARAMS};
use crate::governance::audit;
use crate::{Store, StoreError, WriteTx};

/// An identity's latest review decision (see [`Store::last_reviews`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastReview {
    pub identity: String,
    pub campaign: String,
    pub at: Timestamp,
    /// The item's evidence as JSON (warrant_lifecycle::review::Evidence).
    pub evidence: String,
}

/// A campaign as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignRow {
    /// Its name, as given at start.
    pub id: String,
    /// The scope, as text (`warrant_lifecycle::review::Scope`).
    pub scope: String,
    /// The last day to decide.
    pub due: NaiveDate,
    pub fallback_reviewer: Option<String>,
    /// Start of the window observed use was read from.
    pub usage_since: Timestamp,
    /// What the evidence was read from.
    pub basis: String,
    pub started_by: String,
    pub started_at: Timestamp,
    pub closed_by: Option<String>,
    pub closed_at: Option<Timestamp>,
}

/// One identity under review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItemRow {
    pub campaign: String,
    /// Its number in the campaign, from 1.
    pub item: i64,
    pub identity: String,
    pub name: String,
    /// Who it was assigned to.
    pub reviewer: String,
    /// Why them.
    pub assigned: String,
    /// What the reviewer is shown, as JSON (`warrant_lifecycle::review::Evidence`).
    pub evidence: String,
}

/// A decision on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewDecisionRow {
    /// Order of the decision (0 when writing: the store numbers it).
    pub seq: i64,
    pub campaign: String,
    pub item: i64,
    /// keep, rightsize, rotate, disable, decommission, expired.
    pub decision: String,
    pub reason: Option<String>,
    pub decided_by: String,
    /// assigned, escalated (the fallback reviewer of an overdue item) or close.
    pub authority: String,
    pub at: Timestamp,
    /// The remediation plan written for it.
    pub plan: Option<String>,
    /// Why no plan could be written, when one was called for.
    pub plan_error: Option<String>,
    /// The decision this one corrects.
    pub supersedes: Option<i64>,
}

/// A campaign with how many of its items have a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignCounts {
    pub campaign: CampaignRow,
    pub items: u64,
    pub decided: u64,
}

/// What closing a campaign did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CloseOutcome {
    /// Closed, with this many pending items recorded as expired.
    Closed { expired: u64 },
    /// Not closed: this many items are pending and expiring them was not asked for.
    Pending(u64),
    /// Not closed: it was closed already.
    AlreadyClosed,
    /// No campaign has the id.
    NotFound,
}

const CAMPAIGN_COLUMNS: &str = "id, scope, due, fallback_reviewer, usage_since, basis, \
     started_by, started_at, closed_by, closed_at";
const ITEM_COLUMNS: &str = "campaign, item, identity, name, reviewer, assigned, evidence";
const DECISION_COLUMNS: &str = "seq, campaign, item, decision, reason, decided_by, authority, \
     at, plan, plan_error, supersedes";

fn parse_day(id: &str, text: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
        table: "review_campaigns",
        key: id.to_string(),
        message: format!("bad due date `{text}`: {e}"),
    })
}

fn campaign_row(r: &AnyRow) -> Result<CampaignRow, StoreError> {
    let t = "review_campaigns";
    let id: String = r.try_get(0)?;
    Ok(CampaignRow {
        scope: r.try_get(1)?,
        due: parse_day(&id, &r.try_get::<String, _>(2)?)?,
        fallback_reviewer: r.try_get(3)?,
        usage_since: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(4)?)?,
        basis: r.try_get(5)?,
        started_by: r.try_get(6)?,
        started_at: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(7)?)?,
        closed_by: r.try_get(8)?,
        closed_at: dialect::parse_opt_timestamp(t, &id, r.try_get(9)?)?,
        id,
    })
}

fn item_row(r: &AnyRow) -> Result<ReviewItemRow, StoreError> {
    Ok(ReviewItemRow {
        campaign: r.try_get(0)?,
        item: r.try_get(1)?,
        identity: r.try_get(2)?,
        name: r.try_get(3)?,
        reviewer: r.try_get(4)?,
        assigned: r.try_get(5)?,
        evidence: r.try_get(6)?,
    })
}

fn decision_row(r: &AnyRow) -> Result<ReviewDecisionRow, StoreError> {
    let seq: i64 = r.try_get(0)?;
    Ok(ReviewDecisionRow {
        campaign: r.try_get(1)?,
        item: r.try_get(2)?,
        decision: r.try_get(3)?,
        reason: r.try_get(4)?,
        decided_by: r.try_get(5)?,
        authority: r.try_get(6)?,
        at: dialect::parse_timestamp(
            "review_decisions",
            &seq.to_string(),
            &r.try_get::<String, _>(7)?,
        )?,
        plan: r.try_get(8)?,
        plan_error: r.try_get(9)?,
        supersedes: r.try_get(10)?,
        seq,
    })
}

/// The audit subject of an item: `CAMPAIGN#ITEM` (campaign names hold no `#`).
fn subject(campaign: &str, item: i64) -> String {
    format!("{campaign}#{item}")
}

fn decision_json(row: &ReviewDecisionRow) -> String {
    serde_json::json!({
        "decision": row.decision,
        "reason": row.reason,
        "authority": row.authority,
        "plan": row.plan,
        "plan_error": row.plan_error,
    })
    .to_string()
}

/// Whether the campaign exists and is open, inside `tx` (`None`: no such campaign).
async fn is_open(tx: &mut WriteTx, campaign: &str) -> Result<Option<bool>, StoreError> {
    let row = tx
        .query("SELECT closed_at FROM review_campaigns WHERE id = ?")
        .bind(campaign)
        .fetch_optional(tx.conn())
        .await?;
    row.map(|r| Ok(r.try_get::<Option<String>, _>(0)?.is_none()))
        .transpose()
}

impl Store {
    /// Opens a campaign with its items and its audit row (`review.start`), in one transaction.
    /// Returns false, writing nothing, when a campaign with its id exists.
    pub async fn start_review(
        &self,
        campaign: &CampaignRow,
        items: &[ReviewItemRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // Reviews are not inputs of an assessment: listings stay current.
        tx.changes_inputs = false;
        let done = tx
            .query(&format!(
                "INSERT INTO review_campaigns ({CAMPAIGN_COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
            ))
            .bind(campaign.id.as_str())
            .bind(campaign.scope.as_str())
            .bind(campaign.due.format("%Y-%m-%d").to_string())
            .bind(campaign.fallback_reviewer.as_deref())
            .bind(dialect::timestamp(&campaign.usage_since))
            .bind(campaign.basis.as_str())
            .bind(campaign.started_by.as_str())
            .bind(dialect::timestamp(&campaign.started_at))
            .bind(campaign.closed_by.as_deref())
            .bind(campaign.closed_at.as_ref().map(dialect::timestamp))
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        const COLS: usize = 7;
        for chunk in items.chunks(MAX_BIND_PARAMS / COLS) {
            let sql = format!(
                "INSERT INTO review_items ({ITEM_COLUMNS}) VALUES {}",
                dialect::value_rows(chunk.len(), COLS)
            );
            let mut query = tx.query(&sql);
            for item in chunk {
                query = query
                    .bind(campaign.id.as_str())
                    .bind(item.item)
                    .bind(item.identity.as_str())
                    .bind(item.name.as_str())
                    .bind(item.reviewer.as_str())
                    .bind(item.assigned.as_str())
                    .bind(item.evidence.as_str());
            }
            query.execute(tx.conn()).await?;
        }
        let after = serde_json::json!({
            "scope": campaign.scope,
            "due": campaign.due.format("%Y-%m-%d").to_string(),
            "fallback_reviewer": campaign.fallback_reviewer,
            "basis": campaign.basis,
            "items": items.len(),
        })
        .to_string();
        audit(
            &mut tx,
            &dialect::timestamp(&campaign.started_at),
            &campaign.started_by,
            "review.start",
            &campaign.id,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn review_campaign(&self, id: &str) -> Result<Option<CampaignRow>, StoreError> {
        let row = self
            .query(&format!(
                "SELECT {CAMPAIGN_COLUMNS} FROM review_campaigns WHERE id = ?"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(campaign_row).transpose()
    }

    /// Every campaign, newest first, with its item and decided counts.
    pub async fn review_campaigns(&self) -> Result<Vec<CampaignCounts>, StoreError> {
        let rows = self
            .query(&format!(
                "SELECT {CAMPAIGN_COLUMNS}, \
                 (SELECT COUNT(*) FROM review_items i WHERE i.campaign = c.id), \
                 (SELECT COUNT(DISTINCT d.item) FROM review_decisions d WHERE d.campaign = c.id) \
                 FROM review_campaigns c ORDER BY started_at DESC, id"
            ))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let items: i64 = r.try_get(10)?;
                let decided: i64 = r.try_get(11)?;
                Ok(CampaignCounts {
                    campaign: campaign_row(r)?,
                    items: u64::try_from(items).unwrap_or(0),
                    decided: u64::try_from(decided).unwrap_or(0),
                })
            })
            .collect()
    }

    /// A campaign's items, in item order.
    pub async fn review_items(&self, campaign: &str) -> Result<Vec<ReviewItemRow>, StoreError> {
        let rows = self
            .query(&format!(
                "SELECT {ITEM_COLUMNS} FROM review_items WHERE campaign = ? ORDER BY item"
            ))
            .bind(campaign)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(item_row).collect()
    }

    /// At most `limit` of a campaign's items numbered above `after`, in item order, assigned
    /// to `reviewer` (ASCII case ignored) when given: a page reads only its own rows.
    pub async fn review_items_after(
        &self,
        campaign: &str,
        reviewer: Option<&str>,
        after: i64,
        limit: u64,
    ) -> Result<Vec<ReviewItemRow>, StoreError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM review_items WHERE campaign = ? AND item > ?{} \
             ORDER BY item LIMIT {}",
            if reviewer.is_some() {
                " AND LOWER(reviewer) = LOWER(?)"
            } else {
                ""
            },
            limit.min(i64::MAX as u64)
        );
        let mut q = self.query(&sql).bind(campaign).bind(after);
        if let Some(reviewer) = reviewer {
            q = q.bind(reviewer);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(item_row).collect()
    }

    pub async fn review_item(
        &self,
        campaign: &str,
        item: i64,
    ) -> Result<Option<ReviewItemRow>, StoreError> {
        let row = self
            .query(&format!(
                "SELECT {ITEM_COLUMNS} FROM review_items WHERE campaign = ? AND item = ?"
            ))
            .bind(campaign)
            .bind(item)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(item_row).transpose()
    }

    /// A campaign's decisions, in the order they were made.
    pub async fn review_decisions(
        &self,
        campaign: &str,
    ) -> Result<Vec<ReviewDecisionRow>, StoreError> {
        let rows = self
            .query(&format!(
                "SELECT {DECISION_COLUMNS} FROM review_decisions WHERE campaign = ? ORDER BY seq"
            ))
            .bind(campaign)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decision_row).collect()
    }

    /// Appends a decision and its audit row (`review.decide`, subject `CAMPAIGN#ITEM`),
    /// provided the campaign is open, the item exists and its latest decision is still
    /// `row.supersedes` (`None`: undecided). A decision made meanwhile by someone else, or a
    /// campaign closed meanwhile, gives [`StoreError::Conflict`] with nothing written. Returns
    /// the new decision's seq.
    pub async fn record_review_decision(&self, row: &ReviewDecisionRow) -> Result<i64, StoreError> {
        let at = dialect::timestamp(&row.at);
        let mut tx = self.begin_write().await?;
        tx.changes_inputs = false;
        match is_open(&mut tx, &row.campaign).await? {
            None => {
                return Err(StoreError::Conflict(format!(
                    "no review campaign `{}`",
                    row.campaign
                )));
            }
            Some(false) => {
                return Err(StoreError::Conflict(format!(
                    "campaign {} was closed meanwhile; nothing was recorded",
                    row.campaign
                )));
            }
            Some(true) => {}
        }
        let exists = tx
            .query("SELECT 1 FROM review_items WHERE campaign = ? AND item = ?")
            .bind(row.campaign.as_str())
            .bind(row.item)
            .fetch_optional(tx.conn())
            .await?;
        if exists.is_none() {
            return Err(StoreError::Conflict(format!(
                "campaign {} has no item {}",
                row.campaign, row.item
            )));
        }
        let latest = tx
            .query(&format!(
                "SELECT {DECISION_COLUMNS} FROM review_decisions WHERE campaign = ? AND item = ? \
                 ORDER BY seq DESC LIMIT 1"
            ))
            .bind(row.campaign.as_str())
            .bind(row.item)
            .fetch_optional(tx.conn())
            .await?
            .as_ref()
            .map(decision_row)
            .transpose()?;
        if latest.as_ref().map(|d| d.seq) != row.supersedes {
            return Err(StoreError::Conflict(format!(
                "item {} of campaign {} was decided meanwhile; nothing was recorded (show it again)",
                row.item, row.campaign
            )));
        }
        let seq: i64 = tx
            .query(
                "INSERT INTO review_decisions (campaign, item, decision, reason, decided_by, \
                 authority, at, plan, plan_error, supersedes) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            )
            .bind(row.campaign.as_str())
            .bind(row.item)
            .bind(row.decision.as_str())
            .bind(row.reason.as_deref())
            .bind(row.decided_by.as_str())
            .bind(row.authority.as_str())
            .bind(&at)
            .bind(row.plan.as_deref())
            .bind(row.plan_error.as_deref())
            .bind(row.supersedes)
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        let before = latest.as_ref().map(decision_json);
        audit(
            &mut tx,
            &at,
            &row.decided_by,
            "review.decide",
            &subject(&row.campaign, row.item),
            before.as_deref(),
            Some(&decision_json(row)),
        )
        .await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Closes a campaign as `by` at `at` (`review.close`), provided it is open and no item is
    /// pending — or, with `expire_pending`, after recording each pending item as `expired`
    /// (with `reason`, and an audit row `review.expire` each), all in one transaction.
    pub async fn close_review(
        &self,
        campaign: &str,
        by: &str,
        at: Timestamp,
        expire_pending: bool,
        reason: &str,
    ) -> Result<CloseOutcome, StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        tx.changes_inputs = false;
        match is_open(&mut tx, campaign).await? {
            None => return Ok(CloseOutcome::NotFound),
            Some(false) => return Ok(CloseOutcome::AlreadyClosed),
            Some(true) => {}
        }
        const PENDING: &str = "FROM review_items i WHERE i.campaign = ? AND NOT EXISTS \
             (SELECT 1 FROM review_decisions d WHERE d.campaign = i.campaign AND d.item = i.item)";
        let pending: i64 = tx
            .query(&format!("SELECT COUNT(*) {PENDING}"))
            .bind(campaign)
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        let pending = u64::try_from(pending).unwrap_or(0);
        if pending > 0 && !expire_pending {
            return Ok(CloseOutcome::Pending(pending));
        }
        if pending > 0 {
            let first: Option<i64> = tx
                .query("SELECT MAX(seq) FROM review_decisions")
                .fetch_one(tx.conn())
                .await?
                .try_get(0)?;
            tx.query(&format!(
                "INSERT INTO review_decisions (campaign, item, decision, reason, decided_by, \
                 authority, at) SELECT i.campaign, i.item, 'expired', ?, ?, 'close', ? {PENDING} \
                 ORDER BY i.item"
            ))
            .bind(reason)
            .bind(by)
            .bind(&at)
            .bind(campaign)
            .execute(tx.conn())
            .await?;
            let after = serde_json::json!({
                "decision": "expired",
                "reason": reason,
                "authority": "close",
            })
            .to_string();
            tx.query(
                "INSERT INTO audit (at, actor, action, subject, before, after) \
                 SELECT ?, ?, 'review.expire', d.campaign || '#' || CAST(d.item AS TEXT), NULL, ? \
                 FROM review_decisions d WHERE d.campaign = ? AND d.seq > ? ORDER BY d.seq",
            )
            .bind(&at)
            .bind(by)
            .bind(after.as_str())
            .bind(campaign)
            .bind(first.unwrap_or(0))
            .execute(tx.conn())
            .await?;
        }
        tx.query("UPDATE review_campaigns SET closed_by = ?, closed_at = ? WHERE id = ?")
            .bind(by)
            .bind(&at)
            .bind(campaign)
            .execute(tx.conn())
            .await?;
        let after = serde_json::json!({ "closed": true, "expired": pending }).to_string();
        audit(
            &mut tx,
            &at,
            by,
            "review.close",
            campaign,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(CloseOutcome::Closed { expired: pending })
    }
}

impl Store {
    /// How many items a campaign has.
    pub async fn review_item_count(&self, campaign: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .query("SELECT COUNT(*) FROM review_items WHERE campaign = ?")
            .bind(campaign)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Identities with use recorded at or after `since`, by id (the ones a review's evidence
    /// compares granted with used permissions for).
    pub async fn identities_used_since(&self, since: Timestamp) -> Result<Vec<String>, StoreError> {
        let rows = self
            .query("SELECT DISTINCT identity FROM usage WHERE last_seen >= ? ORDER BY identity")
            .bind(dialect::timestamp(&since))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Each reviewed identity's latest decision (an item expired unreviewed at close does not
    /// count), by identity: the campaign, when, and the evidence the reviewer saw.
    pub async fn last_reviews(&self) -> Result<Vec<LastReview>, StoreError> {
        let rows = self
            .query(
                "SELECT i.identity, d.campaign, d.at, i.evidence FROM review_decisions d \
                 JOIN review_items i ON i.campaign = d.campaign AND i.item = d.item \
                 WHERE d.decision <> 'expired' ORDER BY i.identity, d.at DESC, d.seq DESC",
            )
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<LastReview> = Vec::new();
        for r in &rows {
            let identity: String = r.try_get(0)?;
            if out.last().is_some_and(|l| l.identity == identity) {
                continue;
            }
            let at: String = r.try_get(2)?;
            out.push(LastReview {
                campaign: r.try_get(1)?,
                at: dialect::parse_timestamp("review_decisions", &identity, &at)?,
                evidence: r.try_get(3)?,
                identity,
            });
        }
        Ok(out)
    }
}
