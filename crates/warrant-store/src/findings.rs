//! Findings across runs: each finding id keeps its first/last sighting and a status.
//!
//! A run of one source (posture, secret, activity) opens or refreshes the findings it raises
//! and resolves that source's open findings it no longer raises; other sources' findings are
//! untouched. A resolved finding raised again reopens; an accepted one stays accepted.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sqlx::Row;
use warrant_core::{Finding, FindingSource, RiskScore, Severity, Timestamp};

use crate::dialect::{self, MAX_BIND_PARAMS};
use crate::{Store, StoreError, WriteTx};

/// Lifecycle state of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    /// A later run of the same source no longer raised it.
    Resolved,
    /// Someone accepted the risk (`set_finding_status`); later runs do not reopen it.
    Accepted,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Resolved => "resolved",
            FindingStatus::Accepted => "accepted",
        }
    }
}

impl fmt::Display for FindingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FindingStatus {
    type Err = warrant_core::UnknownValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(FindingStatus::Open),
            "resolved" => Ok(FindingStatus::Resolved),
            "accepted" => Ok(FindingStatus::Accepted),
            _ => Err(warrant_core::UnknownValueError {
                what: "finding status",
                value: s.to_string(),
                expected: "open resolved accepted",
            }),
        }
    }
}

/// Number of a saved run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AssessmentId(pub i64);

/// A finding with its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFinding {
    /// The latest version raised.
    pub finding: Finding,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub status: FindingStatus,
    pub note: Option<String>,
    pub resolved_at: Option<Timestamp>,
}

/// Which stored findings to return; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    pub identity: Option<String>,
    pub source: Option<FindingSource>,
    pub status: Option<FindingStatus>,
    /// Only findings at least this severe.
    pub min_severity: Option<Severity>,
}

fn encode_finding(f: &Finding) -> Result<String, StoreError> {
    serde_json::to_string(f).map_err(|e| StoreError::Corrupt {
        table: "findings",
        key: f.id.clone(),
        message: format!("cannot serialise: {e}"),
    })
}

/// Opens or refreshes each finding. A resolved finding raised again reopens; open and accepted
/// keep their status. Sightings only widen, so a back-dated run cannot break first <= last.
pub(crate) async fn upsert_findings<F: Borrow<Finding>>(
    tx: &mut WriteTx,
    at: &str,
    findings: &[F],
) -> Result<(), StoreError> {
    let unique = dialect::last_per_key(findings, |f| f.borrow().id.as_str());
    const COLS: usize = 10;
    // Multi-row statements: hundreds of thousands of findings would otherwise cost as many
    // round trips to the database.
    for chunk in unique.chunks(MAX_BIND_PARAMS / COLS) {
        let sql = format!(
            "INSERT INTO findings (id, rule, identity, severity, owasp, source, data, \
             first_seen, last_seen, status) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, \
             identity = excluded.identity, severity = excluded.severity, \
             owasp = excluded.owasp, source = excluded.source, data = excluded.data, \
             first_seen = CASE WHEN excluded.first_seen < findings.first_seen \
                 THEN excluded.first_seen ELSE findings.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > findings.last_seen \
                 THEN excluded.last_seen ELSE findings.last_seen END, \
             status = CASE WHEN findings.status = 'resolved' THEN 'open' ELSE findings.status END, \
             resolved_at = CASE WHEN findings.status = 'resolved' THEN NULL ELSE findings.resolved_at END",
            dialect::value_rows(chunk.len(), COLS)
        );
        let mut query = tx.query(&sql);
        for f in chunk {
            let f: &Finding = (*f).borrow();
            query = query
                .bind(f.id.as_str())
                .bind(f.rule.as_str())
                .bind(f.identity.as_str())
                .bind(f.severity.as_str())
                .bind(f.owasp.code())
                .bind(f.source.as_str())
                .bind(encode_finding(f)?)
                .bind(at)
                .bind(at)
                .bind(FindingStatus::Open.as_str());
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Replaces the stored risk of each identity, in multi-row statements.
async fn upsert_risks<I: AsRef<str>, R: Borrow<RiskScore>>(
    tx: &mut WriteTx,
    assessment: AssessmentId,
    risks: &[(I, R)],
) -> Result<(), StoreError> {
    let unique = dialect::last_per_key(risks, |(identity, _)| identity.as_ref());
    const COLS: usize = 6;
    for chunk in unique.chunks(MAX_BIND_PARAMS / COLS) {
        let sql = format!(
            "INSERT INTO risks (identity, assessment, score, blast_radius, exposure, data) \
             VALUES {} ON CONFLICT (identity) DO UPDATE SET \
             assessment = excluded.assessment, score = excluded.score, \
             blast_radius = excluded.blast_radius, exposure = excluded.exposure, \
             data = excluded.data",
            dialect::value_rows(chunk.len(), COLS)
        );
        let mut query = tx.query(&sql);
        for (identity, risk) in chunk {
            let (identity, risk): (&str, &RiskScore) = (identity.as_ref(), risk.borrow());
            let data = serde_json::to_string(risk).map_err(|e| StoreError::Corrupt {
                table: "risks",
                key: identity.to_string(),
                message: format!("cannot serialise: {e}"),
            })?;
            query = query
                .bind(identity)
                .bind(assessment.0)
                .bind(risk.score)
                .bind(risk.blast_radius)
                .bind(risk.exposure)
                .bind(data);
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

impl Store {
    /// Records one run of `source`: opens or refreshes each finding, resolves that source's
    /// open findings absent from `findings`, and replaces the risk of each identity in `risks`.
    /// One transaction.
    ///
    /// Takes owned or borrowed findings and risks, so a caller holding a large assessment need
    /// not copy it.
    pub async fn save_assessment<F, I, R>(
        &self,
        as_of: Timestamp,
        source: FindingSource,
        findings: &[F],
        risks: &[(I, R)],
    ) -> Result<AssessmentId, StoreError>
    where
        F: Borrow<Finding>,
        I: AsRef<str>,
        R: Borrow<RiskScore>,
    {
        let at = dialect::timestamp(&as_of);
        let mut tx = self.begin_write().await?;
        let row = tx
            .query(
                "INSERT INTO assessments (source, as_of, n_findings) VALUES (?, ?, ?) RETURNING id",
            )
            .bind(source.as_str())
            .bind(&at)
            .bind(i64::try_from(findings.len()).unwrap_or(i64::MAX))
            .fetch_one(tx.conn())
            .await?;
        let id = AssessmentId(row.try_get(0)?);

        upsert_findings(&mut tx, &at, findings).await?;
        let raised: HashSet<&str> = findings.iter().map(|f| f.borrow().id.as_str()).collect();

        let open: Vec<String> = tx
            .query("SELECT id FROM findings WHERE source = ? AND status = 'open'")
            .bind(source.as_str())
            .fetch_all(tx.conn())
            .await?
            .into_iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let gone: Vec<&String> = open
            .iter()
            .filter(|id| !raised.contains(id.as_str()))
            .collect();
        for chunk in gone.chunks(MAX_BIND_PARAMS - 1) {
            let sql = format!(
                "UPDATE findings SET status = 'resolved', resolved_at = ? WHERE id IN ({})",
                dialect::placeholders(chunk.len())
            );
            let mut q = tx.query(&sql).bind(&at);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            q.execute(tx.conn()).await?;
        }

        upsert_risks(&mut tx, id, risks).await?;
        tx.commit().await?;
        tracing::info!(
            run = id.0,
            source = source.as_str(),
            raised = findings.len(),
            resolved = gone.len(),
            "Assessment saved."
        );
        Ok(id)
    }

    /// Records findings of a partial run (a scan of some paths, one batch of logs): opens or
    /// refreshes each, and resolves nothing, since findings absent from a partial run may still
    /// hold elsewhere. One transaction.
    pub async fn record_findings(
        &self,
        as_of: Timestamp,
        findings: &[Finding],
    ) -> Result<(), StoreError> {
        let at = dialect::timestamp(&as_of);
        let mut tx = self.begin_write().await?;
        upsert_findings(&mut tx, &at, findings).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves the open findings among `ids` at `at` (their cause is gone: a leaked secret
    /// removed from every file that held it). Accepted findings stay accepted. Returns how many
    /// were resolved.
    pub async fn resolve_findings(&self, ids: &[String], at: Timestamp) -> Result<u64, StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        let mut resolved = 0;
        for chunk in ids.chunks(MAX_BIND_PARAMS - 1) {
            let sql = format!(
                "UPDATE findings SET status = 'resolved', resolved_at = ? \
                 WHERE status = 'open' AND id IN ({})",
                dialect::placeholders(chunk.len())
            );
            let mut q = tx.query(&sql).bind(&at);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            resolved += q.execute(tx.conn()).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(resolved)
    }

    /// Sets a finding's status by hand (typically `Accepted` with a note, or back to `Open`).
    /// Returns false when no finding has that id.
    pub async fn set_finding_status(
        &self,
        id: &str,
        status: FindingStatus,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        // Marking resolved by hand needs a resolution instant: use the finding's last sighting.
        let done = self.query(
            "UPDATE findings SET status = ?, status_note = ?, \
             resolved_at = CASE WHEN ? = 'resolved' THEN COALESCE(resolved_at, last_seen) ELSE NULL END \
             WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(note)
        .bind(status.as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stored findings matching `filter`, most severe first, then by identity and rule.
    pub async fn findings(&self, filter: &FindingFilter) -> Result<Vec<StoredFinding>, StoreError> {
        let mut sql = String::from(
            "SELECT id, data, first_seen, last_seen, status, status_note, resolved_at \
             FROM findings WHERE 1 = 1",
        );
        let mut binds: Vec<String> = Vec::new();
        if let Some(identity) = &filter.identity {
            sql.push_str(" AND identity = ?");
            binds.push(identity.clone());
        }
        if let Some(source) = filter.source {
            sql.push_str(" AND source = ?");
            binds.push(source.as_str().to_string());
        }
        if let Some(status) = filter.status {
            sql.push_str(" AND status = ?");
            binds.push(status.as_str().to_string());
        }
        if let Some(min) = filter.min_severity {
            let allowed: Vec<&Severity> = Severity::ALL.iter().filter(|s| **s >= min).collect();
            sql.push_str(&format!(
                " AND severity IN ({})",
                dialect::placeholders(allowed.len())
            ));
            binds.extend(allowed.iter().map(|s| s.as_str().to_string()));
        }
        sql.push_str(" ORDER BY identity, id");
        let mut q = self.query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let mut out = Vec::new();
        for row in q.fetch_all(&self.pool).await? {
            let t = "findings";
            let id: String = row.try_get(0)?;
            let data: String = row.try_get(1)?;
            let finding: Finding =
                serde_json::from_str(&data).map_err(|e| StoreError::Corrupt {
                    table: t,
                    key: id.clone(),
                    message: e.to_string(),
                })?;
            let status: String = row.try_get(4)?;
            let status = status
                .parse()
                .map_err(|e: warrant_core::UnknownValueError| StoreError::Corrupt {
                    table: t,
                    key: id.clone(),
                    message: e.to_string(),
                })?;
            out.push(StoredFinding {
                finding,
                first_seen: dialect::parse_timestamp(t, &id, &row.try_get::<String, _>(2)?)?,
                last_seen: dialect::parse_timestamp(t, &id, &row.try_get::<String, _>(3)?)?,
                status,
                note: row.try_get(5)?,
                resolved_at: dialect::parse_opt_timestamp(t, &id, row.try_get(6)?)?,
            });
        }
        out.sort_by(|a, b| {
            b.finding
                .severity
                .cmp(&a.finding.severity)
                .then_with(|| a.finding.identity.cmp(&b.finding.identity))
                .then_with(|| a.finding.rule.cmp(&b.finding.rule))
        });
        Ok(out)
    }

    /// The open findings of one source, as raised last (e.g. secret and activity findings
    /// to combine with a fresh posture run).
    pub async fn open_findings(&self, source: FindingSource) -> Result<Vec<Finding>, StoreError> {
        let filter = FindingFilter {
            source: Some(source),
            status: Some(FindingStatus::Open),
            ..FindingFilter::default()
        };
        Ok(self
            .findings(&filter)
            .await?
            .into_iter()
            .map(|s| s.finding)
            .collect())
    }

    /// The latest risk score of every identity ever scored, by identity id.
    /// The instant the latest saved run of `source` assessed (`--as-of` or the time it ran),
    /// `None` before the first.
    pub async fn last_assessed(
        &self,
        source: FindingSource,
    ) -> Result<Option<Timestamp>, StoreError> {
        let row = self
            .query("SELECT as_of FROM assessments WHERE source = ? ORDER BY id DESC LIMIT 1")
            .bind(source.as_str())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => {
                let text: String = row.try_get(0)?;
                dialect::parse_opt_timestamp("assessments", source.as_str(), Some(text))
            }
            None => Ok(None),
        }
    }

    pub async fn latest_risks(&self) -> Result<Vec<(String, RiskScore)>, StoreError> {
        let mut out = Vec::new();
        for row in self
            .query("SELECT identity, data FROM risks ORDER BY identity")
            .fetch_all(&self.pool)
            .await?
        {
            let identity: String = row.try_get(0)?;
            let data: String = row.try_get(1)?;
            let risk = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt {
                table: "risks",
                key: identity.clone(),
                message: e.to_string(),
            })?;
            out.push((identity, risk));
        }
        Ok(out)
    }
}
