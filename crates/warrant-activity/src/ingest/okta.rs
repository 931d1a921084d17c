//! Okta System Log events (`LogEvent`s as `/api/v1/logs` returns them: a JSON array, or one
//! per line as exporters write them).
//!
//! Who acted: an API token when `transaction.detail.requestApiTokenId` names one (the token's
//! calls carry its creator as `actor`), an OAuth service app or client when `actor.type` is an
//! app, else a person (`User`) or Okta itself (`SystemPrincipal`). The first app or token among
//! `target` is the identity the event changes (`subject`).

use serde::Deserialize;

use super::Emit;
use super::classify::{is_automation_tool, is_browser};
use super::de::{Opt, Str, content_id, parse_time};
use crate::event::{Actor, Event, Facts, LogKind, Outcome, Principal, PrincipalKind};

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow, default)]
    uuid: Opt<'a>,
    #[serde(borrow)]
    published: Str<'a>,
    #[serde(rename = "eventType", borrow)]
    event_type: Str<'a>,
    #[serde(borrow, default)]
    actor: Option<Entity<'a>>,
    #[serde(borrow, default)]
    client: Option<Client<'a>>,
    #[serde(borrow, default)]
    outcome: Option<LogOutcome<'a>>,
    #[serde(borrow, default)]
    target: Option<Vec<Entity<'a>>>,
    #[serde(borrow, default)]
    transaction: Option<Transaction<'a>>,
    #[serde(rename = "debugContext", borrow, default)]
    debug_context: Option<DebugContext<'a>>,
    #[serde(rename = "authenticationContext", borrow, default)]
    authentication_context: Option<AuthenticationContext<'a>>,
}

#[derive(Deserialize)]
struct Entity<'a> {
    #[serde(borrow, default)]
    id: Opt<'a>,
    #[serde(rename = "type", borrow, default)]
    kind: Opt<'a>,
    #[serde(rename = "alternateId", borrow, default)]
    alternate_id: Opt<'a>,
    #[serde(rename = "displayName", borrow, default)]
    display_name: Opt<'a>,
}

#[derive(Deserialize)]
struct Client<'a> {
    #[serde(rename = "ipAddress", borrow, default)]
    ip_address: Opt<'a>,
    #[serde(rename = "userAgent", borrow, default)]
    user_agent: Option<UserAgent<'a>>,
}

#[derive(Deserialize)]
struct UserAgent<'a> {
    #[serde(rename = "rawUserAgent", borrow, default)]
    raw: Opt<'a>,
}

#[derive(Deserialize)]
struct LogOutcome<'a> {
    #[serde(borrow, default)]
    result: Opt<'a>,
    #[serde(borrow, default)]
    reason: Opt<'a>,
}

#[derive(Deserialize)]
struct Transaction<'a> {
    #[serde(borrow, default)]
    detail: Option<TransactionDetail<'a>>,
}

#[derive(Deserialize)]
struct TransactionDetail<'a> {
    #[serde(rename = "requestApiTokenId", borrow, default)]
    api_token: Opt<'a>,
}

#[derive(Deserialize)]
struct DebugContext<'a> {
    #[serde(rename = "debugData", borrow, default)]
    data: Option<DebugData<'a>>,
}

#[derive(Deserialize)]
struct DebugData<'a> {
    /// Some tenants log the token here as well.
    #[serde(rename = "requestApiTokenId", borrow, default)]
    api_token: Opt<'a>,
    #[serde(rename = "privilegeGranted", borrow, default)]
    privilege_granted: Opt<'a>,
}

#[derive(Deserialize)]
struct AuthenticationContext<'a> {
    #[serde(rename = "credentialType", borrow, default)]
    credential_type: Opt<'a>,
}

/// Actor and target types that are applications (OAuth clients and app instances).
fn is_app_type(kind: &str) -> bool {
    matches!(
        kind,
        "PublicClientApp" | "AppInstance" | "ServiceApp" | "Client" | "OAuth2Client"
    )
}

fn is_token_type(kind: &str) -> bool {
    matches!(kind, "Token" | "ApiToken" | "API Token")
}

fn entity_principal(e: &Entity<'_>, kind: PrincipalKind) -> Principal {
    Principal {
        kind: Some(kind),
        arn: None,
        credential: e.id.owned(),
        account: None,
        name: e.display_name.owned().or_else(|| e.alternate_id.owned()),
        session: None,
    }
}

pub(crate) fn parse(bytes: &[u8], out: &mut Emit<'_>) -> Result<(), String> {
    let e: LogEvent = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let time = parse_time(&e.published.0)
        .ok_or_else(|| format!("published {:?} is not RFC 3339", e.published.0))?;
    let action = e.event_type.0.into_owned();
    let debug = e.debug_context.as_ref().and_then(|d| d.data.as_ref());
    let api_token = e
        .transaction
        .as_ref()
        .and_then(|t| t.detail.as_ref())
        .and_then(|d| d.api_token.owned())
        .or_else(|| debug.and_then(|d| d.api_token.owned()));
    let actor_kind = e
        .actor
        .as_ref()
        .and_then(|a| a.kind.as_deref())
        .unwrap_or("");
    let actor_name = e
        .actor
        .as_ref()
        .and_then(|a| a.alternate_id.owned().or_else(|| a.display_name.owned()));
    let kind = if api_token.is_some() {
        PrincipalKind::OktaApiToken
    } else if is_app_type(actor_kind) {
        PrincipalKind::OktaApp
    } else if actor_kind == "User" {
        PrincipalKind::OktaUser
    } else {
        PrincipalKind::Unknown
    };
    let principal = Principal {
        kind: Some(kind),
        arn: None,
        // The token's calls name the person who created it as actor: the token is the
        // credential, its creator the name. An app is known by its client id.
        credential: match kind {
            PrincipalKind::OktaApiToken => api_token,
            PrincipalKind::OktaApp => e.actor.as_ref().and_then(|a| a.id.owned()),
            _ => None,
        },
        account: None,
        name: actor_name,
        session: None,
    };
    let client = e.client.as_ref();
    let user_agent = client
        .and_then(|c| c.user_agent.as_ref())
        .and_then(|u| u.raw.owned());
    let actor = match kind {
        PrincipalKind::OktaApp => Actor::Application,
        PrincipalKind::OktaApiToken => Actor::Automation,
        PrincipalKind::OktaUser => match user_agent.as_deref() {
            Some(ua) if !is_browser(ua) && is_automation_tool(ua) => Actor::Automation,
            _ => Actor::Human,
        },
        _ if actor_kind == "SystemPrincipal" => Actor::Application,
        _ => Actor::Unknown,
    };
    let result = e.outcome.as_ref().and_then(|o| o.result.as_deref());
    let outcome = match result {
        Some("DENY") => Outcome::Denied,
        Some("FAILURE") if action.starts_with("user.authentication.") => Outcome::AuthFailed,
        Some("FAILURE") => Outcome::Error,
        _ => Outcome::Success,
    };
    let error_code = match outcome {
        Outcome::Success => None,
        _ => e
            .outcome
            .as_ref()
            .and_then(|o| o.reason.owned().or_else(|| o.result.owned())),
    };
    let mut facts = Facts::default();
    let mut subject = None;
    let mut resources = Vec::new();
    for t in e.target.iter().flatten() {
        let t_kind = t.kind.as_deref().unwrap_or("");
        if let Some(id) = t.id.owned() {
            resources.push(format!("{t_kind}/{id}"));
        }
        facts.push(
            "target",
            &format!(
                "{t_kind}:{}",
                t.display_name
                    .as_deref()
                    .or(t.alternate_id.as_deref())
                    .unwrap_or("")
            ),
        );
        if subject.is_none() {
            if is_app_type(t_kind) {
                subject = Some(entity_principal(t, PrincipalKind::OktaApp));
            } else if is_token_type(t_kind) {
                subject = Some(entity_principal(t, PrincipalKind::OktaApiToken));
            }
        }
    }
    if let Some(privilege) = debug.and_then(|d| d.privilege_granted.owned()) {
        facts.push("privilege.granted", &privilege);
    }
    if let Some(credential) = e
        .authentication_context
        .as_ref()
        .and_then(|a| a.credential_type.owned())
    {
        facts.push("auth.credential_type", &credential);
    }
    let id = e.uuid.owned().unwrap_or_else(|| content_id("okta", bytes));
    out.event(Event {
        id,
        time,
        log: LogKind::OktaSystemLog,
        principal,
        actor,
        read_only: Some(action.ends_with(".read") || action.ends_with(".list")),
        action,
        resources,
        source_ip: client.and_then(|c| c.ip_address.owned()),
        user_agent,
        outcome,
        error_code,
        region: None,
        console: false,
        subject,
        facts,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Event {
        let mut events = Vec::new();
        let mut sink = |e| events.push(e);
        let mut emit = Emit {
            sink: &mut sink,
            events: 0,
            skipped: 0,
            bad: Vec::new(),
        };
        parse(json.as_bytes(), &mut emit).unwrap();
        events.pop().unwrap()
    }

    #[test]
    fn api_token_calls_are_the_tokens_and_targets_are_subjects() {
        let e = one(
            r#"{"uuid":"u1","published":"2026-11-02T10:00:00.123Z","eventType":"app.oauth2.client.privilege.grant",
            "actor":{"id":"00u1","type":"User","alternateId":"ops@corp.test","displayName":"Ops"},
            "client":{"ipAddress":"198.51.100.7","userAgent":{"rawUserAgent":"okta-sdk-python/2.9"}},
            "outcome":{"result":"SUCCESS"},
            "target":[{"id":"0oa9","type":"PublicClientApp","alternateId":"unknown","displayName":"sync-bot"}],
            "transaction":{"type":"WEB","id":"t1","detail":{"requestApiTokenId":"00Tabc"}}}"#,
        );
        assert_eq!(e.principal.kind, Some(PrincipalKind::OktaApiToken));
        assert_eq!(e.principal.credential.as_deref(), Some("00Tabc"));
        assert_eq!(e.actor, Actor::Automation);
        let subject = e.subject.unwrap();
        assert_eq!(subject.kind, Some(PrincipalKind::OktaApp));
        assert_eq!(subject.credential.as_deref(), Some("0oa9"));
        assert_eq!(e.facts.get("target"), Some("PublicClientApp:sync-bot"));
    }

    #[test]
    fn people_and_failures() {
        let e = one(
            r#"{"uuid":"u2","published":"2026-11-02T10:00:00Z","eventType":"policy.lifecycle.update",
            "actor":{"id":"00u1","type":"User","alternateId":"a@corp.test"},
            "client":{"userAgent":{"rawUserAgent":"Mozilla/5.0"}},
            "outcome":{"result":"DENY","reason":"no"}}"#,
        );
        assert_eq!(e.principal.kind, Some(PrincipalKind::OktaUser));
        assert_eq!(e.actor, Actor::Human);
        assert_eq!(e.outcome, Outcome::Denied);
        assert!(e.subject.is_none());
    }
}
