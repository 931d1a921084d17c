//! Governance use cases: exceptions granted under the governance policy, and the audit trail
//! every governance change is written to.

use std::collections::HashMap;

use chrono::Duration;
use serde::Serialize;
use warrant_core::{ExceptionRef, Finding, Identity, Timestamp};
use warrant_lifecycle::{
    Exception, ExceptionState, GovernancePolicy, IdentityFacts, Match, NewException, Thresholds,
};
use warrant_posture::{Governance, PostureConfig, ReviewRecord, TierRules};
use warrant_store::{AuditEntry, ExceptionRow, FindingFilter, FindingStatus, LastReview, Store};

use crate::AppError;
use crate::error::StoreContext;

/// An exception as listed: what it is, where it stands now, and whether it was withdrawn.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionView {
    #[serde(flatten)]
    pub exception: Exception,
    pub scope: String,
    #[serde(flatten)]
    pub state: ExceptionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_by: Option<String>,
}

impl ExceptionView {
    /// In force: neither expired nor withdrawn.
    pub fn in_force(&self) -> bool {
        self.withdrawn_at.is_none() && self.state != ExceptionState::Expired
    }
}

/// Grants `request` under `policy` at `now` as `actor`, recording it and its audit entry. The
/// same request at the same instant is the same exception (granted once).
pub async fn grant_exception(
    store: &Store,
    policy: &GovernancePolicy,
    request: NewException,
    now: Timestamp,
    actor: &str,
) -> Result<Exception, AppError> {
    let exception = request
        .grant(policy, now, actor)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let row = ExceptionRow {
        id: exception.id.clone(),
        owner: exception.owner.clone(),
        expires: exception.expires,
        created: exception.created,
        data: serde_json::to_string(&exception)
            .map_err(|e| AppError::Invalid(format!("cannot record the exception: {e}")))?,
        removed_at: None,
        removed_by: None,
    };
    store
        .grant_exception(&row, &exception.created_by, now)
        .await
        .context("recording the exception")?;
    Ok(exception)
}

/// Accepts one finding's risk until `expires`, as `actor` who answers for it: grants an
/// exception for that identity and rule (so later assessments keep it accepted until the
/// exception ends, then reopen it) and marks the finding accepted under it at once.
pub async fn accept_until(
    store: &Store,
    policy: &GovernancePolicy,
    finding: &str,
    reason: &str,
    expires: Timestamp,
    now: Timestamp,
    actor: &str,
) -> Result<Exception, AppError> {
    let wanted = FindingFilter {
        id: Some(finding.to_string()),
        ..FindingFilter::default()
    };
    let Some(stored) = store
        .findings(&wanted)
        .await
        .context("reading the finding")?
        .into_iter()
        .next()
    else {
        return Err(AppError::NotFound(format!(
            "no finding has the id `{finding}`"
        )));
    };
    if stored.status == FindingStatus::Resolved {
        return Err(AppError::Invalid(format!(
            "finding {finding} is resolved: there is no risk left to accept"
        )));
    }
    let request = NewException {
        matches: vec![Match {
            identity: Some(stored.finding.identity.clone()),
            rule: Some(stored.finding.rule),
            tags: std::collections::BTreeMap::new(),
        }],
        reason: reason.to_string(),
        owner: actor.to_string(),
        expires,
    };
    let exception = grant_exception(store, policy, request, now, actor).await?;
    let mut covered = stored.finding;
    covered.exception = Some(ExceptionRef {
        id: exception.id.clone(),
        owner: exception.owner.clone(),
        expires: exception.expires,
        reason: exception.reason.clone(),
    });
    store
        .apply_exceptions(std::slice::from_ref(&covered))
        .await
        .context("accepting the finding under its exception")?;
    Ok(exception)
}

/// Every exception, soonest to expire first, with its state at `now` (`soon`: the window in
/// which an active one counts as expiring).
pub async fn exceptions(
    store: &Store,
    now: Timestamp,
    soon: Duration,
) -> Result<Vec<ExceptionView>, AppError> {
    let rows = store.exceptions().await.context("loading exceptions")?;
    views(rows, now, soon)
}

/// A page of exceptions.
#[derive(Debug)]
pub struct ExceptionPage {
    pub items: Vec<ExceptionView>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// At most `limit` exceptions as of `now`, soonest to expire first as [`exceptions`] lists
/// them, after the one `after` names (a `next` of a previous page); only those in force
/// (neither withdrawn nor expired) when `in_force`.
pub async fn exception_page(
    store: &Store,
    now: Timestamp,
    soon: Duration,
    in_force: bool,
    after: Option<&str>,
    limit: usize,
) -> Result<ExceptionPage, AppError> {
    let take = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut rows = store
        .exceptions_after(in_force.then_some(&now), after, take)
        .await
        .context("loading exceptions")?
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "`{}` is not a cursor this listing gave",
                after.unwrap_or_default()
            ))
        })?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let items = views(rows, now, soon)?;
    let next = more
        .then(|| items.last().map(|v| v.exception.id.clone()))
        .flatten();
    Ok(ExceptionPage { items, next })
}

fn views(
    rows: Vec<warrant_store::ExceptionRow>,
    now: Timestamp,
    soon: Duration,
) -> Result<Vec<ExceptionView>, AppError> {
    rows.into_iter()
        .map(|row| {
            let exception: Exception =
                serde_json::from_str(&row.data).map_err(|e| AppError::Store {
                    context: "loading exceptions",
                    source: warrant_store::StoreError::Corrupt {
                        table: "exceptions",
                        key: row.id.clone(),
                        message: e.to_string(),
                    },
                })?;
            Ok(ExceptionView {
                scope: exception.scope(),
                state: exception.state(now, soon),
                exception,
                withdrawn_at: row.removed_at,
                withdrawn_by: row.removed_by,
            })
        })
        .collect()
}

/// Withdraws an exception in force before it expires, as `actor`.
pub async fn withdraw_exception(
    store: &Store,
    id: &str,
    now: Timestamp,
    actor: &str,
) -> Result<(), AppError> {
    let actor = actor.trim().to_ascii_lowercase();
    if actor.is_empty() {
        return Err(AppError::Invalid(
            "the person withdrawing it is not named (--as EMAIL or WARRANT_USER)".into(),
        ));
    }
    let done = store
        .withdraw_exception(id, &actor, now)
        .await
        .context("withdrawing the exception")?;
    if done {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "no exception in force has the id `{id}` (see `warrant exception list --all`)"
        )))
    }
}

/// The audit trail of governance changes, oldest first.
pub async fn audit(store: &Store) -> Result<Vec<AuditEntry>, AppError> {
    store.audit_log().await.context("loading the audit trail")
}

/// The governance policy and the exceptions in force, as posture asks about them: each
/// identity's tier (its thresholds and requirements) and the exception covering a finding.
/// Exceptions apply with or without a policy file; tiers only with one.
pub struct PolicyGovernance {
    policy: Option<(GovernancePolicy, Vec<TierRules>, TierRules)>,
    exceptions: Vec<Exception>,
    /// Each reviewed identity's latest review, by identity id.
    reviews: HashMap<String, ReviewRecord>,
    /// When each identity was first imported.
    first_seen: HashMap<String, Timestamp>,
    now: Timestamp,
}

fn tier_rules(name: &str, t: &Thresholds, posture: &PostureConfig) -> TierRules {
    let mut config = posture.clone();
    config.key_max_age_days = i64::from(t.max_credential_age_days);
    config.secret_max_age_days = i64::from(t.rotation_days);
    config.unused_days = i64::from(t.disable_after_inactive_days);
    TierRules {
        name: name.to_string(),
        config,
        delete_after_days: Some(i64::from(t.delete_after_inactive_days)),
        require_owner: t.require_owner,
        require_purpose: t.require_purpose,
        require_expiry: t.require_expiry,
        environments: t.environments.clone(),
        review_every_days: Some(i64::from(t.review_every_days)),
        review_on_privilege_change: t.review_on_privilege_change,
    }
}

impl PolicyGovernance {
    /// `exceptions` as stored; those withdrawn or expired at `now` are left out.
    pub fn new(
        policy: Option<&GovernancePolicy>,
        posture: &PostureConfig,
        exceptions: Vec<ExceptionView>,
        now: Timestamp,
    ) -> PolicyGovernance {
        PolicyGovernance {
            policy: policy.map(|policy| {
                (
                    policy.clone(),
                    policy
                        .tiers
                        .iter()
                        .map(|t| tier_rules(&t.name, &t.thresholds, posture))
                        .collect(),
                    tier_rules("defaults", &policy.defaults, posture),
                )
            }),
            exceptions: exceptions
                .into_iter()
                .filter(ExceptionView::in_force)
                .map(|v| v.exception)
                .collect(),
            reviews: HashMap::new(),
            first_seen: HashMap::new(),
            now,
        }
    }

    /// Whether a policy applies (tiers, and with them review cadence).
    pub fn has_policy(&self) -> bool {
        self.policy.is_some()
    }

    /// Adds the identities' latest reviews (`Store::last_reviews`) and when each was first
    /// imported, which review cadence is judged by.
    pub fn with_reviews(
        mut self,
        reviews: Vec<LastReview>,
        first_seen: Vec<(String, Timestamp)>,
    ) -> PolicyGovernance {
        self.first_seen = first_seen.into_iter().collect();
        /// The one field of the stored evidence read here.
        #[derive(serde::Deserialize)]
        struct Seen {
            privilege: Privilege,
        }
        #[derive(serde::Deserialize)]
        struct Privilege {
            #[serde(default)]
            holdings: Option<String>,
        }
        for r in reviews {
            // Evidence that cannot be read still dates the review; only the change check
            // needs what it held.
            let holdings = serde_json::from_str::<Seen>(&r.evidence)
                .ok()
                .and_then(|s| s.privilege.holdings);
            self.reviews.insert(
                r.identity,
                ReviewRecord {
                    campaign: r.campaign,
                    at: r.at,
                    holdings,
                },
            );
        }
        self
    }
}

impl Governance for PolicyGovernance {
    fn tier(&self, identity: &Identity, blast_radius: f64) -> Option<&TierRules> {
        let (policy, tiers, defaults) = self.policy.as_ref()?;
        let facts = IdentityFacts {
            tags: &identity.tags,
            environment: identity.environment,
            provider: identity.provider,
            kind: identity.kind,
            blast_radius,
        };
        match policy.tier_for(&facts).0 {
            Some(tier) => policy
                .tiers
                .iter()
                .position(|t| t.name == tier.name)
                .and_then(|i| tiers.get(i)),
            None => Some(defaults),
        }
    }

    fn last_review(&self, identity: &Identity) -> Option<&ReviewRecord> {
        self.reviews.get(&identity.id)
    }

    fn known_since(&self, identity: &Identity) -> Option<Timestamp> {
        self.first_seen.get(&identity.id).copied()
    }

    fn exception(&self, finding: &Finding, identity: Option<&Identity>) -> Option<ExceptionRef> {
        let empty = std::collections::BTreeMap::new();
        let tags = identity.map_or(&empty, |i| &i.tags);
        self.exceptions
            .iter()
            .find(|e| e.covers(finding, tags, self.now))
            .map(|e| ExceptionRef {
                id: e.id.clone(),
                owner: e.owner.clone(),
                expires: e.expires,
                reason: e.reason.clone(),
            })
    }
}
