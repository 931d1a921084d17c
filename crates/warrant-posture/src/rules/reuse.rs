//! NHI9: one secret configured for several identities.

use std::collections::HashSet;

use warrant_core::RuleId;

use super::{Context, Emitter, Subject};

/// The same secret configured for several identities (NHI9).
pub(super) fn reuse(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let credentials = &subject.credentials;
    let mut reported = HashSet::new();
    for credential in credentials {
        if let Some(fingerprint) = credential.fingerprint.as_deref()
            && let Some(holders) = ctx.fingerprint_holders.get(fingerprint)
            && holders.len() > 1
            && reported.insert(fingerprint)
        {
            let others: Vec<&str> = holders
                .iter()
                .copied()
                .filter(|h| *h != identity.id)
                .collect();
            out.emit(
                RuleId::CredentialReused,
                identity,
                fingerprint,
                None,
                vec![format!(
                    "The secret {} ({}) is also configured for {}.",
                    credential.preview.as_deref().unwrap_or("?"),
                    fingerprint,
                    others.join(", ")
                )],
            );
        }
    }
}
