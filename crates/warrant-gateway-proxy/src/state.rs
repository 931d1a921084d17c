//! The gateway's state, behind traits so a store-backed implementation (several gateway
//! processes agreeing through Warrant's store) can replace the in-memory ones used by default.
//!
//! Every method returns a boxed future: the traits are used as `Arc<dyn …>`, and a store's
//! implementation awaits its database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use warrant_gateway::config::AgentConfig;
use warrant_gateway::pinning::{Concern, ToolDefinition};
use warrant_gateway::{Agent, Label, TaintState};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why state could not be read or written. The gateway fails closed on it: the call is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gateway state unavailable: {0}")]
pub struct StateError(pub String);

/// Agents as the policy sees them (owner, whether the owner is still active, tier, risk).
pub trait AgentDirectory: Send + Sync {
    /// `None` for an agent the directory does not know.
    fn agent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Agent>, StateError>>;

    /// Whether an agent the directory does not know is refused outright. By default it is
    /// not: it reaches the policy with no owner (`owner_active` false), no tier and risk 0. A
    /// directory backed by the inventory refuses it, since every agent should be in it.
    fn refuses_unknown(&self) -> bool {
        false
    }
}

/// The taint (labels of the tools used) of each task, keyed by task key. Taint only
/// accumulates: a call adds its tool's labels, nothing removes them (as in the store).
pub trait TaintStore: Send + Sync {
    fn load<'a>(&'a self, task: &'a str) -> BoxFuture<'a, Result<TaintState, StateError>>;
    /// Adds the labels of `tool` (`server::tool`), allowed at `at`, to the task's taint if the
    /// task's taint is still `seen` (what the decision was made on), atomically; false when
    /// another call changed it first (the caller decides again). Labels count from the moment
    /// a call is allowed: the tool may read or act even if it then reports an error.
    fn record<'a>(
        &'a self,
        task: &'a str,
        seen: &'a TaintState,
        tool: &'a str,
        labels: &'a BTreeSet<Label>,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool, StateError>>;
}

/// Revoked task tokens, by revocation id (hex).
pub trait RevocationList: Send + Sync {
    /// Those of `ids` that are revoked.
    fn revoked_among<'a>(
        &'a self,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<BTreeSet<String>, StateError>>;
}

/// How each task token is used: calls it allowed and calls it refused (tools or arguments
/// outside its grant), so a grant never used, or used outside its task, can raise an alert.
pub trait GrantUses: Send + Sync {
    /// `grant` is the token's first revocation id (attenuated tokens count for their root).
    fn record_use<'a>(
        &'a self,
        grant: &'a str,
        allowed: bool,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<(), StateError>>;
}

/// Where every call through the gateway is appended as it happens (decision, policy,
/// approval, the arguments' digest and redacted view, latency, result size, error): Warrant's
/// audit trail when the gateway runs on the store. The gateway hands it batches from a
/// background task, never on a call's path; a failure is logged and the batch lost.
pub trait AuditTrail: Send + Sync {
    fn append<'a>(
        &'a self,
        calls: &'a [crate::telemetry::GatewayCall],
    ) -> BoxFuture<'a, Result<(), StateError>>;
}

/// A call held for a human's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// The hash of (agent, task, tool, canonical arguments): see `approval_id`.
    pub id: String,
    pub agent: String,
    pub task: Option<String>,
    /// `server::tool`.
    pub tool: String,
    pub arguments: serde_json::Value,
    /// The task's taint labels when the call was held, for the approver.
    #[serde(default)]
    pub taint: Vec<String>,
    /// Why approval is needed (the policy's reason, or the Rule of Two).
    pub reason: String,
    pub policy: Option<String>,
}

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
}

/// Calls waiting for a human, and the humans' decisions. An approval covers one call: the
/// gateway spends it (`consume`) as it forwards the call, and the same call made again asks
/// again.
pub trait ApprovalQueue: Send + Sync {
    /// Records a request (again: idempotent while it is open, the id is the call's hash; a
    /// spent request opens anew) and returns its id.
    fn submit<'a>(&'a self, request: ApprovalRequest) -> BoxFuture<'a, Result<String, StateError>>;
    /// `None` when no such request was submitted.
    fn status<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApprovalStatus>, StateError>>;
    /// A human's decision on a pending request; false when there is no such request.
    fn decide<'a>(&'a self, id: &'a str, approve: bool) -> BoxFuture<'a, Result<bool, StateError>>;
    /// Spends an approved request as its call is forwarded: true for exactly one caller.
    fn consume<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StateError>>;
}

/// One upstream tool as a `tools/list` gave it, with what pinning needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedTool {
    pub definition: ToolDefinition,
    /// [`ToolDefinition::fingerprint`].
    pub fingerprint: String,
    /// Signs of poisoning in it (empty for a clean definition).
    pub concerns: Vec<Concern>,
}

/// Where a listed tool stands against its pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinState {
    /// As a person approved it: offered and callable.
    Pinned,
    /// Nobody approved it yet: hidden and refused (unless new tools are pinned as first seen).
    Unapproved,
    /// Changed since it was approved (a "rug pull"?): hidden and refused until approved again.
    Changed,
}

/// Pinned upstream tools. An implementation raises an alert once per definition that changed
/// from its pin or carries signs of poisoning.
pub trait ToolPins: Send + Sync {
    /// Records one upstream's tools as listed now and returns where each stands, in order.
    /// With `pin_new`, a tool never pinned is pinned as seen (trust on first use).
    fn observe<'a>(
        &'a self,
        tools: &'a [ListedTool],
        pin_new: bool,
        at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<PinState>, StateError>>;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Agents from gateway.toml's `[agents."id"]` tables (and `agents_file`).
#[derive(Debug, Clone, Default)]
pub struct StaticDirectory {
    agents: BTreeMap<String, AgentConfig>,
}

impl StaticDirectory {
    pub fn new(agents: BTreeMap<String, AgentConfig>) -> StaticDirectory {
        StaticDirectory { agents }
    }

    /// Reads `{"id": {"owner": …, …}}`; entries of `self` win over the file's.
    pub fn merge_json(&mut self, text: &str) -> Result<(), serde_json::Error> {
        let more: BTreeMap<String, AgentConfig> = serde_json::from_str(text)?;
        for (id, agent) in more {
            self.agents.entry(id).or_insert(agent);
        }
        Ok(())
    }
}

impl AgentDirectory for StaticDirectory {
    fn agent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Agent>, StateError>> {
        let agent = self.agents.get(id).map(|a| Agent {
            id: id.to_string(),
            name: a.name.clone().unwrap_or_else(|| id.to_string()),
            owner: a.owner.clone(),
            owner_active: a.owner_active,
            tier: a.tier.clone(),
            risk: a.risk,
        });
        Box::pin(std::future::ready(Ok(agent)))
    }
}

/// Taint kept in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryTaintStore {
    tasks: Mutex<HashMap<String, TaintState>>,
}

impl TaintStore for MemoryTaintStore {
    fn load<'a>(&'a self, task: &'a str) -> BoxFuture<'a, Result<TaintState, StateError>> {
        let state = lock(&self.tasks).get(task).cloned().unwrap_or_default();
        Box::pin(std::future::ready(Ok(state)))
    }

    fn record<'a>(
        &'a self,
        task: &'a str,
        seen: &'a TaintState,
        _tool: &'a str,
        labels: &'a BTreeSet<Label>,
        _at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool, StateError>> {
        let mut tasks = lock(&self.tasks);
        let state = tasks.entry(task.to_string()).or_default();
        let unchanged = *state == *seen;
        if unchanged {
            state.record(labels);
        }
        Box::pin(std::future::ready(Ok(unchanged)))
    }
}

/// Revocations kept in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryRevocationList {
    revoked: Mutex<BTreeSet<String>>,
}

impl MemoryRevocationList {
    /// Revokes a token (and every token attenuated from it, when `id` is its first block's).
    pub fn revoke(&self, id: &str) {
        lock(&self.revoked).insert(id.trim().to_lowercase());
    }
}

impl RevocationList for MemoryRevocationList {
    fn revoked_among<'a>(
        &'a self,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<BTreeSet<String>, StateError>> {
        let revoked = lock(&self.revoked);
        let found = ids
            .iter()
            .filter(|id| revoked.contains(id.as_str()))
            .cloned()
            .collect();
        Box::pin(std::future::ready(Ok(found)))
    }
}

/// Grant uses counted in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryGrantUses {
    counts: Mutex<BTreeMap<String, (u64, u64)>>,
}

impl MemoryGrantUses {
    /// (allowed, refused) calls under `grant`.
    pub fn uses(&self, grant: &str) -> (u64, u64) {
        lock(&self.counts).get(grant).copied().unwrap_or_default()
    }
}

impl GrantUses for MemoryGrantUses {
    fn record_use<'a>(
        &'a self,
        grant: &'a str,
        allowed: bool,
        _at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        let mut counts = lock(&self.counts);
        let entry = counts.entry(grant.to_string()).or_default();
        if allowed {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Approvals kept in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryApprovalQueue {
    requests: Mutex<BTreeMap<String, (ApprovalRequest, ApprovalStatus)>>,
}

impl MemoryApprovalQueue {
    /// The pending requests, oldest id first (for a console or tests).
    pub fn pending(&self) -> Vec<ApprovalRequest> {
        lock(&self.requests)
            .values()
            .filter(|(_, s)| *s == ApprovalStatus::Pending)
            .map(|(r, _)| r.clone())
            .collect()
    }
}

impl ApprovalQueue for MemoryApprovalQueue {
    fn submit<'a>(&'a self, request: ApprovalRequest) -> BoxFuture<'a, Result<String, StateError>> {
        let id = request.id.clone();
        lock(&self.requests)
            .entry(id.clone())
            .or_insert((request, ApprovalStatus::Pending));
        Box::pin(std::future::ready(Ok(id)))
    }

    fn consume<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StateError>> {
        let mut requests = lock(&self.requests);
        // A spent approval is forgotten, so the same call asks again.
        let spent = matches!(requests.get(id), Some((_, ApprovalStatus::Approved)));
        if spent {
            requests.remove(id);
        }
        Box::pin(std::future::ready(Ok(spent)))
    }

    fn status<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApprovalStatus>, StateError>> {
        let status = lock(&self.requests).get(id).map(|(_, s)| *s);
        Box::pin(std::future::ready(Ok(status)))
    }

    fn decide<'a>(&'a self, id: &'a str, approve: bool) -> BoxFuture<'a, Result<bool, StateError>> {
        let mut requests = lock(&self.requests);
        let found = match requests.get_mut(id) {
            Some((_, status)) if *status == ApprovalStatus::Pending => {
                *status = if approve {
                    ApprovalStatus::Approved
                } else {
                    ApprovalStatus::Denied
                };
                true
            }
            _ => false,
        };
        Box::pin(std::future::ready(Ok(found)))
    }
}

/// Pins in memory (one gateway process); alerts go to the log.
#[derive(Debug, Default)]
pub struct MemoryToolPins {
    /// By `server::tool`.
    tools: Mutex<BTreeMap<String, MemoryPin>>,
}

/// One tool's fingerprints: as approved, as last seen, as last reported.
#[derive(Debug)]
struct MemoryPin {
    pinned: Option<String>,
    seen: String,
    reported: Option<String>,
}

impl MemoryToolPins {
    /// A person approves the tool as last seen; false for a tool never seen.
    pub fn approve(&self, qualified: &str) -> bool {
        match lock(&self.tools).get_mut(qualified) {
            Some(pin) => {
                pin.pinned = Some(pin.seen.clone());
                true
            }
            None => false,
        }
    }
}

impl ToolPins for MemoryToolPins {
    fn observe<'a>(
        &'a self,
        tools: &'a [ListedTool],
        pin_new: bool,
        _at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<PinState>, StateError>> {
        let mut known = lock(&self.tools);
        let states = tools
            .iter()
            .map(|listed| {
                let qualified = listed.definition.qualified();
                let pin = known.entry(qualified.clone()).or_insert_with(|| MemoryPin {
                    pinned: None,
                    seen: listed.fingerprint.clone(),
                    reported: None,
                });
                pin.seen.clone_from(&listed.fingerprint);
                if pin_new && pin.pinned.is_none() {
                    pin.pinned = Some(listed.fingerprint.clone());
                }
                let state = match &pin.pinned {
                    None => PinState::Unapproved,
                    Some(pinned) if *pinned == listed.fingerprint => PinState::Pinned,
                    Some(_) => PinState::Changed,
                };
                let newsworthy = state == PinState::Changed || !listed.concerns.is_empty();
                if newsworthy && pin.reported.as_deref() != Some(listed.fingerprint.as_str()) {
                    pin.reported = Some(listed.fingerprint.clone());
                    let concerns: Vec<&str> =
                        listed.concerns.iter().map(|c| c.reason.as_str()).collect();
                    tracing::warn!(tool = %qualified, state = ?state, concerns = %concerns.join("; "), "upstream tool needs review");
                }
                state
            })
            .collect();
        Box::pin(std::future::ready(Ok(states)))
    }
}

/// Gateway calls kept in memory, in order (tests, and embedders that read them back).
#[derive(Debug, Default)]
pub struct MemoryAuditTrail {
    calls: Mutex<Vec<crate::telemetry::GatewayCall>>,
}

impl MemoryAuditTrail {
    /// The calls appended so far.
    pub fn calls(&self) -> Vec<crate::telemetry::GatewayCall> {
        lock(&self.calls).clone()
    }
}

impl AuditTrail for MemoryAuditTrail {
    fn append<'a>(
        &'a self,
        calls: &'a [crate::telemetry::GatewayCall],
    ) -> BoxFuture<'a, Result<(), StateError>> {
        lock(&self.calls).extend_from_slice(calls);
        Box::pin(async { Ok(()) })
    }
}

/// The state a gateway uses; in memory unless the caller supplies others.
#[derive(Clone)]
pub struct State {
    pub agents: Arc<dyn AgentDirectory>,
    pub taint: Arc<dyn TaintStore>,
    pub revocations: Arc<dyn RevocationList>,
    pub approvals: Arc<dyn ApprovalQueue>,
    pub grant_uses: Arc<dyn GrantUses>,
    pub pins: Arc<dyn ToolPins>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("State { .. }")
    }
}

impl State {
    /// In-memory taint, revocations and approvals; agents from `directory`.
    pub fn in_memory(directory: StaticDirectory) -> State {
        State {
            agents: Arc::new(directory),
            taint: Arc::new(MemoryTaintStore::default()),
            revocations: Arc::new(MemoryRevocationList::default()),
            approvals: Arc::new(MemoryApprovalQueue::default()),
            grant_uses: Arc::new(MemoryGrantUses::default()),
            pins: Arc::new(MemoryToolPins::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_static_directory_merges_a_json_file_under_the_toml_table() {
        let mut agents = BTreeMap::new();
        agents.insert(
            "bot".to_string(),
            AgentConfig {
                name: None,
                owner: "alice@example.com".into(),
                owner_active: true,
                tier: "production".into(),
                risk: 10,
            },
        );
        let mut directory = StaticDirectory::new(agents);
        directory
            .merge_json(
                r#"{"bot": {"owner": "mallory@example.com"}, "crawler": {"name": "Crawler", "risk": 80}}"#,
            )
            .unwrap();
        let bot = directory.agent("bot").await.unwrap().unwrap();
        assert_eq!(bot.owner, "alice@example.com", "the TOML table wins");
        assert_eq!(bot.name, "bot");
        let crawler = directory.agent("crawler").await.unwrap().unwrap();
        assert_eq!(
            (crawler.name.as_str(), crawler.risk, crawler.owner_active),
            ("Crawler", 80, false)
        );
        assert!(directory.agent("nobody").await.unwrap().is_none());
        assert!(
            directory.merge_json(r#"{"x": {"rsk": 1}}"#).is_err(),
            "unknown keys are errors"
        );
    }

    /// A decision made on an old taint cannot add its labels: the caller decides again.
    #[tokio::test]
    async fn taint_is_claimed_only_on_the_taint_decided() {
        let store = MemoryTaintStore::default();
        let now = DateTime::UNIX_EPOCH;
        let seen = store.load("t").await.unwrap();
        let sensitive = BTreeSet::from([Label::SensitiveData]);
        let external = BTreeSet::from([Label::ExternalAction]);
        assert!(
            store
                .record("t", &seen, "crm::read", &sensitive, now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .record("t", &seen, "mail::send", &external, now)
                .await
                .unwrap()
        );
        let now_seen = store.load("t").await.unwrap();
        assert!(
            store
                .record("t", &now_seen, "mail::send", &external, now)
                .await
                .unwrap()
        );
        assert!(store.load("t").await.unwrap().has(Label::ExternalAction));
    }

    #[tokio::test]
    async fn approvals_are_decided_once() {
        let queue = MemoryApprovalQueue::default();
        let request = ApprovalRequest {
            id: "h".into(),
            agent: "bot".into(),
            task: None,
            tool: "p::refund".into(),
            arguments: serde_json::json!({"amount": 500}),
            taint: Vec::new(),
            reason: "big".into(),
            policy: None,
        };
        assert_eq!(queue.status("h").await.unwrap(), None);
        assert_eq!(queue.submit(request.clone()).await.unwrap(), "h");
        assert_eq!(queue.submit(request).await.unwrap(), "h");
        assert_eq!(queue.pending().len(), 1);
        assert!(queue.decide("h", false).await.unwrap());
        assert!(!queue.decide("h", true).await.unwrap(), "a decision stands");
        assert_eq!(
            queue.status("h").await.unwrap(),
            Some(ApprovalStatus::Denied)
        );
        assert!(!queue.consume("h").await.unwrap(), "a denial is not spent");
        let again = ApprovalRequest {
            id: "g".into(),
            ..queue_request()
        };
        queue.submit(again.clone()).await.unwrap();
        assert!(queue.decide("g", true).await.unwrap());
        assert!(queue.consume("g").await.unwrap());
        assert!(
            !queue.consume("g").await.unwrap(),
            "an approval covers one call"
        );
        assert_eq!(
            queue.status("g").await.unwrap(),
            None,
            "the same call asks again"
        );
    }

    fn queue_request() -> ApprovalRequest {
        ApprovalRequest {
            id: "q".into(),
            agent: "bot".into(),
            task: None,
            tool: "p::refund".into(),
            arguments: serde_json::json!({"amount": 500}),
            taint: Vec::new(),
            reason: "big".into(),
            policy: None,
        }
    }
}
