//! Activity delivered through NATS JetStream: the ingest use case of `warrant ingest`, exactly
//! once per event however often JetStream delivers it.
//!
//! [`IngestProcessor`] is the [`warrant_stream::Processor`] that runs [`process_delivered`] on
//! each fetched batch: events the store's ledger already holds are dropped, the rest go through
//! attribution, usage, last use, baselines, detections and alerts, and all of it is committed
//! in one transaction with the ledger rows before the batch is acknowledged. [`consume`] runs
//! one consumer against a store until shutdown (or until the stream is drained).

use std::collections::HashSet;
use std::future::Future;

use warrant_activity::Event;
use warrant_core::{Finding, Inventory, Timestamp};
use warrant_store::{ApplyOutcome, Store};
use warrant_stream::{ConsumeReport, ConsumerSettings, Processor};

use crate::activity::{BatchOutcome, process_delivered};
use crate::error::StoreContext;
use crate::{ActivityConfig, AppError};

/// What the applied events did, summed over a consumer's batches.
#[derive(Debug, Default)]
pub struct StreamTotals {
    /// Events attributed to inventory identities.
    pub attributed: u64,
    /// Events of principals absent from the inventory.
    pub shadow: u64,
    /// Events of principals outside the organisation's machine identities.
    pub outside: u64,
    /// Inventory identities seen acting.
    pub identities: HashSet<String>,
    /// Usage rows written (summed over batches; a row touched by two batches counts twice).
    pub usage_rows: usize,
    /// Alerts raised, in order; one raised again by a later batch appears once, last version.
    pub alerts: Vec<Finding>,
}

impl StreamTotals {
    fn add(&mut self, batch: BatchOutcome) {
        self.attributed += batch.attributed;
        self.shadow += batch.shadow;
        self.outside += batch.outside;
        self.identities.extend(batch.identities);
        self.usage_rows += batch.usage_rows;
        for alert in batch.alerts {
            self.alerts.retain(|a| a.id != alert.id);
            self.alerts.push(alert);
        }
    }
}

/// The stream consumer's processor: [`process_delivered`] on each batch against the inventory
/// it was given, with alerts recorded at the time `clock` gives for that batch.
///
/// The inventory is read once, when the processor is made: identities imported later are seen
/// as shadow identities until the consumer restarts.
pub struct IngestProcessor<C> {
    store: Store,
    inventory: Inventory,
    config: ActivityConfig,
    clock: C,
    totals: StreamTotals,
}

impl<C> IngestProcessor<C>
where
    C: Fn() -> Timestamp + Send + Sync,
{
    pub fn new(store: Store, inventory: Inventory, config: ActivityConfig, clock: C) -> Self {
        IngestProcessor {
            store,
            inventory,
            config,
            clock,
            totals: StreamTotals::default(),
        }
    }

    /// Loads the inventory from `store` and makes the processor.
    pub async fn from_store(
        store: Store,
        config: ActivityConfig,
        clock: C,
    ) -> Result<Self, AppError> {
        let inventory = store
            .load_inventory_with_policies_of(warrant_core::PolicyKind::McpTools)
            .await
            .context("loading the inventory")?;
        Ok(Self::new(store, inventory, config, clock))
    }

    /// What the batches processed so far did.
    pub fn totals(&self) -> &StreamTotals {
        &self.totals
    }

    pub fn into_totals(self) -> StreamTotals {
        self.totals
    }
}

impl<C> Processor for IngestProcessor<C>
where
    C: Fn() -> Timestamp + Send + Sync,
{
    type Error = AppError;

    async fn process(&mut self, events: &[Event]) -> Result<ApplyOutcome, AppError> {
        let now = (self.clock)();
        let (applied, batch) =
            process_delivered(&self.store, &self.inventory, &self.config, now, events).await?;
        self.totals.add(batch);
        Ok(applied)
    }
}

/// What one [`consume`] run did.
#[derive(Debug, Default)]
pub struct ConsumeOutcome {
    /// Deliveries: batches, messages, redeliveries, the ledger's verdicts, malformed messages.
    pub report: ConsumeReport,
    /// What the events applied now did.
    pub totals: StreamTotals,
}

/// Runs one JetStream consumer worker (`settings`) on the NATS server at `url` against
/// `store`: each batch through [`IngestProcessor`], until `shutdown` completes (the batch in
/// hand is finished first) or, with `settings.stop_when_drained`, the stream is drained. The
/// inventory is loaded once at the start; `clock` gives each batch's alert time.
pub async fn consume<C>(
    store: &Store,
    config: &ActivityConfig,
    url: &str,
    settings: &ConsumerSettings,
    clock: C,
    shutdown: impl Future<Output = ()>,
) -> Result<ConsumeOutcome, AppError>
where
    C: Fn() -> Timestamp + Send + Sync,
{
    let mut processor = IngestProcessor::from_store(store.clone(), config.clone(), clock).await?;
    let js = warrant_stream::connect(url).await?;
    let report = warrant_stream::consume(&js, settings, &mut processor, shutdown).await?;
    Ok(ConsumeOutcome {
        report,
        totals: processor.into_totals(),
    })
}
