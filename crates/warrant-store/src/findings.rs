//! Findings across runs: each finding id keeps its first/last sighting and a status.
//!
//! A run of one source (posture, secret, activity) opens or refreshes the findings it raises
//! and resolves that source's open findings it no longer raises; other sources' findings are
//! untouched. A resolved finding raised again reopens; an accepted one stays accepted.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use futures_util::TryStreamExt;
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
    /// Only the finding with this id.
    pub id: Option<String>,
    pub identity: Option<String>,
    pub source: Option<FindingSource>,
    pub status: Option<FindingStatus>,
    /// Only findings at least this severe.
    pub min_severity: Option<Severity>,
    /// Only this rule id.
    pub rule: Option<String>,
    /// Only this OWASP NHI risk (`NHI1` … `NHI10`).
    pub owasp: Option<String>,
}

impl FindingFilter {
    /// The WHERE clause (from `WHERE 1 = 1` on) and its binds.
    fn where_clause(&self) -> (String, Vec<String>) {
        let mut sql = String::from(" WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        let mut equal = |column: &str, value: Option<&str>| {
            if let Some(value) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                binds.push(value.to_string());
            }
        };
        equal("id", self.id.as_deref());
        equal("identity", self.identity.as_deref());
        equal("source", self.source.map(FindingSource::as_str));
        equal("status", self.status.map(FindingStatus::as_str));
        equal("rule", self.rule.as_deref());
        equal("owasp", self.owasp.as_deref());
        if let Some(min) = self.min_severity {
            let allowed: Vec<&Severity> = Severity::ALL.iter().filter(|s| **s >= min).collect();
            sql.push_str(&format!(
                " AND severity IN ({})",
                dialect::placeholders(allowed.len())
            ));
            binds.extend(allowed.iter().map(|s| s.as_str().to_string()));
        }
        (sql, binds)
    }
}

/// The latest saved run of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedRun {
    pub id: AssessmentId,
    /// The instant it assessed (`--as-of` or when it ran).
    pub as_of: Timestamp,
    /// The store revision it evaluated ([`Store::revision`]); `None` for runs saved before
    /// schema 5 or without one. The run is current while this equals the store's revision.
    pub revision: Option<i64>,
}

/// One identity as a run scored it, for [`Store::save_run`].
#[derive(Debug, Clone, Copy)]
pub struct ScoredIdentity<'a> {
    pub identity: &'a str,
    pub risk: &'a RiskScore,
    /// How the run reported the identity, as JSON the caller owns (stored as is, returned by
    /// [`Store::each_scored_identity`]).
    pub summary: Option<&'a str>,
    /// What listings filter it by ([`ScoredFilter`]); without them the filters never match it.
    pub facets: Option<ScoredFacets<'a>>,
}

/// What inventory listings filter a saved run's identities by, kept in columns beside the
/// summary so that a filter reads an index rather than every summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoredFacets<'a> {
    pub provider: &'a str,
    pub kind: &'a str,
    pub environment: &'a str,
    pub status: &'a str,
    pub account: Option<&'a str>,
    /// The governance policy tier it was judged by (`None`: the defaults).
    pub tier: Option<&'a str>,
    /// Whether it has an owner.
    pub owned: bool,
    /// Its owner references, ASCII-lowercased, one per line.
    pub owners: &'a str,
    /// Its name, ASCII-lowercased.
    pub name: &'a str,
}

/// Which identities of a saved run a listing wants (every field narrows; the default admits
/// every identity). Values compare exactly, as [`ScoredFacets`] stored them.
#[derive(Debug, Clone, Default)]
pub struct ScoredFilter {
    pub min_score: f64,
    pub max_score: Option<f64>,
    pub provider: Option<String>,
    pub kind: Option<String>,
    pub environment: Option<String>,
    pub status: Option<String>,
    pub account: Option<String>,
    /// Whether it has an owner.
    pub owned: Option<bool>,
    /// Its tier, ASCII case aside.
    pub tier: Option<TierFilter>,
    /// Only identities with an open finding of this OWASP NHI risk (`NHI5`).
    pub owasp: Option<String>,
    /// Only identities whose id or name contains this, ASCII case aside.
    pub search: Option<String>,
    /// Only identities with an owner reference containing this, ASCII case aside.
    pub owner: Option<String>,
}

/// How a saved run's identities are listed; ties go by identity, ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScoredOrder {
    pub by: ScoredSort,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoredSort {
    /// By risk score.
    #[default]
    Score,
    /// By name, ASCII case aside.
    Name,
}

/// Where a page of a saved run ends: the last row's key in the listing's order, and its id.
#[derive(Debug, Clone, PartialEq)]
pub enum ScoredKey {
    Score(f64),
    Name(String),
}

/// `needle` as a LIKE pattern matching it anywhere, ASCII-lowercased, with LIKE's own
/// characters escaped (by `\`).
fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c.to_ascii_lowercase());
    }
    out.push('%');
    out
}

/// A wanted tier, and whether identities judged by the defaults (no tier stored) are it.
#[derive(Debug, Clone)]
pub struct TierFilter {
    pub name: String,
    pub untiered: bool,
}

impl ScoredFilter {
    /// The conditions on `risks r` after its run, and their binds (as text or numbers).
    fn where_clause(&self) -> (String, Vec<Bind>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        // No bound at the bottom of the scale: the planner is then free to read a facet's index.
        if self.min_score > 0.0 {
            sql.push_str(" AND r.score >= ?");
            binds.push(Bind::Real(self.min_score));
        }
        if let Some(max) = self.max_score {
            sql.push_str(" AND r.score <= ?");
            binds.push(Bind::Real(max));
        }
        for (column, value) in [
            ("provider", &self.provider),
            ("kind", &self.kind),
            ("environment", &self.environment),
            ("status", &self.status),
            ("account", &self.account),
        ] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND r.{column} = ?"));
                binds.push(Bind::Text(value.clone()));
            }
        }
        if let Some(owned) = self.owned {
            sql.push_str(" AND r.owned = ?");
            binds.push(Bind::Int(i64::from(owned)));
        }
        if let Some(tier) = &self.tier {
            sql.push_str(if tier.untiered {
                " AND (r.tier IS NULL OR LOWER(r.tier) = LOWER(?))"
            } else {
                " AND LOWER(r.tier) = LOWER(?)"
            });
            binds.push(Bind::Text(tier.name.clone()));
        }
        if let Some(owasp) = &self.owasp {
            // Checked per row in the listing's order (one index probe each) rather than as a
            // list of every identity with such a finding, which a planner may sort instead.
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM findings f WHERE f.identity = r.identity \
                 AND f.status = 'open' AND f.owasp = ?)",
            );
            binds.push(Bind::Text(owasp.clone()));
        }
        if let Some(search) = &self.search {
            sql.push_str(
                " AND (LOWER(r.identity) LIKE ? ESCAPE '\\' OR r.name LIKE ? ESCAPE '\\')",
            );
            let pattern = contains_pattern(search);
            binds.push(Bind::Text(pattern.clone()));
            binds.push(Bind::Text(pattern));
        }
        if let Some(owner) = &self.owner {
            // One owner per line: a needle with no line break matches within one owner.
            sql.push_str(" AND r.owners LIKE ? ESCAPE '\\'");
            binds.push(Bind::Text(contains_pattern(&owner.replace('\n', ""))));
        }
        (sql, binds)
    }
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t.as_str()),
            Bind::Real(r) => q.bind(*r),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

/// A value bound into a query built at run time.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Real(f64),
    Int(i64),
}

/// One identity of a saved run, riskiest first (see [`Store::each_scored_identity`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredRow {
    pub identity: String,
    pub score: f64,
    pub summary: Option<String>,
    /// Its open findings now (of every source).
    pub open_findings: u64,
}

/// Counts of filtered listings kept at most (see [`Store::count_scored`]).
const SCORED_COUNTS_KEPT: usize = 1024;

/// Severity as a sort key, most severe first.
const SEVERITY_ORDER: &str = "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
     WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END";

fn decode_finding_row(row: &sqlx::any::AnyRow) -> Result<StoredFinding, StoreError> {
    let t = "findings";
    let id: String = row.try_get(0)?;
    let data: String = row.try_get(1)?;
    let finding: Finding = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt {
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
    Ok(StoredFinding {
        finding,
        first_seen: dialect::parse_timestamp(t, &id, &row.try_get::<String, _>(2)?)?,
        last_seen: dialect::parse_timestamp(t, &id, &row.try_get::<String, _>(3)?)?,
        status,
        note: row.try_get(5)?,
        resolved_at: dialect::parse_opt_timestamp(t, &id, row.try_get(6)?)?,
    })
}

fn encode_finding(f: &Finding) -> Result<String, StoreError> {
    serde_json::to_string(f).map_err(|e| StoreError::Corrupt {
        table: "findings",
        key: f.id.clone(),
        message: format!("cannot serialise: {e}"),
    })
}

/// How the note of a finding accepted by an exception starts (and how it is told apart from an
/// acceptance made by hand).
pub const EXCEPTION_NOTE: &str = "exception exc-";

fn exception_note(e: &warrant_core::ExceptionRef) -> String {
    format!(
        "exception {} until {} (owner {}): {}",
        e.id,
        e.expires.format("%Y-%m-%d"),
        e.owner,
        e.reason
    )
}

/// Opens or refreshes each finding. A resolved finding raised again reopens; open and accepted
/// keep their status. Sightings only widen, so a back-dated run cannot break first <= last.
/// Returns whether the set of open findings or their severities changed (a new finding, a
/// reopened one, another severity): only that changes what an assessment reads. Without
/// `detect_changes` (a run that resolves the rest anyway) it does not look, and says false.
pub(crate) async fn upsert_findings<F: Borrow<Finding>>(
    tx: &mut WriteTx,
    at: &str,
    findings: &[F],
    detect_changes: bool,
    written: &(dyn Fn(u64) + Sync),
) -> Result<bool, StoreError> {
    let unique = dialect::last_per_key(findings, |f| f.borrow().id.as_str());
    let mut changed = false;
    let to_check: &[_] = if detect_changes { &unique } else { &[] };
    for chunk in to_check.chunks(MAX_BIND_PARAMS) {
        let sql = format!(
            "SELECT id, severity, status FROM findings WHERE id IN ({})",
            dialect::placeholders(chunk.len())
        );
        let mut query = tx.query(&sql);
        for f in chunk {
            let f: &Finding = (*f).borrow();
            query = query.bind(f.id.as_str());
        }
        let mut before: std::collections::HashMap<String, (String, String)> =
            std::collections::HashMap::new();
        for row in query.fetch_all(tx.conn()).await? {
            before.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
        }
        changed |= chunk.iter().any(|f| {
            let f: &Finding = (*f).borrow();
            before.get(f.id.as_str()).is_none_or(|(severity, status)| {
                severity != f.severity.as_str() || status == FindingStatus::Resolved.as_str()
            })
        });
    }
    const COLS: usize = 11;
    let mut done = 0u64;
    // Multi-row statements: hundreds of thousands of findings would otherwise cost as many
    // round trips to the database.
    //
    // A finding an exception covers is stored accepted, its note naming the exception; when no
    // exception covers it any more (expired, withdrawn) it reopens. An acceptance made by hand
    // (a note not starting with EXCEPTION_NOTE) is left as it is.
    for chunk in unique.chunks(MAX_BIND_PARAMS / COLS) {
        let by_exception = format!("findings.status_note LIKE '{EXCEPTION_NOTE}%'");
        let sql = format!(
            "INSERT INTO findings (id, rule, identity, severity, owasp, source, data, \
             first_seen, last_seen, status, status_note) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, \
             identity = excluded.identity, severity = excluded.severity, \
             owasp = excluded.owasp, source = excluded.source, data = excluded.data, \
             first_seen = CASE WHEN excluded.first_seen < findings.first_seen \
                 THEN excluded.first_seen ELSE findings.first_seen END, \
             last_seen = CASE WHEN excluded.last_seen > findings.last_seen \
                 THEN excluded.last_seen ELSE findings.last_seen END, \
             status = CASE \
                 WHEN excluded.status = 'accepted' AND (findings.status <> 'accepted' OR {by_exception}) THEN 'accepted' \
                 WHEN excluded.status = 'open' AND findings.status = 'accepted' AND {by_exception} THEN 'open' \
                 WHEN findings.status = 'resolved' THEN 'open' \
                 ELSE findings.status END, \
             status_note = CASE \
                 WHEN excluded.status = 'accepted' AND (findings.status <> 'accepted' OR {by_exception}) THEN excluded.status_note \
                 WHEN excluded.status = 'open' AND findings.status = 'accepted' AND {by_exception} THEN NULL \
                 ELSE findings.status_note END, \
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
                .bind(at);
            query = match &f.exception {
                Some(e) => query
                    .bind(FindingStatus::Accepted.as_str())
                    .bind(exception_note(e)),
                None => query
                    .bind(FindingStatus::Open.as_str())
                    .bind(None::<String>),
            };
        }
        query.execute(tx.conn()).await?;
        done += chunk.len() as u64;
        written(done);
    }
    Ok(changed)
}

/// Replaces the stored risk (and summary) of each identity, in multi-row statements.
async fn upsert_risks(
    tx: &mut WriteTx,
    assessment: AssessmentId,
    scored: &[ScoredIdentity<'_>],
    written: &(dyn Fn(u64) + Sync),
) -> Result<(), StoreError> {
    let unique = dialect::last_per_key(scored, |s| s.identity);
    const COLS: usize = 16;
    let mut done = 0u64;
    for chunk in unique.chunks(MAX_BIND_PARAMS / COLS) {
        let sql = format!(
            "INSERT INTO risks (identity, assessment, score, blast_radius, exposure, data, summary, \
             provider, kind, environment, status, account, tier, owned, owners, name) \
             VALUES {} ON CONFLICT (identity) DO UPDATE SET \
             assessment = excluded.assessment, score = excluded.score, \
             blast_radius = excluded.blast_radius, exposure = excluded.exposure, \
             data = excluded.data, summary = excluded.summary, \
             provider = excluded.provider, kind = excluded.kind, \
             environment = excluded.environment, status = excluded.status, \
             account = excluded.account, tier = excluded.tier, owned = excluded.owned, \
             owners = excluded.owners, name = excluded.name",
            dialect::value_rows(chunk.len(), COLS)
        );
        let mut query = tx.query(&sql);
        for scored in chunk {
            let (identity, risk) = (scored.identity, scored.risk);
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
                .bind(data)
                .bind(scored.summary);
            let f = scored.facets;
            query = query
                .bind(f.map(|f| f.provider))
                .bind(f.map(|f| f.kind))
                .bind(f.map(|f| f.environment))
                .bind(f.map(|f| f.status))
                .bind(f.and_then(|f| f.account))
                .bind(f.and_then(|f| f.tier))
                .bind(f.map(|f| i64::from(f.owned)))
                .bind(f.map(|f| f.owners))
                .bind(f.map(|f| f.name));
        }
        query.execute(tx.conn()).await?;
        done += chunk.len() as u64;
        written(done);
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
        let scored: Vec<ScoredIdentity<'_>> = risks
            .iter()
            .map(|(identity, risk)| ScoredIdentity {
                identity: identity.as_ref(),
                risk: risk.borrow(),
                summary: None,
                facets: None,
            })
            .collect();
        self.save_run(as_of, source, None, findings, &scored, &|_| {})
            .await
    }

    /// [`Store::save_assessment`] recording also the store revision the run evaluated (read
    /// with [`Store::revision`] before loading what it assessed) and each identity's summary,
    /// so later commands can answer from the run while it is current ([`Store::last_run`]).
    /// `written` is told how many findings and scores (together) are written so far.
    pub async fn save_run<F: Borrow<Finding>>(
        &self,
        as_of: Timestamp,
        source: FindingSource,
        revision: Option<i64>,
        findings: &[F],
        scored: &[ScoredIdentity<'_>],
        written: &(dyn Fn(u64) + Sync),
    ) -> Result<AssessmentId, StoreError> {
        let at = dialect::timestamp(&as_of);
        let mut tx = self.begin_write().await?;
        // A run records conclusions, not inputs: saving it leaves it current.
        tx.changes_inputs = false;
        let row = tx
            .query(
                "INSERT INTO assessments (source, as_of, n_findings, revision) \
                 VALUES (?, ?, ?, ?) RETURNING id",
            )
            .bind(source.as_str())
            .bind(&at)
            .bind(i64::try_from(findings.len()).unwrap_or(i64::MAX))
            .bind(revision)
            .fetch_one(tx.conn())
            .await?;
        let id = AssessmentId(row.try_get(0)?);

        upsert_findings(&mut tx, &at, findings, false, written).await?;
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

        let n_findings = findings.len() as u64;
        upsert_risks(&mut tx, id, scored, &|n| written(n_findings + n)).await?;
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
        tx.changes_inputs = upsert_findings(&mut tx, &at, findings, true, &|_| {}).await?;
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
        tx.changes_inputs = resolved > 0;
        tx.commit().await?;
        Ok(resolved)
    }

    /// Brings open findings of other engines (leaked secrets, activity alerts) in line with the
    /// exceptions an assessment applied: accepted with the exception's note when one covers
    /// them, reopened when the exception that accepted them no longer does. Acceptances made by
    /// hand are left alone; resolved findings too. Returns how many rows changed.
    pub async fn apply_exceptions<F: Borrow<Finding>>(
        &self,
        findings: &[F],
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        // Only the findings an exception covers now or covered before need a statement.
        let mut before: std::collections::HashMap<String, String> =
            std::collections::HashMap::new();
        for row in tx
            .query(&format!(
                "SELECT id, status_note FROM findings \
                 WHERE status = 'accepted' AND status_note LIKE '{EXCEPTION_NOTE}%'"
            ))
            .fetch_all(tx.conn())
            .await?
        {
            before.insert(row.try_get(0)?, row.try_get(1)?);
        }
        let mut changed = 0;
        for f in findings {
            let f: &Finding = f.borrow();
            let note = f.exception.as_ref().map(exception_note);
            if before.get(&f.id) == note.as_ref() || (note.is_none() && !before.contains_key(&f.id))
            {
                continue;
            }
            let done = match &f.exception {
                Some(e) => {
                    tx.query(&format!(
                        "UPDATE findings SET status = 'accepted', status_note = ? \
                         WHERE id = ? AND (status = 'open' OR (status = 'accepted' \
                         AND status_note LIKE '{EXCEPTION_NOTE}%' AND status_note <> ?))"
                    ))
                    .bind(exception_note(e))
                    .bind(f.id.as_str())
                    .bind(exception_note(e))
                    .execute(tx.conn())
                    .await?
                }
                None => {
                    tx.query(&format!(
                        "UPDATE findings SET status = 'open', status_note = NULL \
                         WHERE id = ? AND status = 'accepted' AND status_note LIKE '{EXCEPTION_NOTE}%'"
                    ))
                    .bind(f.id.as_str())
                    .execute(tx.conn())
                    .await?
                }
            };
            changed += done.rows_affected();
        }
        // Derived from exceptions, whose own changes raised the revision already.
        tx.changes_inputs = false;
        tx.commit().await?;
        Ok(changed)
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
        let mut tx = self.begin_write().await?;
        let done = tx.query(
            "UPDATE findings SET status = ?, status_note = ?, \
             resolved_at = CASE WHEN ? = 'resolved' THEN COALESCE(resolved_at, last_seen) ELSE NULL END \
             WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(note)
        .bind(status.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
        // A status changes what an assessment counts as open only when a row changed.
        tx.changes_inputs = done.rows_affected() > 0;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stored findings matching `filter`, most severe first, then by identity, rule and id.
    pub async fn findings(&self, filter: &FindingFilter) -> Result<Vec<StoredFinding>, StoreError> {
        let mut out = Vec::new();
        self.each_finding(filter, None, |f| {
            out.push(f);
            Ok::<(), StoreError>(())
        })
        .await?;
        Ok(out)
    }

    /// Calls `each` for every stored finding matching `filter`, most severe first, then by
    /// identity, rule and id, holding one row at a time: a listing of hundreds of thousands
    /// of findings starts at once and takes the memory of one. `each` failing stops the walk.
    /// `limit` stops after that many.
    pub async fn each_finding<E: From<StoreError>>(
        &self,
        filter: &FindingFilter,
        limit: Option<u64>,
        mut each: impl FnMut(StoredFinding) -> Result<(), E>,
    ) -> Result<(), E> {
        let (clause, binds) = filter.where_clause();
        let limit = limit
            .map(|n| format!(" LIMIT {}", n.min(i64::MAX as u64)))
            .unwrap_or_default();
        let sql = format!(
            "SELECT id, data, first_seen, last_seen, status, status_note, resolved_at \
             FROM findings{clause} ORDER BY {SEVERITY_ORDER}, identity, rule, id{limit}"
        );
        let mut q = self.query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let mut rows = q.fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(StoreError::from)? {
            each(decode_finding_row(&row)?)?;
        }
        Ok(())
    }

    /// At most `limit` stored findings matching `filter`, in [`Store::findings`]' order,
    /// starting after the finding `after` names, and whether more follow. The position is a
    /// key (severity, identity, rule, id), not an offset, so a page reads only its own rows
    /// and a finding resolved since the previous page does not shift the next one. `None`
    /// when no finding has the id `after`.
    pub async fn findings_after(
        &self,
        filter: &FindingFilter,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Option<(Vec<StoredFinding>, bool)>, StoreError> {
        let (mut clause, mut binds) = filter.where_clause();
        if let Some(after) = after {
            let known = self
                .query("SELECT 1 FROM findings WHERE id = ?")
                .bind(after)
                .fetch_optional(&self.pool)
                .await?;
            if known.is_none() {
                return Ok(None);
            }
            // Row values compare lexicographically on both backends.
            clause.push_str(&format!(
                " AND ({SEVERITY_ORDER}, identity, rule, id) > \
                 (SELECT {SEVERITY_ORDER}, identity, rule, id FROM findings WHERE id = ?)"
            ));
            binds.push(after.to_string());
        }
        let take = limit.min(i64::MAX as u64 - 1) + 1;
        let sql = format!(
            "SELECT id, data, first_seen, last_seen, status, status_note, resolved_at \
             FROM findings{clause} ORDER BY {SEVERITY_ORDER}, identity, rule, id LIMIT {take}"
        );
        let mut q = self.query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let more = rows.len() as u64 > limit;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows
            .iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
        {
            out.push(decode_finding_row(row)?);
        }
        Ok(Some((out, more)))
    }

    /// (identity, rule, severity) of every open finding, without decoding the findings: for
    /// callers that act on many (bulk remediation proposals).
    pub async fn open_finding_keys(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = self
            .query("SELECT identity, rule, severity FROM findings WHERE status = 'open'")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// How many stored findings match `filter`.
    pub async fn count_findings(&self, filter: &FindingFilter) -> Result<u64, StoreError> {
        let (clause, binds) = filter.where_clause();
        let sql = format!("SELECT COUNT(*) FROM findings{clause}");
        let mut q = self.query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let n: i64 = q.fetch_one(&self.pool).await?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Ids of the findings with `status` (e.g. the accepted ones, to leave out of a fresh
    /// evaluation).
    pub async fn finding_ids_with_status(
        &self,
        status: FindingStatus,
    ) -> Result<HashSet<String>, StoreError> {
        let rows = self
            .query("SELECT id FROM findings WHERE status = ?")
            .bind(status.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
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

    /// The instant the latest saved run of `source` assessed (`--as-of` or the time it ran),
    /// `None` before the first.
    pub async fn last_assessed(
        &self,
        source: FindingSource,
    ) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.last_run(source).await?.map(|run| run.as_of))
    }

    /// The latest saved run of `source`, `None` before the first.
    pub async fn last_run(&self, source: FindingSource) -> Result<Option<SavedRun>, StoreError> {
        let row = self
            .query(
                "SELECT id, as_of, revision FROM assessments WHERE source = ? \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(source.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.try_get(1)?;
        Ok(Some(SavedRun {
            id: AssessmentId(row.try_get(0)?),
            as_of: dialect::parse_timestamp("assessments", source.as_str(), &text)?,
            revision: row.try_get(2)?,
        }))
    }

    /// Keeps `aggregates` (JSON the caller defines) with `run`.
    pub async fn set_run_aggregates(
        &self,
        run: AssessmentId,
        aggregates: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // A run's own record: what an assessment reads is unchanged, so the run stays current.
        tx.changes_inputs = false;
        tx.query("UPDATE assessments SET aggregates = ? WHERE id = ?")
            .bind(aggregates)
            .bind(run.0)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The aggregates kept with `run`, if any.
    pub async fn run_aggregates(&self, run: AssessmentId) -> Result<Option<String>, StoreError> {
        let row = self
            .query("SELECT aggregates FROM assessments WHERE id = ?")
            .bind(run.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => None,
        })
    }

    /// Open findings counted by OWASP NHI risk and severity (codes and names as stored).
    pub async fn open_findings_by_owasp_and_severity(
        &self,
    ) -> Result<Vec<(String, String, u64)>, StoreError> {
        let rows = self
            .query(
                "SELECT owasp, severity, COUNT(*) FROM findings WHERE status = ? \
                 GROUP BY owasp, severity",
            )
            .bind(FindingStatus::Open.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let n: i64 = row.try_get(2)?;
                Ok((
                    row.try_get(0)?,
                    row.try_get(1)?,
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// The latest `limit` runs of `source`, oldest first: when each assessed and how many
    /// findings it raised (the trend of a posture over time).
    pub async fn run_history(
        &self,
        source: FindingSource,
        limit: u64,
    ) -> Result<Vec<(Timestamp, u64)>, StoreError> {
        let rows = self
            .query(
                "SELECT as_of, n_findings FROM assessments WHERE source = ? \
                 ORDER BY id DESC LIMIT ?",
            )
            .bind(source.as_str())
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows
            .iter()
            .map(|row| {
                let text: String = row.try_get(0)?;
                let n: i64 = row.try_get(1)?;
                Ok((
                    dialect::parse_timestamp("assessments", source.as_str(), &text)?,
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.reverse();
        Ok(out)
    }

    /// Calls `each` for every identity `run` scored with at least `min_score`, riskiest first
    /// then by id (the order of an assessment), one row at a time.
    pub async fn each_scored_identity<E: From<StoreError>>(
        &self,
        run: AssessmentId,
        min_score: f64,
        mut each: impl FnMut(ScoredRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut rows = self
            .query(
                "SELECT r.identity, r.score, r.summary, \
                 (SELECT COUNT(*) FROM findings f WHERE f.identity = r.identity AND f.status = 'open') \
                 FROM risks r WHERE r.assessment = ? AND r.score >= ? \
                 ORDER BY r.score DESC, r.identity",
            )
            .bind(run.0)
            .bind(min_score)
            .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(StoreError::from)? {
            let open: i64 = row.try_get(3).map_err(StoreError::from)?;
            each(ScoredRow {
                identity: row.try_get(0).map_err(StoreError::from)?,
                score: row.try_get(1).map_err(StoreError::from)?,
                summary: row.try_get(2).map_err(StoreError::from)?,
                open_findings: u64::try_from(open).unwrap_or(0),
            })?;
        }
        Ok(())
    }

    /// One page of the identities `run` scored between `min_score` and `max_score`, in the
    /// order of [`Store::each_scored_identity`], starting after `after` (a previous page's last
    /// score and identity): at most `limit` rows, read through the `(assessment, score,
    /// identity)` index, so a page costs the same at any depth of a large inventory.
    pub async fn scored_identity_page(
        &self,
        run: AssessmentId,
        filter: &ScoredFilter,
        order: ScoredOrder,
        after: Option<(&ScoredKey, &str)>,
        limit: u64,
    ) -> Result<Vec<ScoredRow>, StoreError> {
        let (clause, mut binds) = filter.where_clause();
        let (column, direction, beyond) = match (order.by, order.descending) {
            (ScoredSort::Score, true) => ("r.score", "DESC", "<"),
            (ScoredSort::Score, false) => ("r.score", "ASC", ">"),
            // Every row a listing reads has a name (runs saved without facets are not listed
            // from the store), so the name index orders the page.
            (ScoredSort::Name, true) => ("r.name", "DESC", "<"),
            (ScoredSort::Name, false) => ("r.name", "ASC", ">"),
        };
        let mut keyset = String::new();
        if let Some((key, id)) = after {
            let key = match (key, order.by) {
                (ScoredKey::Score(n), ScoredSort::Score) => Bind::Real(*n),
                (ScoredKey::Name(t), ScoredSort::Name) => Bind::Text(t.clone()),
                _ => {
                    return Err(StoreError::Unsupported(
                        "a page key of another order".into(),
                    ));
                }
            };
            keyset = format!(" AND ({column} {beyond} ? OR ({column} = ? AND r.identity > ?))");
            binds.extend([key.clone(), key, Bind::Text(id.to_string())]);
        }
        let sql = format!(
            "SELECT r.identity, r.score, r.summary, \
             (SELECT COUNT(*) FROM findings f WHERE f.identity = r.identity AND f.status = 'open') \
             FROM risks r WHERE r.assessment = ?{clause}{keyset} \
             ORDER BY {column} {direction}, r.identity LIMIT ?"
        );
        let q = bind_all(self.query(&sql).bind(run.0), &binds);
        let rows = q
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let open: i64 = row.try_get(3)?;
                Ok(ScoredRow {
                    identity: row.try_get(0)?,
                    score: row.try_get(1)?,
                    summary: row.try_get(2)?,
                    open_findings: u64::try_from(open).unwrap_or(0),
                })
            })
            .collect()
    }

    /// How many identities `run` scored that `filter` admits. A run's rows are written once,
    /// and the open findings an OWASP filter reads change only with the store's revision, which
    /// makes the run stale for listings: so the count of a filter is kept per run once counted
    /// (listings ask for it on every page).
    pub async fn count_scored(
        &self,
        run: AssessmentId,
        filter: &ScoredFilter,
    ) -> Result<u64, StoreError> {
        let key = (run.0, format!("{filter:?}"));
        if let Some(n) = self
            .scored_counts
            .lock()
            .ok()
            .and_then(|c| c.get(&key).copied())
        {
            return Ok(n);
        }
        let (clause, binds) = filter.where_clause();
        let sql = format!("SELECT COUNT(*) FROM risks r WHERE r.assessment = ?{clause}");
        let q = bind_all(self.query(&sql).bind(run.0), &binds);
        let n: i64 = q.fetch_one(&self.pool).await?.try_get(0)?;
        let n = u64::try_from(n).unwrap_or(0);
        if let Ok(mut counts) = self.scored_counts.lock() {
            // Bounded: a long-running server sees many searches.
            if counts.len() >= SCORED_COUNTS_KEPT {
                counts.clear();
            }
            counts.insert(key, n);
        }
        Ok(n)
    }

    /// The risk `run` saved for one identity, if it scored it.
    pub async fn scored_identity(
        &self,
        run: AssessmentId,
        identity: &str,
    ) -> Result<Option<(RiskScore, Option<String>)>, StoreError> {
        let row = self
            .query("SELECT data, summary FROM risks WHERE assessment = ? AND identity = ?")
            .bind(run.0)
            .bind(identity)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get(0)?;
        let risk = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt {
            table: "risks",
            key: identity.to_string(),
            message: e.to_string(),
        })?;
        Ok(Some((risk, row.try_get(1)?)))
    }

    /// The overall score `run` saved for each of `identities` it scored, in identity order: a
    /// few identities' scores (e.g. the chains on an identity's page) in one query per
    /// [`MAX_BIND_PARAMS`] of them.
    pub async fn scores_of(
        &self,
        run: AssessmentId,
        identities: &[String],
    ) -> Result<Vec<(String, f64)>, StoreError> {
        let mut out = Vec::new();
        for chunk in identities.chunks(MAX_BIND_PARAMS - 1) {
            let sql = format!(
                "SELECT identity, score FROM risks WHERE assessment = ? AND identity IN ({})",
                dialect::placeholders(chunk.len())
            );
            let mut query = self.query(&sql).bind(run.0);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push((row.try_get(0)?, row.try_get(1)?));
            }
        }
        out.sort_by(|a: &(String, f64), b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The latest risk score of every identity ever scored, by identity id.
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
