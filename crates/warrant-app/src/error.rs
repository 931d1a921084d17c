//! The application layer's one error type.

use warrant_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A store operation failed; `context` says which ("loading the inventory").
    #[error("{context}")]
    Store {
        context: &'static str,
        #[source]
        source: StoreError,
    },
    /// A store operation on a store named by the caller failed; `context` names it (its URL
    /// with any password redacted).
    #[error("{context}")]
    StoreAt {
        context: String,
        #[source]
        source: StoreError,
    },
    /// A provider's API could not be read (live discovery).
    #[error("{context}")]
    Provider {
        context: &'static str,
        #[source]
        source: warrant_aws_live::LiveError,
    },
    /// A scan could not run (rules, allowlist, baseline, a path that does not exist).
    #[error(transparent)]
    Scan(#[from] warrant_scan::ScanError),
    /// Secret validation was asked for with an endpoint for an unknown provider, or an
    /// endpoint that is not a URL.
    #[error(transparent)]
    Validate(#[from] warrant_scan::validate::ValidateError),
    /// Reading a git repository's history or index failed.
    #[error("{context}")]
    Git {
        context: String,
        #[source]
        source: warrant_scan::git::GitError,
    },
    /// A file the use case needs could not be read or written.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The fingerprint key is missing, malformed or could not be created.
    #[error("{0}")]
    Key(String),
    /// The request cannot be carried out as given (a path that does not exist, nothing to do).
    #[error("{0}")]
    Invalid(String),
    /// What the request names does not exist (a user, a token).
    #[error("{0}")]
    NotFound(String),
    /// What the request would create exists already (a user of that name).
    #[error("{0}")]
    Conflict(String),
    /// The person acting may not do this (decide an item assigned to someone else, approve
    /// their own plan): who they are is known, and the answer does not depend on retrying.
    #[error("{0}")]
    Forbidden(String),
    /// Sign-in refused: wrong credentials, a locked or disabled account, an unknown or expired
    /// session or token. The message never says whether the user exists.
    #[error("{0}")]
    Unauthenticated(String),
    /// A password could not be hashed, or the operating system gave no randomness for a token
    /// or a salt.
    #[error("{0}")]
    Credential(String),
    /// The NATS JetStream consumer could not run (connection, stream, consumer, a failed
    /// batch).
    #[error(transparent)]
    Stream(#[from] warrant_stream::StreamError),
    /// The caller's [`crate::Cancel`] token was set; the work done so far is committed batch
    /// by batch, the rest was not started.
    #[error("cancelled")]
    Cancelled,
}

/// Names what a store call was doing: `store.load_inventory().await.context("loading the inventory")`.
pub(crate) trait StoreContext<T> {
    fn context(self, context: &'static str) -> Result<T, AppError>;
}

impl<T> StoreContext<T> for Result<T, StoreError> {
    fn context(self, context: &'static str) -> Result<T, AppError> {
        self.map_err(|source| AppError::Store { context, source })
    }
}
