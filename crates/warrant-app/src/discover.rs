//! Live discovery: read identities from a provider's API and store them like an import.

use warrant_aws_live::{LiveOptions, LiveOutcome};
use warrant_core::{Fingerprinter, Timestamp};
use warrant_store::{ImportStats, Store};

use crate::error::{AppError, StoreContext};
use crate::{Cancel, Settings};

/// What a live discovery found and what storing it changed.
#[derive(Debug)]
pub struct Discovered {
    pub outcome: LiveOutcome,
    pub stats: ImportStats,
}

/// Reads IAM (and STS, Organizations) through the official AWS SDK — read-only calls only, as
/// `warrant-aws-live` guarantees — then stores the inventory in one transaction.
pub async fn aws_live(
    store: &Store,
    settings: Settings<'_>,
    fingerprinter: &Fingerprinter,
    options: &LiveOptions,
    now: Timestamp,
    cancel: &Cancel,
) -> Result<Discovered, AppError> {
    let ctx = crate::import_context(fingerprinter, settings);
    let outcome = warrant_aws_live::discover(options, &ctx)
        .await
        .map_err(|source| AppError::Provider {
            context: "discovering AWS",
            source,
        })?;
    // Nothing is stored when the caller gave up while the provider was being read.
    cancel.check()?;
    let stats = store
        .import(&outcome.inventory, now)
        .await
        .context("saving the discovered records")?;
    Ok(Discovered { outcome, stats })
}
