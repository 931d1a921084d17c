//! How a caller watches and stops a long use case: a [`Progress`] receiver and a [`Cancel`]
//! token. A terminal shows a bar, a server job records the phase; both cancel the same way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::AppError;

/// The phases a use case reports, in the order an import and assessment goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading provider exports (position: bytes of the files read, no total).
    ReadingExports,
    /// Storing the inventory (items: records written).
    StoringInventory,
    /// Loading the stored inventory (items: records read).
    LoadingInventory,
    /// Reading activity logs (items: batches of files).
    IngestingActivity,
    /// Scanning for secrets (position: bytes scanned).
    Scanning,
    /// Asking providers whether found secrets are live.
    Validating,
    /// Evaluating posture over the stored inventory (items: identities evaluated).
    Assessing,
    /// Saving the assessment (items: findings and risk scores written).
    Saving,
    /// Writing remediation plans (items: identity and action pairs).
    Planning,
}

impl Phase {
    /// Whether the phase's positions count bytes (else items).
    pub fn counts_bytes(self) -> bool {
        matches!(self, Phase::ReadingExports | Phase::Scanning)
    }

    /// A short label for a progress line.
    pub fn label(self) -> &'static str {
        match self {
            Phase::ReadingExports => "Reading exports",
            Phase::StoringInventory => "Storing the inventory",
            Phase::LoadingInventory => "Loading the inventory",
            Phase::IngestingActivity => "Ingesting activity logs",
            Phase::Scanning => "Scanning",
            Phase::Validating => "Validating with providers",
            Phase::Assessing => "Assessing",
            Phase::Saving => "Saving",
            Phase::Planning => "Writing plans",
        }
    }
}

/// Receives progress. Calls may come from worker threads (the scan reports bytes from each),
/// so implementations take `&self` and synchronise inside.
pub trait Progress: Send + Sync {
    /// A phase begins; `total` is the number of items when known.
    fn phase(&self, phase: Phase, total: Option<u64>) {
        let _ = (phase, total);
    }
    /// The running position inside the current phase (items or bytes, as the phase says).
    fn position(&self, position: u64) {
        let _ = position;
    }
    /// The phase ended.
    fn done(&self, phase: Phase) {
        let _ = phase;
    }
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A cancellation token: clone it, hand one copy to the use case and call [`Cancel::cancel`]
/// on another. Use cases check it between files and batches, so what they committed before
/// stays committed and nothing is half-written.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(AppError::Cancelled)` once cancelled.
    pub fn check(&self) -> Result<(), AppError> {
        if self.is_cancelled() {
            Err(AppError::Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_clone_cancels_the_original() {
        let token = Cancel::new();
        assert!(token.check().is_ok());
        token.clone().cancel();
        assert!(matches!(token.check(), Err(AppError::Cancelled)));
    }
}
