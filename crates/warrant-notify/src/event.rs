//! What a notification is about: a typed event, and the key a receiver deduplicates it by.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warrant_core::Timestamp;

/// What happened. Its text form (`plan.proposed`, …) is the name targets filter on in their
/// `events` list, the `kind` of the generic JSON body and part of the idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A remediation plan awaits approval.
    #[serde(rename = "plan.proposed")]
    PlanProposed,
    /// A remediation plan has its approvals.
    #[serde(rename = "plan.approved")]
    PlanApproved,
    /// A remediation plan was applied.
    #[serde(rename = "plan.applied")]
    PlanApplied,
    /// Applying a remediation plan failed.
    #[serde(rename = "plan.failed")]
    PlanFailed,
    /// An access-review item was assigned to someone.
    #[serde(rename = "review.assigned")]
    ReviewAssigned,
    /// An access-review item is past its due date.
    #[serde(rename = "review.overdue")]
    ReviewOverdue,
    /// An exception is about to expire.
    #[serde(rename = "exception.expiring")]
    ExceptionExpiring,
}

impl EventKind {
    /// Every kind, in the order the documentation lists them (a target's default `events`).
    pub const ALL: [EventKind; 7] = [
        EventKind::PlanProposed,
        EventKind::PlanApproved,
        EventKind::PlanApplied,
        EventKind::PlanFailed,
        EventKind::ReviewAssigned,
        EventKind::ReviewOverdue,
        EventKind::ExceptionExpiring,
    ];

    /// The text form: `plan.proposed`, `review.overdue`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PlanProposed => "plan.proposed",
            EventKind::PlanApproved => "plan.approved",
            EventKind::PlanApplied => "plan.applied",
            EventKind::PlanFailed => "plan.failed",
            EventKind::ReviewAssigned => "review.assigned",
            EventKind::ReviewOverdue => "review.overdue",
            EventKind::ExceptionExpiring => "exception.expiring",
        }
    }

    /// A short label for people: "Plan proposed".
    pub fn label(self) -> &'static str {
        match self {
            EventKind::PlanProposed => "Plan proposed",
            EventKind::PlanApproved => "Plan approved",
            EventKind::PlanApplied => "Plan applied",
            EventKind::PlanFailed => "Plan failed",
            EventKind::ReviewAssigned => "Review assigned",
            EventKind::ReviewOverdue => "Review overdue",
            EventKind::ExceptionExpiring => "Exception expiring",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`EventKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event {name:?} (known: {known})", known = known_names())]
pub struct UnknownEventError {
    pub name: String,
}

fn known_names() -> String {
    EventKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for EventKind {
    type Err = UnknownEventError;

    fn from_str(name: &str) -> Result<EventKind, UnknownEventError> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownEventError {
                name: name.to_string(),
            })
    }
}

/// One notification's content, independent of where it goes.
///
/// The generic JSON body is this struct (plus `schema` and `event_id`); the Slack and Jira
/// bodies are built from it. Nothing here should be a secret: every field is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// What the event is about: a plan id, a review item, an exception id.
    pub subject: String,
    /// The identity concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Who is asked to act (an email address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// One line.
    pub title: String,
    /// A few sentences.
    pub summary: String,
    /// Where to look (the console's page for the subject), http or https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// When it happened (time is an input: the caller's clock).
    pub at: Timestamp,
    /// Further facts, shown as key–value pairs (ordered by key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// Hex digits of SHA-256 kept in an event id: 128 bits.
const EVENT_ID_HEX_LEN: usize = 32;

impl Event {
    /// The event's id: a prefix (32 hex digits) of SHA-256 over its kind, subject and time.
    ///
    /// Sent as the `Idempotency-Key` header to every target and as `event_id` in the generic
    /// body. Every attempt of a delivery carries the same key, so a receiver that saw an
    /// attempt succeed (while its answer was lost to a timeout) can drop the retry; the same
    /// event raised twice (same kind, subject and time) has the same id as well.
    pub fn id(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.kind.as_str().as_bytes());
        hasher.update(b"\n");
        // Length-prefixed: a subject containing newlines cannot imitate the time that follows.
        hasher.update(self.subject.len().to_string().as_bytes());
        hasher.update(b":");
        hasher.update(self.subject.as_bytes());
        hasher.update(b"\n");
        hasher.update(
            self.at
                .to_rfc3339_opts(SecondsFormat::Nanos, true)
                .as_bytes(),
        );
        let mut id = hex::encode(hasher.finalize());
        id.truncate(EVENT_ID_HEX_LEN);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event() -> Event {
        Event {
            kind: EventKind::PlanProposed,
            subject: "plan-1".into(),
            identity: None,
            owner: None,
            title: "t".into(),
            summary: "s".into(),
            link: None,
            at: Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap(),
            details: BTreeMap::new(),
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        let error = "plan.propose".parse::<EventKind>().unwrap_err();
        assert!(error.to_string().contains("\"plan.propose\""), "{error}");
        assert!(error.to_string().contains("exception.expiring"), "{error}");
    }

    #[test]
    fn id_depends_on_kind_subject_and_time_only() {
        let base = event();
        let id = base.id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

        let mut same = base.clone();
        same.title = "other title".into();
        same.details.insert("k".into(), "v".into());
        assert_eq!(same.id(), id);

        let mut other_kind = base.clone();
        other_kind.kind = EventKind::PlanApproved;
        let mut other_subject = base.clone();
        other_subject.subject = "plan-2".into();
        let mut other_time = base.clone();
        other_time.at = base.at + chrono::Duration::nanoseconds(1);
        for other in [other_kind, other_subject, other_time] {
            assert_ne!(other.id(), id);
        }
    }
}
