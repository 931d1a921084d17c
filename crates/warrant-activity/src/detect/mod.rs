//! Detections: an identity's events in a detection window, compared with its baseline and what
//! the inventory says it is, become [`Finding`]s with evidence, severity, OWASP NHI and MITRE
//! ATT&CK mapping.
//!
//! Every finding carries its ATT&CK techniques and tactics as typed fields (`attack`,
//! `tactics`), and repeats the tactics as a readable evidence sentence starting with
//! [`TACTICS_PREFIX`]. Rule ids and their metadata are registered in `warrant_core::rules`.

mod batch;
pub mod catalog;
mod judge;
pub mod kubernetes;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use warrant_core::attribute;
use warrant_core::{
    ActorKind, Credential, Effect, Environment, Finding, Identity, IdentityKind, IdentityStatus,
    Policy, PolicyKind, RuleId, Timestamp,
};

use crate::baseline::Baseline;
use crate::event::{Event, Principal};

pub use batch::{detect_batch, group_by_identity, group_changes};
pub use catalog::{
    Category, GITHUB_SENSITIVE_ACTIONS, KUBERNETES_SENSITIVE_ACTIONS, OKTA_SENSITIVE_ACTIONS,
    SENSITIVE_ACTIONS, SensitiveAction, all_sensitive_actions, sensitive_action, sensitive_event,
};
pub use rules::all_rules;

/// Evidence sentences that list a finding's ATT&CK tactics start with this.
pub const TACTICS_PREFIX: &str = "MITRE ATT&CK tactics: ";

fn activity_rule_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<RuleId>, D::Error> {
    warrant_core::rules::rule_list_of(warrant_core::FindingSource::Activity, d)
}

/// Thresholds of every detection. Defaults are meant for production use; every field may be
/// set from configuration (`#[serde(default)]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Rule ids not to run; each must be a registered activity rule.
    #[serde(deserialize_with = "activity_rule_list")]
    pub disabled_rules: Vec<RuleId>,
    /// Kubernetes control-plane identities (user names; `*` matches any run of characters)
    /// whose calls the single-event detections do not report: controllers creating pods
    /// from workloads, kubelets requesting tokens, role aggregation. Setting the list
    /// replaces the default ([`kubernetes::DEFAULT_SYSTEM_IDENTITIES`]).
    pub kubernetes_system_identities: Vec<String>,
    /// Baseline-relative detections (new network, new user agent, off-schedule, volume spike,
    /// discovery burst novelty) need at least this many learned events…
    pub min_baseline_events: u64,
    /// …spread over at least this many days.
    pub min_baseline_days: f64,
    /// Volume spike: a day's calls exceed every one of `spike_min_events`, `spike_factor` times
    /// the baseline's daily mean and the mean plus `spike_sigmas` standard deviations; or one
    /// action's calls exceed `spike_min_events` and `spike_factor` times that action's mean.
    pub spike_min_events: u64,
    pub spike_factor: f64,
    pub spike_sigmas: f64,
    /// Days the baseline must have been active on for a volume comparison.
    pub spike_min_active_days: u64,
    /// Failure burst: denied or failed-authentication calls in one hour reaching this many, and
    /// `failure_burst_factor` times the baseline's worst hour.
    pub failure_burst_min: u64,
    pub failure_burst_factor: f64,
    /// Discovery burst: distinct read-only actions never used before, in one hour.
    pub discovery_min_new_actions: usize,
    /// Credential access by an identity that routinely reads secrets: calls in one day above
    /// this many and `secret_burst_factor` times its daily mean for that action.
    pub secret_burst_min: u64,
    pub secret_burst_factor: f64,
    /// Off-schedule: hours of the week within this many hours of a learned active hour count as
    /// on schedule…
    pub off_schedule_tolerance_hours: usize,
    /// …and at least this many calls outside the schedule raise a finding…
    pub off_schedule_min_events: u64,
    /// …unless the identity was active in at least this many of the day's 24 hours: it runs
    /// around the clock and has no schedule to depart from.
    pub off_schedule_around_the_clock_hours: usize,
    /// New network / new client: skipped for identities whose baseline already has more than
    /// this many distinct networks (or client families), where novelty means little.
    pub novelty_max_known: u64,
    /// Credential reuse (NHI9): one credential used from this many networks (or user-agent
    /// families) within one hour.
    pub reuse_min_sources: usize,
    /// Dormant: no activity for this many days before the window.
    pub dormant_days: i64,
    /// Principals that are AWS itself acting through a role it owns (service-linked roles):
    /// their calls are the service's normal work and are not reported by the sensitive-action
    /// detections. Glob patterns (`*`, `?`, case-insensitive) matched against the role ARN and
    /// the role name.
    pub service_principals: Vec<String>,
    /// Substrings of user agents (case-insensitive) of tools made for testing or abusing
    /// stolen credentials; a call from one is reported whatever it is.
    pub offensive_user_agents: Vec<String>,
    /// Networks (CIDR) inside the cloud provider or the organisation, e.g. AWS's published
    /// ranges or the NAT gateways' addresses: instance credentials used from a public address
    /// outside them are reported. Empty (the default) leaves that judgement to stronger signs.
    pub cloud_networks: Vec<String>,
    /// One session's credentials used from two public networks within this many minutes.
    pub session_networks_minutes: i64,
    /// Bucket emptied: at least this many object deletions in one bucket within an hour…
    pub bucket_delete_min: u64,
    /// …or this many deletions of object versions (permanent: no delete marker to remove)…
    pub bucket_version_delete_min: u64,
    /// …spread over at least this many top-level prefixes when the identity has no baseline
    /// (a clean-up job works on one scratch prefix); with one, `spike_factor` times the
    /// identity's daily mean of deletions.
    pub bucket_delete_min_prefixes: usize,
}

/// AWS service-linked roles: created and used by AWS services, in `/aws-service-role/`.
pub const DEFAULT_SERVICE_PRINCIPALS: &[&str] = &[
    "arn:aws*:iam::*:role/aws-service-role/*",
    "AWSServiceRoleFor*",
];

/// Tools whose user agents mark key validation or cloud exploitation (they name themselves).
pub const DEFAULT_OFFENSIVE_USER_AGENTS: &[&str] = &[
    "trufflehog",
    "pacu",
    "scoutsuite",
    "scout suite",
    "cloudfox",
    "enumerate-iam",
    "weirdaal",
    "aws_consoler",
    "cloudsploit-scan",
    "kali",
    "parrot",
];

impl DetectConfig {
    /// Whether the principal is an AWS service acting through its service-linked role.
    pub fn is_service_principal(&self, principal: &Principal) -> bool {
        let candidates = [principal.arn.as_deref(), principal.name.as_deref()];
        self.service_principals.iter().any(|pattern| {
            candidates
                .iter()
                .flatten()
                .any(|c| warrant_aws_policy::catalog::glob_match_ci(pattern, c))
        })
    }

    /// The offensive tool a user agent names, if any.
    pub fn offensive_tool(&self, user_agent: &str) -> Option<&str> {
        let lower = user_agent.to_ascii_lowercase();
        self.offensive_user_agents
            .iter()
            .find(|tool| !tool.is_empty() && lower.contains(&tool.to_ascii_lowercase()))
            .map(String::as_str)
    }
}

impl Default for DetectConfig {
    fn default() -> DetectConfig {
        DetectConfig {
            disabled_rules: Vec::new(),
            kubernetes_system_identities: kubernetes::DEFAULT_SYSTEM_IDENTITIES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            min_baseline_events: 50,
            min_baseline_days: 5.0,
            spike_min_events: 1_000,
            spike_factor: 10.0,
            spike_sigmas: 8.0,
            spike_min_active_days: 3,
            failure_burst_min: 10,
            failure_burst_factor: 3.0,
            discovery_min_new_actions: 10,
            secret_burst_min: 20,
            secret_burst_factor: 5.0,
            off_schedule_tolerance_hours: 1,
            off_schedule_min_events: 3,
            off_schedule_around_the_clock_hours: 20,
            novelty_max_known: 16,
            reuse_min_sources: 3,
            dormant_days: 90,
            service_principals: DEFAULT_SERVICE_PRINCIPALS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            offensive_user_agents: DEFAULT_OFFENSIVE_USER_AGENTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            cloud_networks: Vec::new(),
            session_networks_minutes: 10,
            bucket_delete_min: 200,
            bucket_version_delete_min: 100,
            bucket_delete_min_prefixes: 3,
        }
    }
}

/// What the inventory says about the identity whose events are checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityContext {
    /// External id of the identity (findings are raised on it).
    pub id: String,
    pub kind: IdentityKind,
    pub environment: Environment,
    pub actor: ActorKind,
    /// Tools an MCP server or agent is declared to use; `None` when nothing is declared.
    pub declared_tools: Option<BTreeSet<String>>,
    pub status: IdentityStatus,
    /// Last use known before the detection window (the inventory's or the store's).
    pub last_used: Option<Timestamp>,
    /// The credentials the inventory holds for the identity; `None` when it is not known
    /// (a shadow identity, or a caller that did not look), and then no credential is judged
    /// unregistered.
    #[serde(default)]
    pub credentials: Option<Vec<Credential>>,
}

impl IdentityContext {
    /// A context with nothing known beyond the id (unknown environment and actor, active).
    pub fn unknown(id: &str) -> IdentityContext {
        IdentityContext {
            id: id.to_string(),
            kind: IdentityKind::Other,
            environment: Environment::Unknown,
            actor: ActorKind::Unknown,
            declared_tools: None,
            status: IdentityStatus::Active,
            last_used: None,
            credentials: None,
        }
    }

    /// From an inventory identity. Declared tools come from its `tools` or `allowed_tools`
    /// attribute (an array of names), when a connector recorded one.
    pub fn from_identity(identity: &Identity) -> IdentityContext {
        let declared_tools = [attribute::TOOLS, attribute::ALLOWED_TOOLS]
            .iter()
            .filter_map(|key| identity.attributes.get(*key))
            .filter_map(|value| value.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect::<BTreeSet<_>>()
            })
            .next();
        IdentityContext {
            id: identity.id.clone(),
            kind: identity.kind,
            environment: identity.environment,
            actor: identity.actor,
            declared_tools,
            status: identity.status,
            last_used: identity.last_used,
            credentials: None,
        }
    }

    /// Records the credentials the inventory holds for the identity (see
    /// [`IdentityContext::credentials`]).
    #[must_use]
    pub fn with_credentials<'a>(
        mut self,
        credentials: impl IntoIterator<Item = &'a Credential>,
    ) -> IdentityContext {
        self.credentials = Some(credentials.into_iter().cloned().collect());
        self
    }
}

impl IdentityContext {
    /// Adds the tools granted by the identity's `mcp_tools` policies (allowed actions, with or
    /// without a `tool:` prefix) to its declared tool set.
    pub fn declare_tools_from<'a>(&mut self, policies: impl IntoIterator<Item = &'a Policy>) {
        for policy in policies {
            if policy.kind != PolicyKind::McpTools {
                continue;
            }
            let tools = self.declared_tools.get_or_insert_with(BTreeSet::new);
            for statement in &policy.statements {
                if statement.effect == Effect::Allow {
                    tools.extend(
                        statement
                            .actions
                            .iter()
                            .map(|a| a.strip_prefix("tool:").unwrap_or(a).to_string()),
                    );
                }
            }
        }
    }
}

/// Where environments are known: accounts and networks. Resources in an account map to its
/// environment; other resources are guessed from their names (`acme-dev-data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Environments {
    /// Account id → environment.
    pub accounts: BTreeMap<String, Environment>,
    /// Network (as [`crate::baseline::network_of`] writes it, e.g. `10.20.0.0/24`) →
    /// environment.
    pub networks: BTreeMap<String, Environment>,
}

impl Environments {
    /// The environment a resource (ARN or name) belongs to, when it can be told.
    pub fn of_resource(&self, resource: &str) -> Environment {
        let parts: Vec<&str> = resource.splitn(6, ':').collect();
        if let ["arn", _, _, _, account, resource] = parts.as_slice() {
            if let Some(env) = self.accounts.get(*account) {
                return *env;
            }
            // S3 and other account-less ARNs: judge by the bucket or resource name only, not
            // by object keys (a key under `dev/` in a prod bucket is still prod data).
            let name = resource.split('/').next().unwrap_or("");
            return Environment::guess(name);
        }
        Environment::guess(resource.split('/').next().unwrap_or(""))
    }

    pub fn of_network(&self, network: &str) -> Environment {
        self.networks
            .get(network)
            .copied()
            .unwrap_or(Environment::Unknown)
    }
}

/// Runs every detection over one identity's events.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    pub config: DetectConfig,
    pub environments: Environments,
}

impl Detector {
    pub fn new(config: DetectConfig) -> Detector {
        Detector {
            config,
            environments: Environments::default(),
        }
    }

    pub fn with_environments(mut self, environments: Environments) -> Detector {
        self.environments = environments;
        self
    }

    /// Findings for the identity `context` from its `events` in the detection window, against
    /// `baseline` (learned over an earlier window; `None` or empty when nothing was learned).
    /// Deterministic: the same input gives the same findings, in rule order (as in
    /// [`ALL_RULES`]) then finding-id order, whatever the order of `events`; events repeated
    /// with the same id count once.
    pub fn detect(
        &self,
        context: &IdentityContext,
        baseline: Option<&Baseline>,
        events: &[Event],
    ) -> Vec<Finding> {
        self.run(context, baseline, events, false)
    }

    /// Findings for the identity `context` from calls other principals made *to* it (an
    /// access key created for it, a policy attached to it), whoever made them: only the
    /// sensitive-action detections run, each finding names the callers, and nothing is
    /// judged against the identity's own baseline.
    pub fn detect_changes(&self, context: &IdentityContext, events: &[Event]) -> Vec<Finding> {
        self.run(context, None, events, true)
    }

    fn run(
        &self,
        context: &IdentityContext,
        baseline: Option<&Baseline>,
        events: &[Event],
        changes: bool,
    ) -> Vec<Finding> {
        let empty = Baseline::new(&context.id);
        let baseline = baseline.unwrap_or(&empty);
        let mut sorted: Vec<&Event> = events.iter().collect();
        sorted.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
        sorted.dedup_by(|a, b| a.id == b.id && !a.id.is_empty());
        let input = rules::Input {
            config: &self.config,
            environments: &self.environments,
            context,
            baseline,
            mature: baseline.events() >= self.config.min_baseline_events
                && baseline.span_days() >= self.config.min_baseline_days,
            sensitive: sorted
                .iter()
                .map(|e| catalog::sensitive_event(e, &self.config.kubernetes_system_identities))
                .collect(),
            events: &sorted,
            changes,
        };
        let mut findings = Vec::new();
        for (rule, run) in rules::RULE_FNS {
            if self.config.disabled_rules.iter().any(|d| d == rule) {
                continue;
            }
            if changes && !rules::CATALOGUE_RULES.contains(rule) {
                continue;
            }
            let mut found = run(&input);
            found.sort_by(|a, b| a.id.cmp(&b.id));
            findings.extend(found);
        }
        findings
    }
}

/// A finding for a principal that acted but is not in the inventory (a shadow identity).
/// `events` are that principal's events; the finding is raised on `identity`, the id the
/// caller gives it (usually the principal's ARN, else its name or credential id).
pub fn shadow_identity_finding(identity: &str, principal: &Principal, events: &[Event]) -> Finding {
    rules::shadow_identity(identity, principal, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use warrant_core::{Provenance, Provider, Statement};

    #[test]
    fn declared_tools_come_from_mcp_tool_policies() {
        let mut ctx = IdentityContext::unknown("agent");
        assert!(ctx.declared_tools.is_none());
        let statement = |effect, actions: &[&str]| Statement {
            sid: None,
            effect,
            actions: actions.iter().map(|a| a.to_string()).collect(),
            not_actions: vec![],
            resources: vec![],
            not_resources: vec![],
            conditions: None,
        };
        let tools = Policy {
            id: "mcp:github".into(),
            name: "github".into(),
            provider: Provider::Mcp,
            kind: PolicyKind::McpTools,
            statements: vec![
                statement(Effect::Allow, &["tool:search", "read_file"]),
                statement(Effect::Deny, &["tool:delete_repo"]),
            ],
            provenance: Provenance::default(),
        };
        let mut other = tools.clone();
        other.kind = PolicyKind::Inline;
        other.statements = vec![statement(Effect::Allow, &["tool:shell"])];
        ctx.declare_tools_from([&tools, &other]);
        let declared: Vec<&str> = ctx
            .declared_tools
            .as_ref()
            .unwrap()
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(declared, ["read_file", "search"]);
    }

    #[test]
    fn resource_environments_come_from_accounts_then_names() {
        let mut envs = Environments::default();
        envs.accounts.insert("111".into(), Environment::Production);
        assert_eq!(
            envs.of_resource("arn:aws:dynamodb:eu-west-1:111:table/dev-orders"),
            Environment::Production
        );
        assert_eq!(
            envs.of_resource("arn:aws:s3:::acme-dev-data/prod/x.csv"),
            Environment::Development
        );
        assert_eq!(
            envs.of_resource("arn:aws:s3:::acme-data/dev/x.csv"),
            Environment::Unknown
        );
        assert_eq!(envs.of_network("10.0.0.0/24"), Environment::Unknown);
    }

    #[test]
    fn config_defaults_fill_missing_keys_and_unknown_keys_fail() {
        let c: DetectConfig = serde_json::from_str(r#"{"dormant_days": 30}"#).unwrap();
        assert_eq!(c.dormant_days, 30);
        assert!(
            c.kubernetes_system_identities
                .iter()
                .any(|p| p == "system:node:*")
        );
        // Setting the system identities replaces the default list.
        let c: DetectConfig = serde_json::from_str(
            r#"{"kubernetes_system_identities": ["system:serviceaccount:ops:*"]}"#,
        )
        .unwrap();
        assert_eq!(
            c.kubernetes_system_identities,
            ["system:serviceaccount:ops:*"]
        );
        assert_eq!(
            c.failure_burst_min,
            DetectConfig::default().failure_burst_min
        );
        assert!(serde_json::from_str::<DetectConfig>(r#"{"dormant_dayz": 30}"#).is_err());
        let c: DetectConfig =
            serde_json::from_str(r#"{"disabled_rules": ["activity-new-network"]}"#).unwrap();
        assert_eq!(c.disabled_rules, [rules::NEW_NETWORK]);
        let typo =
            serde_json::from_str::<DetectConfig>(r#"{"disabled_rules": ["activity-new-netwrk"]}"#);
        assert!(
            typo.unwrap_err()
                .to_string()
                .contains("unknown rule id `activity-new-netwrk`")
        );
        let posture = serde_json::from_str::<DetectConfig>(r#"{"disabled_rules": ["no-owner"]}"#);
        assert!(
            posture
                .unwrap_err()
                .to_string()
                .contains("rule `no-owner` is a posture rule, not an activity rule")
        );
    }
}
