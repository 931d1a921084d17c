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
    /// Okta System Log (`/api/v1/logs` LogEvents).
    OktaSystemLog,
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
    /// An Okta person (`actor.type` `User`).
    OktaUser,
    /// An Okta application or OAuth client acting with its own credential (service apps,
    /// `PublicClientApp`, `AppInstance`).
    OktaApp,
    /// An Okta API token (SSWS) acting.
    OktaApiToken,
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
    /// The machine identity the call changes, when that is not the actor: an access key
    /// created *for* a user, a token requested for a service account, an app installed.
    /// Such events belong to that identity's timeline whoever the actor is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Principal>,
    /// What the request asked for and the response said, reduced to the facts detections
    /// read (bounded: never whole bodies).
    #[serde(default, skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
}

/// Facts taken from a request or response body: named values, few and short.
///
/// Bounded so that a hostile or huge body cannot grow an event: at most [`Facts::MAX`]
/// entries of at most [`Facts::MAX_VALUE`] bytes each; more is dropped, longer is cut at a
/// character boundary.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Facts(Vec<(String, String)>);

impl Facts {
    /// Entries kept at most.
    pub const MAX: usize = 32;
    /// Bytes kept of one value at most.
    pub const MAX_VALUE: usize = 512;

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `key = value` (a key may repeat: a list is several entries); ignored once full.
    pub fn push(&mut self, key: &str, value: &str) {
        if self.0.len() >= Self::MAX {
            return;
        }
        let mut end = value.len().min(Self::MAX_VALUE);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        self.0.push((key.to_string(), value[..end].to_string()));
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in the order pushed.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::Facts;

    #[test]
    fn facts_are_bounded() {
        let mut f = Facts::default();
        for i in 0..100 {
            f.push("k", &i.to_string());
        }
        assert_eq!(f.all("k").count(), Facts::MAX);
        let mut f = Facts::default();
        f.push("long", &"é".repeat(Facts::MAX_VALUE));
        let v = f.get("long").unwrap_or_default();
        assert!(v.len() <= Facts::MAX_VALUE && v.chars().all(|c| c == 'é'));
    }
}
