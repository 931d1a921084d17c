//! Exceptions: a person decides that a finding may stand for a while — for one identity, for
//! one rule, for identities carrying a tag, or any combination — and says why, who answers for
//! it, and until when. An expired exception no longer applies, so what it covered is open again.
//!
//! An exception holds one or more [`Match`]es and applies when any of them holds (OR); a match
//! holds when every condition it gives holds (AND). So "rule `secret-not-rotated` on identities
//! tagged `team=data`, or anything on `arn:…:role/legacy`" is one exception with two matches.

use std::collections::BTreeMap;
use std::fmt;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warrant_core::{Finding, RuleId, Timestamp};

use crate::GovernancePolicy;

/// One alternative of an exception's scope: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// The identity's id, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleId>,
    /// Tags or labels the identity carries, each equal (keys without case).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl Match {
    fn is_empty(&self) -> bool {
        self.identity.is_none() && self.rule.is_none() && self.tags.is_empty()
    }

    /// Whether the match holds for `finding` on an identity carrying `tags`.
    pub fn holds(&self, finding: &Finding, tags: &BTreeMap<String, String>) -> bool {
        self.identity
            .as_ref()
            .is_none_or(|id| &finding.identity == id)
            && self.rule.is_none_or(|rule| finding.rule == rule)
            && self.tags.iter().all(|(key, value)| {
                tags.iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case(key) && v == value)
            })
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(id) = &self.identity {
            parts.push(format!("identity {id}"));
        }
        if let Some(rule) = &self.rule {
            parts.push(format!("rule {rule}"));
        }
        for (k, v) in &self.tags {
            parts.push(format!("tag {k}={v}"));
        }
        f.write_str(&parts.join(" and "))
    }
}

/// What a person asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewException {
    pub matches: Vec<Match>,
    pub reason: String,
    /// Who answers for it: an email address.
    pub owner: String,
    pub expires: Timestamp,
}

/// A granted exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// `exc-` and 16 hex digits of the SHA-256 of its content: the same request made at the
    /// same instant is the same exception.
    pub id: String,
    pub matches: Vec<Match>,
    pub reason: String,
    pub owner: String,
    pub expires: Timestamp,
    pub created: Timestamp,
    /// Who granted it (the person acting: `--as`, `WARRANT_USER`, or the signed-in user).
    pub created_by: String,
}

/// Why an exception was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExceptionError {
    #[error("an exception needs a scope: --identity, --rule or --tag (or several)")]
    NoScope,
    #[error("an exception needs a reason")]
    NoReason,
    #[error(
        "the owner `{0}` is not an email address: an exception needs a person who answers for it"
    )]
    BadOwner(String),
    #[error("the person granting it is not named (--as EMAIL or WARRANT_USER)")]
    NoGrantor,
    #[error("it expires on {expires}, which is not after now ({now})")]
    AlreadyExpired { expires: String, now: String },
    #[error(
        "it expires on {expires}, more than {max_days} days from now (the policy's max_exception_days)"
    )]
    TooLong { expires: String, max_days: u32 },
}

/// Where an exception stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ExceptionState {
    Active,
    /// Active, and expiring within the window asked about.
    ExpiringSoon {
        days_left: i64,
    },
    /// No longer applies: what it covered is open again.
    Expired,
}

fn day(t: &Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

impl NewException {
    /// Checks the request against `policy` at `now` and grants it as `by`.
    pub fn grant(
        mut self,
        policy: &GovernancePolicy,
        now: Timestamp,
        by: &str,
    ) -> Result<Exception, ExceptionError> {
        self.matches.retain(|m| !m.is_empty());
        if self.matches.is_empty() {
            return Err(ExceptionError::NoScope);
        }
        self.matches.sort();
        self.matches.dedup();
        let reason = self.reason.trim().to_string();
        if reason.is_empty() {
            return Err(ExceptionError::NoReason);
        }
        let owner = self.owner.trim().to_ascii_lowercase();
        if !looks_like_email(&owner) {
            return Err(ExceptionError::BadOwner(self.owner));
        }
        let by = by.trim().to_ascii_lowercase();
        if by.is_empty() {
            return Err(ExceptionError::NoGrantor);
        }
        if self.expires <= now {
            return Err(ExceptionError::AlreadyExpired {
                expires: day(&self.expires),
                now: day(&now),
            });
        }
        if self.expires > now + Duration::days(i64::from(policy.max_exception_days)) {
            return Err(ExceptionError::TooLong {
                expires: day(&self.expires),
                max_days: policy.max_exception_days,
            });
        }
        let mut exception = Exception {
            id: String::new(),
            matches: self.matches,
            reason,
            owner,
            expires: self.expires,
            created: now,
            created_by: by,
        };
        exception.id = exception.content_id();
        Ok(exception)
    }
}

/// `name@domain.tld`, roughly: enough to refuse a team name or a typo.
pub(crate) fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

impl Exception {
    fn content_id(&self) -> String {
        // Everything but the id, in a fixed order.
        let canonical = serde_json::json!([
            self.matches,
            self.reason,
            self.owner,
            self.expires,
            self.created,
            self.created_by
        ]);
        let digest: [u8; 32] =
            Sha256::digest(warrant_core::canonical_json(&canonical).as_bytes()).into();
        format!("exc-{}", hex::encode(digest.get(..8).unwrap_or_default()))
    }

    /// Whether the exception covers `finding` (on an identity carrying `tags`) at `now`.
    pub fn covers(
        &self,
        finding: &Finding,
        tags: &BTreeMap<String, String>,
        now: Timestamp,
    ) -> bool {
        now < self.expires && self.matches.iter().any(|m| m.holds(finding, tags))
    }

    /// Where it stands at `now`; `soon` is the window in which an active one is "expiring".
    pub fn state(&self, now: Timestamp, soon: Duration) -> ExceptionState {
        if now >= self.expires {
            ExceptionState::Expired
        } else if self.expires - now <= soon {
            ExceptionState::ExpiringSoon {
                days_left: (self.expires - now).num_days(),
            }
        } else {
            ExceptionState::Active
        }
    }

    /// The scope in words: "identity X and rule Y, or tag team=data".
    pub fn scope(&self) -> String {
        self.matches
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(day: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 12, day, 9, 0, 0)
            .single()
            .unwrap()
    }

    fn finding(rule: RuleId, identity: &str) -> Finding {
        Finding::new(
            rule,
            "t",
            warrant_core::Severity::Medium,
            identity,
            "",
            vec![],
            "fix",
        )
    }

    fn request(matches: Vec<Match>) -> NewException {
        NewException {
            matches,
            reason: "vendor integration until the migration".into(),
            owner: "Alice@Example.com".into(),
            expires: at(20),
        }
    }

    #[test]
    fn matches_are_or_of_ands_over_identity_rule_and_tags() {
        let data = BTreeMap::from([("Team".to_string(), "data".to_string())]);
        let none = BTreeMap::new();
        let exception = request(vec![
            Match {
                rule: Some(RuleId::NoOwner),
                tags: BTreeMap::from([("team".into(), "data".into())]),
                ..Match::default()
            },
            Match {
                identity: Some("arn:aws:iam::1:role/legacy".into()),
                ..Match::default()
            },
        ])
        .grant(&GovernancePolicy::default(), at(1), "bob@example.com")
        .unwrap();
        let now = at(2);
        assert!(exception.covers(&finding(RuleId::NoOwner, "u"), &data, now));
        assert!(!exception.covers(&finding(RuleId::NoOwner, "u"), &none, now));
        assert!(!exception.covers(&finding(RuleId::LeakedSecret, "u"), &data, now));
        assert!(exception.covers(
            &finding(RuleId::LeakedSecret, "arn:aws:iam::1:role/legacy"),
            &none,
            now
        ));
        // Expired: covers nothing, and says so.
        assert!(!exception.covers(&finding(RuleId::NoOwner, "u"), &data, at(20)));
        assert_eq!(
            exception.state(at(20), Duration::days(7)),
            ExceptionState::Expired
        );
        assert_eq!(
            exception.state(at(15), Duration::days(7)),
            ExceptionState::ExpiringSoon { days_left: 5 }
        );
        assert_eq!(
            exception.state(at(2), Duration::days(7)),
            ExceptionState::Active
        );
        assert_eq!(exception.owner, "alice@example.com");
        assert!(exception.id.starts_with("exc-") && exception.id.len() == 20);
        assert_eq!(
            exception.scope(),
            "rule no-owner and tag team=data, or identity arn:aws:iam::1:role/legacy"
        );
    }

    #[test]
    fn requests_without_scope_reason_owner_or_a_sane_expiry_are_refused() {
        let policy = GovernancePolicy::default();
        let scope = vec![Match {
            rule: Some(RuleId::NoOwner),
            ..Match::default()
        }];
        let grant = |r: NewException| r.grant(&policy, at(1), "bob@example.com");
        assert_eq!(
            grant(request(vec![Match::default()])),
            Err(ExceptionError::NoScope)
        );
        let mut r = request(scope.clone());
        r.reason = "  ".into();
        assert_eq!(grant(r), Err(ExceptionError::NoReason));
        let mut r = request(scope.clone());
        r.owner = "platform-team".into();
        assert!(matches!(grant(r), Err(ExceptionError::BadOwner(_))));
        let mut r = request(scope.clone());
        r.expires = at(1);
        assert!(matches!(
            grant(r),
            Err(ExceptionError::AlreadyExpired { .. })
        ));
        let mut r = request(scope.clone());
        r.expires = at(1) + Duration::days(400);
        assert!(matches!(
            grant(r),
            Err(ExceptionError::TooLong { max_days: 365, .. })
        ));
        assert_eq!(
            request(scope).grant(&policy, at(1), " "),
            Err(ExceptionError::NoGrantor)
        );
    }

    proptest! {
        /// The id depends on the content only: the same request granted twice at the same
        /// instant is one exception, in whatever order its matches were given.
        #[test]
        fn the_id_is_the_content(rules in proptest::sample::subsequence(RuleId::ALL.to_vec(), 1..4)) {
            let matches: Vec<Match> = rules
                .iter()
                .map(|r| Match { rule: Some(*r), ..Match::default() })
                .collect();
            let mut reversed = matches.clone();
            reversed.reverse();
            let policy = GovernancePolicy::default();
            let a = request(matches).grant(&policy, at(1), "bob@example.com").unwrap();
            let b = request(reversed).grant(&policy, at(1), "bob@example.com").unwrap();
            prop_assert_eq!(&a.id, &b.id);
            let later = request(a.matches.clone()).grant(&policy, at(2), "bob@example.com").unwrap();
            prop_assert_ne!(a.id, later.id);
        }
    }
}
