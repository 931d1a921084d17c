//! Shared durable pull consumers that apply events exactly once.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::{FutureExt, StreamExt};
use warrant_activity::{Event, Outcome};
use warrant_core::UsageRecord;
use warrant_store::{AppliedEvent, ApplyOutcome, Store, StoreError};

use crate::StreamError;
use crate::publish::log_name;

/// How a worker consumes. Every worker of one pipeline uses the same `stream` and `durable`, so
/// JetStream spreads messages across them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSettings {
    pub stream: String,
    /// Durable consumer name, shared by all workers (created by the first one).
    pub durable: String,
    /// Only subjects matching this (e.g. `warrant.activity.cloud_trail`); empty for all.
    pub filter_subject: String,
    /// Messages per fetch, applied in one store transaction.
    pub batch_size: usize,
    /// How long one fetch waits to fill a batch; also bounds how late shutdown is noticed.
    pub fetch_wait: Duration,
    /// A delivered message not acknowledged within this is redelivered (to any worker). Must
    /// exceed the time to process one batch.
    pub ack_wait: Duration,
    /// Deliveries of one message before JetStream gives up on it.
    pub max_deliver: i64,
    /// Delivered but unacknowledged messages allowed across all workers.
    pub max_ack_pending: i64,
    /// Return once the consumer has nothing left: no undelivered and no unacknowledged message
    /// (batch runs over a complete stream). Otherwise run until shutdown.
    pub stop_when_drained: bool,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        ConsumerSettings {
            stream: "WARRANT_ACTIVITY".into(),
            durable: "warrant-activity".into(),
            filter_subject: String::new(),
            batch_size: 500,
            fetch_wait: Duration::from_secs(1),
            ack_wait: Duration::from_secs(30),
            max_deliver: 10,
            max_ack_pending: 20_000,
            stop_when_drained: false,
        }
    }
}

/// Applies a batch of events durably. Messages are acknowledged only after `process` returns
/// `Ok`, so it must have committed by then; it must also be idempotent, since a batch is
/// redelivered when a worker dies between commit and acknowledgement.
pub trait Processor: Send {
    type Error: std::error::Error + Send + Sync + 'static;

    fn process(
        &mut self,
        events: &[Event],
    ) -> impl Future<Output = Result<ApplyOutcome, Self::Error>> + Send;
}

/// The usual processor: maps each event with a caller-supplied closure (attribution) and applies
/// the batch with [`Store::apply_events`].
pub struct StoreProcessor<F> {
    store: Store,
    map: F,
}

impl<F> StoreProcessor<F>
where
    F: FnMut(&Event) -> AppliedEvent + Send,
{
    pub fn new(store: Store, map: F) -> Self {
        StoreProcessor { store, map }
    }
}

impl<F> Processor for StoreProcessor<F>
where
    F: FnMut(&Event) -> AppliedEvent + Send,
{
    type Error = StoreError;

    async fn process(&mut self, events: &[Event]) -> Result<ApplyOutcome, StoreError> {
        let applied: Vec<AppliedEvent> = events.iter().map(&mut self.map).collect();
        self.store.apply_events(&applied).await
    }
}

/// The usual [`AppliedEvent`] of an event attributed to `identity` (made with `credential`): one
/// usage record per resource acted on (one without a resource when the event names none), with
/// `count` 1 and `errors` 1 unless the call succeeded. Unattributed events add no usage.
pub fn applied_event(
    event: &Event,
    identity: Option<String>,
    credential: Option<String>,
) -> AppliedEvent {
    let errors = u64::from(event.outcome != Outcome::Success);
    let usage = match identity.as_deref() {
        None => Vec::new(),
        Some(identity) => {
            let record = |resource: Option<&String>| UsageRecord {
                identity: identity.to_string(),
                credential: credential.clone(),
                action: event.action.clone(),
                resource: resource.cloned(),
                first_seen: event.time,
                last_seen: event.time,
                count: 1,
                errors,
            };
            if event.resources.is_empty() {
                vec![record(None)]
            } else {
                event.resources.iter().map(|r| record(Some(r))).collect()
            }
        }
    };
    AppliedEvent {
        event_id: event.id.clone(),
        log: log_name(event.log),
        time: event.time,
        identity,
        credential,
        usage,
    }
}

/// A message that was not an event; it is terminated (never redelivered) and reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedMessage {
    pub subject: String,
    /// Stream sequence: where to find it (`nats stream get STREAM SEQ`).
    pub stream_sequence: u64,
    pub error: String,
}

/// What one worker's [`consume`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumeReport {
    /// Batches processed and acknowledged.
    pub batches: u64,
    /// Messages received (including redeliveries and malformed ones).
    pub received: u64,
    /// Messages delivered more than once (after another worker's or this one's failure).
    pub redelivered: u64,
    /// Store outcome summed over batches (applied, duplicates, expired, rejected).
    pub applied: u64,
    pub duplicates: u64,
    pub expired: u64,
    pub rejected: u64,
    /// Messages that were not events (the first 100 are described in `malformed_examples`).
    pub malformed: u64,
    pub malformed_examples: Vec<MalformedMessage>,
    /// Acknowledgements that could not be sent; those messages come back and are duplicates.
    pub ack_failures: u64,
}

const MAX_MALFORMED_EXAMPLES: usize = 100;
/// Consecutive failed fetches before giving up (the server is gone or the consumer deleted).
const MAX_FETCH_FAILURES: u32 = 10;

/// Runs one worker on the shared durable pull consumer (created with explicit acks, `ack_wait`,
/// `max_deliver` and `max_ack_pending` if it does not exist): fetches batches, decodes events,
/// hands them to `processor`, and acknowledges them once it returns. Returns when `shutdown`
/// completes (checked between batches, so the batch in hand is finished and acknowledged
/// first), or when drained if `stop_when_drained`.
///
/// A message that is not an event is terminated and reported, and the rest goes on. When the
/// processor fails, the batch is negatively acknowledged (redelivered later, to any worker) and
/// the error returned.
pub async fn consume<P: Processor>(
    js: &jetstream::Context,
    settings: &ConsumerSettings,
    processor: &mut P,
    shutdown: impl Future<Output = ()>,
) -> Result<ConsumeReport, StreamError> {
    let mut consumer = open_consumer(js, settings).await?;
    let mut shutdown = std::pin::pin!(shutdown);
    let mut report = ConsumeReport::default();
    let mut fetch_failures = 0u32;
    loop {
        if shutdown.as_mut().now_or_never().is_some() {
            tracing::info!(durable = %settings.durable, "consumer shutting down");
            break;
        }
        let (messages, fetch_error) = fetch(&consumer, settings).await;
        match fetch_error {
            Some(message) => {
                fetch_failures += 1;
                tracing::warn!(durable = %settings.durable, %message, "fetch failed");
                if fetch_failures >= MAX_FETCH_FAILURES {
                    return Err(StreamError::Fetch {
                        durable: settings.durable.clone(),
                        attempts: fetch_failures,
                        message,
                    });
                }
                if messages.is_empty() {
                    tokio::time::sleep(settings.fetch_wait.min(Duration::from_secs(1))).await;
                }
            }
            None => fetch_failures = 0,
        }
        let full = messages.len() >= settings.batch_size;
        if !messages.is_empty() {
            handle_batch(messages, processor, settings, &mut report).await?;
        }
        if !full && settings.stop_when_drained && drained(&mut consumer, settings).await? {
            tracing::info!(durable = %settings.durable, "consumer drained");
            break;
        }
    }
    // Acks are buffered by the client; send them before the caller may exit.
    if let Err(e) = js.client().flush().await {
        tracing::warn!(error = %e, "flushing acknowledgements failed; they will be redelivered");
    }
    tracing::info!(
        durable = %settings.durable,
        batches = report.batches,
        applied = report.applied,
        duplicates = report.duplicates,
        malformed = report.malformed,
        "consumer finished"
    );
    Ok(report)
}

async fn open_consumer(
    js: &jetstream::Context,
    settings: &ConsumerSettings,
) -> Result<jetstream::consumer::PullConsumer, StreamError> {
    let consumer_error = |source| StreamError::Consumer {
        stream: settings.stream.clone(),
        durable: settings.durable.clone(),
        source,
    };
    let stream =
        js.get_stream(&settings.stream)
            .await
            .map_err(|source| StreamError::GetStream {
                stream: settings.stream.clone(),
                source,
            })?;
    let config = pull::Config {
        durable_name: Some(settings.durable.clone()),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: settings.ack_wait,
        max_deliver: settings.max_deliver,
        max_ack_pending: settings.max_ack_pending,
        filter_subject: settings.filter_subject.clone(),
        deliver_policy: jetstream::consumer::DeliverPolicy::All,
        ..Default::default()
    };
    match stream
        .get_or_create_consumer(&settings.durable, config)
        .await
    {
        Ok(consumer) => Ok(consumer),
        // Workers starting together race to create it; the loser finds the winner's.
        Err(first) => stream
            .get_consumer(&settings.durable)
            .await
            .map_err(|_| consumer_error(first)),
    }
}

/// One pull request: up to `batch_size` messages within `fetch_wait`. A failure part-way
/// returns what arrived before it with the error text.
async fn fetch(
    consumer: &jetstream::consumer::PullConsumer,
    settings: &ConsumerSettings,
) -> (Vec<jetstream::Message>, Option<String>) {
    let mut out = Vec::new();
    let mut batch = match consumer
        .batch()
        .max_messages(settings.batch_size)
        .expires(settings.fetch_wait)
        .messages()
        .await
    {
        Ok(batch) => batch,
        Err(e) => return (out, Some(e.to_string())),
    };
    while let Some(item) = batch.next().await {
        match item {
            Ok(message) => out.push(message),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
    (out, None)
}

async fn handle_batch<P: Processor>(
    messages: Vec<jetstream::Message>,
    processor: &mut P,
    settings: &ConsumerSettings,
    report: &mut ConsumeReport,
) -> Result<(), StreamError> {
    report.received += messages.len() as u64;
    let mut events = Vec::with_capacity(messages.len());
    let mut carriers = Vec::with_capacity(messages.len());
    let (mut first, mut last) = (u64::MAX, 0);
    for message in messages {
        let (sequence, delivered) = message
            .info()
            .map(|i| (i.stream_sequence, i.delivered))
            .unwrap_or((0, 1));
        if delivered > 1 {
            report.redelivered += 1;
        }
        match serde_json::from_slice::<Event>(&message.payload) {
            Ok(event) => {
                first = first.min(sequence);
                last = last.max(sequence);
                events.push(event);
                carriers.push(message);
            }
            Err(e) => {
                let subject = message.subject.to_string();
                tracing::warn!(%subject, sequence, error = %e, "message is not an event; terminated");
                report.malformed += 1;
                if report.malformed_examples.len() < MAX_MALFORMED_EXAMPLES {
                    report.malformed_examples.push(MalformedMessage {
                        subject,
                        stream_sequence: sequence,
                        error: e.to_string(),
                    });
                }
                if message.ack_with(AckKind::Term).await.is_err() {
                    report.ack_failures += 1;
                }
            }
        }
    }
    if events.is_empty() {
        return Ok(());
    }
    let outcome = match processor.process(&events).await {
        Ok(outcome) => outcome,
        Err(source) => {
            // Back off the redelivery a little: the store is likely busy or down.
            let delay = settings.fetch_wait.max(Duration::from_secs(1));
            for message in &carriers {
                // A lost nak only delays redelivery until ack_wait.
                let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
            }
            return Err(StreamError::Processor {
                events: events.len(),
                first,
                last,
                source: Box::new(source),
            });
        }
    };
    for message in &carriers {
        if let Err(e) = message.ack().await {
            tracing::debug!(error = %e, "ack failed");
            report.ack_failures += 1;
        }
    }
    report.batches += 1;
    report.applied += outcome.applied;
    report.duplicates += outcome.duplicates;
    report.expired += outcome.expired;
    report.rejected += outcome.rejected;
    tracing::debug!(
        durable = %settings.durable,
        events = events.len(),
        first,
        last,
        applied = outcome.applied,
        duplicates = outcome.duplicates,
        "batch applied"
    );
    Ok(())
}

/// Whether nothing is left for any worker: no undelivered message and none awaiting an ack
/// (another worker's in-flight batch, or a dead worker's awaiting redelivery).
async fn drained(
    consumer: &mut jetstream::consumer::PullConsumer,
    settings: &ConsumerSettings,
) -> Result<bool, StreamError> {
    let info = consumer
        .info()
        .await
        .map_err(|source| StreamError::ConsumerInfo {
            durable: settings.durable.clone(),
            source,
        })?;
    Ok(info.num_pending == 0 && info.num_ack_pending == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use warrant_activity::{Actor, LogKind, Principal};

    fn event(resources: &[&str], outcome: Outcome) -> Event {
        Event {
            id: "e1".into(),
            time: Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).single().unwrap(),
            log: LogKind::CloudTrail,
            principal: Principal::default(),
            actor: Actor::Automation,
            action: "s3:GetObject".into(),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            source_ip: None,
            user_agent: None,
            outcome,
            error_code: None,
            region: None,
            read_only: Some(true),
            console: false,
            subject: None,
            facts: Default::default(),
        }
    }

    #[test]
    fn applied_event_has_one_usage_per_resource_and_counts_failures() {
        let e = event(&["arn:aws:s3:::a/1", "arn:aws:s3:::a/2"], Outcome::Denied);
        let a = applied_event(&e, Some("user".into()), Some("AKIA1".into()));
        assert_eq!((a.log.as_str(), a.event_id.as_str()), ("cloud_trail", "e1"));
        assert_eq!(a.usage.len(), 2);
        assert!(a.usage.iter().all(|u| u.count == 1 && u.errors == 1));
        assert_eq!(a.usage[1].resource.as_deref(), Some("arn:aws:s3:::a/2"));
        assert_eq!(a.usage[0].credential.as_deref(), Some("AKIA1"));

        let plain = applied_event(&event(&[], Outcome::Success), Some("user".into()), None);
        assert_eq!(plain.usage.len(), 1);
        assert_eq!(
            (plain.usage[0].resource.as_ref(), plain.usage[0].errors),
            (None, 0)
        );

        let unattributed = applied_event(&event(&[], Outcome::Success), None, None);
        assert!(unattributed.usage.is_empty());
    }
}
