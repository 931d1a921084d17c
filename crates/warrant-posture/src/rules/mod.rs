//! The posture rules, one module per rule family. Their ids, OWASP mapping, default severity and
//! fix live in the registry (`warrant_core::rules`); each finding says which facts made it fire.

mod authentication;
mod ownership;
mod permissions;
mod reuse;
mod rotation;
mod trust;

pub(crate) use trust::subject_conditions;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use warrant_core::attribute;
use warrant_core::{
    Credential, Environment, Finding, Identity, IdentityKind, IdentityStatus, PrivilegeSummary,
    RuleId, Severity, Timestamp, inventory::InventoryIndex,
};

use crate::config::PostureConfig;
use crate::governance::TierRules;

/// What the rules read besides the identity: shared by every identity but `config` and
/// `tier`, which are the identity's governance tier's when a policy applies.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub index: &'a InventoryIndex<'a>,
    pub config: &'a PostureConfig,
    pub tier: Option<&'a TierRules>,
    /// The identity's latest access review, when a tier applies and it was reviewed.
    pub review: Option<&'a crate::ReviewRecord>,
    /// Since when the identity has been known (its first import), when a tier applies.
    pub known_since: Option<Timestamp>,
    pub now: Timestamp,
    pub privileges: &'a HashMap<String, Arc<PrivilegeSummary>>,
    pub our_accounts: &'a HashSet<String>,
    pub account_environment: &'a HashMap<String, Environment>,
    pub fingerprint_holders: &'a HashMap<&'a str, Vec<&'a str>>,
    pub directory_loaded: bool,
}

impl Context<'_> {
    /// Whether something created at `t` is too new to be called unused.
    fn in_grace(&self, t: Option<Timestamp>) -> bool {
        t.is_some_and(|t| days(t, self.now) < self.config.new_identity_grace_days)
    }
}

/// The identity being evaluated, with what every rule family reads about it.
pub(crate) struct Subject<'a> {
    identity: &'a Identity,
    credentials: Vec<&'a Credential>,
    active_credentials: Vec<&'a Credential>,
    privilege: Arc<PrivilegeSummary>,
    is_human: bool,
}

/// Collects findings, applying rule enable/disable and severity overrides.
pub(crate) struct Emitter<'a> {
    config: &'a PostureConfig,
    pub findings: Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub fn new(config: &'a PostureConfig) -> Self {
        Emitter {
            config,
            findings: Vec::new(),
        }
    }

    fn emit(
        &mut self,
        rule: RuleId,
        identity: &Identity,
        discriminator: &str,
        severity: Option<Severity>,
        evidence: Vec<String>,
    ) {
        if self.config.disabled_rules.contains(&rule) {
            return;
        }
        let severity = self
            .config
            .severity
            .get(&rule)
            .copied()
            .or(severity)
            .unwrap_or(rule.spec().default_severity);
        self.findings.push(Finding::of_rule(
            rule,
            severity,
            &identity.id,
            discriminator,
            evidence,
        ));
    }
}

fn days(from: Timestamp, to: Timestamp) -> i64 {
    (to - from).num_days()
}

fn date(t: Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Whether the provider reports use for this kind, so "never used" is a fact, not a gap.
fn usage_tracked(identity: &Identity) -> bool {
    match identity.kind {
        IdentityKind::AwsRole => true,
        IdentityKind::AwsUser => identity.login.is_some() || identity.last_used.is_some(),
        IdentityKind::GitHubPat | IdentityKind::GitHubDeployKey => true,
        _ => identity.last_used.is_some(),
    }
}

/// Identities AWS creates and manages itself, out of the customer's hands.
fn provider_managed(identity: &Identity) -> bool {
    identity
        .attributes
        .get(attribute::SERVICE_LINKED)
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The identity's derived status: dormant when unused for `dormant_days`.
pub(crate) fn derived_status(
    identity: &Identity,
    config: &PostureConfig,
    now: Timestamp,
) -> IdentityStatus {
    if identity.status != IdentityStatus::Active || !usage_tracked(identity) {
        return identity.status;
    }
    let reference = identity.last_used.or(identity.created);
    match reference {
        Some(t) if days(t, now) > config.dormant_days => IdentityStatus::Dormant,
        _ => identity.status,
    }
}

/// Runs every rule family on one identity.
pub(crate) fn evaluate(identity: &Identity, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let credentials = ctx
        .index
        .credentials_by_identity
        .get(identity.id.as_str())
        .cloned()
        .unwrap_or_default();
    let active_credentials: Vec<&Credential> =
        credentials.iter().copied().filter(|c| c.active).collect();
    let subject = Subject {
        identity,
        privilege: ctx
            .privileges
            .get(&identity.id)
            .cloned()
            .unwrap_or_default(),
        is_human: identity.actor == warrant_core::ActorKind::Human,
        credentials,
        active_credentials,
    };

    // A disabled identity has one problem left: credentials that still work.
    if matches!(
        identity.status,
        IdentityStatus::Disabled | IdentityStatus::Decommissioned
    ) {
        if !subject.active_credentials.is_empty() {
            let ids: Vec<String> = subject
                .active_credentials
                .iter()
                .map(|c| c.preview.clone().unwrap_or_else(|| c.id.clone()))
                .collect();
            out.emit(
                RuleId::DisabledWithActiveCredentials,
                identity,
                "",
                None,
                vec![
                    format!("The identity is {}.", identity.status),
                    format!("Active credentials: {}.", ids.join(", ")),
                ],
            );
        }
        return;
    }

    ownership::ownership(&subject, ctx, out);
    ownership::requirements(&subject, ctx, out);
    ownership::unused(&subject, ctx, out);
    trust::trust_into(&subject, ctx, out);
    trust::third_party_apps(&subject, ctx, out);
    authentication::authentication(&subject, ctx, out);
    permissions::permissions(&subject, ctx, out);
    rotation::rotation(&subject, ctx, out);
    reuse::reuse(&subject, ctx, out);
}
