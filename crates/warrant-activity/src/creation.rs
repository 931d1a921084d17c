//! Who created a machine identity or its key: the person behind a successful `CreateUser`,
//! `CreateRole`, `CreateAccessKey` (and the other IAM calls that mint a long-lived credential
//! for a user) is a candidate owner of the identity, with the event as evidence.
//!
//! Only people count. A pipeline that creates users (Terraform, CloudFormation, a CI role)
//! answers for nothing; the person is recognised by an interactive session (console, browser)
//! or by a session named after them (IAM Identity Center and most SAML set-ups name the session
//! after the person's email or login).

use serde::{Deserialize, Serialize};
use warrant_core::Timestamp;
use warrant_core::arn::IamPrincipal;

use crate::event::{Actor, Event, LogKind, Outcome, PrincipalKind};

/// IAM calls that create an identity or a credential of one, and what they create.
const CREATIONS: &[(&str, Created)] = &[
    ("iam:CreateUser", Created::Identity),
    ("iam:CreateRole", Created::Identity),
    ("iam:CreateAccessKey", Created::Credential),
    ("iam:CreateServiceSpecificCredential", Created::Credential),
    ("iam:UploadSSHPublicKey", Created::Credential),
    ("iam:UploadSigningCertificate", Created::Credential),
];

/// What a creation event made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Created {
    /// The identity itself (user, role).
    Identity,
    /// A credential of an existing identity (access key, SSH key, certificate…).
    Credential,
}

/// A person creating an identity or its credential, as one event shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creation {
    /// The ARN of the user or role created, or whose credential was created, as logged.
    pub target: String,
    /// The person: an email or login when the session names one, else the caller's ARN.
    pub creator: String,
    /// The permission the event exercised (`iam:CreateAccessKey`).
    pub action: String,
    pub created: Created,
    /// The provider's event id.
    pub event: String,
    pub time: Timestamp,
}

/// The creation `event` records, if it is one made by a person. A key a person creates for
/// themselves is not a machine identity's and gives nothing.
pub fn creation(event: &Event) -> Option<Creation> {
    if event.log != LogKind::CloudTrail || event.outcome != Outcome::Success {
        return None;
    }
    let created = CREATIONS
        .iter()
        .find(|(action, _)| *action == event.action)
        .map(|(_, c)| *c)?;
    let target = event
        .resources
        .iter()
        .find(|r| is_iam(r, ":user/") || is_iam(r, ":role/"))?;
    let creator = person(event)?;
    let p = &event.principal;
    let own = p
        .arn
        .as_deref()
        .is_some_and(|arn| same_principal(arn, target));
    if own {
        return None;
    }
    Some(Creation {
        target: target.clone(),
        creator,
        action: event.action.clone(),
        created,
        event: event.id.clone(),
        time: event.time,
    })
}

fn is_iam(arn: &str, kind: &str) -> bool {
    arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(kind)
}

/// Whether two IAM ARNs name the same principal, ignoring the path one of them may lack.
fn same_principal(a: &str, b: &str) -> bool {
    a == b || IamPrincipal::of(a).is_some_and(|p| IamPrincipal::of(b) == Some(p))
}

/// The person behind the call, if it was one.
fn person(event: &Event) -> Option<String> {
    let p = &event.principal;
    let kind = p.kind?;
    if matches!(event.actor, Actor::Application | Actor::Agent) {
        return None;
    }
    let looks_personal = |s: &str| s.contains('@');
    match kind {
        // The root user is the account, not a person who answers for what it made.
        PrincipalKind::AwsRoot | PrincipalKind::AwsService => None,
        PrincipalKind::AwsAssumedRole => {
            let session = p.session.as_deref().filter(|s| !s.is_empty());
            let sso = p
                .name
                .as_deref()
                .is_some_and(|r| r.starts_with("AWSReservedSSO_"));
            match session {
                Some(s) if looks_personal(s) || sso => Some(s.to_ascii_lowercase()),
                Some(s) if event.actor == Actor::Human => Some(s.to_string()),
                _ => None,
            }
        }
        PrincipalKind::AwsFederated => {
            let name = p.session.as_deref().or(p.name.as_deref())?;
            if looks_personal(name) || event.actor == Actor::Human {
                Some(name.to_ascii_lowercase())
            } else {
                None
            }
        }
        PrincipalKind::AwsUser => {
            // An IAM user signed in to the console is a person; one calling from a script may
            // be a pipeline's user, so only its console use counts.
            if event.actor == Actor::Human || event.console {
                p.arn.clone().or_else(|| p.name.clone())
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Principal;

    fn event(action: &str, kind: PrincipalKind, actor: Actor) -> Event {
        Event {
            id: "e1".into(),
            time: "2026-10-01T10:00:00Z".parse().unwrap(),
            log: LogKind::CloudTrail,
            principal: Principal {
                kind: Some(kind),
                arn: Some("arn:aws:iam::111111111111:role/AWSReservedSSO_Admin_0a1b".into()),
                credential: Some("ASIAEXAMPLESESSION01".into()),
                account: Some("111111111111".into()),
                name: Some("AWSReservedSSO_Admin_0a1b".into()),
                session: Some("Alice.Chen@acme.example".into()),
            },
            actor,
            action: action.into(),
            resources: vec!["arn:aws:iam::111111111111:user/svc-etl".into()],
            source_ip: None,
            user_agent: Some("aws-cli/2.17".into()),
            outcome: Outcome::Success,
            error_code: None,
            region: Some("us-east-1".into()),
            read_only: Some(false),
            console: false,
            subject: None,
            facts: Default::default(),
        }
    }

    #[test]
    fn a_person_s_sso_session_creating_a_key_is_its_creator() {
        let e = event(
            "iam:CreateAccessKey",
            PrincipalKind::AwsAssumedRole,
            Actor::Automation,
        );
        let c = creation(&e).unwrap();
        assert_eq!(c.target, "arn:aws:iam::111111111111:user/svc-etl");
        assert_eq!(c.creator, "alice.chen@acme.example");
        assert_eq!(c.created, Created::Credential);
    }

    #[test]
    fn pipelines_failures_reads_and_self_service_are_not_creators() {
        let mut ci = event(
            "iam:CreateUser",
            PrincipalKind::AwsAssumedRole,
            Actor::Automation,
        );
        ci.principal.name = Some("terraform-apply".into());
        ci.principal.session = Some("GitHubActions".into());
        assert_eq!(creation(&ci), None);

        let mut denied = event(
            "iam:CreateUser",
            PrincipalKind::AwsAssumedRole,
            Actor::Human,
        );
        denied.outcome = Outcome::Denied;
        assert_eq!(creation(&denied), None);

        let list = event("iam:ListUsers", PrincipalKind::AwsAssumedRole, Actor::Human);
        assert_eq!(creation(&list), None);

        // A person creating a key for themselves (their own IAM user, path left out).
        let mut own = event("iam:CreateAccessKey", PrincipalKind::AwsUser, Actor::Human);
        own.principal.arn = Some("arn:aws:iam::111111111111:user/people/svc-etl".into());
        assert_eq!(creation(&own), None);

        let mut root = event("iam:CreateRole", PrincipalKind::AwsRoot, Actor::Human);
        root.principal.arn = Some("arn:aws:iam::111111111111:root".into());
        assert_eq!(creation(&root), None);

        let app = event(
            "iam:CreateRole",
            PrincipalKind::AwsAssumedRole,
            Actor::Application,
        );
        assert_eq!(creation(&app), None);
    }

    #[test]
    fn a_console_user_creating_a_role_is_named_by_its_arn() {
        let mut e = event("iam:CreateRole", PrincipalKind::AwsUser, Actor::Human);
        e.principal.arn = Some("arn:aws:iam::111111111111:user/bob".into());
        e.resources = vec!["arn:aws:iam::111111111111:role/etl-runner".into()];
        let c = creation(&e).unwrap();
        assert_eq!(c.creator, "arn:aws:iam::111111111111:user/bob");
        assert_eq!(c.created, Created::Identity);
        // The same user from a script is not known to be a person.
        e.actor = Actor::Automation;
        assert_eq!(creation(&e), None);
    }
}
