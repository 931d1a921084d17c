//! One policy statement expanded once into what summaries read: its action set (sparse or
//! dense), its resource scope, and the text evidence quotes.

use std::collections::BTreeMap;

use warrant_core::{AccessLevel, Effect, Policy, Statement};

use crate::catalog::{ActionSet, catalog};

/// One statement, expanded once. A million of these are alive during a bulk assessment, so
/// what every summary reads stays inline and the text only evidence and full summaries quote
/// sits behind one optional box.
#[derive(Debug, Clone)]
pub(super) struct StatementAnalysis {
    pub(super) effect: Effect,
    pub(super) set: StatementSet,
    /// Literal actions missing from the catalogue, with their inferred level.
    pub(super) inferred: Box<[(String, AccessLevel)]>,
    pub(super) unconditional: bool,
    /// Applies to every resource (`*`, or `NotResource`).
    pub(super) all_resources: bool,
    /// Applies to some resource pattern with a wildcard (could cover other principals).
    pub(super) wildcard_resources: bool,
    /// The services of the statement that are [`warrant_core::CONTROL_SERVICES`] (all that
    /// compact summaries keep).
    pub(super) control_services: Box<[&'static str]>,
    pub(super) n_actions: usize,
    pub(super) max_level: Option<AccessLevel>,
    pub(super) admin: bool,
    pub(super) wildcard_actions: bool,
    /// `None` only in compact analyses, for statements no evidence quotes.
    pub(super) text: Option<Box<StatementText>>,
    /// Resources and conditions, kept (compact analyses too) for statements that name an
    /// action of an escalation technique or carry conditions: escalation paths and condition
    /// verdicts read them at summary time.
    pub(super) scope: Option<Box<StatementScope>>,
}

#[derive(Debug, Clone)]
pub(super) struct StatementScope {
    pub(super) resources: Box<[String]>,
    pub(super) not_resources: Box<[String]>,
    pub(super) conditions: Option<serde_json::Value>,
    /// Names an action some technique needs.
    pub(super) escalation_relevant: bool,
}

#[derive(Debug, Clone)]
pub(super) struct StatementText {
    pub(super) resources: Vec<String>,
    pub(super) actions_display: Vec<String>,
    /// Highest level per service, `*` standing for all services.
    pub(super) per_service: Vec<(String, AccessLevel)>,
    pub(super) conditions: Option<serde_json::Value>,
    pub(super) sid: Option<String>,
}

/// All statements of one policy, expanded once and shared by every holder.
#[derive(Debug, Clone)]
pub struct PolicyAnalysis {
    pub(super) statements: Vec<StatementAnalysis>,
    /// Built for compact summaries: statements keep their action and resource text only where
    /// evidence quotes it (administrator and wildcard statements).
    pub(super) compact: bool,
}

impl PolicyAnalysis {
    pub fn new(policy: &Policy) -> PolicyAnalysis {
        PolicyAnalysis {
            statements: policy
                .statements
                .iter()
                .map(|s| analyze_statement(s, false))
                .collect(),
            compact: false,
        }
    }

    /// For a compact [`Analyzer`] only: a million statements' copied action and resource
    /// lists would cost gigabytes that compact summaries never read.
    pub fn new_compact(policy: &Policy) -> PolicyAnalysis {
        PolicyAnalysis::new_compact_keeping(policy, None)
    }

    /// [`PolicyAnalysis::new_compact`] that also keeps the resources of statements naming any
    /// action of `keep` (a sensitive capability's), which compact analyses otherwise drop.
    pub fn new_compact_keeping(policy: &Policy, keep: Option<&ActionSet>) -> PolicyAnalysis {
        PolicyAnalysis {
            statements: policy
                .statements
                .iter()
                .map(|s| analyze_statement_keeping(s, true, keep))
                .collect(),
            compact: true,
        }
    }
}

/// Expands one statement. `compact` leaves out the text of statements no evidence quotes.
pub(super) fn analyze_statement(statement: &Statement, compact: bool) -> StatementAnalysis {
    analyze_statement_keeping(statement, compact, None)
}

/// [`analyze_statement`], keeping the scope of a statement that names an action of `keep`.
fn analyze_statement_keeping(
    statement: &Statement,
    compact: bool,
    keep: Option<&ActionSet>,
) -> StatementAnalysis {
    let c = catalog();
    let mut set = c.empty_set();
    let mut inferred = Vec::new();
    let mut wildcard_actions = false;
    let mut expand =
        |patterns: &[String], set: &mut ActionSet, inferred: &mut Vec<(String, AccessLevel)>| {
            for pattern in patterns {
                let has_wildcard = pattern.contains(['*', '?']);
                if has_wildcard {
                    let action_part = pattern.split_once(':').map(|(_, a)| a).unwrap_or(pattern);
                    if pattern.trim() == "*" || action_part == "*" {
                        wildcard_actions = true;
                    }
                }
                if !c.expand_into(pattern, set) && !has_wildcard && !pattern.trim().is_empty() {
                    inferred.push((pattern.clone(), crate::catalog::infer_level(pattern)));
                }
            }
        };
    if statement.not_actions.is_empty() {
        expand(&statement.actions, &mut set, &mut inferred);
    } else {
        // NotAction: everything except the listed actions.
        let mut excluded = c.empty_set();
        let mut ignored = Vec::new();
        expand(&statement.not_actions, &mut excluded, &mut ignored);
        set.fill();
        set.subtract(&excluded);
        wildcard_actions = true;
    }
    let all_resources =
        !statement.not_resources.is_empty() || statement.resources.iter().any(|r| r.trim() == "*");
    // A policy variable (`${aws:username}`) stands for whoever holds the policy, so like a
    // wildcard it reaches a principal no ARN names.
    let wildcard_resources = all_resources
        || statement
            .resources
            .iter()
            .any(|r| r.contains('*') || r.contains("${"));

    let full = set.count() == c.len();
    let mut per_service: BTreeMap<String, AccessLevel> = BTreeMap::new();
    if full {
        per_service.insert("*".to_string(), AccessLevel::PermissionsManagement);
    } else {
        for i in set.iter() {
            if let Some(level) = c.level(i) {
                let entry = per_service.entry(c.service(i).to_string()).or_insert(level);
                *entry = (*entry).max(level);
            }
        }
    }
    for (action, level) in &inferred {
        let service = action
            .split_once(':')
            .map(|(s, _)| s)
            .unwrap_or(action)
            .to_ascii_lowercase();
        let entry = per_service.entry(service).or_insert(*level);
        *entry = (*entry).max(*level);
    }
    let max_level = per_service.values().copied().max();
    let control_services: Box<[&'static str]> = warrant_core::CONTROL_SERVICES
        .iter()
        .copied()
        .filter(|c| per_service.contains_key(*c))
        .collect();
    let unconditional = statement.conditions.is_none();
    let admin = statement.effect == Effect::Allow && unconditional && full && all_resources;
    // Evidence quotes administrator statements and wildcard actions on every resource.
    let quoted = admin || (wildcard_actions && all_resources);
    let text = (!compact || quoted).then(|| {
        Box::new(StatementText {
            resources: negated(&statement.resources, &statement.not_resources),
            actions_display: negated(&statement.actions, &statement.not_actions),
            per_service: per_service.into_iter().collect(),
            conditions: statement.conditions.clone(),
            sid: statement.sid.clone(),
        })
    });
    let escalation_relevant = set.intersects(super::escalation::technique_action_set());
    let kept = keep.is_some_and(|k| set.intersects(k));
    let scope = (escalation_relevant || kept || statement.conditions.is_some()).then(|| {
        Box::new(StatementScope {
            resources: statement.resources.clone().into_boxed_slice(),
            not_resources: statement.not_resources.clone().into_boxed_slice(),
            conditions: statement.conditions.clone(),
            escalation_relevant,
        })
    });
    StatementAnalysis {
        scope,
        effect: statement.effect,
        n_actions: set.count() + inferred.len(),
        admin,
        set: StatementSet::from_set(set),
        inferred: inferred.into_boxed_slice(),
        unconditional,
        all_resources,
        wildcard_resources,
        control_services,
        max_level,
        wildcard_actions,
        text,
    }
}

/// `listed` followed by `!`-prefixed `excluded` (NotAction / NotResource), for display.
pub(super) fn negated(listed: &[String], excluded: &[String]) -> Vec<String> {
    listed
        .iter()
        .cloned()
        .chain(excluded.iter().map(|e| format!("!{e}")))
        .collect()
}

/// A statement's actions: most statements name a handful, so they keep indices (a few bytes)
/// rather than a bitset over the whole catalogue (2.5 KB); wildcard statements keep the bitset.
/// With a million statements this is the difference between megabytes and gigabytes.
#[derive(Debug, Clone)]
pub(super) enum StatementSet {
    Sparse(Vec<u32>),
    Dense(ActionSet),
}

impl StatementSet {
    /// Below this many actions, indices are smaller than the bitset.
    const SPARSE_LIMIT: usize = 512;

    pub(super) fn from_set(set: ActionSet) -> StatementSet {
        if set.count() <= Self::SPARSE_LIMIT {
            StatementSet::Sparse(set.iter().filter_map(|i| u32::try_from(i).ok()).collect())
        } else {
            StatementSet::Dense(set)
        }
    }

    pub(super) fn contains(&self, index: usize) -> bool {
        match self {
            StatementSet::Sparse(indices) => u32::try_from(index)
                .map(|i| indices.binary_search(&i).is_ok())
                .unwrap_or(false),
            StatementSet::Dense(set) => set.contains(index),
        }
    }

    pub(super) fn union_into(&self, target: &mut ActionSet) {
        match self {
            StatementSet::Sparse(indices) => {
                for i in indices {
                    target.insert(*i as usize);
                }
            }
            StatementSet::Dense(set) => target.union_with(set),
        }
    }
}
