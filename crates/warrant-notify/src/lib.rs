//! Outbound notifications: a remediation plan awaiting approval, an access-review item
//! assigned to someone, an exception about to expire — sent to their owners through Slack
//! incoming webhooks, Jira issues or generic JSON webhooks.
//!
//! ```no_run
//! # async fn example(event: warrant_notify::Event) -> Result<(), warrant_notify::ConfigError> {
//! use warrant_notify::{NotifyConfig, Notifier};
//!
//! let config = NotifyConfig::from_toml(
//!     r#"
//!     [[targets]]
//!     name = "secops"
//!     kind = "slack"
//!     url = "https://hooks.slack.com/services/T0EXAMPLE/B0EXAMPLE/example-webhook-path"
//!     "#,
//!     "warrant.toml",
//! )?;
//! let notifier = Notifier::new(&config)?;
//! for delivery in notifier.send(&event).await {
//!     println!("{}: {:?} after {} attempts", delivery.target, delivery.outcome, delivery.attempts);
//! }
//! # Ok(()) }
//! ```
//!
//! - [`config`]: the `[notify]` table (targets, the events each wants, headers with
//!   `${ENV}` references, timeouts, attempts), validated with errors naming target and key.
//! - [`event`]: what a notification says ([`Event`]), and its id, sent as the
//!   `Idempotency-Key` header so receivers can drop the duplicates retries may cause.
//! - [`payload`]: the request bodies, pure functions of the event.
//! - [`Notifier::send`]: one POST per matching target, all targets at once, each retried on
//!   connection errors, timeouts, 429 (honouring `Retry-After`) and 5xx with exponential
//!   backoff and jitter; other answers are final. One [`Delivery`] per target.
//!
//! Secrets: header values (tokens) are never logged, put in an error or shown by `Debug`, and
//! URLs are shown without credentials, query or (for Slack, whose webhook path is the secret)
//! path. Jira does not honour `Idempotency-Key`: a retry after a timeout whose request did
//! reach Jira may create a second issue.
//!
//! Time is an input here as everywhere in Warrant: an event carries its time; the only clock
//! read is tokio's monotonic one, for timeouts and backoff.

pub mod config;
mod deliver;
pub mod event;
pub mod payload;
mod redact;

pub use config::{ConfigError, NotifyConfig, TargetConfig, TargetKind};
pub use deliver::{Delivery, DeliveryError, Environment, Notifier, Outcome, RetryPolicy};
pub use event::{Event, EventKind, UnknownEventError};
