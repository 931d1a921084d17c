//! GitHub audit-log entries (organisation or enterprise export, JSON array or JSON Lines).

use serde::Deserialize;

use super::Emit;
use super::classify::github_actor;
use super::de::{Opt, Str, content_id, from_millis, parse_time};
use crate::event::{Event, Facts, LogKind, Outcome, Principal, PrincipalKind};

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    action: Str<'a>,
    #[serde(borrow, default)]
    actor: Opt<'a>,
    #[serde(rename = "@timestamp", borrow, default)]
    timestamp: Opt<'a>,
    #[serde(borrow, default)]
    created_at: Opt<'a>,
    #[serde(rename = "_document_id", borrow, default)]
    document_id: Opt<'a>,
    #[serde(borrow, default)]
    actor_ip: Opt<'a>,
    #[serde(borrow, default)]
    user_agent: Opt<'a>,
    #[serde(borrow, default)]
    programmatic_access_type: Opt<'a>,
    #[serde(borrow, default)]
    token_id: Opt<'a>,
    #[serde(borrow, default)]
    hashed_token: Opt<'a>,
    #[serde(borrow, default)]
    repo: Opt<'a>,
    #[serde(borrow, default)]
    repository: Opt<'a>,
    #[serde(borrow, default)]
    org: Opt<'a>,
    #[serde(borrow, default)]
    business: Opt<'a>,
    #[serde(borrow, default)]
    user: Opt<'a>,
    /// The app an `integration*` event concerns (its slug), and an entry's object name.
    #[serde(borrow, default)]
    integration: Opt<'a>,
    #[serde(borrow, default)]
    name: Opt<'a>,
    /// Deploy keys (`public_key.*`).
    #[serde(borrow, default)]
    fingerprint: Opt<'a>,
    #[serde(borrow, default)]
    public_key_id: Opt<'a>,
    #[serde(borrow, default)]
    title: Opt<'a>,
}

fn time_of(e: &Entry<'_>) -> Option<warrant_core::Timestamp> {
    if let Some(ms) = e.timestamp.as_deref().and_then(|t| t.parse::<i64>().ok()) {
        return from_millis(ms);
    }
    let created = e.created_at.as_deref()?;
    match created.parse::<i64>() {
        Ok(ms) => from_millis(ms),
        Err(_) => parse_time(created),
    }
}

pub(crate) fn parse(bytes: &[u8], out: &mut Emit<'_>) -> Result<(), String> {
    let e: Entry = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let time = time_of(&e).ok_or("no usable @timestamp or created_at")?;
    let actor_name = e.actor.owned().unwrap_or_default();
    let action = e.action.0.as_ref();
    // In `personal_access_token.*` entries the token named is the one the event is about
    // (requested, granted, revoked), not necessarily the caller's.
    let about_token = action.starts_with("personal_access_token.");
    let token = e
        .token_id
        .owned()
        .filter(|_| !about_token)
        .or_else(|| e.hashed_token.owned().map(|h| format!("hashed:{h}")));
    let (kind, name) = if let Some(slug) = actor_name.strip_suffix("[bot]") {
        (PrincipalKind::GitHubApp, slug.to_string())
    } else if token.is_some() || e.programmatic_access_type.as_deref().is_some() {
        (PrincipalKind::GitHubToken, actor_name.clone())
    } else {
        (PrincipalKind::GitHubUser, actor_name.clone())
    };
    let user_agent = e.user_agent.owned();
    let actor = github_actor(
        kind,
        &actor_name,
        user_agent.as_deref(),
        e.programmatic_access_type.as_deref(),
    );
    let account = e.org.owned().or_else(|| e.business.owned());
    let mut resources = Vec::new();
    if let Some(repo) = e.repo.owned().or_else(|| e.repository.owned()) {
        resources.push(repo);
    } else if let Some(user) = e.user.owned() {
        resources.push(user);
    } else if let Some(org) = &account {
        resources.push(org.clone());
    }
    let subject = subject_of(&e, action, account.as_deref());
    let action = e.action.0.into_owned();
    let read_only = match action.as_str() {
        "git.clone" | "git.fetch" => Some(true),
        "git.push" => Some(false),
        _ => None,
    };
    let id = e
        .document_id
        .owned()
        .unwrap_or_else(|| content_id("github", bytes));
    out.event(Event {
        id,
        time,
        log: LogKind::GitHubAudit,
        principal: Principal {
            kind: Some(kind),
            arn: None,
            credential: token,
            account,
            name: Some(name).filter(|n| !n.is_empty()),
            session: None,
        },
        actor,
        action,
        resources,
        source_ip: e.actor_ip.owned(),
        user_agent,
        outcome: Outcome::Success,
        error_code: None,
        region: None,
        read_only,
        console: false,
        subject,
        facts: Facts::default(),
    });
    Ok(())
}

/// The machine identity a change is about, whoever made it: the app of `integration*`
/// events, the token of `personal_access_token.*` events, the deploy key of `public_key.*`
/// events, and a repository's or organisation's Actions identity for its secrets.
fn subject_of(e: &Entry<'_>, action: &str, org: Option<&str>) -> Option<Principal> {
    let (category, _) = action.split_once('.')?;
    let principal = |kind, name: Option<String>, credential: Option<String>| Principal {
        kind: Some(kind),
        arn: None,
        credential,
        account: org.map(str::to_string),
        name,
        session: None,
    };
    match category {
        "integration" | "integration_installation" | "integration_installation_request" => {
            let slug = e.integration.owned().or_else(|| e.name.owned())?;
            Some(principal(PrincipalKind::GitHubApp, Some(slug), None))
        }
        "personal_access_token" => {
            let id = e.token_id.owned()?;
            Some(principal(
                PrincipalKind::GitHubToken,
                e.user.owned(),
                Some(id),
            ))
        }
        "public_key" | "deploy_key" => {
            let key = e
                .public_key_id
                .owned()
                .or_else(|| e.fingerprint.owned())
                .or_else(|| e.title.owned())?;
            Some(principal(
                PrincipalKind::GitHubToken,
                e.title.owned(),
                Some(format!("deploy-key:{key}")),
            ))
        }
        "repo" | "org" | "environment" if action.ends_with("_actions_secret") => Some(principal(
            PrincipalKind::GitHubApp,
            Some("github-actions".to_string()),
            None,
        )),
        _ => None,
    }
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
    fn changes_to_apps_tokens_keys_and_secrets_name_their_subject() {
        let e = one(
            r#"{"action":"integration_installation.create","actor":"ana","org":"acme","integration":"ship-it","@timestamp":1793800000000}"#,
        );
        assert_eq!(e.principal.kind, Some(PrincipalKind::GitHubUser));
        let s = e.subject.unwrap();
        assert_eq!(s.kind, Some(PrincipalKind::GitHubApp));
        assert_eq!(s.name.as_deref(), Some("ship-it"));
        // In token events the token id is the token the event is about, not the caller's.
        let e = one(
            r#"{"action":"personal_access_token.access_granted","actor":"ana","org":"acme","user":"bob","token_id":77,"@timestamp":1793800000000}"#,
        );
        assert_eq!(e.principal.kind, Some(PrincipalKind::GitHubUser));
        assert_eq!(e.principal.credential, None);
        assert_eq!(e.subject.unwrap().credential.as_deref(), Some("77"));
        let e = one(
            r#"{"action":"public_key.create","actor":"ana","org":"acme","repo":"acme/api","public_key_id":5,"@timestamp":1793800000000}"#,
        );
        assert_eq!(
            e.subject.unwrap().credential.as_deref(),
            Some("deploy-key:5")
        );
        let e = one(
            r#"{"action":"repo.update_actions_secret","actor":"ana","org":"acme","repo":"acme/api","name":"TOKEN","@timestamp":1793800000000}"#,
        );
        assert_eq!(e.subject.unwrap().name.as_deref(), Some("github-actions"));
        let e = one(
            r#"{"action":"repo.create","actor":"ana","org":"acme","name":"x","@timestamp":1793800000000}"#,
        );
        assert!(e.subject.is_none());
    }
}
