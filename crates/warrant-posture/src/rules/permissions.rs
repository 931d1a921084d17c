//! NHI5: what the identity is allowed to do.

use warrant_core::attribute;
use warrant_core::{Environment, IdentityKind, RuleId, Severity};

use super::{Context, Emitter, Subject};

/// Administrator access, wildcards, escalation paths and broad secret reads (NHI5).
pub(super) fn permissions(subject: &Subject<'_>, ctx: &Context<'_>, out: &mut Emitter<'_>) {
    let identity = subject.identity;
    let privilege = &subject.privilege;
    if privilege.admin_equivalent {
        let severity = if identity.environment.is_production()
            || identity.environment == Environment::Unknown
        {
            None
        } else {
            Some(Severity::High)
        };
        out.emit(
            RuleId::AdminEquivalent,
            identity,
            "",
            severity,
            privilege.admin_evidence.clone(),
        );
    } else {
        if !privilege.wildcard_evidence.is_empty() {
            out.emit(
                RuleId::WildcardPermissions,
                identity,
                "",
                None,
                privilege
                    .wildcard_evidence
                    .iter()
                    .take(5)
                    .cloned()
                    .collect(),
            );
        }
        if !privilege.escalations.is_empty() {
            out.emit(
                RuleId::PrivilegeEscalation,
                identity,
                "",
                None,
                privilege
                    .escalations
                    .iter()
                    .take(6)
                    .map(|e| {
                        let mut line = format!(
                            "{} ({}): {}",
                            e.technique,
                            e.actions.join(" + "),
                            e.explanation
                        );
                        // Never a silent allow: say what the path rests on.
                        if e.confidence == warrant_core::Confidence::Low {
                            line.push_str(" Low confidence");
                            if e.caveats.is_empty() {
                                line.push('.');
                            } else {
                                line.push_str(&format!(": {}", e.caveats.join(" ")));
                            }
                        }
                        line
                    })
                    .collect(),
            );
        }
    }
    // Reading secrets on named resources is the least-privilege way to read them; only reach
    // over every secret (every resource, a whole namespace, every repository) is a finding.
    let broad_secrets: Vec<String> = privilege
        .secrets_evidence
        .iter()
        .filter(|e| !e.ends_with("allowed on some resources."))
        .cloned()
        .collect();
    if !broad_secrets.is_empty() && !privilege.admin_equivalent {
        let everywhere = broad_secrets
            .iter()
            .any(|e| e.contains("every resource") || e.contains("every namespace"));
        out.emit(
            RuleId::BroadSecretsAccess,
            identity,
            "",
            (!everywhere).then_some(Severity::Medium),
            broad_secrets,
        );
    }
    if identity.kind == IdentityKind::K8sServiceAccount {
        for (attachment, policy) in ctx.index.policies_of(&identity.id) {
            if policy.name == "cluster-admin" && attachment.scope.is_none() {
                out.emit(
                    RuleId::K8sClusterAdminBinding,
                    identity,
                    &policy.id,
                    None,
                    vec![format!(
                        "{} binds cluster-admin to {}.",
                        attachment.via.as_deref().unwrap_or("a binding"),
                        identity.id
                    )],
                );
            }
        }
        if identity
            .attributes
            .contains_key(attribute::DEFAULT_SERVICE_ACCOUNT)
            && ctx
                .index
                .attachments_by_identity
                .contains_key(identity.id.as_str())
        {
            let roles: Vec<String> = ctx
                .index
                .policies_of(&identity.id)
                .iter()
                .map(|(_, p)| p.name.clone())
                .collect();
            out.emit(
                RuleId::DefaultSaPrivileged,
                identity,
                "",
                None,
                vec![format!(
                    "The default service account holds {}.",
                    roles.join(", ")
                )],
            );
        }
    }
}
