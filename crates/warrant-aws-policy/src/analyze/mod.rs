//! Effective privilege of an identity from the policies it holds.
//!
//! Evaluation follows IAM's logic where it can be decided statically: an action is allowed when an
//! `Allow` statement covers it and no `Deny` on every resource removes it; a permissions boundary
//! intersects. Conditions are decided where the answer does not depend on the request (dates
//! against the assessment time, see `condition.rs`): an allow whose condition cannot hold counts
//! for nothing, a deny whose condition always holds counts in full. Where it cannot be decided
//! the analysis errs towards "allowed", because under-reporting privilege is the worse mistake
//! for a security tool; such cases set `conditional`, and escalation paths that rest on them
//! carry low confidence and the reason.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use warrant_core::{
    AccessLevel, Attachment, Confidence, Effect, Escalation, Grant, Policy, PrivilegeSummary,
    ResourceAccess,
};

use crate::catalog::{ActionSet, catalog, glob_match_ci};

pub mod condition;
mod escalation;
mod statement;

use condition::{RequestContext, Verdict};
pub use escalation::{
    Family, Target, Technique, TechniqueCatalogueError, parse_techniques, techniques,
};
use escalation::{PASS_ROLE, SECRET_ACTIONS, SELF_GRANT};
pub use statement::PolicyAnalysis;
// `Reach` is defined below, beside the evaluator that builds it.
use statement::StatementAnalysis;

/// Shares policy expansions between the many identities that hold the same policies.
#[derive(Debug, Default)]
pub struct Analyzer {
    cache: HashMap<String, Arc<PolicyAnalysis>>,
    /// Leave out per-statement grants and per-resource access (for bulk assessments of many
    /// identities, where those lists would cost gigabytes and only `show` needs them).
    compact: bool,
    /// The assessment time, against which date conditions are decided (`None`: undecided).
    now: Option<DateTime<Utc>>,
    /// Sensitive capabilities whose holders [`Analyzer::summarize_with_reach`] reports.
    capabilities: Arc<[Capability]>,
}

/// A named sensitive capability: any of `actions` on any of `resources` (patterns with `*`),
/// e.g. reading the production secrets. The escalation graph finds who can reach a holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    pub name: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

impl Capability {
    /// The catalogue actions its patterns name.
    pub fn action_set(&self) -> ActionSet {
        let c = catalog();
        let mut set = c.empty_set();
        for pattern in &self.actions {
            c.expand_into(pattern, &mut set);
        }
        set
    }
}

/// The [`Reach`] technique of an identity that holds a [`Capability`] itself; its `targets`
/// name the capability.
pub const HOLDS_CAPABILITY: &str = "holds-capability";

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    /// Expands every policy once up front; afterwards `summarize` only reads (and so can run on
    /// many threads).
    pub fn prepare<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Analyzer {
        let cache = policies
            .into_iter()
            .map(|p| (p.id.clone(), Arc::new(PolicyAnalysis::new(p))))
            .collect();
        Analyzer {
            cache,
            ..Analyzer::default()
        }
    }

    /// Decides date conditions (`aws:CurrentTime`, `aws:TokenIssueTime`) as of `now`.
    pub fn at(mut self, now: DateTime<Utc>) -> Analyzer {
        self.now = Some(now);
        self
    }

    /// Reports, in [`Analyzer::summarize_with_reach`], which of these capabilities an identity
    /// holds itself (as [`HOLDS_CAPABILITY`] entries). Compact analyses must keep the
    /// capabilities' statements ([`PolicyAnalysis::new_compact_keeping`]).
    pub fn with_capabilities(mut self, capabilities: Vec<Capability>) -> Analyzer {
        self.capabilities = capabilities.into();
        self
    }

    /// Summaries without grant and resource lists; everything else is the same.
    pub fn compact(mut self) -> Analyzer {
        self.compact = true;
        self
    }

    /// Adds prepared analyses (e.g. computed on several threads).
    pub fn insert(&mut self, policy_id: String, analysis: PolicyAnalysis) {
        self.cache.insert(policy_id, Arc::new(analysis));
    }

    fn analysis(&self, policy: &Policy) -> Arc<PolicyAnalysis> {
        match self.cache.get(&policy.id) {
            // A compact analysis lacks what a full summary lists.
            Some(found) if self.compact || !found.compact => Arc::clone(found),
            _ => Arc::new(PolicyAnalysis::new(policy)),
        }
    }

    /// Effective privilege of one identity holding `policies`, limited by `boundary`.
    pub fn summarize(
        &self,
        policies: &[(&Attachment, &Policy)],
        boundary: Option<&Policy>,
    ) -> PrivilegeSummary {
        self.summarize_inner(policies, boundary, &[], false).0
    }

    /// [`Analyzer::summarize`] plus what the identity can reach, named resource by named
    /// resource, through techniques that lead to another principal (see [`Reach`]): the
    /// edges of an escalation graph the inventory resolves.
    pub fn summarize_with_reach(
        &self,
        policies: &[(&Attachment, &Policy)],
        boundary: Option<&Policy>,
    ) -> (PrivilegeSummary, Vec<Reach>) {
        self.summarize_inner(policies, boundary, &[], true)
    }

    /// [`Analyzer::summarize_with_reach`] in an account that service control policies limit:
    /// `scps` holds the policies attached at each level of the organisation tree (root first).
    /// Every level must allow an action, as a boundary must; their denies cancel paths as the
    /// identity's own do.
    pub fn summarize_with_reach_under(
        &self,
        policies: &[(&Attachment, &Policy)],
        boundary: Option<&Policy>,
        scps: &[Vec<&Policy>],
    ) -> (PrivilegeSummary, Vec<Reach>) {
        self.summarize_inner(policies, boundary, scps, true)
    }

    /// [`Analyzer::summarize`] under service control policies (see
    /// [`Analyzer::summarize_with_reach_under`]).
    pub fn summarize_under(
        &self,
        policies: &[(&Attachment, &Policy)],
        boundary: Option<&Policy>,
        scps: &[Vec<&Policy>],
    ) -> PrivilegeSummary {
        self.summarize_inner(policies, boundary, scps, false).0
    }

    fn summarize_inner(
        &self,
        policies: &[(&Attachment, &Policy)],
        boundary: Option<&Policy>,
        scps: &[Vec<&Policy>],
        want_reach: bool,
    ) -> (PrivilegeSummary, Vec<Reach>) {
        let c = catalog();
        let mut allowed = c.empty_set();
        let mut allowed_everywhere = c.empty_set();
        let mut allowed_wildcard = c.empty_set();
        let mut denied = c.empty_set();
        let mut summary = PrivilegeSummary::default();
        let mut inferred: BTreeMap<String, AccessLevel> = BTreeMap::new();
        let mut resource_levels: BTreeMap<(String, String), AccessLevel> = BTreeMap::new();
        let mut admin_statements = Vec::new();

        let mut analyses = Vec::with_capacity(policies.len());
        let whole_statement = RequestContext {
            now: self.now,
            action: None,
            passed_to: &[],
            deny: false,
        };
        let whole_deny = RequestContext {
            deny: true,
            ..whole_statement
        };
        for (attachment, policy) in policies {
            let analysis = self.analysis(policy);
            analyses.push(Arc::clone(&analysis));
            for (n, s) in analysis.statements.iter().enumerate() {
                // Only evidence sentences need the label; most statements produce none.
                let text = s.text.as_deref();
                let label = || statement_label(policy, text.and_then(|t| t.sid.as_deref()), n);
                let resources: &[String] = text.map_or(&[], |t| &t.resources);
                let actions_display: &[String] = text.map_or(&[], |t| &t.actions_display);
                if !self.compact {
                    summary.grants.push(Grant {
                        policy: policy.id.clone(),
                        via: attachment.via.clone(),
                        effect: s.effect,
                        actions: actions_display.to_vec(),
                        resources: resources.to_vec(),
                        conditions: text.and_then(|t| t.conditions.clone()),
                        access_level: s.max_level,
                        n_actions: s.n_actions,
                        admin: s.admin,
                    });
                }
                let verdict = s
                    .scope
                    .as_ref()
                    .and_then(|scope| scope.conditions.as_ref())
                    .map(|c| {
                        let ctx = if s.effect == Effect::Deny {
                            &whole_deny
                        } else {
                            &whole_statement
                        };
                        condition::evaluate(c, ctx)
                    });
                match s.effect {
                    Effect::Deny => {
                        let applies = s.unconditional || verdict == Some(Verdict::Holds);
                        if applies && s.all_resources {
                            s.set.union_into(&mut denied);
                        }
                    }
                    // A condition that cannot hold at the assessment time (a date passed)
                    // allows nothing.
                    Effect::Allow if verdict == Some(Verdict::Fails) => {}
                    Effect::Allow => {
                        s.set.union_into(&mut allowed);
                        if s.all_resources {
                            s.set.union_into(&mut allowed_everywhere);
                        }
                        if s.wildcard_resources {
                            s.set.union_into(&mut allowed_wildcard);
                        }
                        if !s.unconditional {
                            summary.conditional = true;
                        }
                        for (action, level) in s.inferred.iter() {
                            inferred.insert(action.clone(), *level);
                        }
                        if self.compact {
                            for service in s.control_services.iter() {
                                if !summary.services.contains(*service) {
                                    summary.services.insert((*service).to_string());
                                }
                            }
                        }
                        let per_service: &[(String, AccessLevel)] =
                            text.map_or(&[], |t| &t.per_service);
                        for (service, level) in per_service {
                            if self.compact {
                                continue;
                            }
                            summary.services.insert(service.clone());
                            for resource in resources {
                                let entry = resource_levels
                                    .entry((resource.clone(), service.clone()))
                                    .or_insert(*level);
                                *entry = (*entry).max(*level);
                            }
                        }
                        if s.admin {
                            admin_statements.push(label());
                        }
                        if s.wildcard_actions && s.all_resources {
                            summary.wildcard_evidence.push(format!(
                                "{} allows {} on {}{}.",
                                label(),
                                actions_display.join(", "),
                                resources.join(", "),
                                if s.unconditional {
                                    ""
                                } else {
                                    " (with conditions)"
                                }
                            ));
                        }
                    }
                }
            }
        }

        for set in [&mut allowed, &mut allowed_everywhere, &mut allowed_wildcard] {
            set.subtract(&denied);
        }
        if let Some(boundary) = boundary {
            let empty = Attachment {
                identity: String::new(),
                policy: boundary.id.clone(),
                via: None,
                scope: None,
            };
            let limit = self.summarize_sets(&[(&empty, boundary)]);
            for set in [&mut allowed, &mut allowed_everywhere, &mut allowed_wildcard] {
                set.intersect_with(&limit);
            }
            if limit.count() < c.len() {
                admin_statements.clear();
            }
        }
        // Service control policies: each level of the tree limits like a boundary. A guardrail
        // denying a few actions leaves an administrator one (`near_everything` below decides).
        let scp_analyses: Vec<Arc<PolicyAnalysis>> = scps
            .iter()
            .flatten()
            .map(|policy| self.analysis(policy))
            .collect();
        for level in scps.iter().filter(|level| !level.is_empty()) {
            let empty = Attachment {
                identity: String::new(),
                policy: String::new(),
                via: None,
                scope: None,
            };
            let held: Vec<(&Attachment, &Policy)> = level.iter().map(|p| (&empty, *p)).collect();
            let limit = self.summarize_sets(&held);
            for set in [&mut allowed, &mut allowed_everywhere, &mut allowed_wildcard] {
                set.intersect_with(&limit);
            }
        }

        for level in AccessLevel::ALL {
            let mut n = c
                .level_mask(*level)
                .map(|mask| allowed.count_and(mask))
                .unwrap_or(0);
            n += inferred.values().filter(|l| *l == level).count();
            if n > 0 {
                summary.actions_by_level.insert(*level, n);
            }
        }
        summary.unclassified_actions = inferred.keys().cloned().collect();

        // Administrator-equivalent: everything on everything, or the power to grant itself that.
        let near_everything = allowed_everywhere.count() * 10 >= c.len() * 9;
        if !admin_statements.is_empty() && near_everything {
            summary.admin_equivalent = true;
            for label in &admin_statements {
                summary.admin_evidence.push(format!(
                    "{label} allows every action (*) on every resource (*)."
                ));
            }
        }
        // The statements an evaluator reads: the identity's that `keep` accepts, and the SCPs'
        // denies (an SCP's allows grant nothing; its denies cancel like the identity's own).
        let evaluated = |keep: fn(&StatementAnalysis) -> bool| -> Vec<&StatementAnalysis> {
            analyses
                .iter()
                .flat_map(|a| a.statements.iter())
                .filter(|s| keep(s))
                .chain(
                    scp_analyses
                        .iter()
                        .flat_map(|a| a.statements.iter())
                        .filter(|s| s.effect == Effect::Deny && s.scope.is_some()),
                )
                .collect()
        };
        let paths = PathEvaluator {
            statements: evaluated(|s| s.scope.as_ref().is_some_and(|sc| sc.escalation_relevant)),
            allowed_wildcard: &allowed_wildcard,
            allowed: &allowed,
            now: self.now,
        };
        let self_granting: Vec<&str> = SELF_GRANT
            .iter()
            .copied()
            .filter(|a| {
                c.index_of(a).is_some_and(|i| {
                    allowed_everywhere.contains(i)
                        && paths
                            .support(i, a, target_of(a, Target::CustomerPolicy), &[], false)
                            .is_some_and(|s| s.caveats.is_empty())
                })
            })
            .collect();
        if !self_granting.is_empty() {
            summary.admin_equivalent = true;
            summary.admin_evidence.push(format!(
                "Can grant itself any permission: {} allowed on every resource.",
                self_granting.join(", ")
            ));
        }
        summary.escalations = paths.escalations(techniques());
        let mut reach = if want_reach {
            paths.reach(techniques())
        } else {
            Vec::new()
        };
        if want_reach && !self.capabilities.is_empty() {
            // Capability actions are rarely a technique's: read every statement kept.
            let all = PathEvaluator {
                statements: evaluated(|s| s.scope.is_some()),
                ..paths
            };
            reach.extend(self.capabilities.iter().filter_map(|cap| all.holds(cap)));
        }

        for action in SECRET_ACTIONS {
            if let Some(i) = c.index_of(action) {
                if allowed_everywhere.contains(i) {
                    summary
                        .secrets_evidence
                        .push(format!("{action} is allowed on every resource."));
                } else if allowed.contains(i) {
                    summary
                        .secrets_evidence
                        .push(format!("{action} is allowed on some resources."));
                }
            }
        }

        summary.resource_access = resource_levels
            .into_iter()
            .map(|((resource, service), level)| ResourceAccess {
                resource,
                level,
                service,
            })
            .collect();
        (summary, reach)
    }

    /// The allowed-action set of policies alone (used for boundaries).
    fn summarize_sets(&self, policies: &[(&Attachment, &Policy)]) -> ActionSet {
        let c = catalog();
        let mut allowed = c.empty_set();
        let mut denied = c.empty_set();
        for (_, policy) in policies {
            for s in &self.analysis(policy).statements {
                match s.effect {
                    Effect::Allow => s.set.union_into(&mut allowed),
                    Effect::Deny if s.unconditional && s.all_resources => {
                        s.set.union_into(&mut denied)
                    }
                    Effect::Deny => {}
                }
            }
        }
        allowed.subtract(&denied);
        allowed
    }

    /// Allowed concrete actions (for tests and right-sizing): action names, sorted.
    pub fn allowed_actions(&self, policies: &[(&Attachment, &Policy)]) -> BTreeSet<String> {
        let c = catalog();
        self.summarize_sets(policies)
            .iter()
            .map(|i| c.name(i).to_string())
            .collect()
    }
}

/// How one action of a technique is allowed: outright (no caveats) or under conditions that
/// could not be decided (the caveats say which).
#[derive(Debug, Clone)]
struct Support {
    caveats: Vec<String>,
    /// The resource patterns it is allowed on (as written, `*` included).
    patterns: Vec<String>,
}

/// One way an identity can act on other principals, as far as its policies tell: the graph
/// edges of escalation. The inventory decides which principals `targets` name (exact ARNs
/// included, which the per-identity technique list leaves out) and whether they are stronger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// A technique name, or `assume-role` for `sts:AssumeRole`.
    pub technique: String,
    pub family: Option<Family>,
    /// The action whose resources name the principals reached (`iam:PassRole`,
    /// `iam:CreateAccessKey`, `sts:AssumeRole` …).
    pub action: String,
    /// Resource patterns of that action: roles, users or groups.
    pub targets: Vec<String>,
    /// For pass-role techniques: services the role must trust (empty: any service).
    pub passed_to: Vec<String>,
    pub confidence: Confidence,
    pub caveats: Vec<String>,
}

/// The target an action of a technique must reach: `iam:PassRole` a role, the technique's IAM
/// actions its target, other services' actions any wildcard resource.
fn target_of(action: &str, technique_target: Target) -> ActionTarget {
    if action.eq_ignore_ascii_case(PASS_ROLE) {
        ActionTarget::Role
    } else if action.to_ascii_lowercase().starts_with("iam:") {
        match technique_target {
            Target::Any => ActionTarget::Any,
            Target::CustomerPolicy
                if action.eq_ignore_ascii_case("iam:CreatePolicyVersion")
                    || action.eq_ignore_ascii_case("iam:SetDefaultPolicyVersion") =>
            {
                ActionTarget::CustomerPolicy
            }
            Target::CustomerPolicy => ActionTarget::Any,
            Target::OtherUser => ActionTarget::OtherUser,
        }
    } else {
        ActionTarget::Any
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ActionTarget {
    Any,
    Role,
    CustomerPolicy,
    OtherUser,
}

impl ActionTarget {
    /// Every resource of the kind, as a pattern.
    fn everything(self) -> &'static str {
        match self {
            ActionTarget::Any => "*",
            ActionTarget::Role => "arn:aws:iam::*:role/*",
            ActionTarget::CustomerPolicy => "arn:aws:iam::*:policy/*",
            ActionTarget::OtherUser => "arn:aws:iam::*:user/*",
        }
    }
}

/// Whether a resource pattern of an allow can reach what the action must act on. Exact ARNs
/// are not claimed here: whether one names an existing, stronger principal is the inventory's
/// question (posture's graph), not a policy's.
fn pattern_reaches(pattern: &str, target: ActionTarget, exact_ok: bool) -> bool {
    let p = pattern.trim();
    if !exact_ok && !p.contains(['*', '?']) && !p.contains("${") {
        return false;
    }
    if p == "*" {
        return true;
    }
    let lower = p.to_ascii_lowercase();
    // Policy variables scope a resource to the caller itself.
    let self_scoped = lower.contains("${aws:username}") || lower.contains("${aws:userid}");
    let resource = lower.splitn(6, ':').nth(5).unwrap_or("");
    let service = lower.split(':').nth(2).unwrap_or("");
    match target {
        ActionTarget::Any => true,
        ActionTarget::OtherUser => !self_scoped,
        // `arn:aws:iam::aws:policy/…` is AWS's namespace: nobody can change those policies.
        ActionTarget::CustomerPolicy => {
            let account = lower.split(':').nth(4).unwrap_or("");
            account != "aws" && (service == "iam" || service == "*")
        }
        ActionTarget::Role => {
            (service == "iam" || service.contains('*'))
                && (resource.starts_with("role/") || resource.starts_with('*'))
        }
    }
}

/// Which resources an allow must reach: a technique's target kind (exact ARNs counted when the
/// flag is set), or a capability's resource patterns.
#[derive(Debug, Clone, Copy)]
enum Over<'a> {
    Target(ActionTarget, bool),
    Resources(&'a [String]),
}

/// Evaluates techniques against the statements that name their actions.
struct PathEvaluator<'a> {
    statements: Vec<&'a StatementAnalysis>,
    /// Allowed on some wildcard resource after whole-resource denies and the boundary: a
    /// prefilter, since no path uses an action outside it.
    allowed_wildcard: &'a ActionSet,
    /// Allowed on some resource (exact ARNs included), after the same.
    allowed: &'a ActionSet,
    now: Option<DateTime<Utc>>,
}

impl PathEvaluator<'_> {
    /// How action `i` (`name`) is allowed on a target it can use, after denies; `None` when it
    /// is not. `passed_to` is the service a role is passed to, for `iam:PassRole`.
    fn support(
        &self,
        i: usize,
        name: &str,
        target: ActionTarget,
        passed_to: &[String],
        exact_ok: bool,
    ) -> Option<Support> {
        self.support_over(i, name, passed_to, Over::Target(target, exact_ok))
    }

    /// [`PathEvaluator::support`] on the resources `over` says.
    fn support_over(
        &self,
        i: usize,
        name: &str,
        passed_to: &[String],
        over: Over<'_>,
    ) -> Option<Support> {
        let prefilter = match over {
            Over::Target(_, false) => self.allowed_wildcard,
            Over::Target(_, true) | Over::Resources(_) => self.allowed,
        };
        if !prefilter.contains(i) {
            return None;
        }
        let ctx = RequestContext {
            now: self.now,
            action: Some(name),
            passed_to,
            deny: false,
        };
        let deny_ctx = RequestContext { deny: true, ..ctx };
        let mut best: Option<Support> = None;
        for allow in &self.statements {
            if allow.effect != Effect::Allow || !allow.set.contains(i) {
                continue;
            }
            let Some(scope) = allow.scope.as_deref() else {
                continue;
            };
            let usable: Vec<&str> = match over {
                Over::Target(target, exact_ok) => {
                    // `*` stands for every resource the action can act on, so that a Deny on,
                    // say, `arn:aws:iam::*:role/*` is seen to cover an allow of iam:PassRole
                    // on `*`.
                    let everything = target.everything();
                    if scope.not_resources.is_empty() {
                        scope
                            .resources
                            .iter()
                            .map(String::as_str)
                            .filter(|p| pattern_reaches(p, target, exact_ok))
                            .map(|p| if p.trim() == "*" { everything } else { p })
                            .collect()
                    } else {
                        vec![everything]
                    }
                }
                // The capability's resources the allow covers, and the allow's resources
                // that lie within the capability's.
                Over::Resources(wanted) if scope.not_resources.is_empty() => wanted
                    .iter()
                    .filter(|w| scope.resources.iter().any(|p| glob_match_ci(p, w)))
                    .chain(
                        scope
                            .resources
                            .iter()
                            .filter(|p| wanted.iter().any(|w| glob_match_ci(w, p))),
                    )
                    .map(String::as_str)
                    .collect(),
                Over::Resources(wanted) => wanted
                    .iter()
                    .filter(|w| !scope.not_resources.iter().any(|n| glob_match_ci(n, w)))
                    .map(String::as_str)
                    .collect(),
            };
            if usable.is_empty() {
                continue;
            }
            let mut caveats = Vec::new();
            match scope
                .conditions
                .as_ref()
                .map(|c| condition::evaluate(c, &ctx))
            {
                None | Some(Verdict::Holds) => {}
                Some(Verdict::Fails) => continue,
                Some(Verdict::Unknown(reasons)) => caveats.push(format!(
                    "{name} is allowed only under conditions not decided here: {}.",
                    reasons.join("; ")
                )),
            }
            let mut blocked = false;
            for deny in &self.statements {
                if deny.effect != Effect::Deny || !deny.set.contains(i) {
                    continue;
                }
                let Some(deny_scope) = deny.scope.as_deref() else {
                    continue;
                };
                if !deny_covers(deny_scope, &usable) {
                    continue;
                }
                match deny_scope
                    .conditions
                    .as_ref()
                    .map(|c| condition::evaluate(c, &deny_ctx))
                {
                    None | Some(Verdict::Holds) => {
                        blocked = true;
                        break;
                    }
                    Some(Verdict::Fails) => {}
                    Some(Verdict::Unknown(reasons)) => caveats.push(format!(
                        "a Deny of {name} may apply: {}.",
                        reasons.join("; ")
                    )),
                }
            }
            if blocked {
                continue;
            }
            let patterns: Vec<String> = match over {
                Over::Target(target, exact_ok) => scope
                    .resources
                    .iter()
                    .filter(|p| {
                        scope.not_resources.is_empty() && pattern_reaches(p, target, exact_ok)
                    })
                    .cloned()
                    .collect(),
                Over::Resources(_) => usable.iter().map(|p| (*p).to_string()).collect(),
            };
            match &mut best {
                None => {
                    best = Some(Support {
                        caveats,
                        patterns: if patterns.is_empty() {
                            vec!["*".to_string()]
                        } else {
                            patterns
                        },
                    })
                }
                Some(b) => {
                    // Patterns add up across statements; the surest statement's caveats stand.
                    if caveats.len() < b.caveats.len() {
                        b.caveats = caveats;
                    }
                    if patterns.is_empty() {
                        b.patterns.push("*".to_string());
                    }
                    b.patterns.extend(patterns);
                }
            }
        }
        best
    }

    /// Whether the identity holds `capability` itself: the surest of its actions allowed on
    /// some of its resources, after denies and the boundary.
    fn holds(&self, capability: &Capability) -> Option<Reach> {
        let c = catalog();
        let mut best: Option<(usize, Support)> = None;
        let mut wanted = capability.action_set();
        wanted.intersect_with(self.allowed);
        for i in wanted.iter() {
            let Some(s) =
                self.support_over(i, c.name(i), &[], Over::Resources(&capability.resources))
            else {
                continue;
            };
            let sure = s.caveats.is_empty();
            if best
                .as_ref()
                .is_none_or(|(_, b)| s.caveats.len() < b.caveats.len())
            {
                best = Some((i, s));
            }
            if sure {
                break;
            }
        }
        let (i, support) = best?;
        Some(Reach {
            technique: HOLDS_CAPABILITY.to_string(),
            family: None,
            action: c.name(i).to_string(),
            targets: vec![capability.name.clone()],
            passed_to: Vec::new(),
            confidence: if support.caveats.is_empty() {
                Confidence::High
            } else {
                Confidence::Low
            },
            caveats: support.caveats,
        })
    }

    /// An existing-resource technique's edge: the resources its actions may act on, exact
    /// ARNs included (an inventory listing of the resources decides which exist and what
    /// they run as). The first needed action's patterns name them.
    fn existing_resource_reach(&self, t: &Technique) -> Option<Reach> {
        let c = catalog();
        let on_resources = |action: &str| {
            c.index_of(action)
                .and_then(|i| self.support(i, action, ActionTarget::Any, &[], true))
        };
        let mut key: Option<(&str, Vec<String>)> = None;
        let mut caveats = Vec::new();
        for action in t.required() {
            let support = on_resources(action)?;
            caveats.extend(support.caveats);
            if key.is_none() {
                key = Some((action, support.patterns));
            }
        }
        if !t.any.is_empty() {
            let (action, support) = t
                .any
                .iter()
                .filter_map(|a| on_resources(a).map(|s| (a.as_str(), s)))
                .min_by_key(|(_, s)| s.caveats.len())?;
            caveats.extend(support.caveats);
            if key.is_none() {
                key = Some((action, support.patterns));
            }
        }
        let (action, targets) = key?;
        caveats.dedup();
        Some(Reach {
            technique: t.name.clone(),
            family: Some(t.family),
            action: action.to_string(),
            targets,
            passed_to: Vec::new(),
            confidence: if caveats.is_empty() {
                Confidence::High
            } else {
                Confidence::Low
            },
            caveats,
        })
    }

    /// The graph edges: for techniques that lead to another principal, the patterns of the
    /// principals they reach (exact ARNs too); plus `sts:AssumeRole`.
    fn reach(&self, techniques: &[Technique]) -> Vec<Reach> {
        let c = catalog();
        let mut out = Vec::new();
        fn key_action(t: &Technique) -> Option<&str> {
            match t.family {
                Family::PassRole => Some(PASS_ROLE),
                Family::Credentials | Family::Group => t.all.first().map(String::as_str),
                Family::Trust => t
                    .all
                    .iter()
                    .map(String::as_str)
                    .find(|a| a.eq_ignore_ascii_case("iam:UpdateAssumeRolePolicy")),
                _ => None,
            }
        }
        for t in techniques {
            if t.family == Family::ExistingResource {
                out.extend(self.existing_resource_reach(t));
                continue;
            }
            let Some(key) = key_action(t) else { continue };
            let Some(key_index) = c.index_of(key) else {
                continue;
            };
            let passed_to: &[String] = if key == PASS_ROLE { &t.passed_to } else { &[] };
            let Some(key_support) =
                self.support(key_index, key, target_of(key, t.target), passed_to, true)
            else {
                continue;
            };
            let mut caveats = key_support.caveats;
            let mut complete = true;
            for action in t.required().filter(|a| !a.eq_ignore_ascii_case(key)) {
                let support = c
                    .index_of(action)
                    .and_then(|i| self.support(i, action, target_of(action, t.target), &[], false));
                match support {
                    Some(s) => caveats.extend(s.caveats),
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if !complete {
                continue;
            }
            if !t.any.is_empty() {
                let best = t
                    .any
                    .iter()
                    .filter_map(|a| {
                        let i = c.index_of(a)?;
                        self.support(i, a, target_of(a, t.target), &[], false)
                    })
                    .min_by_key(|s| s.caveats.len());
                match best {
                    Some(s) => caveats.extend(s.caveats),
                    None => continue,
                }
            }
            caveats.dedup();
            out.push(Reach {
                technique: t.name.clone(),
                family: Some(t.family),
                action: key.to_string(),
                targets: key_support.patterns,
                passed_to: t.passed_to.clone(),
                confidence: if caveats.is_empty() {
                    Confidence::High
                } else {
                    Confidence::Low
                },
                caveats,
            });
        }
        if let Some(i) = c.index_of("sts:AssumeRole")
            && let Some(s) = self.support(i, "sts:AssumeRole", ActionTarget::Role, &[], true)
        {
            out.push(Reach {
                technique: "assume-role".to_string(),
                family: None,
                action: "sts:AssumeRole".to_string(),
                targets: s.patterns,
                passed_to: Vec::new(),
                confidence: if s.caveats.is_empty() {
                    Confidence::High
                } else {
                    Confidence::Low
                },
                caveats: s.caveats,
            });
        }
        out
    }

    fn escalations(&self, techniques: &[Technique]) -> Vec<Escalation> {
        let c = catalog();
        let mut out = Vec::new();
        for t in techniques {
            let support = |action: &str| {
                let i = c.index_of(action)?;
                let passed_to: &[String] = if action.eq_ignore_ascii_case(PASS_ROLE) {
                    &t.passed_to
                } else {
                    &[]
                };
                self.support(i, action, target_of(action, t.target), passed_to, false)
            };
            let mut actions = Vec::new();
            let mut caveats = Vec::new();
            let mut found = true;
            for action in t.required() {
                match support(action) {
                    Some(s) => {
                        actions.push(action.to_string());
                        caveats.extend(s.caveats);
                    }
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if !found {
                continue;
            }
            if !t.any.is_empty() {
                let supported: Vec<(&String, Support)> = t
                    .any
                    .iter()
                    .filter_map(|a| support(a).map(|s| (a, s)))
                    .collect();
                let Some(fewest) = supported.iter().map(|(_, s)| s.caveats.len()).min() else {
                    continue;
                };
                actions.extend(supported.iter().map(|(a, _)| (*a).clone()));
                // One way in suffices: the surest one decides.
                if let Some((_, s)) = supported.iter().find(|(_, s)| s.caveats.len() == fewest) {
                    caveats.extend(s.caveats.iter().cloned());
                }
            }
            caveats.dedup();
            out.push(Escalation {
                technique: t.name.clone(),
                actions,
                explanation: t.explanation.clone(),
                confidence: if caveats.is_empty() {
                    Confidence::High
                } else {
                    Confidence::Low
                },
                caveats,
                path: Vec::new(),
            });
        }
        out
    }
}

/// Whether a Deny's resources cover every pattern an allow can use.
fn deny_covers(deny: &statement::StatementScope, usable: &[&str]) -> bool {
    if !deny.not_resources.is_empty() {
        return usable
            .iter()
            .all(|p| !deny.not_resources.iter().any(|n| glob_match_ci(n, p)));
    }
    usable
        .iter()
        .all(|p| deny.resources.iter().any(|d| glob_match_ci(d, p)))
}

fn statement_label(policy: &Policy, sid: Option<&str>, n: usize) -> String {
    match sid {
        Some(sid) if !sid.is_empty() => format!("Policy {} (statement {sid})", policy.name),
        _ => format!("Policy {} (statement {})", policy.name, n + 1),
    }
}

/// Effective privilege of one identity holding `policies` (each with the attachment that grants
/// it), limited by an optional permissions boundary. Stateless; see [`Analyzer`] to share work
/// between identities.
pub fn summarize(
    policies: &[(&Attachment, &Policy)],
    boundary: Option<&Policy>,
) -> PrivilegeSummary {
    Analyzer::new().summarize(policies, boundary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use warrant_core::{PolicyKind, Provenance, Provider, Statement};

    fn policy(id: &str, statements: Vec<Statement>) -> Policy {
        Policy {
            id: id.into(),
            name: id.into(),
            provider: Provider::Aws,
            kind: PolicyKind::CustomerManaged,
            statements,
            provenance: Provenance::default(),
        }
    }

    fn stmt(effect: Effect, actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            sid: None,
            effect,
            actions: actions.iter().map(|s| s.to_string()).collect(),
            not_actions: vec![],
            resources: resources.iter().map(|s| s.to_string()).collect(),
            not_resources: vec![],
            conditions: None,
        }
    }

    fn attach(p: &Policy) -> Attachment {
        Attachment {
            identity: "i".into(),
            policy: p.id.clone(),
            via: None,
            scope: None,
        }
    }

    fn summary_of(statements: Vec<Statement>) -> PrivilegeSummary {
        let p = policy("p", statements);
        summarize(&[(&attach(&p), &p)], None)
    }

    #[test]
    fn star_on_star_is_admin_and_a_deny_can_take_it_away() {
        let s = summary_of(vec![stmt(Effect::Allow, &["*"], &["*"])]);
        assert!(s.admin_equivalent);
        assert!(s.admin_evidence[0].contains("every action"));
        let denied = summary_of(vec![
            stmt(Effect::Allow, &["*"], &["*"]),
            stmt(Effect::Deny, &["*"], &["*"]),
        ]);
        assert!(!denied.admin_equivalent);
        assert_eq!(denied.n_actions(), 0);
    }

    #[test]
    fn scoped_reads_are_not_admin_and_count_by_level() {
        let s = summary_of(vec![stmt(
            Effect::Allow,
            &["s3:GetObject", "s3:ListBucket"],
            &["arn:aws:s3:::reports/*"],
        )]);
        assert!(!s.admin_equivalent);
        assert_eq!(s.actions_by_level.get(&AccessLevel::Read), Some(&1));
        assert_eq!(s.actions_by_level.get(&AccessLevel::List), Some(&1));
        assert_eq!(s.resource_access.len(), 1);
        assert_eq!(s.resource_access[0].service, "s3");
        assert!(s.wildcard_evidence.is_empty());
    }

    #[test]
    fn passrole_with_lambda_is_an_escalation_path() {
        let s = summary_of(vec![stmt(
            Effect::Allow,
            &[
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:InvokeFunction",
            ],
            &["*"],
        )]);
        assert!(
            s.escalations
                .iter()
                .any(|e| e.technique == "passrole-lambda"),
            "{:?}",
            s.escalations
        );
        // Scoped to one function and one role ARN without wildcards: no escalation claimed.
        let scoped = summary_of(vec![stmt(
            Effect::Allow,
            &[
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:InvokeFunction",
            ],
            &["arn:aws:iam::1:role/exact"],
        )]);
        assert!(scoped.escalations.is_empty());
    }

    fn techniques_of(policies: &[Policy], now: &str) -> Vec<Escalation> {
        let attached: Vec<Attachment> = policies.iter().map(attach).collect();
        let held: Vec<(&Attachment, &Policy)> = attached.iter().zip(policies).collect();
        let now = DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&Utc);
        Analyzer::new().at(now).summarize(&held, None).escalations
    }

    fn names(escalations: &[Escalation]) -> Vec<&str> {
        escalations.iter().map(|e| e.technique.as_str()).collect()
    }

    fn with_condition(mut s: Statement, condition: serde_json::Value) -> Statement {
        s.conditions = Some(condition);
        s
    }

    const NOW: &str = "2026-11-01T00:00:00Z";

    #[test]
    fn aws_managed_policies_cannot_be_rewritten() {
        let managed = policy(
            "p",
            vec![stmt(
                Effect::Allow,
                &["iam:CreatePolicyVersion"],
                &["arn:aws:iam::aws:policy/*"],
            )],
        );
        let e = techniques_of(&[managed], NOW);
        assert!(e.is_empty(), "{e:?}");
        let customer = policy(
            "p",
            vec![stmt(
                Effect::Allow,
                &["iam:CreatePolicyVersion"],
                &["arn:aws:iam::111122223333:policy/*"],
            )],
        );
        assert_eq!(
            names(&techniques_of(&[customer], NOW)),
            ["create-policy-version"]
        );
    }

    #[test]
    fn credentials_for_itself_are_not_another_principal() {
        let own = policy(
            "p",
            vec![stmt(
                Effect::Allow,
                &["iam:CreateAccessKey"],
                &["arn:aws:iam::*:user/${aws:username}"],
            )],
        );
        assert!(techniques_of(&[own], NOW).is_empty());
        let others = policy(
            "p",
            vec![stmt(
                Effect::Allow,
                &["iam:CreateAccessKey"],
                &["arn:aws:iam::*:user/*"],
            )],
        );
        assert_eq!(names(&techniques_of(&[others], NOW)), ["create-access-key"]);
    }

    #[test]
    fn a_deny_in_another_policy_cancels_the_path() {
        let allow = policy(
            "allow",
            vec![stmt(
                Effect::Allow,
                &[
                    "iam:PassRole",
                    "lambda:CreateFunction",
                    "lambda:InvokeFunction",
                ],
                &["*"],
            )],
        );
        let deny = policy(
            "deny",
            vec![stmt(
                Effect::Deny,
                &["iam:PassRole"],
                &["arn:aws:iam::*:role/*"],
            )],
        );
        assert_eq!(
            names(&techniques_of(std::slice::from_ref(&allow), NOW)),
            ["passrole-lambda"]
        );
        assert!(techniques_of(&[allow, deny], NOW).is_empty());
    }

    #[test]
    fn passed_to_service_must_match_the_technique() {
        let ec2_only = policy(
            "p",
            vec![
                with_condition(
                    stmt(Effect::Allow, &["iam:PassRole"], &["*"]),
                    serde_json::json!({"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
                ),
                stmt(
                    Effect::Allow,
                    &[
                        "lambda:CreateFunction",
                        "lambda:InvokeFunction",
                        "ec2:RunInstances",
                    ],
                    &["*"],
                ),
            ],
        );
        assert_eq!(names(&techniques_of(&[ec2_only], NOW)), ["passrole-ec2"]);
    }

    #[test]
    fn expired_allows_grant_nothing_and_undecided_ones_lower_confidence() {
        let expired = policy(
            "p",
            vec![with_condition(
                stmt(Effect::Allow, &["iam:AttachRolePolicy"], &["*"]),
                serde_json::json!({"DateLessThan": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}}),
            )],
        );
        let p = expired.clone();
        let s = Analyzer::new()
            .at(DateTime::parse_from_rfc3339(NOW)
                .unwrap()
                .with_timezone(&Utc))
            .summarize(&[(&attach(&p), &p)], None);
        assert!(!s.admin_equivalent);
        assert!(s.escalations.is_empty());
        assert_eq!(s.n_actions(), 0);

        let mfa = policy(
            "p",
            vec![with_condition(
                stmt(Effect::Allow, &["iam:AttachRolePolicy"], &["*"]),
                serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            )],
        );
        let p = mfa.clone();
        let s = summarize(&[(&attach(&p), &p)], None);
        // Not silently an administrator: a path with low confidence that says why.
        assert!(!s.admin_equivalent);
        let e = &s.escalations[0];
        assert_eq!(e.technique, "attach-policy");
        assert_eq!(e.confidence, Confidence::Low);
        assert!(e.caveats[0].contains("MFA"), "{:?}", e.caveats);
    }

    #[test]
    fn every_technique_is_found_from_its_own_actions_alone() {
        for t in techniques() {
            let actions: Vec<&str> = t
                .required()
                .chain(t.any.iter().take(1).map(String::as_str))
                .collect();
            let p = policy("p", vec![stmt(Effect::Allow, &actions, &["*"])]);
            let found = techniques_of(&[p], NOW);
            assert!(
                found.iter().any(|e| e.technique == t.name),
                "{}: {:?}",
                t.name,
                names(&found)
            );
            // Without its first required action it is not.
            let missing: Vec<&str> = actions.iter().skip(1).copied().collect();
            if !missing.is_empty() && t.any.is_empty() {
                let p = policy("p", vec![stmt(Effect::Allow, &missing, &["*"])]);
                let found = techniques_of(&[p], NOW);
                assert!(
                    !found.iter().any(|e| e.technique == t.name),
                    "{} without {}",
                    t.name,
                    actions[0]
                );
            }
        }
    }

    #[test]
    fn attach_policy_on_everything_is_admin_equivalent() {
        let s = summary_of(vec![stmt(Effect::Allow, &["iam:AttachRolePolicy"], &["*"])]);
        assert!(s.admin_equivalent);
        assert!(s.escalations.iter().any(|e| e.technique == "attach-policy"));
    }

    #[test]
    fn not_action_means_everything_else() {
        let mut s = stmt(Effect::Allow, &[], &["*"]);
        s.not_actions = vec!["iam:*".into()];
        let summary = summary_of(vec![s]);
        assert!(!summary.admin_equivalent);
        assert!(summary.n_actions() > 15_000);
        assert!(!summary.wildcard_evidence.is_empty());
    }

    #[test]
    fn conditional_denies_are_not_trusted_to_remove_access() {
        let mut deny = stmt(Effect::Deny, &["s3:*"], &["*"]);
        deny.conditions = Some(serde_json::json!({"Bool": {"aws:SecureTransport": "false"}}));
        let s = summary_of(vec![stmt(Effect::Allow, &["s3:GetObject"], &["*"]), deny]);
        assert_eq!(s.n_actions(), 1);
    }

    #[test]
    fn a_boundary_limits_effective_access() {
        let p = policy("admin", vec![stmt(Effect::Allow, &["*"], &["*"])]);
        let boundary = policy("boundary", vec![stmt(Effect::Allow, &["s3:Get*"], &["*"])]);
        let s = summarize(&[(&attach(&p), &p)], Some(&boundary));
        assert!(!s.admin_equivalent);
        assert!(s.max_level() <= Some(AccessLevel::Read));
    }

    #[test]
    fn secrets_access_is_reported() {
        let s = summary_of(vec![stmt(
            Effect::Allow,
            &["secretsmanager:GetSecretValue"],
            &["*"],
        )]);
        assert_eq!(
            s.secrets_evidence,
            ["secretsmanager:GetSecretValue is allowed on every resource."]
        );
    }

    #[test]
    fn unknown_actions_get_an_inferred_level_and_are_listed() {
        let s = summary_of(vec![stmt(Effect::Allow, &["newsvc:GetWidget"], &["*"])]);
        assert_eq!(s.unclassified_actions, ["newsvc:GetWidget"]);
        assert_eq!(s.actions_by_level.get(&AccessLevel::Read), Some(&1));
    }

    /// Brute-force reference: test every catalogued action against every statement.
    fn reference_allowed(statements: &[Statement]) -> BTreeSet<String> {
        let c = catalog();
        let matches =
            |patterns: &[String], action: &str| patterns.iter().any(|p| glob_match_ci(p, action));
        let covers = |s: &Statement, action: &str| {
            if s.not_actions.is_empty() {
                matches(&s.actions, action)
            } else {
                !matches(&s.not_actions, action)
            }
        };
        (0..c.len())
            .map(|i| c.name(i).to_string())
            .filter(|action| {
                let allowed = statements
                    .iter()
                    .any(|s| s.effect == Effect::Allow && covers(s, action));
                let denied = statements.iter().any(|s| {
                    s.effect == Effect::Deny
                        && s.conditions.is_none()
                        && (s.resources.iter().any(|r| r == "*") || !s.not_resources.is_empty())
                        && covers(s, action)
                });
                allowed && !denied
            })
            .collect()
    }

    fn arb_statement() -> impl Strategy<Value = Statement> {
        let patterns = prop::sample::select(vec![
            "s3:GetObject",
            "s3:Get*",
            "s3:*",
            "iam:*",
            "iam:Pass*",
            "ec2:Describe*",
            "ec2:Run?nstances",
            "*:List*",
            "kms:Decrypt",
            "sts:*",
            "lambda:*Function*",
            "dynamodb:Query",
        ]);
        (
            any::<bool>(),
            prop::collection::vec(patterns, 1..4),
            any::<bool>(),
            prop::sample::select(vec!["*", "arn:aws:s3:::bucket/*", "arn:aws:iam::1:role/x"]),
        )
            .prop_map(|(allow, actions, not_action, resource)| {
                let actions: Vec<String> = actions.into_iter().map(str::to_string).collect();
                Statement {
                    sid: None,
                    effect: if allow { Effect::Allow } else { Effect::Deny },
                    actions: if not_action { vec![] } else { actions.clone() },
                    not_actions: if not_action { actions } else { vec![] },
                    resources: vec![resource.to_string()],
                    not_resources: vec![],
                    conditions: None,
                }
            })
    }

    /// Every catalogued technique with its own positive principal (just what it needs, on
    /// every resource) and negatives: each needed action missing in turn, the key action
    /// denied, and every allow expired.
    #[test]
    fn every_technique_has_a_positive_and_negative_principals() {
        let now: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().expect("date");
        let past = serde_json::json!({"DateLessThan": {"aws:CurrentTime": "2025-06-30T00:00:00Z"}});
        let found = |statements: Vec<Statement>, name: &str| {
            let p = policy("p", statements);
            Analyzer::new()
                .at(now)
                .summarize(&[(&attach(&p), &p)], None)
                .escalations
                .iter()
                .any(|e| e.technique == name)
        };
        let mut failures = Vec::new();
        for t in techniques() {
            let needed: Vec<&str> = t
                .required()
                .chain(t.any.first().map(String::as_str))
                .collect();
            if !found(vec![stmt(Effect::Allow, &needed, &["*"])], &t.name) {
                failures.push(format!("{}: its positive principal is not found", t.name));
            }
            for missing in &needed {
                let rest: Vec<&str> = needed.iter().copied().filter(|a| a != missing).collect();
                // Another variant of the same technique may need only the rest.
                let variant_fits = techniques().iter().any(|v| {
                    v.name == t.name
                        && v.required().all(|a| rest.contains(&a))
                        && (v.any.is_empty() || v.any.iter().any(|a| rest.contains(&a.as_str())))
                });
                if !rest.is_empty()
                    && !variant_fits
                    && found(vec![stmt(Effect::Allow, &rest, &["*"])], &t.name)
                {
                    failures.push(format!("{}: found without {missing}", t.name));
                }
            }
            let denied = vec![
                stmt(Effect::Allow, &needed, &["*"]),
                stmt(Effect::Deny, &needed[..1], &["*"]),
            ];
            if found(denied, &t.name) {
                failures.push(format!(
                    "{}: found although {} is denied",
                    t.name, needed[0]
                ));
            }
            let mut expired = stmt(Effect::Allow, &needed, &["*"]);
            expired.conditions = Some(past.clone());
            if found(vec![expired], &t.name) {
                failures.push(format!("{}: found although its allow expired", t.name));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn prod_secrets() -> Capability {
        Capability {
            name: "prod-secrets".into(),
            actions: vec!["secretsmanager:GetSecretValue".into()],
            resources: vec!["arn:aws:secretsmanager:*:*:secret:prod/*".into()],
        }
    }

    /// What a compact analyzer (the bulk assessment's) says about holding `prod-secrets`.
    fn holds_prod_secrets(statements: Vec<Statement>, boundary: Option<&Policy>) -> Option<Reach> {
        let p = policy("p", statements);
        let keep = prod_secrets().action_set();
        let mut analyzer = Analyzer::new()
            .compact()
            .with_capabilities(vec![prod_secrets()]);
        analyzer.insert(
            p.id.clone(),
            PolicyAnalysis::new_compact_keeping(&p, Some(&keep)),
        );
        let (_, reach) = analyzer.summarize_with_reach(&[(&attach(&p), &p)], boundary);
        reach.into_iter().find(|r| r.technique == HOLDS_CAPABILITY)
    }

    #[test]
    fn a_capability_is_held_on_its_resources_and_not_elsewhere() {
        let get = ["secretsmanager:GetSecretValue"];
        let held = holds_prod_secrets(vec![stmt(Effect::Allow, &get, &["*"])], None)
            .expect("every secret includes prod's");
        assert_eq!(held.targets, ["prod-secrets"]);
        assert_eq!(held.confidence, Confidence::High);
        // Narrower than the capability but inside it: still held.
        let inside = ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf"];
        assert!(holds_prod_secrets(vec![stmt(Effect::Allow, &get, &inside)], None).is_some());
        let staging = ["arn:aws:secretsmanager:*:*:secret:staging/*"];
        assert!(holds_prod_secrets(vec![stmt(Effect::Allow, &get, &staging)], None).is_none());
        // Another action on the same secrets is not the capability.
        let describe = ["secretsmanager:DescribeSecret"];
        assert!(holds_prod_secrets(vec![stmt(Effect::Allow, &describe, &["*"])], None).is_none());
    }

    #[test]
    fn denies_boundaries_and_conditions_decide_whether_a_capability_is_held() {
        let get = ["secretsmanager:GetSecretValue"];
        let prod = ["arn:aws:secretsmanager:*:*:secret:prod/*"];
        let denied = vec![
            stmt(Effect::Allow, &get, &["*"]),
            stmt(Effect::Deny, &["secretsmanager:*"], &prod),
        ];
        assert!(holds_prod_secrets(denied, None).is_none());
        // A deny elsewhere leaves prod's secrets readable.
        let denied_elsewhere = vec![
            stmt(Effect::Allow, &get, &["*"]),
            stmt(
                Effect::Deny,
                &get,
                &["arn:aws:secretsmanager:*:*:secret:staging/*"],
            ),
        ];
        assert!(holds_prod_secrets(denied_elsewhere, None).is_some());
        let boundary = policy("b", vec![stmt(Effect::Allow, &["s3:*"], &["*"])]);
        assert!(
            holds_prod_secrets(vec![stmt(Effect::Allow, &get, &["*"])], Some(&boundary)).is_none()
        );
        let mut mfa = stmt(Effect::Allow, &get, &prod);
        mfa.conditions = Some(serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}));
        let low = holds_prod_secrets(vec![mfa], None).expect("held under a condition");
        assert_eq!(low.confidence, Confidence::Low);
        assert!(!low.caveats.is_empty());
        let mut expired = stmt(Effect::Allow, &get, &prod);
        expired.conditions =
            Some(serde_json::json!({"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}}));
        let p = policy("p", vec![expired]);
        let analyzer = Analyzer::new()
            .at("2026-11-01T00:00:00Z".parse().expect("date"))
            .with_capabilities(vec![prod_secrets()]);
        let (_, reach) = analyzer.summarize_with_reach(&[(&attach(&p), &p)], None);
        assert!(reach.iter().all(|r| r.technique != HOLDS_CAPABILITY));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn bitset_evaluation_matches_brute_force(statements in prop::collection::vec(arb_statement(), 1..4)) {
            let p = policy("p", statements.clone());
            let fast = Analyzer::new().allowed_actions(&[(&attach(&p), &p)]);
            prop_assert_eq!(fast, reference_allowed(&statements));
        }

        #[test]
        fn adding_an_allow_never_lowers_privilege(statements in prop::collection::vec(arb_statement(), 1..4), extra in arb_statement()) {
            let before = summary_of(statements.clone());
            let mut more = statements;
            let mut extra = extra;
            extra.effect = Effect::Allow;
            more.push(extra);
            let after = summary_of(more);
            prop_assert!(after.n_actions() >= before.n_actions());
            prop_assert!(after.admin_equivalent || !before.admin_equivalent);
        }
    }
}
