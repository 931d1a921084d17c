//! A long-lived credential created for an inventoried identity that the inventory does not
//! hold: a key nobody imported or registered is how persistence through a machine identity
//! starts, and it escapes rotation and review until someone notices it.
//!
//! Judged only when the caller knows the identity's credentials
//! ([`IdentityContext::credentials`]); a shadow identity is reported as such instead.

use warrant_core::{Credential, CredentialKind};

use super::*;
use crate::event::LogKind;

/// A credential is matched to an inventoried one without an id when both were created this
/// close together (the credential report records a key's creation to the second, not its id).
const SAME_CREATION: i64 = 10 * 60;

/// IAM calls that mint a long-lived credential for a user, what they mint and how it is
/// described.
const CREATIONS: &[(&str, CredentialKind, &str)] = &[
    (
        "iam:CreateAccessKey",
        CredentialKind::AccessKey,
        "access key",
    ),
    (
        "iam:CreateLoginProfile",
        CredentialKind::Password,
        "console password",
    ),
    (
        "iam:CreateServiceSpecificCredential",
        CredentialKind::Password,
        "service-specific credential",
    ),
    (
        "iam:UploadSSHPublicKey",
        CredentialKind::SshKey,
        "SSH public key",
    ),
    (
        "iam:UploadSigningCertificate",
        CredentialKind::Certificate,
        "signing certificate",
    ),
];

/// The credential `event` created: its kind, description and provider id when logged.
fn created(event: &Event) -> Option<(CredentialKind, &'static str, Option<&str>)> {
    if event.log != LogKind::CloudTrail || event.outcome != Outcome::Success {
        return None;
    }
    let (_, kind, what) = CREATIONS.iter().find(|(a, ..)| *a == event.action)?;
    let id = match kind {
        CredentialKind::AccessKey => event.facts.get("key.id"),
        _ => None,
    };
    Some((*kind, what, id))
}

fn held(credentials: &[Credential], kind: CredentialKind, id: Option<&str>, at: Timestamp) -> bool {
    credentials.iter().any(|c| {
        if let Some(id) = id
            && (c.id == id
                || c.id
                    .strip_suffix(id)
                    .is_some_and(|rest| rest.ends_with('/')))
        {
            return true;
        }
        // Ids that are not the provider's (`ARN#access_key_1` from a credential report) can
        // only be matched by when the credential was made.
        let another_provider_id = id.is_some_and(|id| {
            c.id.len() == id.len() && c.id.chars().all(|ch| ch.is_ascii_alphanumeric())
        });
        c.kind == kind
            && !another_provider_id
            && c.created
                .is_some_and(|made| (made - at).num_seconds().abs() <= SAME_CREATION)
    })
}

pub(super) fn unregistered_credential(input: &Input) -> Vec<Finding> {
    let Some(credentials) = input.context.credentials.as_deref() else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for event in input.events {
        // An identity's own call creates its own credential only when it names no other
        // identity; a change made to it names it as the subject.
        if !input.changes && event.subject.is_some() {
            continue;
        }
        let Some((kind, what, id)) = created(event) else {
            continue;
        };
        if held(credentials, kind, id, event.time) {
            continue;
        }
        let by = caller(&event.principal);
        let mut evidence = vec![format!(
            "A new {what}{} was created for {} by {by} at {} ({}, event {}).",
            id.map(|id| format!(" {id}")).unwrap_or_default(),
            input.context.id,
            when(&event.time),
            event.action,
            event.id
        )];
        evidence.push(format!(
            "The inventory holds {} for the identity and none of them is this one{}.",
            plural(credentials.len() as u64, "credential", "credentials"),
            if id.is_none() {
                " (none was created within ten minutes of it)"
            } else {
                ""
            }
        ));
        let spec = UNREGISTERED_CREDENTIAL.spec();
        let severity = if input.context.environment == Environment::Production
            || kind == CredentialKind::AccessKey
        {
            Severity::High
        } else {
            spec.default_severity
        };
        let discriminator = format!("{}:{}", event.action, id.unwrap_or(&event.id));
        findings.push(make(
            UNREGISTERED_CREDENTIAL,
            format!("New {what} for {} that nobody registered", input.context.id),
            severity,
            &input.context.id,
            &discriminator,
            evidence,
            spec.tactics,
            spec.techniques,
            spec.remediation,
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use warrant_core::IdentityKind;

    use super::*;
    use crate::detect::Detector;
    use crate::event::{Actor, Facts, PrincipalKind};

    fn at(minute: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 10, minute, 0)
            .single()
            .unwrap_or_default()
    }

    fn create_key(key: &str, outcome: Outcome) -> Event {
        let mut facts = Facts::default();
        facts.push("key.id", key);
        Event {
            id: format!("ev-{key}"),
            time: at(30),
            log: LogKind::CloudTrail,
            principal: Principal {
                kind: Some(PrincipalKind::AwsAssumedRole),
                arn: Some("arn:aws:sts::111122223333:assumed-role/Admin/mallory".into()),
                credential: None,
                account: Some("111122223333".into()),
                name: Some("Admin".into()),
                session: Some("mallory".into()),
            },
            subject: Some(Principal {
                kind: Some(PrincipalKind::AwsUser),
                arn: Some("arn:aws:iam::111122223333:user/svc-ci".into()),
                credential: None,
                account: Some("111122223333".into()),
                name: Some("svc-ci".into()),
                session: None,
            }),
            actor: Actor::Human,
            action: "iam:CreateAccessKey".into(),
            resources: vec!["arn:aws:iam::111122223333:user/svc-ci".into()],
            source_ip: Some("198.51.100.7".into()),
            user_agent: None,
            outcome,
            error_code: None,
            region: None,
            read_only: Some(false),
            console: false,
            facts,
        }
    }

    fn context(credentials: &[Credential]) -> IdentityContext {
        let mut ctx = IdentityContext::unknown("user:svc-ci").with_credentials(credentials);
        ctx.kind = IdentityKind::AwsUser;
        ctx
    }

    fn key(id: &str, minute: u32) -> Credential {
        let mut c = Credential::new(id, "user:svc-ci", CredentialKind::AccessKey);
        c.created = Some(at(minute));
        c
    }

    fn rules(found: &[Finding]) -> Vec<&str> {
        found
            .iter()
            .filter(|f| f.rule == UNREGISTERED_CREDENTIAL)
            .map(|f| f.title.as_str())
            .collect()
    }

    #[test]
    fn a_key_the_inventory_lacks_is_reported_once_on_the_identity() {
        let detector = Detector::new(crate::detect::DetectConfig::default());
        let held = [key("AKIAEXAMPLEOLDKEY001", 0)];
        let found = detector.detect_changes(
            &context(&held),
            &[create_key("AKIAEXAMPLENEWKEY002", Outcome::Success)],
        );
        let titles = rules(&found);
        assert_eq!(
            titles,
            ["New access key for user:svc-ci that nobody registered"]
        );
        let finding = found
            .iter()
            .find(|f| f.rule == UNREGISTERED_CREDENTIAL)
            .unwrap();
        assert!(finding.evidence[0].contains("AKIAEXAMPLENEWKEY002"));
        assert!(finding.evidence[0].contains("mallory"));
        assert_eq!(finding.severity, Severity::High);
    }

    #[test]
    fn a_key_held_by_id_or_by_creation_time_or_a_failed_call_is_not() {
        let detector = Detector::new(crate::detect::DetectConfig::default());
        let new = || [create_key("AKIAEXAMPLENEWKEY002", Outcome::Success)];
        for held in [
            vec![key("AKIAEXAMPLENEWKEY002", 0)],
            // A credential report's slot, made within minutes of the call.
            vec![key(
                "arn:aws:iam::111122223333:user/svc-ci#access_key_2",
                31,
            )],
        ] {
            assert!(rules(&detector.detect_changes(&context(&held), &new())).is_empty());
        }
        let failed = [create_key("AKIAEXAMPLENEWKEY002", Outcome::Denied)];
        assert!(rules(&detector.detect_changes(&context(&[]), &failed)).is_empty());
        // Another provider key id made at the same minute is a different key.
        let other = vec![key("AKIAEXAMPLEOTHERK003", 30)];
        assert_eq!(
            rules(&detector.detect_changes(&context(&other), &new())).len(),
            1
        );
    }

    #[test]
    fn nothing_is_judged_when_the_credentials_are_not_known() {
        let detector = Detector::new(crate::detect::DetectConfig::default());
        let ctx = IdentityContext::unknown("user:svc-ci");
        let found = detector.detect_changes(
            &ctx,
            &[create_key("AKIAEXAMPLENEWKEY002", Outcome::Success)],
        );
        assert!(rules(&found).is_empty());
    }
}
