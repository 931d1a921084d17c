//! NHI4 and NHI10: how the identity authenticates, and people signing in as machines.

use warrant_core::attribute;
use warrant_core::{ActorKind, CredentialKind, RuleId, Severity};

use super::{Context, Emitter, Subject, date, days};

/// Console passwords, legacy tokens, classic PATs and plaintext secrets (NHI4, NHI10, NHI2).
pub(super) fn authentication(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let config = ctx.config;
    let now = ctx.now;
    let active_credentials = &subject.active_credentials;
    let is_human = subject.is_human;
    if let Some(login) = &identity.login {
        let machine = identity.actor == ActorKind::Machine;
        if login.password_enabled && machine {
            out.emit(
                RuleId::MachineConsolePassword,
                identity,
                "",
                None,
                vec![format!(
                    "{} is a machine user with a console password.",
                    identity.name
                )],
            );
        }
        if login.password_enabled
            && !login.mfa_active
            && !is_human
            && !identity.attributes.contains_key(attribute::ROOT)
        {
            out.emit(
                RuleId::PasswordWithoutMfa,
                identity,
                "",
                None,
                vec![format!(
                    "{} has a console password and no MFA device.",
                    identity.name
                )],
            );
        }
        if machine && let Some(used) = login.password_last_used {
            out.emit(
                RuleId::MachinePasswordUsed,
                identity,
                "",
                (days(used, now) > config.unused_days).then_some(Severity::Medium),
                vec![format!(
                    "The console password of machine user {} was last used on {}.",
                    identity.name,
                    date(used)
                )],
            );
        }
    }
    for credential in active_credentials {
        let attr = |k: &str| {
            credential
                .attributes
                .get(k)
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        };
        let label = credential
            .preview
            .clone()
            .unwrap_or_else(|| credential.id.clone());
        if credential.kind == CredentialKind::ServiceAccountToken && attr(attribute::LEGACY) {
            out.emit(
                RuleId::LegacySaToken,
                identity,
                &credential.id,
                None,
                vec![format!(
                    "Secret {} holds a non-expiring token for {}.",
                    credential.storage.as_deref().unwrap_or("?"),
                    identity.name
                )],
            );
        }
        if credential.kind == CredentialKind::PersonalAccessToken && attr(attribute::CLASSIC) {
            let scopes = credential
                .attributes
                .get(attribute::SCOPES)
                .map(|s| s.to_string())
                .unwrap_or_default();
            out.emit(
                RuleId::ClassicPat,
                identity,
                &credential.id,
                None,
                vec![format!("Classic PAT {label} with scopes {scopes}.")],
            );
        }
        if attr(attribute::PLAINTEXT) {
            out.emit(
                RuleId::PlaintextSecretInConfig,
                identity,
                &credential.id,
                None,
                vec![format!(
                    "{} ({label}) is written in plain text at {}.",
                    credential
                        .attributes
                        .get(attribute::CONFIG_KEY)
                        .and_then(|k| k.as_str())
                        .unwrap_or("a secret"),
                    credential
                        .storage
                        .as_deref()
                        .unwrap_or("?")
                        .trim_start_matches(warrant_core::PLAINTEXT_STORAGE_PREFIX)
                )],
            );
        }
    }
}
