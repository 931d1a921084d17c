//! Effective privilege of an identity from the policies it holds.
//!
//! Evaluation follows IAM's logic where it can be decided statically: an action is allowed when an
//! `Allow` statement covers it and no unconditional `Deny` on every resource removes it; a
//! permissions boundary intersects. Where it cannot be decided (conditions, resource-scoped
//! denies) the analysis errs towards "allowed", because under-reporting privilege is the worse
//! mistake for a security tool; such cases set `conditional`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use warrant_core::{
    AccessLevel, Attachment, Effect, Escalation, Grant, Policy, PrivilegeSummary, ResourceAccess,
};

use crate::catalog::{ActionSet, catalog};

mod escalation;
mod statement;

use escalation::{ESCALATIONS, SECRET_ACTIONS, SELF_GRANT};
pub use statement::PolicyAnalysis;

/// Shares policy expansions between the many identities that hold the same policies.
#[derive(Debug, Default)]
pub struct Analyzer {
    cache: HashMap<String, Arc<PolicyAnalysis>>,
    /// Leave out per-statement grants and per-resource access (for bulk assessments of many
    /// identities, where those lists would cost gigabytes and only `show` needs them).
    compact: bool,
}

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
            compact: false,
        }
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
        let c = catalog();
        let mut allowed = c.empty_set();
        let mut allowed_everywhere = c.empty_set();
        let mut allowed_wildcard = c.empty_set();
        let mut denied = c.empty_set();
        let mut summary = PrivilegeSummary::default();
        let mut inferred: BTreeMap<String, AccessLevel> = BTreeMap::new();
        let mut resource_levels: BTreeMap<(String, String), AccessLevel> = BTreeMap::new();
        let mut admin_statements = Vec::new();

        for (attachment, policy) in policies {
            let analysis = self.analysis(policy);
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
                match s.effect {
                    Effect::Deny => {
                        if s.unconditional && s.all_resources {
                            s.set.union_into(&mut denied);
                        }
                    }
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
        let self_granting: Vec<&str> = SELF_GRANT
            .iter()
            .copied()
            .filter(|a| {
                c.index_of(a)
                    .is_some_and(|i| allowed_everywhere.contains(i))
            })
            .collect();
        if !self_granting.is_empty() {
            summary.admin_equivalent = true;
            summary.admin_evidence.push(format!(
                "Can grant itself any permission: {} allowed on every resource.",
                self_granting.join(", ")
            ));
        }

        for technique in ESCALATIONS {
            let present = |a: &str| c.index_of(a).is_some_and(|i| allowed_wildcard.contains(i));
            let all_needed = technique.all.iter().all(|a| present(a));
            let any_ok = technique.any.is_empty() || technique.any.iter().any(|a| present(a));
            if all_needed && any_ok {
                let mut actions: Vec<String> =
                    technique.all.iter().map(|a| a.to_string()).collect();
                actions.extend(
                    technique
                        .any
                        .iter()
                        .filter(|a| present(a))
                        .map(|a| a.to_string()),
                );
                summary.escalations.push(Escalation {
                    technique: technique.name.to_string(),
                    actions,
                    explanation: technique.explanation.to_string(),
                });
            }
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
        summary
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
    use crate::catalog::glob_match_ci;
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
