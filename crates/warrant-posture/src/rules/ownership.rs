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
        if identity.owners.is_empty() {
            out.emit(
                RuleId::NoOwner,
                identity,
                "",
                None,
                vec![format!(
                    "{} {} has no owner tag, label, annotation or directory record.",
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
        match identity.last_used {
            Some(last) if days(last, now) > config.unused_days => out.emit(
                RuleId::IdentityUnused,
                identity,
                "",
                None,
                vec![format!(
                    "Last used {} ({} days before {}).",
                    date(last),
                    days(last, now),
                    date(now)
                )],
            ),
            None if identity
                .created
                .is_some_and(|c| days(c, now) > config.unused_days) =>
            {
                let created = identity.created.map(date).unwrap_or_default();
                out.emit(
                    RuleId::IdentityUnused,
                    identity,
                    "",
                    None,
                    vec![format!("Never used since it was created on {created}.")],
                );
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
