//! NHI7: how old the identity's secrets are.

use warrant_core::{CredentialKind, RuleId, Severity};

use super::{Context, Emitter, Subject, date, days};

/// Old access keys, spare keys, tokens without expiry, secrets never rotated (NHI7).
pub(super) fn rotation(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let config = ctx.config;
    let now = ctx.now;
    let active_credentials = &subject.active_credentials;
    let active_keys: Vec<_> = active_credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::AccessKey)
        .collect();
    for key in &active_keys {
        if let Some(created) = key.last_rotated.or(key.created) {
            let age = days(created, now);
            if age > config.key_max_age_days {
                let severity = (age > config.key_max_age_days * 4).then_some(Severity::High);
                out.emit(
                    RuleId::AccessKeyOld,
                    identity,
                    &key.id,
                    severity,
                    vec![format!(
                        "Access key {} was created on {} ({age} days ago; the limit is {}).",
                        key.preview.as_deref().unwrap_or(&key.id),
                        date(created),
                        config.key_max_age_days
                    )],
                );
            }
        }
    }
    if active_keys.len() >= 2 {
        let ids: Vec<&str> = active_keys
            .iter()
            .map(|k| k.preview.as_deref().unwrap_or(&k.id))
            .collect();
        out.emit(
            RuleId::TwoActiveKeys,
            identity,
            "",
            None,
            vec![format!("Active access keys: {}.", ids.join(", "))],
        );
    }
    for credential in active_credentials {
        let label = credential
            .preview
            .clone()
            .unwrap_or_else(|| credential.id.clone());
        if matches!(
            credential.kind,
            CredentialKind::FineGrainedToken | CredentialKind::PersonalAccessToken
        ) && credential.expires.is_none()
        {
            out.emit(
                RuleId::TokenNoExpiry,
                identity,
                &credential.id,
                None,
                vec![format!("{} {label} has no expiry date.", credential.kind)],
            );
        }
        if matches!(
            credential.kind,
            CredentialKind::Secret | CredentialKind::DeployKey | CredentialKind::WebhookSecret
        ) && let Some(rotated) = credential.last_rotated.or(credential.created)
            && days(rotated, now) > config.secret_max_age_days
        {
            out.emit(
                RuleId::SecretNotRotated,
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} {label} last changed on {} ({} days ago).",
                    credential.kind,
                    date(rotated),
                    days(rotated, now)
                )],
            );
        }
    }
}
