//! The decision: Cedar policies over an agent's call.
//!
//! **Approval.** One policy set; a `forbid` annotated `@approval` means "not without a human": a
//! call it matches is held for approval instead of denied, provided that, without the `@approval`
//! policies, the call would be allowed. Any other forbid that matches denies. `@approval` on a
//! `permit` is refused by `load`.
//!
//! **Reasons.** `@reason("…")` on a policy is the text an agent sees when that policy denies or
//! holds its call; `@id("…")` names the policy in reasons, `check` and `diff` (otherwise it is
//! `FILE#N`, its place in its file).
//!
//! **Failing closed.** Cedar skips a policy whose evaluation errors (an argument of the wrong
//! type): for a permit that is safe, for a forbid it would let the call through. A forbid that
//! errors therefore denies the call, naming the policy; so do arguments that cannot be converted
//! (`args`).
//!
//! **`tools/list`.** [`PolicyEngine::visible_tools`] evaluates `tools/call` for each tool with the
//! context *unknown* (Cedar 4's partial evaluation, `is_authorized_partial`): a tool is hidden
//! only when the decision is Deny whatever the arguments, taint, task or time (no permit can
//! apply, or a forbid applies regardless). Policies that read the context leave residuals, and
//! the tool stays listed; its calls are decided one by one.
//!
//! **Caching.** What a request needs from the agent and the target alone (their Cedar entities
//! and the policies that can apply) is built once per (agent, target) and kept in a bounded
//! concurrent cache keyed on the whole `Agent` and `Target` values: an agent whose owner is
//! deactivated or whose risk rises is a new key, decided afresh on its next call. Only the
//! context (arguments, taint, task, time, source) is built per call.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Effect, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, Policy, PolicyId, PolicySet, RequestBuilder, ResourceConstraint,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use chrono::{DateTime, Timelike, Utc};
use quick_cache::Equivalent;
use quick_cache::sync::Cache;
use serde::Serialize;

use crate::args::CedarValue;
use crate::schema::{BASE_SCHEMA, DEFAULT_EXTENSION};
use crate::taint::{Label, TaintState, TaintVerdict};

/// A named text: a policy file or the operator's schema.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// One problem in a policy or schema file, with its position when Cedar gives one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyProblem {
    pub file: String,
    /// 1-based; `None` when the problem has no position (e.g. a duplicate `@id`).
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub policy: Option<String>,
    pub message: String,
}

impl std::fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(policy) = &self.policy {
            write!(f, " (policy {policy})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why policies could not be loaded: every problem found, not only the first.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    #[error("{}", render(problems))]
    Invalid { problems: Vec<PolicyProblem> },
}

fn render(problems: &[PolicyProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An agent as the policy sees it (from Warrant's inventory).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub owner_active: bool,
    pub tier: String,
    pub risk: i64,
}

/// A tool of an upstream server, with its labels from the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ToolRef {
    pub server: String,
    pub name: String,
    pub labels: BTreeSet<Label>,
}

impl ToolRef {
    pub fn new(server: &str, name: &str) -> ToolRef {
        ToolRef {
            server: server.to_string(),
            name: name.to_string(),
            labels: BTreeSet::new(),
        }
    }

    #[must_use]
    pub fn with_labels(mut self, labels: impl IntoIterator<Item = Label>) -> ToolRef {
        self.labels.extend(labels);
        self
    }

    /// `server::tool`, the Cedar id of the tool.
    pub fn qualified(&self) -> String {
        format!("{}::{}", self.server, self.name)
    }
}

/// What a method acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Tool(ToolRef),
    Server(String),
    Resource { server: String, uri: String },
    Prompt { server: String, name: String },
}

/// The MCP methods the policy decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    ToolsCall,
    ToolsList,
    ResourcesList,
    ResourcesRead,
    PromptsList,
    PromptsGet,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::ToolsCall,
        Method::ToolsList,
        Method::ResourcesList,
        Method::ResourcesRead,
        Method::PromptsList,
        Method::PromptsGet,
    ];

    /// The MCP method name, which is also the Cedar action id.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::ToolsCall => "tools/call",
            Method::ToolsList => "tools/list",
            Method::ResourcesList => "resources/list",
            Method::ResourcesRead => "resources/read",
            Method::PromptsList => "prompts/list",
            Method::PromptsGet => "prompts/get",
        }
    }

    /// The method's place in [`Method::ALL`].
    fn index(self) -> usize {
        match self {
            Method::ToolsCall => 0,
            Method::ToolsList => 1,
            Method::ResourcesList => 2,
            Method::ResourcesRead => 3,
            Method::PromptsList => 4,
            Method::PromptsGet => 5,
        }
    }
}

/// One call to decide.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub agent: &'a Agent,
    pub method: Method,
    pub target: &'a Target,
    /// The call's `arguments` (a JSON object, or null).
    pub arguments: &'a serde_json::Value,
    pub taint: &'a TaintState,
    pub task: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub source: Option<IpAddr>,
}

/// What the gateway does with a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allow,
    /// Refused; `reason` is safe to show the agent.
    Deny {
        reason: String,
        policy: Option<String>,
    },
    /// Held until a human approves this exact call.
    RequireApproval {
        reason: String,
        policy: Option<String>,
    },
}

/// What the engine keeps about each policy.
#[derive(Debug, Clone)]
struct PolicyInfo {
    name: String,
    reason: Option<String>,
    approval: bool,
    effect: Effect,
}

/// A loaded, validated policy set, ready to decide.
#[derive(Debug)]
pub struct PolicyEngine {
    schema: Schema,
    /// Every policy (for `summaries` and `diff`; decisions use the slices).
    all: PolicySet,
    info: HashMap<PolicyId, PolicyInfo>,
    authorizer: Authorizer,
    types: Types,
    actions: HashMap<Method, EntityUid>,
    /// Per method and exact resource, the policies that can apply to it (see [`Slice`]).
    slices: HashMap<(Method, EntityUid), Arc<Slice>>,
    /// Per method and server, the policies that can apply to a resource of that server no
    /// policy names exactly: the generic ones and those scoped `resource in` the server.
    by_server: HashMap<(Method, EntityUid), Arc<Slice>>,
    /// Per method, the policies that apply to resources no policy names exactly, of servers no
    /// policy names in a `resource in` scope.
    generic: HashMap<Method, Arc<Slice>>,
    /// Per method, every policy for it: the safe set when a resource's server is not the one a
    /// slice was built for (never the case for names the gateway makes).
    whole: HashMap<Method, Arc<Slice>>,
    /// The request parts each (agent, target) pair needs, built on its first call (see
    /// [`Prepared`]).
    prepared: Cache<PairKey, Arc<Prepared>>,
}

/// How many (agent, target) pairs keep their prepared request parts. A pair costs about 7 KiB
/// (measured: Cedar's entities are maps of attribute values), so a full cache holds about
/// 30 MiB; an evicted pair is simply built again on its next call. The cache's eviction
/// (S3-FIFO) is scan resistant: a `tools/list` touching every tool once does not push out the
/// pairs that calls keep using.
const PREPARED_PAIRS: usize = 4096;

/// What a call's request needs that depends only on the agent and the target: their Cedar
/// entities (the agent, the target and its server) and uids, and the target's policy slice per
/// method. Building the entities evaluates their attributes and the entity hierarchy's
/// transitive closure, about a third of a decision when done per call.
///
/// The cache is keyed on the *whole* agent and target values, so a changed attribute (an owner
/// deactivated, a risk raised, a tool's labels) is a different key and takes effect on the very
/// next call; the entry for the old value ages out.
#[derive(Debug)]
struct Prepared {
    principal: EntityUid,
    resource: EntityUid,
    entities: Entities,
    /// Per method (in [`Method::ALL`] order), the policies that can apply to the target.
    slices: [Option<Arc<Slice>>; Method::ALL.len()],
}

impl Prepared {
    fn slice(&self, method: Method) -> Option<&Slice> {
        self.slices.get(method.index()).and_then(Option::as_deref)
    }
}

/// A target as the cache compares and hashes it, borrowed: `visible_tools` looks up its tools
/// without building a [`Target`] for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TargetView<'a> {
    Tool(&'a ToolRef),
    Server(&'a str),
    Resource { server: &'a str, uri: &'a str },
    Prompt { server: &'a str, name: &'a str },
}

impl<'a> TargetView<'a> {
    fn of(target: &'a Target) -> TargetView<'a> {
        match target {
            Target::Tool(tool) => TargetView::Tool(tool),
            Target::Server(name) => TargetView::Server(name),
            Target::Resource { server, uri } => TargetView::Resource { server, uri },
            Target::Prompt { server, name } => TargetView::Prompt { server, name },
        }
    }

    fn to_target(self) -> Target {
        match self {
            TargetView::Tool(tool) => Target::Tool(tool.clone()),
            TargetView::Server(name) => Target::Server(name.to_string()),
            TargetView::Resource { server, uri } => Target::Resource {
                server: server.to_string(),
                uri: uri.to_string(),
            },
            TargetView::Prompt { server, name } => Target::Prompt {
                server: server.to_string(),
                name: name.to_string(),
            },
        }
    }

    /// The server a tool, resource or prompt belongs to; none for a server.
    fn server(self) -> Option<&'a str> {
        match self {
            TargetView::Server(_) => None,
            TargetView::Tool(tool) => Some(&tool.server),
            TargetView::Resource { server, .. } | TargetView::Prompt { server, .. } => Some(server),
        }
    }
}

/// The cache's key: the whole agent and the whole target.
#[derive(Debug, PartialEq, Eq)]
struct PairKey {
    agent: Agent,
    target: Target,
}

impl Hash for PairKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        PairRef {
            agent: &self.agent,
            target: TargetView::of(&self.target),
        }
        .hash(state);
    }
}

/// A borrowed [`PairKey`], so that a lookup clones nothing; it hashes as the key it stands for.
#[derive(Debug, Clone, Copy, Hash)]
struct PairRef<'a> {
    agent: &'a Agent,
    target: TargetView<'a>,
}

impl Equivalent<PairKey> for PairRef<'_> {
    fn equivalent(&self, key: &PairKey) -> bool {
        *self.agent == key.agent && self.target == TargetView::of(&key.target)
    }
}

/// The policies that can apply to one (method, resource): those whose scope names that action
/// (or any) and that resource exactly, or no single resource. Cedar evaluates every policy of a
/// set; a policy whose scope says `resource == Tool::"x"` is false for any other resource before
/// its conditions run, so leaving it out changes no decision (nor any error). With 1,000
/// policies mostly about one tool each, a call evaluates a dozen instead of a thousand.
///
/// `resource in E` is true only for E itself and for the resources whose parent is E: the
/// gateway gives a tool, resource or prompt exactly one parent, its server, and a server none.
/// So such a policy goes only into the slices of E and of E's resources, not into every one.
///
/// The sets are built once, at load: memory grows with the number of policies naming no single
/// resource times the number of resources named.
#[derive(Debug, Default)]
struct Slice {
    all: PolicySet,
    /// `all` without the `@approval` forbids: whether approval could allow a held call.
    hard: PolicySet,
    /// For an exact resource's slice: the server its `resource in` policies were chosen for
    /// (from the resource's `server::name` id; none for a server).
    server: Option<EntityUid>,
}

impl Slice {
    fn add(&mut self, policy: &Policy, approval: bool) {
        // Ids are unique in the engine's set, so neither add can clash.
        let _ = self.all.add(policy.clone());
        if !approval {
            let _ = self.hard.add(policy.clone());
        }
    }
}

#[derive(Debug)]
struct Types {
    agent: EntityTypeName,
    server: EntityTypeName,
    tool: EntityTypeName,
    resource: EntityTypeName,
    prompt: EntityTypeName,
}

/// A policy as `diff` compares it: its name, effect, approval flag and its meaning without
/// annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySummary {
    pub name: String,
    pub effect: &'static str,
    pub approval: bool,
    /// The policy's Cedar text.
    pub text: String,
    #[serde(skip)]
    body: String,
}

fn type_name(name: &str) -> Result<EntityTypeName, PolicyError> {
    EntityTypeName::from_str(name).map_err(|e| internal(&e.to_string()))
}

fn internal(message: &str) -> PolicyError {
    PolicyError::Invalid {
        problems: vec![PolicyProblem {
            file: "(gateway schema)".to_string(),
            line: None,
            column: None,
            policy: None,
            message: message.to_string(),
        }],
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

/// The problems of a Cedar diagnostic, one per labelled span (or one without a position).
fn problems_of(
    diagnostic: &dyn miette::Diagnostic,
    file: &str,
    text: &str,
    shift: usize,
    policy: Option<String>,
) -> Vec<PolicyProblem> {
    let mut message = diagnostic.to_string();
    if let Some(help) = diagnostic.help() {
        message = format!("{message} ({help})");
    }
    let offsets: Vec<usize> = diagnostic
        .labels()
        .map(|labels| labels.map(|l| l.offset()).collect())
        .unwrap_or_default();
    let at = |offset: Option<usize>| {
        let (line, column) = match offset.and_then(|o| o.checked_sub(shift)) {
            Some(o) => {
                let (l, c) = position(text, o);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        PolicyProblem {
            file: file.to_string(),
            line,
            column,
            policy: policy.clone(),
            message: message.clone(),
        }
    };
    match offsets.first() {
        Some(first) => vec![at(Some(*first))],
        None => vec![at(None)],
    }
}

/// The policy's meaning without annotations, for comparisons.
fn body_of(policy: &Policy) -> String {
    match policy.to_json() {
        Ok(mut json) => {
            if let Some(map) = json.as_object_mut() {
                map.remove("annotations");
            }
            json.to_string()
        }
        Err(_) => policy.to_string(),
    }
}

impl PolicyEngine {
    /// Parses the operator's schema extension (`type Args = …`) and the policy files, and
    /// validates every policy against the schema (strict mode). Every problem is reported.
    pub fn load(schema: Option<&Source>, policies: &[Source]) -> Result<PolicyEngine, PolicyError> {
        let default = Source::new("(default schema)", DEFAULT_EXTENSION);
        let extension = schema.unwrap_or(&default);
        let combined = format!("{BASE_SCHEMA}\n{}", extension.text);
        let shift = BASE_SCHEMA.len() + 1;
        let schema = match Schema::from_cedarschema_str(&combined) {
            Ok((schema, _warnings)) => schema,
            Err(error) => {
                return Err(PolicyError::Invalid {
                    problems: problems_of(&error, &extension.name, &extension.text, shift, None),
                });
            }
        };

        let mut problems = Vec::new();
        let mut all = PolicySet::new();
        let mut info = HashMap::new();
        // Which file each policy came from, for validation errors.
        let mut origin: HashMap<PolicyId, usize> = HashMap::new();
        for (index, source) in policies.iter().enumerate() {
            let parsed = match PolicySet::from_str(&source.text) {
                Ok(parsed) => parsed,
                Err(errors) => {
                    for error in errors.iter() {
                        problems.extend(problems_of(error, &source.name, &source.text, 0, None));
                    }
                    continue;
                }
            };
            if parsed.templates().next().is_some() {
                problems.push(PolicyProblem {
                    file: source.name.clone(),
                    line: None,
                    column: None,
                    policy: None,
                    message: "templates (policies with ?principal or ?resource) are not supported by the gateway".to_string(),
                });
            }
            // Parsed ids are policy0, policy1, … in file order.
            let mut parsed: Vec<&Policy> = parsed.policies().collect();
            parsed.sort_by_key(|p| {
                p.id()
                    .to_string()
                    .trim_start_matches("policy")
                    .parse::<usize>()
                    .unwrap_or(usize::MAX)
            });
            for (n, policy) in parsed.into_iter().enumerate() {
                let name = policy
                    .annotation("id")
                    .map_or_else(|| format!("{}#{}", source.name, n + 1), str::to_string);
                let id = PolicyId::new(&name);
                let approval = policy.annotation("approval").is_some();
                let effect = policy.effect();
                if approval && effect == Effect::Permit {
                    problems.push(PolicyProblem {
                        file: source.name.clone(),
                        line: None,
                        column: None,
                        policy: Some(name.clone()),
                        message: "@approval only applies to forbid policies (a permit cannot hold a call)".to_string(),
                    });
                }
                let renamed = policy.new_id(id.clone());
                if all.add(renamed.clone()).is_err() {
                    problems.push(PolicyProblem {
                        file: source.name.clone(),
                        line: None,
                        column: None,
                        policy: Some(name.clone()),
                        message: format!("another policy already has the id `{name}`"),
                    });
                    continue;
                }
                origin.insert(id.clone(), index);
                info.insert(
                    id,
                    PolicyInfo {
                        name,
                        reason: policy.annotation("reason").map(str::to_string),
                        approval,
                        effect,
                    },
                );
            }
        }

        let validator = Validator::new(schema.clone());
        let result = validator.validate(&all, ValidationMode::Strict);
        for error in result.validation_errors() {
            let id = error.policy_id();
            let (file, text) = origin
                .get(id)
                .and_then(|i| policies.get(*i))
                .map_or(("(unknown)", ""), |s| (s.name.as_str(), s.text.as_str()));
            problems.extend(problems_of(error, file, text, 0, Some(id.to_string())));
        }
        if !problems.is_empty() {
            return Err(PolicyError::Invalid { problems });
        }

        let types = Types {
            agent: type_name("Agent")?,
            server: type_name("Server")?,
            tool: type_name("Tool")?,
            resource: type_name("Resource")?,
            prompt: type_name("Prompt")?,
        };
        let action_type = type_name("Action")?;
        let actions = Method::ALL
            .iter()
            .map(|m| {
                (
                    *m,
                    EntityUid::from_type_name_and_id(
                        action_type.clone(),
                        EntityId::new(m.as_str()),
                    ),
                )
            })
            .collect();
        let (slices, by_server, generic, whole) = slice(&all, &info, &actions, &types);
        Ok(PolicyEngine {
            schema,
            all,
            info,
            authorizer: Authorizer::new(),
            types,
            actions,
            slices,
            by_server,
            generic,
            whole,
            prepared: Cache::new(PREPARED_PAIRS),
        })
    }

    /// The same engine with room for only `pairs` prepared (agent, target) pairs, so tests can
    /// decide with a full cache.
    #[cfg(test)]
    fn with_prepared_capacity(mut self, pairs: usize) -> PolicyEngine {
        self.prepared = Cache::new(pairs);
        self
    }

    /// How many policies are loaded.
    pub fn len(&self) -> usize {
        self.info.len()
    }

    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }

    /// The schema policies were validated against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Every loaded policy: the set whose Cedar decision is "allowed outright".
    pub fn policies(&self) -> &PolicySet {
        &self.all
    }

    /// Every policy but the `@approval` forbids: the set whose Cedar decision is "allowed, or
    /// allowed once a human approves" (see the module's documentation).
    pub fn without_approval(&self) -> PolicySet {
        let mut hard = PolicySet::new();
        for policy in self.all.policies() {
            if !self.info.get(policy.id()).is_some_and(|i| i.approval) {
                // Ids are unique in `all`, so the add cannot clash.
                let _ = hard.add(policy.clone());
            }
        }
        hard
    }

    /// What the gateway's policies make of a Cedar request (one a solver synthesised, say),
    /// as `decide` would, before the Rule of Two: a forbid that fails to evaluate denies, a
    /// matching `@approval` forbid holds a call the other policies allow.
    pub fn access(&self, request: &cedar_policy::Request, entities: &Entities) -> Access {
        let response = self.authorizer.is_authorized(request, &self.all, entities);
        let forbid_failed = response.diagnostics().errors().any(|e| {
            let cedar_policy::AuthorizationError::PolicyEvaluationError(error) = e;
            self.info
                .get(error.policy_id())
                .is_some_and(|i| i.effect == Effect::Forbid)
        });
        if forbid_failed {
            return Access::Deny;
        }
        if response.decision() == cedar_policy::Decision::Allow {
            return Access::Allow;
        }
        let hard = self.without_approval();
        if self
            .authorizer
            .is_authorized(request, &hard, entities)
            .decision()
            == cedar_policy::Decision::Allow
        {
            Access::RequireApproval
        } else {
            Access::Deny
        }
    }

    /// Every policy, sorted by name, as `diff` compares them.
    pub fn summaries(&self) -> Vec<PolicySummary> {
        let mut out: Vec<PolicySummary> = self
            .all
            .policies()
            .filter_map(|p| {
                let info = self.info.get(p.id())?;
                Some(PolicySummary {
                    name: info.name.clone(),
                    effect: match info.effect {
                        Effect::Permit => "permit",
                        Effect::Forbid => "forbid",
                    },
                    approval: info.approval,
                    text: p.to_string(),
                    body: body_of(p),
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    fn uid(&self, kind: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
    }

    fn agent_entity(&self, agent: &Agent) -> Result<Entity, String> {
        let attrs = HashMap::from([
            (
                "id".to_string(),
                RestrictedExpression::new_string(agent.id.clone()),
            ),
            (
                "name".to_string(),
                RestrictedExpression::new_string(agent.name.clone()),
            ),
            (
                "owner".to_string(),
                RestrictedExpression::new_string(agent.owner.clone()),
            ),
            (
                "owner_active".to_string(),
                RestrictedExpression::new_bool(agent.owner_active),
            ),
            (
                "tier".to_string(),
                RestrictedExpression::new_string(agent.tier.clone()),
            ),
            (
                "risk".to_string(),
                RestrictedExpression::new_long(agent.risk),
            ),
        ]);
        Entity::new(
            self.uid(&self.types.agent, &agent.id),
            attrs,
            HashSet::new(),
        )
        .map_err(|e| e.to_string())
    }

    /// The target's entities (it and its server) and its uid.
    fn target_entities(&self, target: TargetView<'_>) -> Result<(EntityUid, Vec<Entity>), String> {
        let server_of = |name: &str| self.uid(&self.types.server, name);
        let string = |s: &str| RestrictedExpression::new_string(s.to_string());
        let (uid, server, attrs) = match target {
            TargetView::Server(name) => {
                let uid = server_of(name);
                return Ok((uid.clone(), vec![Entity::with_uid(uid)]));
            }
            TargetView::Tool(tool) => (
                self.uid(&self.types.tool, &tool.qualified()),
                tool.server.as_str(),
                HashMap::from([
                    ("server".to_string(), string(&tool.server)),
                    ("name".to_string(), string(&tool.name)),
                    (
                        "labels".to_string(),
                        RestrictedExpression::new_set(
                            tool.labels.iter().map(|l| string(l.as_str())),
                        ),
                    ),
                ]),
            ),
            TargetView::Resource { server, uri } => (
                self.uid(&self.types.resource, &format!("{server}::{uri}")),
                server,
                HashMap::from([
                    ("server".to_string(), string(server)),
                    ("uri".to_string(), string(uri)),
                ]),
            ),
            TargetView::Prompt { server, name } => (
                self.uid(&self.types.prompt, &format!("{server}::{name}")),
                server,
                HashMap::from([
                    ("server".to_string(), string(server)),
                    ("name".to_string(), string(name)),
                ]),
            ),
        };
        let server_uid = server_of(server);
        let entity = Entity::new(uid.clone(), attrs, HashSet::from([server_uid.clone()]))
            .map_err(|e| e.to_string())?;
        Ok((uid, vec![entity, Entity::with_uid(server_uid)]))
    }

    fn context(&self, call: &Call<'_>, args: CedarValue) -> Result<Context, String> {
        let mut pairs = vec![
            ("args".to_string(), args.into_restricted()),
            (
                "taint".to_string(),
                RestrictedExpression::new_set(
                    call.taint
                        .labels()
                        .map(|l| RestrictedExpression::new_string(l.as_str().to_string())),
                ),
            ),
            (
                "time".to_string(),
                RestrictedExpression::new_long(call.now.timestamp()),
            ),
            (
                "hour".to_string(),
                RestrictedExpression::new_long(i64::from(call.now.hour())),
            ),
        ];
        if let Some(task) = call.task {
            pairs.push((
                "task".to_string(),
                RestrictedExpression::new_string(task.to_string()),
            ));
        }
        if let Some(source) = call.source {
            pairs.push((
                "source".to_string(),
                RestrictedExpression::new_ip(source.to_string()),
            ));
        }
        Context::from_pairs(pairs).map_err(|e| e.to_string())
    }

    /// A policy's name: its `@id`, else `FILE#N`.
    pub fn name_of(&self, id: &PolicyId) -> String {
        self.name(id)
    }

    fn name(&self, id: &PolicyId) -> String {
        self.name_str(id).to_string()
    }

    fn name_str<'s>(&'s self, id: &'s PolicyId) -> &'s str {
        self.info
            .get(id)
            .map_or_else(|| id.as_ref(), |i| i.name.as_str())
    }

    /// The policy's `@reason`, else `default()` (only then formatted).
    fn reason(&self, id: &PolicyId, default: impl FnOnce() -> String) -> String {
        self.info
            .get(id)
            .and_then(|i| i.reason.clone())
            .unwrap_or_else(default)
    }

    /// Decides one call: the policies, then (for an allowed `tools/call`) the Rule of Two.
    pub fn decide(&self, call: &Call<'_>) -> Decision {
        self.decide_into(call, None)
    }

    /// [`Self::decide`], and the names of the policies that permitted an allowed call (sorted;
    /// none for a call denied or held, whose decision names its policy): what the audit trail
    /// records as the policies that decided.
    pub fn decide_explained(&self, call: &Call<'_>) -> (Decision, Vec<String>) {
        let mut permits = Vec::new();
        let decision = self.decide_into(call, Some(&mut permits));
        if decision != Decision::Allow {
            permits.clear();
        }
        (decision, permits)
    }

    fn decide_into(&self, call: &Call<'_>, permits: Option<&mut Vec<String>>) -> Decision {
        let deny = |reason: String| Decision::Deny {
            reason,
            policy: None,
        };
        let args = match CedarValue::from_arguments(call.arguments) {
            Ok(args) => args,
            Err(error) => return deny(error.to_string()),
        };
        let (request, prepared) = match self.request_parts(call, args) {
            Ok(parts) => parts,
            Err(error) => return deny(format!("the call could not be evaluated: {error}")),
        };
        let entities = &prepared.entities;
        let Some(slice) = prepared.slice(call.method) else {
            return deny(format!("no action for {}", call.method.as_str()));
        };
        let response = self
            .authorizer
            .is_authorized(&request, &slice.all, entities);

        let mut errored: Vec<(String, String)> = response
            .diagnostics()
            .errors()
            .filter_map(|e| {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(error) = e;
                let id = error.policy_id();
                let forbid = self
                    .info
                    .get(id)
                    .is_some_and(|i| i.effect == Effect::Forbid);
                forbid.then(|| (self.name(id), e.to_string()))
            })
            .collect();
        errored.sort();
        if let Some((name, error)) = errored.into_iter().next() {
            return Decision::Deny {
                reason: format!(
                    "policy `{name}` could not be evaluated on this call, so the call is denied: {error}"
                ),
                policy: Some(name),
            };
        }

        let decision = if response.decision() == cedar_policy::Decision::Allow {
            if let Some(permits) = permits {
                permits.extend(response.diagnostics().reason().map(|id| self.name(id)));
                permits.sort();
            }
            Decision::Allow
        } else {
            // Described only when a text needs it: most denials carry their policy's `@reason`.
            let target = || describe(call.target);
            let mut reasons: Vec<&PolicyId> = response.diagnostics().reason().collect();
            reasons.sort_by(|a, b| self.name_str(a).cmp(self.name_str(b)));
            let hard = reasons
                .iter()
                .find(|id| self.info.get(id).is_some_and(|i| !i.approval));
            let held = reasons
                .iter()
                .find(|id| self.info.get(id).is_some_and(|i| i.approval));
            match (hard, held) {
                (Some(id), _) => Decision::Deny {
                    reason: self.reason(id, || {
                        format!(
                            "{} on {} is denied by policy `{}`",
                            call.method.as_str(),
                            target(),
                            self.name_str(id)
                        )
                    }),
                    policy: Some(self.name(id)),
                },
                (None, Some(id)) => {
                    let without = self
                        .authorizer
                        .is_authorized(&request, &slice.hard, entities);
                    if without.decision() == cedar_policy::Decision::Allow {
                        Decision::RequireApproval {
                            reason: self.reason(id, || {
                                format!(
                                    "{} on {} needs approval (policy `{}`)",
                                    call.method.as_str(),
                                    target(),
                                    self.name_str(id)
                                )
                            }),
                            policy: Some(self.name(id)),
                        }
                    } else {
                        deny(not_permitted(call, &target()))
                    }
                }
                (None, None) => deny(not_permitted(call, &target())),
            }
        };
        if decision != Decision::Allow || call.method != Method::ToolsCall {
            return decision;
        }
        match (call.target, call.taint) {
            (Target::Tool(tool), taint) => match taint.check(&tool.labels) {
                TaintVerdict::Allowed => Decision::Allow,
                TaintVerdict::RequiresApproval { reason } => Decision::RequireApproval {
                    reason,
                    policy: None,
                },
            },
            _ => Decision::Allow,
        }
    }

    /// The call's Cedar request, and the prepared parts (entities, slices) of its agent and
    /// target.
    fn request_parts(
        &self,
        call: &Call<'_>,
        args: CedarValue,
    ) -> Result<(cedar_policy::Request, Arc<Prepared>), String> {
        let prepared = self.prepared(call.agent, TargetView::of(call.target))?;
        let action = self.action(call.method)?;
        let context = self.context(call, args)?;
        let request = cedar_policy::Request::new(
            prepared.principal.clone(),
            action,
            prepared.resource.clone(),
            context,
            None,
        )
        .map_err(|e| e.to_string())?;
        Ok((request, prepared))
    }

    /// The call's Cedar request, its entities and the target's uid.
    #[cfg(test)]
    fn request(
        &self,
        call: &Call<'_>,
        args: &CedarValue,
    ) -> Result<(cedar_policy::Request, Entities, EntityUid), String> {
        let (request, prepared) = self.request_parts(call, args.clone())?;
        Ok((
            request,
            prepared.entities.clone(),
            prepared.resource.clone(),
        ))
    }

    /// The prepared parts of (agent, target): from the cache, or built and cached.
    fn prepared(&self, agent: &Agent, target: TargetView<'_>) -> Result<Arc<Prepared>, String> {
        if let Some(found) = self.prepared.get(&PairRef { agent, target }) {
            return Ok(found);
        }
        let built = Arc::new(self.prepare(agent, target)?);
        // Two tasks may build the same pair at once: the parts are equal, either may stay.
        self.prepared.insert(
            PairKey {
                agent: agent.clone(),
                target: target.to_target(),
            },
            Arc::clone(&built),
        );
        Ok(built)
    }

    fn prepare(&self, agent: &Agent, target: TargetView<'_>) -> Result<Prepared, String> {
        let agent = self.agent_entity(agent)?;
        let principal = agent.uid();
        let (resource, mut entities) = self.target_entities(target)?;
        entities.push(agent);
        let entities = Entities::from_entities(entities, None).map_err(|e| e.to_string())?;
        let server = target
            .server()
            .map(|name| self.uid(&self.types.server, name));
        let slices =
            Method::ALL.map(|method| self.slice_in(method, &resource, server.as_ref()).cloned());
        Ok(Prepared {
            principal,
            resource,
            entities,
            slices,
        })
    }

    /// The policies that can apply to `method` on `resource` (the uid of `target`).
    #[cfg(test)]
    fn slice_for(
        &self,
        method: Method,
        resource: &EntityUid,
        target: &Target,
    ) -> Option<&Arc<Slice>> {
        let server = TargetView::of(target)
            .server()
            .map(|name| self.uid(&self.types.server, name));
        self.slice_in(method, resource, server.as_ref())
    }

    /// The policies that can apply to `method` on `resource`, a resource of `server` (none for
    /// a server).
    fn slice_in(
        &self,
        method: Method,
        resource: &EntityUid,
        server: Option<&EntityUid>,
    ) -> Option<&Arc<Slice>> {
        if let Some(slice) = self.slices.get(&(method, resource.clone())) {
            if slice.server.as_ref() == server {
                return Some(slice);
            }
            // The resource's id says another server than the call's: its `in` policies were
            // chosen for that one, so take every policy of the method instead.
            return self.whole.get(&method);
        }
        server
            .and_then(|server| self.by_server.get(&(method, server.clone())))
            .or_else(|| self.generic.get(&method))
    }

    fn action(&self, method: Method) -> Result<EntityUid, String> {
        self.actions
            .get(&method)
            .cloned()
            .ok_or_else(|| format!("no action for {}", method.as_str()))
    }

    /// The tools `agent` may see in `tools/list`: those some call could be allowed for (see the
    /// module's documentation). `@approval` forbids do not hide a tool: a human may allow it.
    pub fn visible_tools<'t>(&self, agent: &Agent, tools: &'t [ToolRef]) -> Vec<&'t ToolRef> {
        let Ok(action) = self.action(Method::ToolsCall) else {
            return Vec::new();
        };
        tools
            .iter()
            .filter(|tool| {
                let Ok(prepared) = self.prepared(agent, TargetView::Tool(tool)) else {
                    return false;
                };
                let Some(slice) = prepared.slice(Method::ToolsCall) else {
                    return false;
                };
                let request = RequestBuilder::default()
                    .principal(prepared.principal.clone())
                    .action(action.clone())
                    .resource(prepared.resource.clone())
                    .build();
                let response = self.authorizer.is_authorized_partial(
                    &request,
                    &slice.hard,
                    &prepared.entities,
                );
                response.decision() != Some(cedar_policy::Decision::Deny)
            })
            .collect()
    }
}

type Slices = (
    HashMap<(Method, EntityUid), Arc<Slice>>,
    HashMap<(Method, EntityUid), Arc<Slice>>,
    HashMap<Method, Arc<Slice>>,
    HashMap<Method, Arc<Slice>>,
);

/// The server a tool's, resource's or prompt's uid names (`server::…`; server names hold no
/// `::`), which is the one parent the gateway gives it; none for a server or another type.
fn server_of(uid: &EntityUid, types: &Types) -> Option<EntityUid> {
    let kind = uid.type_name();
    if kind != &types.tool && kind != &types.resource && kind != &types.prompt {
        return None;
    }
    let (server, _) = uid.id().unescaped().split_once("::")?;
    Some(EntityUid::from_type_name_and_id(
        types.server.clone(),
        EntityId::new(server),
    ))
}

/// Splits the policies by the method, the exact resource and the server their scope names (see
/// [`Slice`]).
fn slice(
    all: &PolicySet,
    info: &HashMap<PolicyId, PolicyInfo>,
    actions: &HashMap<Method, EntityUid>,
    types: &Types,
) -> Slices {
    let mut slices: HashMap<(Method, EntityUid), Arc<Slice>> = HashMap::new();
    let mut by_server: HashMap<(Method, EntityUid), Arc<Slice>> = HashMap::new();
    let mut generic: HashMap<Method, Arc<Slice>> = HashMap::new();
    let mut whole: HashMap<Method, Arc<Slice>> = HashMap::new();
    let mut policies: Vec<&Policy> = all.policies().collect();
    policies.sort_by_key(|p| p.id().to_string());
    for (method, action) in actions {
        // The schema declares no action groups, so `action in [A, B]` holds for exactly A and B.
        let applies = |p: &Policy| match p.action_constraint() {
            ActionConstraint::Any => true,
            ActionConstraint::Eq(uid) => &uid == action,
            ActionConstraint::In(uids) => uids.contains(action),
        };
        let approval = |p: &Policy| info.get(p.id()).is_some_and(|i| i.approval);
        let for_method: Vec<&Policy> = policies.iter().copied().filter(|p| applies(p)).collect();
        let mut shared: Vec<&Policy> = Vec::new();
        let mut exact: HashMap<EntityUid, Vec<&Policy>> = HashMap::new();
        let mut within: HashMap<EntityUid, Vec<&Policy>> = HashMap::new();
        let mut everything = Slice::default();
        for p in &for_method {
            everything.add(p, approval(p));
            match p.resource_constraint() {
                ResourceConstraint::Eq(uid) => exact.entry(uid).or_default().push(p),
                ResourceConstraint::In(uid) => within.entry(uid).or_default().push(p),
                _ => shared.push(p),
            }
        }
        // Policies are added in id order, as before, whichever group they come from.
        let build = |groups: &[Option<&Vec<&Policy>>], server: Option<EntityUid>| {
            let mut chosen: Vec<&Policy> = shared.clone();
            for group in groups.iter().flatten() {
                chosen.extend(group.iter().copied());
            }
            chosen.sort_by_key(|p| p.id().to_string());
            let mut slice = Slice {
                server,
                ..Slice::default()
            };
            for p in chosen {
                slice.add(p, approval(p));
            }
            slice
        };
        let named: BTreeSet<&EntityUid> = exact.keys().chain(within.keys()).collect();
        for uid in named {
            let server = server_of(uid, types);
            let slice = build(
                &[
                    exact.get(uid),
                    within.get(uid),
                    server.as_ref().and_then(|s| within.get(s)),
                ],
                server,
            );
            slices.insert((*method, uid.clone()), Arc::new(slice));
        }
        for (uid, group) in &within {
            if uid.type_name() == &types.server {
                by_server.insert(
                    (*method, uid.clone()),
                    Arc::new(build(&[Some(group)], None)),
                );
            }
        }
        generic.insert(*method, Arc::new(build(&[], None)));
        whole.insert(*method, Arc::new(everything));
    }
    (slices, by_server, generic, whole)
}

fn describe(target: &Target) -> String {
    match target {
        Target::Tool(tool) => format!("tool {}", tool.qualified()),
        Target::Server(name) => format!("server {name}"),
        Target::Resource { server, uri } => format!("resource {uri} of {server}"),
        Target::Prompt { server, name } => format!("prompt {server}::{name}"),
    }
}

fn not_permitted(call: &Call<'_>, target: &str) -> String {
    format!(
        "no policy allows agent {} to {} {target}",
        call.agent.id,
        call.method.as_str()
    )
}

/// Whether a change of policies can only narrow access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    pub added: Vec<PolicySummary>,
    pub removed: Vec<PolicySummary>,
    /// (old, new) pairs with the same name and a different meaning or effect.
    pub changed: Vec<(PolicySummary, PolicySummary)>,
    /// True when the change provably only narrows: permits were only removed and forbids only
    /// added (or turned from `@approval` to outright), which holds whatever the requests; or a
    /// solver proved it (`proof` says which).
    pub narrows_only: bool,
    /// The policies that may widen access (added or changed permits, removed or weakened
    /// forbids): the change *may* widen; proving it does not needs a solver (`cedar-policy-symcc`).
    pub may_widen: Vec<String>,
    /// How `narrows_only` was proven, when it is true.
    pub proof: Option<Proof>,
    /// What Cedar's symbolic analysis concluded, when it was asked (see [`PolicyDiff::with_symbolic`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbolic: Option<Symbolic>,
}

/// How a change was proven to narrow access only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    /// By the policies' text: permits only removed, forbids only added or hardened.
    Structural,
    /// By an SMT solver, over every request the schema allows (see [`Symbolic::Narrows`]).
    Symbolic,
}

/// What the gateway's policies do with a call, from most to least permissive; a change narrows
/// access when no call moves up this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Deny,
    RequireApproval,
    Allow,
}

/// The outcome of comparing two policy sets with Cedar's symbolic compiler and a solver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Symbolic {
    /// For every request environment (agent, method, target type) of the schema, every
    /// well-typed request the new set allows outright the old allowed outright, and every one
    /// it allows or holds for approval the old allowed or held.
    Narrows { environments: usize },
    /// Requests the new set treats more permissively than the old (one per environment and
    /// check where the solver found one).
    Widens { examples: Vec<Counterexample> },
    /// The solver ran but the question is outside what it decides (`reason` says why).
    Inconclusive { reason: String },
    /// No solver answer (missing, failed or out of time).
    Unavailable { reason: String },
}

/// A request the new policies treat more permissively than the old, synthesised by the solver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// The context, in Cedar syntax.
    pub context: String,
    /// The entities the request needs (agent attributes, the tool's server), in Cedar JSON.
    pub entities: serde_json::Value,
    pub old: Access,
    pub new: Access,
}

impl PolicyDiff {
    /// Folds a symbolic comparison into the structural one. The solver settles what the text
    /// could not: a proof makes `narrows_only` true, a counterexample keeps it false; an
    /// inconclusive or missing answer leaves the structural verdict (sound, if incomplete).
    #[must_use]
    pub fn with_symbolic(mut self, symbolic: Symbolic) -> PolicyDiff {
        match &symbolic {
            Symbolic::Narrows { .. } => {
                self.narrows_only = true;
                self.proof = Some(Proof::Symbolic);
            }
            Symbolic::Widens { .. } => {
                self.narrows_only = false;
                self.proof = None;
            }
            Symbolic::Inconclusive { .. } | Symbolic::Unavailable { .. } => {}
        }
        self.symbolic = Some(symbolic);
        self
    }
}

/// Compares two policy sets structurally. Sound but incomplete: `narrows_only` is never true
/// for a change that can widen, but a rewrite that narrows (e.g. a tightened `when`) is reported
/// in `may_widen`, since deciding it needs symbolic analysis: a caller that can run a solver
/// (`warrant_gateway_proxy::symbolic`) folds its answer in with [`PolicyDiff::with_symbolic`].
pub fn diff(old: &PolicyEngine, new: &PolicyEngine) -> PolicyDiff {
    let old_policies = old.summaries();
    let new_policies = new.summaries();
    let by_name = |list: &[PolicySummary]| -> BTreeMap<String, PolicySummary> {
        list.iter().map(|p| (p.name.clone(), p.clone())).collect()
    };
    let (old_names, new_names) = (by_name(&old_policies), by_name(&new_policies));
    let same = |a: &PolicySummary, b: &PolicySummary| {
        a.body == b.body && a.effect == b.effect && a.approval == b.approval
    };
    let added: Vec<PolicySummary> = new_policies
        .iter()
        .filter(|p| !old_names.contains_key(&p.name))
        .cloned()
        .collect();
    let removed: Vec<PolicySummary> = old_policies
        .iter()
        .filter(|p| !new_names.contains_key(&p.name))
        .cloned()
        .collect();
    let changed: Vec<(PolicySummary, PolicySummary)> = old_policies
        .iter()
        .filter_map(|o| {
            let n = new_names.get(&o.name)?;
            (!same(o, n)).then(|| (o.clone(), n.clone()))
        })
        .collect();

    // By meaning, whatever the names: every new permit must have been an old permit, and every
    // old forbid must still be there, at least as strong.
    let mut may_widen = Vec::new();
    for p in new_policies.iter().filter(|p| p.effect == "permit") {
        if !old_policies
            .iter()
            .any(|o| o.effect == "permit" && o.body == p.body)
        {
            may_widen.push(format!("permit `{}` is new or changed", p.name));
        }
    }
    for o in old_policies.iter().filter(|o| o.effect == "forbid") {
        let kept = new_policies
            .iter()
            .any(|n| n.effect == "forbid" && n.body == o.body && (o.approval || !n.approval));
        if !kept {
            may_widen.push(format!(
                "forbid `{}` was removed, changed or weakened to @approval",
                o.name
            ));
        }
    }
    let narrows_only = may_widen.is_empty();
    PolicyDiff {
        narrows_only,
        added,
        removed,
        changed,
        may_widen,
        proof: narrows_only.then_some(Proof::Structural),
        symbolic: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `access` (how a solver's request is replayed) agrees with `decide` on allow, approval,
    /// deny and a forbid that fails to evaluate.
    #[test]
    fn access_agrees_with_decide() {
        let policies = r#"
            permit (principal, action == Action::"tools/call", resource);
            @approval forbid (principal, action, resource) when { context.args has n && context.args.n > 10 };
            forbid (principal, action, resource) when { context.args has n && context.args.n > 100 };
            forbid (principal, action, resource) when { context.args has n && context.args.n * 2 == 2 };
        "#;
        let engine = PolicyEngine::load(
            Some(&Source::new("s", "type Args = { n?: Long };")),
            &[Source::new("p", policies)],
        )
        .unwrap();
        let agent = Agent {
            id: "g".into(),
            name: "g".into(),
            owner: "o".into(),
            owner_active: true,
            tier: "t".into(),
            risk: 1,
        };
        let target = Target::Tool(ToolRef::new("a", "x"));
        for (n, expected) in [
            (json!(5), Access::Allow),
            (json!(50), Access::RequireApproval),
            (json!(500), Access::Deny),
            // `n * 2` overflows: the forbid fails, and the gateway denies.
            (json!(i64::MAX), Access::Deny),
        ] {
            let arguments = json!({ "n": n });
            let call = Call {
                agent: &agent,
                method: Method::ToolsCall,
                target: &target,
                arguments: &arguments,
                taint: &TaintState::new(),
                task: None,
                now: DateTime::UNIX_EPOCH,
                source: None,
            };
            let args = CedarValue::from_arguments(&arguments).unwrap();
            let (request, entities, _) = engine.request(&call, &args).unwrap();
            assert_eq!(engine.access(&request, &entities), expected, "{n}");
            let decided = match engine.decide(&call) {
                Decision::Allow => Access::Allow,
                Decision::RequireApproval { .. } => Access::RequireApproval,
                Decision::Deny { .. } => Access::Deny,
            };
            assert_eq!(decided, expected, "{n}");
        }
    }

    #[test]
    fn a_solver_answer_settles_what_the_text_could_not() {
        let load = |text: &str| PolicyEngine::load(None, &[Source::new("p", text)]).unwrap();
        let old = load("permit (principal, action, resource);");
        let new = load("permit (principal, action, resource) when { context.hour > 8 };");
        let structural = diff(&old, &new);
        assert!(!structural.narrows_only);
        assert_eq!(structural.proof, None);
        let proven = structural
            .clone()
            .with_symbolic(Symbolic::Narrows { environments: 6 });
        assert!(proven.narrows_only);
        assert_eq!(proven.proof, Some(Proof::Symbolic));
        let missing = structural.with_symbolic(Symbolic::Unavailable {
            reason: "no cvc5".into(),
        });
        assert!(!missing.narrows_only);
        assert_eq!(missing.proof, None);
        // What the text proves needs no solver.
        let same = diff(&old, &old);
        assert_eq!(same.proof, Some(Proof::Structural));
    }

    /// The engine is shared by the gateway's tasks behind an `Arc`.
    #[test]
    fn the_engine_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<PolicyEngine>();
    }

    fn call<'a>(
        agent: &'a Agent,
        target: &'a Target,
        arguments: &'a serde_json::Value,
        taint: &'a TaintState,
    ) -> Call<'a> {
        Call {
            agent,
            method: Method::ToolsCall,
            target,
            arguments,
            taint,
            task: None,
            now: DateTime::UNIX_EPOCH,
            source: None,
        }
    }

    /// The prepared parts are cached per (agent, target), keyed on the whole values: with the
    /// cache warm, a deactivated owner, a raised risk or a tool's new label decides the very
    /// next call, and the old values decide as before.
    #[test]
    fn a_changed_agent_or_tool_decides_the_next_call() {
        let policies = r#"
            permit (principal, action == Action::"tools/call", resource);
            @id("owner") forbid (principal, action, resource) unless { principal.owner_active };
            @id("risk") forbid (principal, action, resource) when { principal.risk >= 90 };
            @id("tier") forbid (principal, action, resource) when { principal.tier == "quarantine" };
            @id("label") forbid (principal, action, resource is Tool) when { resource.labels.contains("sensitive_data") };
        "#;
        let engine = PolicyEngine::load(None, &[Source::new("p", policies)]).unwrap();
        let agent = Agent {
            id: "g".into(),
            name: "g".into(),
            owner: "o".into(),
            owner_active: true,
            tier: "prod".into(),
            risk: 10,
        };
        let target = Target::Tool(ToolRef::new("a", "x"));
        let (args, taint) = (json!({}), TaintState::new());
        let policy = |d: Decision| match d {
            Decision::Allow => None,
            Decision::Deny { policy, .. } | Decision::RequireApproval { policy, .. } => policy,
        };
        for _ in 0..2 {
            assert_eq!(
                engine.decide(&call(&agent, &target, &args, &taint)),
                Decision::Allow
            );
        }
        assert_eq!(engine.prepared.len(), 1);

        let inactive = Agent {
            owner_active: false,
            ..agent.clone()
        };
        let risky = Agent {
            risk: 95,
            ..agent.clone()
        };
        let quarantined = Agent {
            tier: "quarantine".into(),
            ..agent.clone()
        };
        for (changed, expected) in [
            (&inactive, "owner"),
            (&risky, "risk"),
            (&quarantined, "tier"),
        ] {
            let decided = engine.decide(&call(changed, &target, &args, &taint));
            assert_eq!(policy(decided).as_deref(), Some(expected));
        }
        let labelled = Target::Tool(ToolRef::new("a", "x").with_labels([Label::SensitiveData]));
        let decided = engine.decide(&call(&agent, &labelled, &args, &taint));
        assert_eq!(policy(decided).as_deref(), Some("label"));
        // The same tool is hidden from `tools/list` once labelled, for the same agent.
        let Target::Tool(plain) = &target else {
            unreachable!()
        };
        let Target::Tool(sensitive) = &labelled else {
            unreachable!()
        };
        assert_eq!(
            engine
                .visible_tools(&agent, std::slice::from_ref(plain))
                .len(),
            1
        );
        assert!(
            engine
                .visible_tools(&agent, std::slice::from_ref(sensitive))
                .is_empty()
        );
        assert!(
            engine
                .visible_tools(&inactive, std::slice::from_ref(plain))
                .is_empty()
        );

        // Back to the original values: allowed again.
        assert_eq!(
            engine.decide(&call(&agent, &target, &args, &taint)),
            Decision::Allow
        );
    }

    /// A cache far smaller than the pairs in use evicts, and every call still decides as an
    /// engine that never evicts does.
    #[test]
    fn a_full_cache_still_decides_correctly() {
        let policies = r#"
            permit (principal, action == Action::"tools/call", resource) when { principal.risk < 50 };
            @reason("tool x needs an active owner") forbid (principal, action, resource == Tool::"s::x") unless { principal.owner_active };
            @approval forbid (principal, action, resource in Server::"s") when { context.args has n && context.args.n > principal.risk };
        "#;
        let load = || {
            PolicyEngine::load(
                Some(&Source::new("s", "type Args = { n?: Long };")),
                &[Source::new("p", policies)],
            )
            .unwrap()
        };
        let small = load().with_prepared_capacity(2);
        let reference = load();
        let agents: Vec<Agent> = (0..60)
            .map(|i| Agent {
                id: format!("agent{i}"),
                name: format!("agent {i}"),
                owner: "o".into(),
                owner_active: i % 3 != 0,
                tier: "t".into(),
                risk: i,
            })
            .collect();
        let targets: Vec<Target> = ["x", "y", "z"]
            .iter()
            .map(|t| Target::Tool(ToolRef::new("s", t)))
            .collect();
        let taint = TaintState::new();
        let mut outcomes = BTreeSet::new();
        for round in 0..3 {
            for (i, agent) in agents.iter().enumerate() {
                for target in &targets {
                    let args = json!({ "n": (i + round * 7) % 60 });
                    let call = call(agent, target, &args, &taint);
                    let decided = small.decide(&call);
                    assert_eq!(decided, reference.decide(&call), "{agent:?} {target:?}");
                    outcomes.insert(format!("{decided:?}"));
                }
            }
        }
        // Allow, the @reason deny, no permit, and approval all occurred.
        assert!(outcomes.len() >= 4, "{outcomes:?}");
        assert!(small.prepared.len() < agents.len() * targets.len());
        assert_eq!(reference.prepared.len(), agents.len() * targets.len());
    }

    /// Differential: the sliced sets decide every call as the whole set does.
    #[test]
    fn slices_decide_as_the_whole_set() {
        let policies = r#"
            permit (principal, action == Action::"tools/call", resource == Tool::"a::x") when { context.args has n && context.args.n > 1 };
            forbid (principal, action == Action::"tools/call", resource == Tool::"a::x") when { context.args has n && context.args.n > 5 };
            permit (principal, action in [Action::"tools/call", Action::"tools/list"], resource in Server::"b");
            forbid (principal, action, resource is Tool) unless { principal.owner_active };
            @approval forbid (principal, action == Action::"tools/call", resource == Tool::"b::y") when { context.args has n };
            permit (principal, action, resource == Server::"a");
            @approval forbid (principal, action == Action::"tools/call", resource in Server::"a") when { context.args has n && context.args.n > 7 };
            forbid (principal, action, resource in Tool::"b::z") when { context.args has n && context.args.n == 3 };
            forbid (principal, action, resource == Tool::"a::q::x") when { context.args has n };
        "#;
        let engine = PolicyEngine::load(
            Some(&Source::new("s", "type Args = { n?: Long };")),
            &[Source::new("p", policies)],
        )
        .unwrap();
        let targets = [
            Target::Tool(ToolRef::new("a", "x")),
            Target::Tool(ToolRef::new("b", "y")),
            Target::Tool(ToolRef::new("b", "z")),
            Target::Tool(ToolRef::new("c", "x")),
            Target::Server("a".to_string()),
            Target::Server("b".to_string()),
            Target::Tool(ToolRef::new("a", "w")),
            Target::Resource {
                server: "a".to_string(),
                uri: "file:///x".to_string(),
            },
            Target::Prompt {
                server: "b".to_string(),
                name: "p".to_string(),
            },
            // A server name with `::` (the configuration refuses it): the tool's id then names
            // another server, and every policy of the method is evaluated.
            Target::Tool(ToolRef::new("a::q", "x")),
        ];
        let mut compared = 0;
        for active in [true, false] {
            let agent = Agent {
                id: "g".into(),
                name: "g".into(),
                owner: "o".into(),
                owner_active: active,
                tier: "t".into(),
                risk: 1,
            };
            for target in &targets {
                for method in [Method::ToolsCall, Method::ToolsList] {
                    for n in [json!({}), json!({"n": 0}), json!({"n": 3}), json!({"n": 9})] {
                        let call = Call {
                            agent: &agent,
                            method,
                            target,
                            arguments: &n,
                            taint: &TaintState::new(),
                            task: None,
                            now: DateTime::UNIX_EPOCH,
                            source: None,
                        };
                        let args = CedarValue::from_arguments(&n).unwrap();
                        let (request, entities, resource) = engine.request(&call, &args).unwrap();
                        let slice = engine.slice_for(method, &resource, target).unwrap();
                        let whole =
                            engine
                                .authorizer
                                .is_authorized(&request, &engine.all, &entities);
                        let sliced = engine
                            .authorizer
                            .is_authorized(&request, &slice.all, &entities);
                        assert_eq!(
                            whole.decision(),
                            sliced.decision(),
                            "{target:?} {method:?} {n}"
                        );
                        let reasons = |r: &cedar_policy::Response| {
                            let mut ids: Vec<String> =
                                r.diagnostics().reason().map(ToString::to_string).collect();
                            ids.sort();
                            ids
                        };
                        assert_eq!(reasons(&whole), reasons(&sliced));
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(compared, 160);
    }
}
