//! The stream and publishing events into it.

use std::collections::VecDeque;
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use serde::Serialize;
use warrant_activity::{Event, LogKind};

use crate::StreamError;

/// Where events go: one stream, one subject per log kind under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// Stream name (no spaces, dots or wildcards).
    pub stream: String,
    /// Subjects are `PREFIX.LOG` ([`subject_for`]); the stream binds `PREFIX.>`.
    pub subject_prefix: String,
    /// How long JetStream remembers message ids to drop re-published events.
    pub duplicate_window: Duration,
    /// How long events stay in the stream (zero: unlimited).
    pub max_age: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            stream: "WARRANT_ACTIVITY".into(),
            subject_prefix: "warrant.activity".into(),
            duplicate_window: Duration::from_secs(2 * 60 * 60),
            max_age: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

/// An event [`publish_events`] refused to publish, by its position in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEvent {
    pub index: usize,
    pub event_id: String,
    pub reason: String,
}

/// What [`publish_events`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Events stored in the stream now.
    pub published: u64,
    /// Events JetStream already held (same message id within the duplicate window).
    pub duplicates: u64,
    pub rejected: Vec<RejectedEvent>,
}

/// Connects to NATS and returns a JetStream context.
pub async fn connect(url: &str) -> Result<jetstream::Context, StreamError> {
    let client = async_nats::connect(url)
        .await
        .map_err(|source| StreamError::Connect {
            url: url.to_string(),
            source,
        })?;
    Ok(jetstream::new(client))
}

/// Creates the stream if it does not exist (file storage, subjects `PREFIX.>`, the duplicate
/// window and age limit of `settings`); an existing stream is used as it is.
pub async fn ensure_stream(
    js: &jetstream::Context,
    settings: &StreamSettings,
) -> Result<jetstream::stream::Stream, StreamError> {
    let config = jetstream::stream::Config {
        name: settings.stream.clone(),
        subjects: vec![format!("{}.>", settings.subject_prefix)],
        storage: jetstream::stream::StorageType::File,
        retention: jetstream::stream::RetentionPolicy::Limits,
        duplicate_window: settings.duplicate_window,
        max_age: settings.max_age,
        ..Default::default()
    };
    let stream = js
        .get_or_create_stream(config)
        .await
        .map_err(|source| StreamError::Stream {
            stream: settings.stream.clone(),
            source,
        })?;
    tracing::debug!(stream = %settings.stream, "JetStream stream ready");
    Ok(stream)
}

/// The log kind's name as events serialise it (`cloud_trail`, `kubernetes_audit`, …); the
/// store's ledger and the subjects use it.
pub fn log_name(kind: LogKind) -> String {
    #[derive(Serialize)]
    struct Wrap(LogKind);
    // A unit variant serialises to a plain JSON string; anything else would be a serde change,
    // and the Debug name is still unique.
    match serde_json::to_value(Wrap(kind)) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{kind:?}"),
    }
}

/// The subject an event of `kind` is published on.
pub fn subject_for(settings: &StreamSettings, kind: LogKind) -> String {
    format!("{}.{}", settings.subject_prefix, log_name(kind))
}

/// The JetStream message id of an event: `LOG:EVENT_ID`, unique across log kinds.
pub fn message_id(event: &Event) -> String {
    format!("{}:{}", log_name(event.log), event.id)
}

/// Why an event cannot be published; its id goes into a header and the store's ledger.
fn unpublishable(event: &Event) -> Option<String> {
    if event.id.is_empty() {
        return Some("empty event id".into());
    }
    // Header values end at CR/LF; a control character would corrupt or split the header.
    if event.id.chars().any(char::is_control) {
        return Some("event id contains control characters".into());
    }
    None
}

/// Acks awaited at once; bounds memory and keeps the connection busy.
const IN_FLIGHT: usize = 512;

/// Publishes events as JSON on `PREFIX.LOG` with `Nats-Msg-Id` = [`message_id`], pipelining
/// publishes and awaiting every acknowledgement, so on `Ok` every event is stored in the stream.
/// An event whose id is unusable is skipped and listed in the report.
pub async fn publish_events<'a>(
    js: &jetstream::Context,
    settings: &StreamSettings,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<PublishReport, StreamError> {
    let mut report = PublishReport::default();
    let mut pending: VecDeque<(String, String, PublishAckFuture)> = VecDeque::new();
    for (index, event) in events.into_iter().enumerate() {
        if let Some(reason) = unpublishable(event) {
            tracing::warn!(index, event_id = %event.id, %reason, "event not published");
            report.rejected.push(RejectedEvent {
                index,
                event_id: event.id.clone(),
                reason,
            });
            continue;
        }
        let id = message_id(event);
        let payload = serde_json::to_vec(event).map_err(|source| StreamError::Encode {
            message_id: id.clone(),
            source,
        })?;
        let subject = subject_for(settings, event.log);
        let ack = js
            .send_publish(
                subject.clone(),
                PublishMessage::build()
                    .payload(payload.into())
                    .message_id(&id),
            )
            .await
            .map_err(|source| StreamError::Publish {
                subject: subject.clone(),
                message_id: id.clone(),
                source,
            })?;
        pending.push_back((subject, id, ack));
        if pending.len() >= IN_FLIGHT
            && let Some(oldest) = pending.pop_front()
        {
            settle(oldest, &mut report).await?;
        }
    }
    while let Some(oldest) = pending.pop_front() {
        settle(oldest, &mut report).await?;
    }
    tracing::info!(
        stream = %settings.stream,
        published = report.published,
        duplicates = report.duplicates,
        rejected = report.rejected.len(),
        "events published"
    );
    Ok(report)
}

async fn settle(
    (subject, message_id, ack): (String, String, PublishAckFuture),
    report: &mut PublishReport,
) -> Result<(), StreamError> {
    let ack = ack.await.map_err(|source| StreamError::Publish {
        subject,
        message_id,
        source,
    })?;
    if ack.duplicate {
        report.duplicates += 1;
    } else {
        report.published += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use warrant_activity::{Actor, Outcome, Principal};

    fn event(id: &str, log: LogKind) -> Event {
        Event {
            id: id.into(),
            time: Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).single().unwrap(),
            log,
            principal: Principal::default(),
            actor: Actor::Unknown,
            action: "s3:GetObject".into(),
            resources: vec![],
            source_ip: None,
            user_agent: None,
            outcome: Outcome::Success,
            error_code: None,
            region: None,
            read_only: None,
            console: false,
            subject: None,
            facts: Default::default(),
        }
    }

    #[test]
    fn names_subjects_and_ids_follow_the_serialised_log_kind() {
        assert_eq!(log_name(LogKind::CloudTrail), "cloud_trail");
        assert_eq!(log_name(LogKind::KubernetesAudit), "kubernetes_audit");
        let settings = StreamSettings::default();
        assert_eq!(
            subject_for(&settings, LogKind::GitHubAudit),
            format!("warrant.activity.{}", log_name(LogKind::GitHubAudit))
        );
        assert_eq!(
            message_id(&event("abc", LogKind::CloudTrail)),
            "cloud_trail:abc"
        );
        assert_ne!(
            message_id(&event("abc", LogKind::CloudTrail)),
            message_id(&event("abc", LogKind::OtelGenAi))
        );
    }

    #[test]
    fn ids_that_cannot_be_headers_are_refused() {
        assert!(unpublishable(&event("ok-1", LogKind::CloudTrail)).is_none());
        assert!(unpublishable(&event("", LogKind::CloudTrail)).is_some());
        assert!(unpublishable(&event("a\r\nX: y", LogKind::CloudTrail)).is_some());
    }
}
