//! NHI1: who answers for the identity, and whether they are still here.

use warrant_core::attribute;
use warrant_core::{CredentialKind, IdentityKind, OwnerKind, OwnerStatus, RuleId, Timestamp};

use super::{Context, Emitter, Subject, date, days, provider_managed, usage_tracked};

/// Owners: missing, shared mailboxes, suspended, deprovisioned or unknown (NHI1).
pub(super) fn ownership(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let config = ctx.config;
    let is_human = subject.is_human;
    let exempt_from_ownership = is_human
        || provider_managed(identity)
        || identity.kind == IdentityKind::GitHubActions
        || (identity
            .attributes
            .contains_key(attribute::DEFAULT_SERVICE_ACCOUNT)
            && !ctx
                .index
                .attachments_by_identity
                .contains_key(identity.id.as_str()));
    if !exempt_from_ownership {
        // A tier that does not require an owner (say, sandbox) does not ask for one.
        let required = ctx.tier.is_none_or(|t| t.require_owner);
        if identity.owners.is_empty() && required {
            out.emit(
                RuleId::NoOwner,
                identity,
                "",
                None,
                vec![format!(
                    "{} {} has no owner: no assignment, owner tag, label or annotation, no creator \
                     in the activity logs and no CODEOWNERS entry.",
                    identity.kind, identity.name
                )],
            );
        } else {
            let mut people = 0;
            let mut shared = Vec::new();
            let mut suspended = Vec::new();
            let mut deprovisioned = Vec::new();
            let mut unknown = Vec::new();
            for owner in &identity.owners {
                let record = ctx.index.owner(&owner.id);
                let is_mailbox = record.is_some_and(|r| r.kind == OwnerKind::SharedMailbox)
                    || config.is_shared_mailbox(&owner.id);
                if is_mailbox {
                    shared.push(owner.id.clone());
                    continue;
                }
                match record.map(|r| r.status) {
                    Some(OwnerStatus::Suspended) => suspended.push(owner.id.clone()),
                    Some(OwnerStatus::Deprovisioned) => deprovisioned.push(owner.id.clone()),
                    Some(_) => people += 1,
                    None if ctx.directory_loaded && owner.id.contains('@') => {
                        unknown.push(owner.id.clone())
                    }
                    // Team handles and unresolved names still count as an owner.
                    None => people += 1,
                }
            }
            if people == 0 {
                if !deprovisioned.is_empty() {
                    out.emit(
                        RuleId::OwnerDeprovisioned,
                        identity,
                        "",
                        None,
                        vec![format!(
                            "Owner {} is deprovisioned in the directory.",
                            deprovisioned.join(", ")
                        )],
                    );
                } else if !suspended.is_empty() {
                    out.emit(
                        RuleId::OwnerSuspended,
                        identity,
                        "",
                        None,
                        vec![format!(
                            "Owner {} is suspended in the directory.",
                            suspended.join(", ")
                        )],
                    );
                } else if !shared.is_empty() {
                    out.emit(
                        RuleId::OwnerSharedMailbox,
                        identity,
                        "",
                        None,
                        vec![format!(
                            "The only owner is the shared mailbox {}.",
                            shared.join(", ")
                        )],
                    );
                }
            }
            if !unknown.is_empty() {
                out.emit(
                    RuleId::OwnerUnknown,
                    identity,
                    "",
                    None,
                    vec![format!(
                        "Owner {} is not in the imported directory.",
                        unknown.join(", ")
                    )],
                );
            }
        }
    }
}

/// Identities and credentials nobody uses any more (NHI1).
/// What the identity's governance tier requires of it: a purpose, an expiry, an allowed
/// environment. Without a governance policy nothing is required here.
pub(super) fn requirements(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let Some(tier) = ctx.tier else { return };
    let identity = subject.identity;
    if subject.is_human || provider_managed(identity) {
        return;
    }
    if tier.require_purpose
        && identity
            .purpose
            .as_deref()
            .is_none_or(|p| p.trim().is_empty())
    {
        out.emit(
            RuleId::NoPurpose,
            identity,
            "",
            None,
            vec![format!(
                "Tier {} requires a purpose; {} {} records none.",
                tier.name, identity.kind, identity.name
            )],
        );
    }
    if tier.require_expiry && crate::governance::recorded_expiry(identity).is_none() {
        out.emit(
            RuleId::NoExpiry,
            identity,
            "",
            None,
            vec![format!(
                "Tier {} requires an expiry; {} {} has no expires tag.",
                tier.name, identity.kind, identity.name
            )],
        );
    }
    if !tier.environments.is_empty() && !tier.environments.contains(&identity.environment) {
        let allowed: Vec<&str> = tier.environments.iter().map(|e| e.as_str()).collect();
        out.emit(
            RuleId::EnvironmentNotAllowed,
            identity,
            "",
            None,
            vec![format!(
                "Tier {} allows {}; the identity is in {}.",
                tier.name,
                allowed.join(", "),
                identity.environment
            )],
        );
    }
    reviews(identity, tier, ctx, out);
}

/// Review cadence: a review due every so many days, and at once after a privilege change.
fn reviews(
    identity: &warrant_core::Identity,
    tier: &crate::TierRules,
    ctx: &Context<'_>,
    out: &mut Emitter<'_>,
) {
    let review = ctx.review;
    if let Some(every) = tier.review_every_days {
        let (since, what) = match review {
            Some(r) => (
                Some(r.at),
                format!("it was last reviewed on {} ({})", date(r.at), r.campaign),
            ),
            None => {
                // Never reviewed: due a cadence after it was created or became known,
                // whichever is later (an old identity imported today is not overdue today).
                let start = match (identity.created, ctx.known_since) {
                    (Some(c), Some(k)) => Some(c.max(k)),
                    (c, k) => c.or(k),
                };
                let what = match (start, ctx.known_since) {
                    (Some(s), Some(k)) if s == k => {
                        format!("it was never reviewed and has been known since {}", date(k))
                    }
                    (Some(s), _) => format!("it was never reviewed and was created on {}", date(s)),
                    (None, _) => String::new(),
                };
                (start, what)
            }
        };
        if let Some(since) = since
            && days(since, ctx.now) > every
        {
            out.emit(
                RuleId::ReviewOverdue,
                identity,
                "",
                None,
                vec![format!(
                    "Tier {} asks for an access review every {every} days; {what}, {} days ago.",
                    tier.name,
                    days(since, ctx.now)
                )],
            );
        }
    }
    if tier.review_on_privilege_change
        && let Some(r) = review
        && let Some(seen) = &r.holdings
        && seen.starts_with(&format!("{}:", crate::HOLDINGS_VERSION))
        && *seen != crate::holdings(ctx.index, identity)
    {
        out.emit(
            RuleId::ReviewAfterPrivilegeChange,
            identity,
            "",
            None,
            vec![format!(
                "The policies it holds changed after its review on {} ({}); tier {} asks for a \
                 review after every privilege change.",
                date(r.at),
                r.campaign,
                tier.name
            )],
        );
    }
}

pub(super) fn unused(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let config = ctx.config;
    let now = ctx.now;
    let active_credentials = &subject.active_credentials;
    let is_human = subject.is_human;
    let grace = |t: Option<Timestamp>| ctx.in_grace(t);
    if usage_tracked(identity)
        && !is_human
        && !provider_managed(identity)
        && !grace(identity.created)
    {
        // Past the tier's decommission threshold, the same finding is more urgent.
        let past_delete = |idle: i64| {
            ctx.tier
                .and_then(|t| t.delete_after_days.map(|d| (t, d)))
                .filter(|(_, d)| idle > *d)
        };
        let escalate = |idle: i64, evidence: &mut Vec<String>| {
            past_delete(idle).map(|(t, d)| {
                evidence.push(format!(
                    "Tier {} decommissions identities unused for {d} days.",
                    t.name
                ));
                warrant_core::Severity::High
            })
        };
        match identity.last_used {
            Some(last) if days(last, now) > config.unused_days => {
                let mut evidence = vec![format!(
                    "Last used {} ({} days before {}).",
                    date(last),
                    days(last, now),
                    date(now)
                )];
                let severity = escalate(days(last, now), &mut evidence);
                out.emit(RuleId::IdentityUnused, identity, "", severity, evidence);
            }
            None if identity
                .created
                .is_some_and(|c| days(c, now) > config.unused_days) =>
            {
                let created = identity.created.map(date).unwrap_or_default();
                let mut evidence = vec![format!("Never used since it was created on {created}.")];
                let idle = identity.created.map_or(0, |c| days(c, now));
                let severity = escalate(idle, &mut evidence);
                out.emit(RuleId::IdentityUnused, identity, "", severity, evidence);
            }
            _ => {}
        }
    }
    for credential in active_credentials {
        if !matches!(
            credential.kind,
            CredentialKind::AccessKey
                | CredentialKind::FineGrainedToken
                | CredentialKind::PersonalAccessToken
                | CredentialKind::DeployKey
        ) {
            continue;
        }
        if grace(credential.created) {
            continue;
        }
        let label = credential
            .preview
            .clone()
            .unwrap_or_else(|| credential.id.clone());
        match credential.last_used {
            Some(last) if days(last, now) > config.unused_days => out.emit(
                RuleId::CredentialUnused,
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} {label} last used {} ({} days ago).",
                    credential.kind,
                    date(last),
                    days(last, now)
                )],
            ),
            None if credential.created.is_some() => out.emit(
                RuleId::CredentialUnused,
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} {label} has never been used since {}.",
                    credential.kind,
                    credential.created.map(date).unwrap_or_default()
                )],
            ),
            _ => {}
        }
    }
}
