//! Access reviews: a campaign asks the people who answer for identities whether each should
//! keep its access, as of a date, with the evidence captured when the campaign opened.
//!
//! A campaign covers the identities its [`Scope`] selects (conditions AND-ed: the governance
//! tier, tags, kind, provider, environment, or `all`). Each becomes an item assigned to a
//! reviewer ([`assign`]): its first owner who is a person able to act, else the policy's
//! fallback reviewer. Reviewers record a [`Verdict`] per item; verdicts are only appended (a
//! correction supersedes, it never overwrites). Past the due date a pending item is overdue and
//! escalates to the fallback reviewer, who may then decide it too ([`authorize`]). A campaign
//! closes when every item is decided, or, when asked, with each pending item recorded as
//! [`Verdict::Expired`] ([`may_close`]).
//!
//! No I/O and no clock: callers pass the instant they mean.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use warrant_core::{
    AccessLevel, Environment, IdentityKind, IdentityStatus, OwnerKind, OwnerStatus,
    PrivilegeSummary, Provider, RuleId, Severity, Timestamp,
};

use crate::exception::looks_like_email;
use crate::{Exception, GovernancePolicy, IdentityFacts};

/// Why a review request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "an empty scope: name conditions such as tier=prod, tag:team=data, kind=aws_user, provider=aws, environment=production, or `all`"
    )]
    EmptyScope,
    #[error(
        "unknown scope key `{key}` in `{condition}`: use tier=NAME, tag:KEY=VALUE, kind=KIND, provider=PROVIDER, environment=ENV or all"
    )]
    UnknownScopeKey { key: String, condition: String },
    #[error("`{condition}` is not a condition: use KEY=VALUE (tier=prod, tag:team=data, …) or all")]
    BadCondition { condition: String },
    #[error("`{condition}`: {message}")]
    BadValue { condition: String, message: String },
    #[error(
        "the scope names the tier `{tier}`, which the governance policy does not have (its tiers: {known})"
    )]
    UnknownTier { tier: String, known: String },
    #[error(
        "a campaign needs a name (e.g. 2026-Q4) of at most 100 characters, without spaces or `#`"
    )]
    BadName,
    #[error("the due date {due} is before today ({today})")]
    DueInPast { due: NaiveDate, today: NaiveDate },
    #[error(
        "`{0}` is not an email address: reviews are started, decided and closed by named people (--as EMAIL or WARRANT_USER)"
    )]
    NotAPerson(String),
    #[error(
        "{count} identities in scope have no owner able to review them (e.g. {example}: {why}) and the governance policy names no fallback_reviewer: set fallback_reviewer (an email address) in the policy, or narrow the scope"
    )]
    NoReviewer {
        count: usize,
        example: String,
        why: String,
    },
    #[error("campaign {0} is closed: its decisions are final")]
    Closed(String),
    #[error(
        "item {item} was already decided ({verdict} by {by}); decisions are never overwritten — pass --supersede to record a correction"
    )]
    AlreadyDecided {
        item: u32,
        verdict: Verdict,
        by: String,
    },
    #[error("item {0} has no decision to supersede")]
    NothingToSupersede(u32),
    #[error("item {item} is assigned to {reviewer}{escalation}; {actor} may not decide it")]
    NotReviewer {
        item: u32,
        reviewer: String,
        escalation: String,
        actor: String,
    },
    #[error("`keep` needs a reason (--reason): the auditor reads why the access stays")]
    KeepNeedsReason,
    #[error("`expired` is recorded by `review close --expire-pending`, not by a reviewer")]
    ExpiredByHand,
    #[error("unknown decision `{0}`: use keep, rightsize, rotate, disable or decommission")]
    UnknownVerdict(String),
    #[error(
        "{pending} item(s) of campaign {campaign} are still pending: decide them, or close with --expire-pending to record each as expired"
    )]
    Pending { campaign: String, pending: usize },
    #[error("campaign {campaign} was started by {started_by}; only they{fallback} may close it")]
    NotCloser {
        campaign: String,
        started_by: String,
        fallback: String,
    },
}

/// One condition of a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "on", content = "value")]
pub enum Condition {
    /// Every identity.
    All,
    /// The governance tier the identity falls in ([`GovernancePolicy::tier_for`]).
    Tier(String),
    /// A tag or label: key without case, value as written.
    Tag {
        key: String,
        value: String,
    },
    Kind(IdentityKind),
    Provider(Provider),
    Environment(Environment),
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::All => f.write_str("all"),
            Condition::Tier(name) => write!(f, "tier={name}"),
            Condition::Tag { key, value } => write!(f, "tag:{key}={value}"),
            Condition::Kind(kind) => write!(f, "kind={kind}"),
            Condition::Provider(provider) => write!(f, "provider={provider}"),
            Condition::Environment(environment) => write!(f, "environment={environment}"),
        }
    }
}

/// Which identities a campaign covers: every condition must hold. Written `tier=prod`,
/// `tag:team=data`, `kind=aws_user`, `provider=aws`, `environment=production` or `all`, several
/// separated by commas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub conditions: Vec<Condition>,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

fn bad_value(condition: &str, message: impl fmt::Display) -> ReviewError {
    ReviewError::BadValue {
        condition: condition.to_string(),
        message: message.to_string(),
    }
}

fn parse_condition(text: &str) -> Result<Condition, ReviewError> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(Condition::All);
    }
    let Some((key, value)) = text.split_once('=') else {
        return Err(ReviewError::BadCondition {
            condition: text.to_string(),
        });
    };
    let (key, value) = (key.trim(), value.trim());
    if let Some(prefix) = key.get(..4)
        && prefix.eq_ignore_ascii_case("tag:")
    {
        let tag = key.get(4..).unwrap_or_default().trim();
        if tag.is_empty() {
            return Err(bad_value(
                text,
                "a tag condition needs a key: tag:KEY=VALUE",
            ));
        }
        return Ok(Condition::Tag {
            key: tag.to_string(),
            value: value.to_string(),
        });
    }
    match key.to_ascii_lowercase().as_str() {
        "tier" if value.is_empty() => Err(bad_value(text, "a tier condition needs a tier name")),
        "tier" => Ok(Condition::Tier(value.to_string())),
        "kind" => value
            .parse()
            .map(Condition::Kind)
            .map_err(|e| bad_value(text, e)),
        "provider" => value
            .parse()
            .map(Condition::Provider)
            .map_err(|e| bad_value(text, e)),
        "environment" => match value.parse::<Environment>() {
            Ok(environment) => Ok(Condition::Environment(environment)),
            // People write `prod` and `dev`: accept what the connectors would read as one.
            Err(e) => match Environment::guess(value) {
                Environment::Unknown => Err(bad_value(text, e)),
                environment => Ok(Condition::Environment(environment)),
            },
        },
        _ => Err(ReviewError::UnknownScopeKey {
            key: key.to_string(),
            condition: text.to_string(),
        }),
    }
}

impl FromStr for Scope {
    type Err = ReviewError;

    fn from_str(text: &str) -> Result<Scope, ReviewError> {
        let mut conditions = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            conditions.push(parse_condition(part)?);
        }
        if conditions.is_empty() {
            return Err(ReviewError::EmptyScope);
        }
        Ok(Scope { conditions })
    }
}

impl Scope {
    /// Refuses a scope naming a tier the policy does not have (a typo would select nobody).
    pub fn check_against(&self, policy: &GovernancePolicy) -> Result<(), ReviewError> {
        for condition in &self.conditions {
            if let Condition::Tier(name) = condition
                && !policy.tiers.iter().any(|t| &t.name == name)
            {
                let known: Vec<&str> = policy.tiers.iter().map(|t| t.name.as_str()).collect();
                return Err(ReviewError::UnknownTier {
                    tier: name.clone(),
                    known: if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    },
                });
            }
        }
        Ok(())
    }

    /// Whether an identity with `facts`, falling in the tier named `tier`, is in scope.
    pub fn holds(&self, facts: &IdentityFacts<'_>, tier: Option<&str>) -> bool {
        self.conditions.iter().all(|condition| match condition {
            Condition::All => true,
            Condition::Tier(name) => tier == Some(name.as_str()),
            Condition::Tag { key, value } => facts
                .tags
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(key) && v == value),
            Condition::Kind(kind) => facts.kind == *kind,
            Condition::Provider(provider) => facts.provider == *provider,
            Condition::Environment(environment) => facts.environment == *environment,
        })
    }
}

/// A reviewer's decision on an item, or the record that nobody decided it in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The access stays as it is (a reason is required).
    Keep,
    /// Replace its policies with what its observed use needs.
    Rightsize,
    /// Rotate its access key.
    Rotate,
    /// Disable its access key.
    Disable,
    /// Remove the identity.
    Decommission,
    /// Still pending when the campaign was closed.
    Expired,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Keep,
        Verdict::Rightsize,
        Verdict::Rotate,
        Verdict::Disable,
        Verdict::Decommission,
        Verdict::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Keep => "keep",
            Verdict::Rightsize => "rightsize",
            Verdict::Rotate => "rotate",
            Verdict::Disable => "disable",
            Verdict::Decommission => "decommission",
            Verdict::Expired => "expired",
        }
    }

    /// The remediation plan a verdict calls for (`keep` and `expired` call for none).
    pub fn action(self) -> Option<crate::Action> {
        match self {
            Verdict::Keep | Verdict::Expired => None,
            Verdict::Rightsize => Some(crate::Action::Rightsize),
            Verdict::Rotate => Some(crate::Action::RotateKey),
            Verdict::Disable => Some(crate::Action::DisableKey),
            Verdict::Decommission => Some(crate::Action::Decommission),
        }
    }

    /// Reads a verdict as stored (any of [`Verdict::ALL`]).
    pub fn from_stored(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = ReviewError;

    /// What a reviewer may say: every verdict but `expired`.
    fn from_str(text: &str) -> Result<Verdict, ReviewError> {
        match Verdict::from_stored(&text.trim().to_ascii_lowercase()) {
            Some(Verdict::Expired) => Err(ReviewError::ExpiredByHand),
            Some(verdict) => Ok(verdict),
            None => Err(ReviewError::UnknownVerdict(text.to_string())),
        }
    }
}

/// Checks a reviewer's verdict and reason: `keep` must say why.
pub fn check_verdict(verdict: Verdict, reason: Option<&str>) -> Result<(), ReviewError> {
    match verdict {
        Verdict::Expired => Err(ReviewError::ExpiredByHand),
        Verdict::Keep if reason.is_none_or(|r| r.trim().is_empty()) => {
            Err(ReviewError::KeepNeedsReason)
        }
        _ => Ok(()),
    }
}

/// A campaign's name: what people type, so short and without spaces.
pub fn check_name(name: &str) -> Result<String, ReviewError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 100
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#')
    {
        return Err(ReviewError::BadName);
    }
    Ok(name.to_string())
}

/// The person acting, lower-cased; refused unless an email address.
pub fn check_person(actor: &str) -> Result<String, ReviewError> {
    let actor = actor.trim().to_ascii_lowercase();
    if looks_like_email(&actor) {
        Ok(actor)
    } else {
        Err(ReviewError::NotAPerson(actor))
    }
}

/// A due date must not be before the day the campaign starts.
pub fn check_due(due: NaiveDate, now: Timestamp) -> Result<(), ReviewError> {
    let today = now.date_naive();
    if due < today {
        return Err(ReviewError::DueInPast { due, today });
    }
    Ok(())
}

/// Whether `now` is past the due date (the whole due day counts as on time).
pub fn is_overdue(due: NaiveDate, now: Timestamp) -> bool {
    now.date_naive() > due
}

/// How an owner stands as a possible reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// An active person in the directory.
    Person,
    /// No directory was imported: an email address is taken as a person.
    Unverified,
    /// A directory was imported and does not list them.
    NotInDirectory,
    /// A team or a shared mailbox: nobody in particular answers.
    Group,
    /// Suspended or deprovisioned in the directory.
    Inactive(OwnerStatus),
}

impl Standing {
    /// From the directory's record of an owner (`None`: no record) and whether a directory was
    /// imported at all. `shared_mailbox` is the posture configuration's judgement of the
    /// address (its patterns, or the directory's kind).
    pub fn of(
        record: Option<(OwnerKind, OwnerStatus)>,
        directory_loaded: bool,
        shared_mailbox: bool,
    ) -> Standing {
        match record {
            _ if shared_mailbox => Standing::Group,
            Some((OwnerKind::Team | OwnerKind::SharedMailbox, _)) => Standing::Group,
            Some((_, status @ (OwnerStatus::Suspended | OwnerStatus::Deprovisioned))) => {
                Standing::Inactive(status)
            }
            Some(_) => Standing::Person,
            None if directory_loaded => Standing::NotInDirectory,
            None => Standing::Unverified,
        }
    }

    fn can_review(self) -> bool {
        matches!(self, Standing::Person | Standing::Unverified)
    }

    fn why_not(self) -> &'static str {
        match self {
            Standing::Person | Standing::Unverified => "can review",
            Standing::NotInDirectory => "is not in the directory",
            Standing::Group => "is a team or shared mailbox",
            Standing::Inactive(OwnerStatus::Suspended) => "is suspended",
            Standing::Inactive(_) => "has left (deprovisioned)",
        }
    }
}

/// One owner claim of an identity, as assignment weighs it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// As written at the source (an email address, login or team).
    pub id: &'a str,
    /// Where the claim came from, e.g. `tag:owner`.
    pub source: &'a str,
    pub standing: Standing,
}

/// Who reviews an item, and why them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Lower-cased email address.
    pub reviewer: String,
    /// `owner (tag:owner)`, or why it went to the fallback reviewer.
    pub because: String,
}

/// The reviewer of an identity: its first owner who is a person able to act (an email address,
/// not a team or shared mailbox, not suspended or gone), else the fallback reviewer. `Err`
/// says why nobody fits when there is no fallback.
pub fn assign(candidates: &[Candidate<'_>], fallback: Option<&str>) -> Result<Assignment, String> {
    for candidate in candidates {
        let id = candidate.id.trim().to_ascii_lowercase();
        if looks_like_email(&id) && candidate.standing.can_review() {
            return Ok(Assignment {
                reviewer: id,
                because: format!("owner ({})", candidate.source),
            });
        }
    }
    let why = match candidates {
        [] => "no owner".to_string(),
        _ => candidates
            .iter()
            .map(|c| {
                if looks_like_email(&c.id.trim().to_ascii_lowercase()) {
                    format!("owner {} {}", c.id, c.standing.why_not())
                } else {
                    format!("owner {} is not an email address", c.id)
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    match fallback {
        Some(reviewer) => Ok(Assignment {
            reviewer: reviewer.trim().to_ascii_lowercase(),
            because: format!("fallback reviewer: {why}"),
        }),
        None => Err(why),
    }
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "verdict")]
pub enum ItemState {
    Pending,
    /// Pending past the due date: escalated to the fallback reviewer.
    Overdue,
    Decided(Verdict),
}

impl ItemState {
    /// From the item's latest verdict, the campaign's due date and `now`.
    pub fn of(latest: Option<Verdict>, due: NaiveDate, now: Timestamp) -> ItemState {
        match latest {
            Some(verdict) => ItemState::Decided(verdict),
            None if is_overdue(due, now) => ItemState::Overdue,
            None => ItemState::Pending,
        }
    }

    pub fn is_pending(self) -> bool {
        !matches!(self, ItemState::Decided(_))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Overdue => "overdue",
            ItemState::Decided(_) => "decided",
        }
    }
}

/// Who an item is with now: its reviewer, or the fallback reviewer once it is overdue.
pub fn reviewer_now<'a>(assigned: &'a str, fallback: Option<&'a str>, state: ItemState) -> &'a str {
    match (state, fallback) {
        (ItemState::Overdue, Some(fallback)) => fallback,
        _ => assigned,
    }
}

/// What an item's decision is checked against.
#[derive(Debug, Clone, Copy)]
pub struct DecisionContext<'a> {
    pub campaign: &'a str,
    pub closed: bool,
    pub due: NaiveDate,
    pub fallback_reviewer: Option<&'a str>,
    pub item: u32,
    pub assigned: &'a str,
    /// The item's latest decision and who made it.
    pub latest: Option<(Verdict, &'a str)>,
    /// The reviewer asks to correct the latest decision.
    pub supersede: bool,
}

/// In what capacity someone decides an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    /// The reviewer it was assigned to.
    Assigned,
    /// The fallback reviewer, the item being overdue.
    Escalated,
}

/// Whether `actor` may decide the item now: the campaign is open, the item is undecided (or a
/// correction is asked for), and `actor` is its reviewer — or the fallback reviewer once the
/// item is overdue.
pub fn authorize(
    context: &DecisionContext<'_>,
    actor: &str,
    now: Timestamp,
) -> Result<Authority, ReviewError> {
    if context.closed {
        return Err(ReviewError::Closed(context.campaign.to_string()));
    }
    match (context.latest, context.supersede) {
        (Some((verdict, by)), false) => {
            return Err(ReviewError::AlreadyDecided {
                item: context.item,
                verdict,
                by: by.to_string(),
            });
        }
        (None, true) => return Err(ReviewError::NothingToSupersede(context.item)),
        _ => {}
    }
    let actor = actor.trim();
    if actor.eq_ignore_ascii_case(context.assigned) {
        return Ok(Authority::Assigned);
    }
    let overdue = is_overdue(context.due, now);
    if overdue
        && context
            .fallback_reviewer
            .is_some_and(|f| f.eq_ignore_ascii_case(actor))
    {
        return Ok(Authority::Escalated);
    }
    let escalation = match context.fallback_reviewer {
        Some(fallback) if overdue => format!(" (overdue: escalated to {fallback})"),
        Some(fallback) => format!(
            " (it escalates to {fallback} after {})",
            context.due.format("%Y-%m-%d")
        ),
        None => String::new(),
    };
    Err(ReviewError::NotReviewer {
        item: context.item,
        reviewer: context.assigned.to_string(),
        escalation,
        actor: actor.to_string(),
    })
}

/// Whether `actor` may close the campaign with `pending` items undecided: they started it or
/// are its fallback reviewer, it is open, and nothing is pending unless `expire_pending`.
pub fn may_close(
    campaign: &str,
    closed: bool,
    started_by: &str,
    fallback_reviewer: Option<&str>,
    actor: &str,
    pending: usize,
    expire_pending: bool,
) -> Result<(), ReviewError> {
    if closed {
        return Err(ReviewError::Closed(campaign.to_string()));
    }
    let actor = actor.trim();
    if !actor.eq_ignore_ascii_case(started_by)
        && !fallback_reviewer.is_some_and(|f| f.eq_ignore_ascii_case(actor))
    {
        return Err(ReviewError::NotCloser {
            campaign: campaign.to_string(),
            started_by: started_by.to_string(),
            fallback: fallback_reviewer
                .map(|f| format!(" or the fallback reviewer {f}"))
                .unwrap_or_default(),
        });
    }
    if pending > 0 && !expire_pending {
        return Err(ReviewError::Pending {
            campaign: campaign.to_string(),
            pending,
        });
    }
    Ok(())
}

/// A campaign's items by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub items: usize,
    pub decided: usize,
    /// Pending, overdue included.
    pub pending: usize,
    pub overdue: usize,
    pub by_verdict: BTreeMap<Verdict, usize>,
}

impl Counts {
    pub fn tally(states: impl IntoIterator<Item = ItemState>) -> Counts {
        let mut counts = Counts::default();
        for state in states {
            counts.items += 1;
            match state {
                ItemState::Pending => counts.pending += 1,
                ItemState::Overdue => {
                    counts.pending += 1;
                    counts.overdue += 1;
                }
                ItemState::Decided(verdict) => {
                    counts.decided += 1;
                    *counts.by_verdict.entry(verdict).or_default() += 1;
                }
            }
        }
        counts
    }
}

/// Most entries of one kind an item's evidence keeps (with the total beside them).
pub const EVIDENCE_LIST_LIMIT: usize = 10;

/// What the identity could do when the campaign opened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivilegeEvidence {
    pub admin_equivalent: bool,
    /// The highest access level granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_level: Option<AccessLevel>,
    /// Distinct allowed actions per access level.
    pub actions_by_level: BTreeMap<AccessLevel, usize>,
    /// Why it counts as an administrator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_evidence: Vec<String>,
    /// Privilege-escalation techniques it could use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<String>,
    /// Statements granting access to secrets stores.
    pub secrets_access: usize,
    /// Statements with wildcard actions or resources.
    pub wildcards: usize,
    /// Services controlling identity, keys, secrets or the organisation it can reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_services: Vec<String>,
    /// Fingerprint of the policies it held (`warrant_posture::holdings`): a later difference
    /// is a privilege change since this review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdings: Option<String>,
}

impl PrivilegeEvidence {
    pub fn of(summary: &PrivilegeSummary) -> PrivilegeEvidence {
        let capped = |items: &[String]| -> Vec<String> {
            items.iter().take(EVIDENCE_LIST_LIMIT).cloned().collect()
        };
        PrivilegeEvidence {
            admin_equivalent: summary.admin_equivalent,
            max_level: summary.max_level(),
            actions_by_level: summary.actions_by_level.clone(),
            admin_evidence: capped(&summary.admin_evidence),
            escalations: summary
                .escalations
                .iter()
                .take(EVIDENCE_LIST_LIMIT)
                .map(|e| e.technique.clone())
                .collect(),
            secrets_access: summary.secrets_evidence.len(),
            wildcards: summary.wildcard_evidence.len(),
            control_services: summary
                .services
                .iter()
                .filter(|s| warrant_core::CONTROL_SERVICES.contains(&s.as_str()))
                .cloned()
                .collect(),
            holdings: None,
        }
    }

    pub fn n_actions(&self) -> usize {
        self.actions_by_level.values().sum()
    }
}

/// One credential and its use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialEvidence {
    /// The provider's key id, or `fp:…` (never a secret).
    pub id: String,
    pub kind: String,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotated: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
}

/// Granted against used, when activity was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvidence {
    /// The window use was read from.
    pub since: Timestamp,
    pub granted_actions: usize,
    pub used_actions: usize,
    pub unused_actions: usize,
    /// Granted services never used (at most [`EVIDENCE_LIST_LIMIT`]).
    pub unused_services: Vec<String>,
    /// "uses 7 of 2,300 granted actions in 3 of 40 services".
    pub summary: String,
    /// The least-privilege policy its use needs, in one line ("2 statements, 7 actions").
    pub rightsized_policy: String,
}

/// An open finding on the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEvidence {
    pub id: String,
    pub rule: RuleId,
    pub severity: Severity,
    pub title: String,
}

/// An exception in force that covers the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionEvidence {
    pub id: String,
    pub scope: String,
    pub owner: String,
    pub reason: String,
    pub expires: Timestamp,
}

impl ExceptionEvidence {
    pub fn of(exception: &Exception) -> ExceptionEvidence {
        ExceptionEvidence {
            id: exception.id.clone(),
            scope: exception.scope(),
            owner: exception.owner.clone(),
            reason: exception.reason.clone(),
            expires: exception.expires,
        }
    }
}

/// Whether an exception in force at `now` covers an identity: one of its matches names the
/// identity or holds for its tags, and the match's rule (if any) is among `rules`, the rules
/// of its open findings.
pub fn exception_covers(
    exception: &Exception,
    identity: &str,
    tags: &BTreeMap<String, String>,
    rules: &[RuleId],
    now: Timestamp,
) -> bool {
    now < exception.expires
        && exception.matches.iter().any(|m| {
            m.identity.as_deref().is_none_or(|id| id == identity)
                && m.rule.is_none_or(|rule| rules.contains(&rule))
                && m.tags.iter().all(|(key, value)| {
                    tags.iter()
                        .any(|(k, v)| k.eq_ignore_ascii_case(key) && v == value)
                })
        })
}

/// An owner claim, with the directory's record of the person when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerEvidence {
    pub id: String,
    /// Where the claim came from, e.g. `tag:owner`.
    pub source: String,
    pub standing: Standing,
    /// The directory's record: its kind, status and the connector it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectoryRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRecord {
    pub kind: OwnerKind,
    pub status: OwnerStatus,
    pub source: String,
}

/// Everything a reviewer (and later the auditor) sees about an item, captured when the
/// campaign opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: IdentityKind,
    pub provider: Provider,
    pub environment: Environment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub status: IdentityStatus,
    /// The governance tier it falls in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub risk: f64,
    pub blast_radius: f64,
    pub exposure: f64,
    pub privilege: PrivilegeEvidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<Timestamp>,
    pub credentials: Vec<CredentialEvidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageEvidence>,
    pub findings: Vec<FindingEvidence>,
    pub exceptions: Vec<ExceptionEvidence>,
    pub owners: Vec<OwnerEvidence>,
}

impl Evidence {
    /// One line for tables and reports: risk, privilege, findings, credentials, use.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "risk {:.0}, blast radius {:.0}",
            self.risk, self.blast_radius
        )];
        if self.privilege.admin_equivalent {
            parts.push("administrator-equivalent".into());
        } else if let Some(level) = self.privilege.max_level {
            parts.push(format!(
                "{} action(s) up to {}",
                self.privilege.n_actions(),
                level.as_str().replace('_', " ")
            ));
        }
        if !self.privilege.escalations.is_empty() {
            parts.push(format!(
                "{} escalation path(s)",
                self.privilege.escalations.len()
            ));
        }
        if self.findings.is_empty() {
            parts.push("no open findings".into());
        } else {
            let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
            for f in &self.findings {
                *by_severity.entry(f.severity).or_default() += 1;
            }
            let detail: Vec<String> = by_severity
                .iter()
                .rev()
                .map(|(s, n)| format!("{n} {s}"))
                .collect();
            parts.push(format!(
                "{} open finding(s) ({})",
                self.findings.len(),
                detail.join(", ")
            ));
        }
        if !self.credentials.is_empty() {
            let active = self.credentials.iter().filter(|c| c.active).count();
            parts.push(format!(
                "{} credential(s), {active} active",
                self.credentials.len()
            ));
        }
        parts.push(match self.last_used {
            Some(at) => format!("last used {}", at.format("%Y-%m-%d")),
            None => "never used".into(),
        });
        if let Some(usage) = &self.usage {
            parts.push(format!(
                "{} of {} granted actions unused",
                usage.unused_actions, usage.granted_actions
            ));
        }
        if !self.exceptions.is_empty() {
            parts.push(format!("{} exception(s)", self.exceptions.len()));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(year: i32, month: u32, day: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(year, month, day, 12, 0, 0)
            .single()
            .unwrap()
    }

    fn due() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
    }

    const POLICY: &str = r#"
fallback_reviewer = "secops@example.com"
[[tier]]
name = "prod"
match = { tags = { environment = "prod" } }
"#;

    #[test]
    fn scopes_parse_print_and_select() {
        let scope: Scope = "tier=prod, tag:Team=data,kind=aws_user,provider=aws,environment=prod"
            .parse()
            .unwrap();
        assert_eq!(
            scope.to_string(),
            "tier=prod,tag:Team=data,kind=aws_user,provider=aws,environment=production"
        );
        let policy = GovernancePolicy::from_toml(POLICY, "p.toml").unwrap();
        scope.check_against(&policy).unwrap();
        let tags = BTreeMap::from([
            ("team".to_string(), "data".to_string()),
            ("environment".to_string(), "prod".to_string()),
        ]);
        let facts = IdentityFacts {
            tags: &tags,
            environment: Environment::Production,
            provider: Provider::Aws,
            kind: IdentityKind::AwsUser,
            blast_radius: 10.0,
        };
        let tier = policy.tier_for(&facts).0.map(|t| t.name.as_str());
        assert!(scope.holds(&facts, tier));
        assert!(!scope.holds(&facts, None), "outside the tier");
        let role = IdentityFacts {
            kind: IdentityKind::AwsRole,
            ..facts
        };
        assert!(!scope.holds(&role, tier));
        assert!("all".parse::<Scope>().unwrap().holds(&role, None));
    }

    #[test]
    fn bad_scopes_are_refused_naming_the_problem() {
        let policy = GovernancePolicy::from_toml(POLICY, "p.toml").unwrap();
        let err = |text: &str| text.parse::<Scope>().unwrap_err().to_string();
        assert!(err("team=data").starts_with("unknown scope key `team` in `team=data`"));
        assert!(err("").starts_with("an empty scope"));
        assert!(err(" , ").starts_with("an empty scope"));
        assert!(err("prod").starts_with("`prod` is not a condition"));
        assert!(
            err("kind=robot").starts_with("`kind=robot`: "),
            "{}",
            err("kind=robot")
        );
        assert!(err("tag:=x").contains("needs a key"));
        let missing: Scope = "tier=crown".parse().unwrap();
        assert_eq!(
            missing.check_against(&policy).unwrap_err().to_string(),
            "the scope names the tier `crown`, which the governance policy does not have (its tiers: prod)"
        );
    }

    #[test]
    fn owners_who_can_act_review_and_the_rest_go_to_the_fallback() {
        let person = |id, standing| Candidate {
            id,
            source: "tag:owner",
            standing,
        };
        let assigned = assign(
            &[
                person("platform-team", Standing::Unverified),
                person("devops@example.com", Standing::Group),
                person("Ana@Example.com", Standing::Person),
            ],
            Some("secops@example.com"),
        )
        .unwrap();
        assert_eq!(assigned.reviewer, "ana@example.com");
        assert_eq!(assigned.because, "owner (tag:owner)");

        let gone = assign(
            &[person(
                "dave@example.com",
                Standing::Inactive(OwnerStatus::Deprovisioned),
            )],
            Some("SecOps@example.com"),
        )
        .unwrap();
        assert_eq!(gone.reviewer, "secops@example.com");
        assert_eq!(
            gone.because,
            "fallback reviewer: owner dave@example.com has left (deprovisioned)"
        );
        assert_eq!(assign(&[], None).unwrap_err(), "no owner");
        assert_eq!(
            assign(&[person("x@example.com", Standing::NotInDirectory)], None).unwrap_err(),
            "owner x@example.com is not in the directory"
        );
        assert_eq!(
            Standing::of(Some((OwnerKind::Person, OwnerStatus::Active)), true, true),
            Standing::Group,
            "the posture configuration's shared-mailbox patterns win"
        );
        assert_eq!(
            Standing::of(
                Some((OwnerKind::Person, OwnerStatus::Suspended)),
                true,
                false
            ),
            Standing::Inactive(OwnerStatus::Suspended)
        );
        assert_eq!(Standing::of(None, false, false), Standing::Unverified);
    }

    fn context<'a>(latest: Option<(Verdict, &'a str)>, supersede: bool) -> DecisionContext<'a> {
        DecisionContext {
            campaign: "2026-Q4",
            closed: false,
            due: due(),
            fallback_reviewer: Some("secops@example.com"),
            item: 3,
            assigned: "ana@example.com",
            latest,
            supersede,
        }
    }

    #[test]
    fn only_the_reviewer_decides_until_the_due_date_then_the_fallback_too() {
        let on_time = at(2026, 12, 31);
        let late = at(2027, 1, 1);
        let open = context(None, false);
        assert_eq!(
            authorize(&open, "ANA@example.com", on_time),
            Ok(Authority::Assigned)
        );
        assert_eq!(
            authorize(&open, "ana@example.com", late),
            Ok(Authority::Assigned),
            "late is better than never"
        );
        let refused = authorize(&open, "secops@example.com", on_time).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "item 3 is assigned to ana@example.com (it escalates to secops@example.com after 2026-12-31); secops@example.com may not decide it"
        );
        assert_eq!(
            authorize(&open, "secops@example.com", late),
            Ok(Authority::Escalated)
        );
        assert!(matches!(
            authorize(&open, "eve@example.com", late),
            Err(ReviewError::NotReviewer { .. })
        ));
        assert_eq!(
            ItemState::of(None, due(), late),
            ItemState::Overdue,
            "escalated"
        );
        assert_eq!(
            reviewer_now(
                "ana@example.com",
                Some("secops@example.com"),
                ItemState::Overdue
            ),
            "secops@example.com"
        );
        assert_eq!(ItemState::of(None, due(), on_time), ItemState::Pending);
    }

    #[test]
    fn decisions_are_appended_never_overwritten() {
        let now = at(2026, 12, 1);
        let decided = context(Some((Verdict::Keep, "ana@example.com")), false);
        assert_eq!(
            authorize(&decided, "ana@example.com", now)
                .unwrap_err()
                .to_string(),
            "item 3 was already decided (keep by ana@example.com); decisions are never overwritten — pass --supersede to record a correction"
        );
        let correction = context(Some((Verdict::Keep, "ana@example.com")), true);
        assert_eq!(
            authorize(&correction, "ana@example.com", now),
            Ok(Authority::Assigned)
        );
        assert_eq!(
            authorize(&context(None, true), "ana@example.com", now),
            Err(ReviewError::NothingToSupersede(3))
        );
        let closed = DecisionContext {
            closed: true,
            ..context(None, false)
        };
        assert_eq!(
            authorize(&closed, "ana@example.com", now),
            Err(ReviewError::Closed("2026-Q4".into()))
        );
        assert_eq!(
            check_verdict(Verdict::Keep, Some("  ")),
            Err(ReviewError::KeepNeedsReason)
        );
        assert_eq!(
            check_verdict(Verdict::Keep, Some("still the nightly job")),
            Ok(())
        );
        assert_eq!(check_verdict(Verdict::Rotate, None), Ok(()));
        assert_eq!(
            "expired".parse::<Verdict>(),
            Err(ReviewError::ExpiredByHand)
        );
        assert_eq!("Rotate".parse::<Verdict>(), Ok(Verdict::Rotate));
        assert_eq!(Verdict::Disable.action(), Some(crate::Action::DisableKey));
        assert_eq!(Verdict::Keep.action(), None);
    }

    #[test]
    fn a_campaign_closes_when_nothing_is_pending_or_when_pending_items_expire() {
        let close = |actor, pending, expire| {
            may_close(
                "2026-Q4",
                false,
                "lead@example.com",
                Some("secops@example.com"),
                actor,
                pending,
                expire,
            )
        };
        assert_eq!(close("lead@example.com", 0, false), Ok(()));
        assert_eq!(
            close("lead@example.com", 2, false).unwrap_err().to_string(),
            "2 item(s) of campaign 2026-Q4 are still pending: decide them, or close with --expire-pending to record each as expired"
        );
        assert_eq!(close("secops@example.com", 2, true), Ok(()));
        assert!(matches!(
            close("eve@example.com", 0, false),
            Err(ReviewError::NotCloser { .. })
        ));
        assert_eq!(
            may_close("x", true, "a@example.com", None, "a@example.com", 0, false),
            Err(ReviewError::Closed("x".into()))
        );
        let counts = Counts::tally([
            ItemState::Pending,
            ItemState::Overdue,
            ItemState::Decided(Verdict::Keep),
            ItemState::Decided(Verdict::Keep),
            ItemState::Decided(Verdict::Rotate),
        ]);
        assert_eq!(
            (counts.items, counts.decided, counts.pending, counts.overdue),
            (5, 3, 2, 1)
        );
        assert_eq!(counts.by_verdict.get(&Verdict::Keep), Some(&2));
    }

    #[test]
    fn names_dates_and_people_are_checked() {
        assert_eq!(check_name(" 2026-Q4 "), Ok("2026-Q4".into()));
        assert_eq!(check_name("Q4 review"), Err(ReviewError::BadName));
        assert_eq!(check_name("a#1"), Err(ReviewError::BadName));
        assert_eq!(check_name(""), Err(ReviewError::BadName));
        assert_eq!(check_due(due(), at(2026, 12, 31)), Ok(()));
        assert!(check_due(due(), at(2027, 1, 1)).is_err());
        assert_eq!(
            check_person(" Lead@Example.com"),
            Ok("lead@example.com".into())
        );
        assert!(check_person("lead").is_err());
    }

    #[test]
    fn exceptions_cover_identities_by_id_tag_and_open_rule() {
        let exception = |m: crate::Match| Exception {
            id: "exc-1".into(),
            matches: vec![m],
            reason: "vendor".into(),
            owner: "ana@example.com".into(),
            expires: at(2027, 1, 1),
            created: at(2026, 1, 1),
            created_by: "ana@example.com".into(),
        };
        let tags = BTreeMap::from([("Team".to_string(), "data".to_string())]);
        let now = at(2026, 12, 1);
        let by_rule = exception(crate::Match {
            rule: Some(RuleId::NoOwner),
            ..crate::Match::default()
        });
        assert!(exception_covers(
            &by_rule,
            "u",
            &tags,
            &[RuleId::NoOwner],
            now
        ));
        assert!(!exception_covers(&by_rule, "u", &tags, &[], now));
        let by_tag = exception(crate::Match {
            tags: BTreeMap::from([("team".into(), "data".into())]),
            ..crate::Match::default()
        });
        assert!(exception_covers(&by_tag, "u", &tags, &[], now));
        assert!(
            !exception_covers(&by_tag, "u", &tags, &[], at(2027, 1, 2)),
            "expired"
        );
        let by_id = exception(crate::Match {
            identity: Some("v".into()),
            ..crate::Match::default()
        });
        assert!(!exception_covers(&by_id, "u", &tags, &[], now));
        assert!(exception_covers(&by_id, "v", &tags, &[], now));
    }

    fn condition() -> impl Strategy<Value = Condition> {
        // Names as people write them: no commas, no surrounding blanks.
        let word = "[A-Za-z0-9_.:/@-][A-Za-z0-9_.:/@ =-]{0,10}[A-Za-z0-9_.:/@-]|[A-Za-z0-9_.@-]";
        let key = "[A-Za-z0-9_./@-]{1,12}";
        prop_oneof![
            Just(Condition::All),
            word.prop_map(Condition::Tier),
            (key, proptest::option::of(word)).prop_map(|(key, value)| Condition::Tag {
                key,
                value: value.unwrap_or_default()
            }),
            proptest::sample::select(IdentityKind::ALL.to_vec()).prop_map(Condition::Kind),
            proptest::sample::select(Provider::ALL.to_vec()).prop_map(Condition::Provider),
            proptest::sample::select(Environment::ALL.to_vec()).prop_map(Condition::Environment),
        ]
    }

    proptest! {
        /// A scope printed reads back as itself.
        #[test]
        fn scopes_round_trip(conditions in proptest::collection::vec(condition(), 1..6)) {
            let scope = Scope { conditions };
            let text = scope.to_string();
            prop_assert_eq!(text.parse::<Scope>(), Ok(scope), "{}", text);
        }

        /// Any text is a scope or an error; an accepted scope prints as text that reads back
        /// the same.
        #[test]
        fn any_text_is_a_scope_or_an_error(text in "\\PC{0,80}") {
            if let Ok(scope) = text.parse::<Scope>() {
                prop_assert!(!scope.conditions.is_empty());
                prop_assert_eq!(scope.to_string().parse::<Scope>(), Ok(scope));
            }
        }

        /// Whatever the decisions, counts add up and the overdue are among the pending.
        #[test]
        fn counts_add_up(states in proptest::collection::vec(
            prop_oneof![
                Just(ItemState::Pending),
                Just(ItemState::Overdue),
                proptest::sample::select(Verdict::ALL.to_vec()).prop_map(ItemState::Decided),
            ], 0..50)) {
            let counts = Counts::tally(states.iter().copied());
            prop_assert_eq!(counts.items, states.len());
            prop_assert_eq!(counts.decided + counts.pending, counts.items);
            prop_assert!(counts.overdue <= counts.pending);
            prop_assert_eq!(counts.by_verdict.values().sum::<usize>(), counts.decided);
        }
    }
}
