//! The AWS write side of remediation: the [`Executor`] that applies approved plans to IAM and
//! Secrets Manager through the official AWS SDK for Rust.
//!
//! It lives apart from `warrant-aws-live` so that discovery stays read-only by construction: the
//! read side cannot call anything here, and this crate borrows only its SDK configuration
//! loader (the HTTPS client on rustls with ring).
//!
//! **Architecture Invariant:** the executor makes only the calls it is given — one [`AwsCall`],
//! plus the reads that make it idempotent and the clean-up of its own half-made effect (the new
//! key deleted again when its secret cannot be written; on a resumed rotation, the unused key
//! the interrupted attempt left behind). Deciding what to change is the plan's job. An effect
//! already in place is success without change, noted "already in place", so a step can be
//! applied again after any interruption.
//!
//! **Architecture Invariant:** no secret material leaves this crate. A new key's secret half goes
//! from `CreateAccessKey`'s answer straight into Secrets Manager; it is never returned (a
//! [`StepOutput`] holds key ids and secret version ids only), logged, or put in an error. The
//! same holds for the secret values read back on a resumed rotation: only their `AccessKeyId` is
//! looked at, and their parse errors (which can quote the text) are never shown.

mod apply;
mod check;
mod keys;
mod read;

use std::fmt;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use warrant_core::Timestamp;
use warrant_lifecycle::{Applied, AwsCall, Check, Executor, Expect, StepContext, StepOutput};

/// Applies [`AwsCall`]s and checks [`Expect`]ations against one AWS account, with the
/// credentials and region of the SDK configuration it was made from.
#[derive(Debug, Clone)]
pub struct AwsExecutor {
    iam: aws_sdk_iam::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

impl AwsExecutor {
    /// An executor using `config`, which should come from `warrant_aws_live::config_loader()`:
    /// the SDK crates are built without an HTTPS client of their own.
    pub fn new(config: &aws_config::SdkConfig) -> AwsExecutor {
        AwsExecutor {
            iam: aws_sdk_iam::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
        }
    }

    /// An executor with the SDK's usual credentials, region and endpoint resolution, as live
    /// discovery uses them (`options` overrides endpoint, region and profile).
    pub async fn from_options(options: &warrant_aws_live::LiveOptions) -> AwsExecutor {
        let mut loader = warrant_aws_live::config_loader();
        if let Some(endpoint) = &options.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(region) = &options.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        AwsExecutor::new(&loader.load().await)
    }
}

impl Executor for AwsExecutor {
    type Error = WriteError;

    async fn check(&self, expect: &Expect) -> Result<Check, WriteError> {
        self.check_expect(expect).await
    }

    async fn apply(&self, call: &AwsCall, ctx: StepContext<'_>) -> Result<Applied, WriteError> {
        self.apply_call(call, ctx).await
    }
}

/// Why a check or a call failed. Messages name the plan's call, the AWS operation and its
/// target; they never contain secret material.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An AWS operation failed. `call` is the plan's call ([`AwsCall::name`], or `check`),
    /// `operation` the AWS API operation that failed on the way.
    #[error("{call} on {target}: AWS {operation} failed: {message}")]
    Call {
        call: &'static str,
        operation: &'static str,
        target: String,
        message: String,
    },
    /// The call refers to a step (`KeyRef::CreatedByStep`, `RestoreSecretVersion`) whose output
    /// is not recorded, or lacks what the call needs.
    #[error("{call} needs the {what} recorded by step {}, which has none: apply that step first", step + 1)]
    MissingOutput {
        call: &'static str,
        step: usize,
        what: &'static str,
    },
    /// The provider is in a state in which making the call could do harm or cannot succeed;
    /// nothing was changed.
    #[error("{call} on {target}: {message}")]
    Refused {
        call: &'static str,
        target: String,
        message: String,
    },
}

impl WriteError {
    fn call<E>(
        call: &'static str,
        operation: &'static str,
        target: impl fmt::Display,
        error: E,
    ) -> Self
    where
        E: std::error::Error,
    {
        // The SDK's Display is terse ("service error"); the source chain says what happened.
        // Only the chain's Display, never its Debug (which `DisplayErrorContext` appends): the
        // Debug form holds the raw HTTP response, and a response that failed to parse could be
        // a secret value.
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(inner) = source {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source = inner.source();
        }
        WriteError::Call {
            call,
            operation,
            target: target.to_string(),
            message,
        }
    }

    fn refused(call: &'static str, target: impl fmt::Display, message: impl Into<String>) -> Self {
        WriteError::Refused {
            call,
            target: target.to_string(),
            message: message.into(),
        }
    }
}

/// IAM's error code for a user, role, key, policy or attachment that does not exist.
const NO_SUCH_ENTITY: &str = "NoSuchEntity";
/// Secrets Manager's error code for a secret that does not exist.
const SECRET_NOT_FOUND: &str = "ResourceNotFoundException";
/// Secrets Manager's error code for, among others, a secret scheduled for deletion.
const SECRET_INVALID_REQUEST: &str = "InvalidRequestException";

fn has_code<E: ProvideErrorMetadata>(error: &E, code: &str) -> bool {
    error.code() == Some(code)
}

fn timestamp(t: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn show_time(t: &Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A call that changed something, with nothing further to record.
fn changed() -> Applied {
    Applied::Done(StepOutput::default())
}

/// A call whose effect was already in place: nothing was changed.
fn already(detail: impl fmt::Display) -> Applied {
    Applied::Done(StepOutput {
        note: Some(format!("already in place: {detail}")),
        ..StepOutput::default()
    })
}
