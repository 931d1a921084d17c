//! What every handler shares: the store, what posture judges by, the clock and the metrics.

use std::sync::Arc;

use warrant_app::accounts::SessionPolicy;
use warrant_app::query::When;
use warrant_app::{ActivityConfig, ImportConfig, PostureConfig, Rules, Settings};
use warrant_core::{Clock, Fingerprinter, Timestamp};
use warrant_lifecycle::GovernancePolicy;
use warrant_store::Store;

use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::oidc::Oidc;

/// What the use cases read: the configuration sections and the fingerprint key.
pub struct ServerConfig {
    pub import: ImportConfig,
    pub posture: PostureConfig,
    pub activity: ActivityConfig,
    pub governance: Option<GovernancePolicy>,
    pub fingerprinter: Fingerprinter,
    /// How plan applies reach AWS (endpoint, region, profile; the SDK's usual chain otherwise).
    pub aws: warrant_aws_live::LiveOptions,
    /// Single sign-on, when `[server.oidc]` is configured (discovered before serving).
    pub oidc: Option<Oidc>,
}

/// The server's shared state; handlers get it as `State<Arc<ServerState>>`.
pub struct ServerState {
    pub store: Store,
    pub import: ImportConfig,
    pub posture: PostureConfig,
    pub activity: ActivityConfig,
    pub governance: Option<GovernancePolicy>,
    pub fingerprinter: Fingerprinter,
    pub aws: warrant_aws_live::LiveOptions,
    pub clock: Arc<dyn Clock>,
    pub jobs: Jobs,
    pub metrics: Metrics,
    /// Session timeouts and sign-in lockout.
    pub sessions: SessionPolicy,
    /// Sign-in attempts per client address.
    pub sign_ins: crate::ratelimit::SignInLimiter,
    pub oidc: Option<Oidc>,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState").finish_non_exhaustive()
    }
}

impl ServerState {
    pub fn new(store: Store, config: ServerConfig, clock: Arc<dyn Clock>) -> ServerState {
        ServerState {
            store,
            import: config.import,
            posture: config.posture,
            activity: config.activity,
            governance: config.governance,
            fingerprinter: config.fingerprinter,
            aws: config.aws,
            clock,
            jobs: Jobs::default(),
            metrics: Metrics::new(),
            sessions: SessionPolicy::default(),
            sign_ins: Default::default(),
            oidc: config.oidc,
        }
    }

    pub fn settings(&self) -> Settings<'_> {
        Settings {
            import: &self.import,
            posture: &self.posture,
            activity: &self.activity,
            governance: self.governance.as_ref(),
        }
    }

    pub fn rules(&self) -> Rules<'_> {
        Rules {
            posture: &self.posture,
            governance: self.governance.as_ref(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Queries are about now: the saved assessment answers while it is current.
    pub fn when(&self) -> When {
        When {
            asked: None,
            now: self.now(),
        }
    }
}
