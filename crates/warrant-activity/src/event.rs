//! The normalised activity event every log format is parsed into.

use serde::{Deserialize, Serialize};
use warrant_core::Timestamp;

/// The log format an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    CloudTrail,
    KubernetesAudit,
    GitHubAudit,
    OtelGenAi,
}

/// Who is behind a call, as far as the event shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Console sign-in, browser user agent, a person's SSO session.
    Human,
    /// An application's own credential (service account, app installation, workload role).
    Application,
    /// CI/CD and scripts (SDK or CLI user agents, GitHub Actions, Terraform).
    Automation,
    /// An AI agent's tool calls.
    Agent,
    Unknown,
}

/// How the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Authorisation refused (AccessDenied, UnauthorizedOperation, HTTP 403).
    Denied,
    /// Authentication failed (bad signature, expired or invalid token, HTTP 401).
    AuthFailed,
    /// Any other error.
    Error,
}

/// What the log says about who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    AwsRoot,
    AwsUser,
    AwsAssumedRole,
    AwsFederated,
    AwsService,
    KubernetesServiceAccount,
    KubernetesUser,
    GitHubUser,
    GitHubApp,
    GitHubToken,
    Agent,
    Unknown,
}

/// The acting principal as the log names it, before attribution to an inventory identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Principal {
    pub kind: Option<PrincipalKind>,
    /// ARN of the caller; for assumed roles the *role* ARN (session issuer), not the STS
    /// session ARN.
    pub arn: Option<String>,
    /// Access key id, token id or similar credential handle the call was signed with:
    /// AWS `accessKeyId`, Kubernetes `authentication.kubernetes.io/credential-id` (`JTI=…`),
    /// GitHub `token_id` (or `hashed:` + `hashed_token`), agent `gen_ai.agent.id`.
    pub credential: Option<String>,
    /// Account / cluster / organisation the principal belongs to.
    pub account: Option<String>,
    /// User name, `system:serviceaccount:NS:NAME`, GitHub login or app slug, agent name.
    pub name: Option<String>,
    /// Role session name, agent session or trace id: groups calls of one run. For Kubernetes
    /// service accounts, the pod the token was issued to.
    pub session: Option<String>,
}

/// One normalised activity event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The provider's unique event id (CloudTrail `eventID`, Kubernetes `auditID`, GitHub
    /// `_document_id`, span id). Processing is idempotent on it.
    pub id: String,
    pub time: Timestamp,
    pub log: LogKind,
    pub principal: Principal,
    pub actor: Actor,
    /// The permission exercised, in the provider's policy vocabulary: `s3:GetObject`,
    /// Kubernetes `get:secrets`, GitHub `repo.create`, agent `tool:NAME`.
    pub action: String,
    /// Resources acted on (ARNs, `NS/RESOURCE/NAME`, `ORG/REPO`), when the log names them.
    pub resources: Vec<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    pub error_code: Option<String>,
    /// AWS region or Kubernetes cluster, when known.
    pub region: Option<String>,
    /// Whether the provider marks the call read-only.
    pub read_only: Option<bool>,
    /// Interactive use: AWS console sign-in / console session, browser user agent.
    pub console: bool,
}
