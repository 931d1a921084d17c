//! Warrant's activity scale-out: normalised events ([`warrant_activity::Event`]) flow through a
//! NATS JetStream stream to any number of consumer processes that share one durable pull
//! consumer, and are applied to the store exactly once although JetStream delivers them at
//! least once.
//!
//! Exactly-once results come from two layers:
//! - publishing: every message carries `Nats-Msg-Id` = `LOG:EVENT_ID` ([`message_id`]), so
//!   JetStream drops a re-published event within the stream's duplicate window;
//! - consuming: a batch is applied in one store transaction that records each event's key in a
//!   ledger and applies only keys new to it ([`warrant_store::Store::apply_events`]); messages
//!   are acknowledged only after that transaction commits. A consumer that dies before acking
//!   has its messages redelivered to the others after `ack_wait`; those it had already
//!   committed are recognised as duplicates and change nothing.
//!
//! Several consumer processes may share one SQLite store on one machine (WAL, busy timeout,
//! `BEGIN IMMEDIATE`); consumers on several machines need the PostgreSQL store backend.
//!
//! What a batch does is the [`Processor`]'s business. [`StoreProcessor`] records usage only,
//! mapping each event to an [`AppliedEvent`] through a caller's closure (see [`applied_event`]);
//! the product's consumer is `warrant_app::stream::IngestProcessor`, which runs the same ingest
//! use case as `warrant ingest` (usage, last use, baselines, alerts) with the ledger in the same
//! transaction. This crate does not depend on the application layer; it depends on this one.

mod consume;
mod publish;

pub use consume::{
    ConsumeReport, ConsumerSettings, MalformedMessage, Processor, StoreProcessor, applied_event,
    consume,
};
pub use publish::{
    PublishReport, RejectedEvent, StreamSettings, connect, ensure_stream, log_name, message_id,
    publish_events, subject_for,
};
pub use warrant_store::{AppliedEvent, ApplyOutcome};

/// Errors of the stream pipeline. Bad messages and events are not errors: they are counted and
/// described in the reports, and processing goes on.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("cannot create or open JetStream stream `{stream}`: {source}")]
    Stream {
        stream: String,
        source: async_nats::jetstream::context::CreateStreamError,
    },
    #[error("cannot open JetStream stream `{stream}` (create it with ensure_stream): {source}")]
    GetStream {
        stream: String,
        source: async_nats::jetstream::context::GetStreamError,
    },
    #[error("cannot create or open consumer `{durable}` on stream `{stream}`: {source}")]
    Consumer {
        stream: String,
        durable: String,
        source: async_nats::jetstream::stream::ConsumerError,
    },
    #[error("cannot read the state of consumer `{durable}`: {source}")]
    ConsumerInfo {
        durable: String,
        source: async_nats::jetstream::context::ConsumerInfoError,
    },
    #[error("publishing event `{message_id}` to `{subject}` failed: {source}")]
    Publish {
        subject: String,
        message_id: String,
        source: async_nats::jetstream::context::PublishError,
    },
    #[error("cannot encode event `{message_id}` as JSON: {source}")]
    Encode {
        message_id: String,
        source: serde_json::Error,
    },
    #[error("fetching from consumer `{durable}` failed {attempts} times in a row; last: {message}")]
    Fetch {
        durable: String,
        attempts: u32,
        message: String,
    },
    /// The processor failed; the batch was negatively acknowledged so it is redelivered.
    #[error(
        "processing a batch of {events} events failed (stream sequences {first}..={last}, redelivered later): {source}"
    )]
    Processor {
        events: usize,
        first: u64,
        last: u64,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
