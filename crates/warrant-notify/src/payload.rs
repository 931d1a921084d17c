//! Request bodies, one per target kind: pure functions of the event.
//!
//! - Slack incoming webhook: `{"text": fallback, "blocks": [header, section, fields, context]}`
//!   in Block Kit, every value escaped as Slack requires (`&`, `<`, `>` as entities), so event
//!   text can neither mention `@channel` nor forge a link. Texts are cut to Block Kit's limits.
//! - Generic webhook: the event itself with `schema` (`warrant.notification/1`) and `event_id`.
//! - Jira: the body of `POST /rest/api/2/issue` (Jira Cloud REST v2 and Data Center), whose
//!   `description` is wiki markup (v3 would need Atlassian Document Format).

use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use crate::event::Event;

/// The generic body's `schema`: a receiver checks it before reading the rest. Adding a field
/// keeps the version; renaming, removing or retyping one is a new version.
pub const SCHEMA: &str = "warrant.notification/1";

/// Block Kit limits (characters): header text, section text, a section field, fields per
/// section; and what we keep of the top-level fallback `text`.
const SLACK_HEADER_MAX: usize = 150;
const SLACK_SECTION_MAX: usize = 3000;
const SLACK_FIELD_MAX: usize = 2000;
const SLACK_FIELDS_MAX: usize = 10;
const SLACK_FALLBACK_MAX: usize = 3000;

/// Jira's summary is one line of at most 255 characters.
const JIRA_SUMMARY_MAX: usize = 255;
/// Jira's description field holds up to 32,767 characters.
const JIRA_DESCRIPTION_MAX: usize = 32_000;

/// Escapes text for Slack: `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;` (and nothing else).
pub fn escape_slack(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The first `max` characters of `text`, ending with `…` when something was cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Cut first, then escape: an entity is never cut in half (the escaped text may be a little
/// longer than `max`, which Block Kit counts before unescaping).
fn slack_text(text: &str, max: usize) -> String {
    escape_slack(&truncate(text, max))
}

/// The event's link when it is an http(s) URL, as it may stand inside `<…|…>`.
fn slack_link(link: Option<&str>) -> Option<String> {
    let url = Url::parse(link?.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    // `|` ends the URL part of a Slack link; `Url` leaves it unencoded in paths and queries.
    Some(escape_slack(url.as_str()).replace('|', "%7C"))
}

/// A Slack incoming-webhook message for the event.
pub fn slack(event: &Event) -> Value {
    let kind = event.kind.label();
    let fallback = slack_text(
        &format!("{kind}: {} ({})", event.title, event.subject),
        SLACK_FALLBACK_MAX,
    );

    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": slack_text(&event.title, SLACK_HEADER_MAX), "emoji": false},
    })];

    let link = slack_link(event.link.as_deref());
    let link_text = link
        .as_ref()
        .map(|url| format!("\n<{url}|Open in Warrant>"))
        .unwrap_or_default();
    let summary = slack_text(
        &event.summary,
        SLACK_SECTION_MAX.saturating_sub(link_text.chars().count()),
    );
    blocks.push(json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!("{summary}{link_text}")},
    }));

    let mut facts: Vec<(&str, &str)> = vec![("Subject", event.subject.as_str())];
    if let Some(identity) = &event.identity {
        facts.push(("Identity", identity));
    }
    if let Some(owner) = &event.owner {
        facts.push(("Owner", owner));
    }
    facts.extend(
        event
            .details
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    );
    let n_left_out = facts.len().saturating_sub(SLACK_FIELDS_MAX);
    let fields: Vec<Value> = facts
        .iter()
        .take(SLACK_FIELDS_MAX)
        .map(|(key, value)| {
            let key = slack_text(key, 100);
            let value = slack_text(
                value,
                SLACK_FIELD_MAX.saturating_sub(key.chars().count() + 3),
            );
            json!({"type": "mrkdwn", "text": format!("*{key}*\n{value}")})
        })
        .collect();
    blocks.push(json!({"type": "section", "fields": fields}));

    let mut context = format!(
        "{} · {} · Warrant",
        event.kind.as_str(),
        event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    if n_left_out > 0 {
        context.push_str(&format!(
            " · {n_left_out} more detail{} in Warrant",
            if n_left_out == 1 { "" } else { "s" }
        ));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": escape_slack(&context)}],
    }));

    json!({"text": fallback, "blocks": blocks})
}

#[derive(Serialize)]
struct GenericBody<'a> {
    schema: &'static str,
    event_id: String,
    #[serde(flatten)]
    event: &'a Event,
}

/// The generic webhook body: `{"schema": "warrant.notification/1", "event_id": …, "kind": …,
/// "subject": …, "identity"?: …, "owner"?: …, "title": …, "summary": …, "link"?: …,
/// "at": RFC 3339, "details"?: {…}}` (keys marked `?` are left out when empty).
pub fn generic(event: &Event) -> Value {
    let body = GenericBody {
        schema: SCHEMA,
        event_id: event.id(),
        event,
    };
    // Serialising strings, a map of strings and a timestamp cannot fail; should it ever, the
    // receiver still gets the versioned envelope and the id rather than nothing.
    serde_json::to_value(&body)
        .unwrap_or_else(|_| json!({"schema": SCHEMA, "event_id": event.id()}))
}

/// Escapes Jira wiki markup that would turn event text into links, images, macros or tables:
/// `\`, `[`, `]`, `{`, `}`, `|` and `!` get a backslash.
pub fn escape_jira(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']' | '{' | '}' | '|' | '!') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The body of Jira's `POST /rest/api/2/issue`: an issue in `project` of type `issue_type`,
/// labelled `warrant` and `warrant-<kind>` (`warrant-plan-proposed`), so a JQL filter or an
/// automation rule can pick Warrant's issues out.
pub fn jira(event: &Event, project: &str, issue_type: &str) -> Value {
    let one_line = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let summary = truncate(
        &one_line(&format!("[Warrant] {}", event.title)),
        JIRA_SUMMARY_MAX,
    );

    let mut description = escape_jira(&event.summary);
    description.push_str("\n\n");
    let mut fact = |key: &str, value: &str| {
        description.push_str(&format!(
            "*{}:* {}\n",
            escape_jira(&one_line(key)),
            escape_jira(&one_line(value))
        ));
    };
    fact("Event", event.kind.as_str());
    fact("Subject", &event.subject);
    if let Some(identity) = &event.identity {
        fact("Identity", identity);
    }
    if let Some(owner) = &event.owner {
        fact("Owner", owner);
    }
    fact(
        "At",
        &event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    for (key, value) in &event.details {
        fact(key, value);
    }
    if let Some(url) = event
        .link
        .as_deref()
        .and_then(|link| Url::parse(link.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"))
    {
        // Inside `[text|url]` the URL must not close the link early.
        let url = url
            .as_str()
            .replace('|', "%7C")
            .replace(']', "%5D")
            .replace('[', "%5B");
        description.push_str(&format!("\n[Open in Warrant|{url}]\n"));
    }
    description.push_str(&format!("\nWarrant event id: {}", event.id()));
    let description = truncate(&description, JIRA_DESCRIPTION_MAX);

    json!({
        "fields": {
            "project": {"key": project},
            "summary": summary,
            "description": description,
            "issuetype": {"name": issue_type},
            "labels": ["warrant", format!("warrant-{}", event.kind.as_str().replace('.', "-"))],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn plan_proposed() -> Event {
        Event {
            kind: EventKind::PlanProposed,
            subject: "plan-7f3a".into(),
            identity: Some("aws:iam:user/ci-deployer".into()),
            owner: Some("platform@example.com".into()),
            title: "Rotate the access key of ci-deployer".into(),
            summary: "Key AKIA…7QX is 412 days old & used by <build> jobs; rotation waits for \
                      your approval."
                .into(),
            link: Some("https://warrant.example.com/plans/plan-7f3a?tab=steps&x=a|b".into()),
            at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0).unwrap(),
            details: BTreeMap::from([
                ("tier".to_string(), "prod".to_string()),
                ("approvals".to_string(), "0 of 2".to_string()),
            ]),
        }
    }

    fn exception_expiring() -> Event {
        Event {
            kind: EventKind::ExceptionExpiring,
            subject: "exc-12".into(),
            identity: None,
            owner: None,
            title: "Exception exc-12 expires in 3 days".into(),
            summary: "<!channel> [click|http://evil.example] {code}".into(),
            link: Some("javascript:alert(1)".into()),
            at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0).unwrap(),
            details: BTreeMap::new(),
        }
    }

    #[test]
    fn slack_plan_proposed() {
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(slack(&plan_proposed()));
        });
    }

    #[test]
    fn slack_hostile_text_and_link() {
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(slack(&exception_expiring()));
        });
    }

    #[test]
    fn generic_plan_proposed() {
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(generic(&plan_proposed()));
        });
    }

    #[test]
    fn generic_leaves_out_empty_keys() {
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(generic(&exception_expiring()));
        });
    }

    #[test]
    fn jira_plan_proposed() {
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(jira(&plan_proposed(), "SEC", "Task"));
        });
    }

    #[test]
    fn jira_hostile_text_and_link() {
        insta::with_settings!({sort_maps => true}, {
            insta::assert_json_snapshot!(jira(&exception_expiring(), "SEC", "Bug"));
        });
    }

    #[test]
    fn slack_fields_stop_at_ten() {
        let mut event = plan_proposed();
        event.details = (0..12)
            .map(|i| (format!("k{i:02}"), "v".to_string()))
            .collect();
        let body = slack(&event);
        let fields = body["blocks"][2]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 10);
        let context = body["blocks"][3]["elements"][0]["text"].as_str().unwrap();
        assert!(context.ends_with("5 more details in Warrant"), "{context}");
    }

    #[test]
    fn long_texts_are_cut_to_block_kit_limits() {
        let mut event = plan_proposed();
        event.title = "T".repeat(500);
        event.summary = "&".repeat(5000);
        let body = slack(&event);
        let header = body["blocks"][0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), 150);
        assert!(header.ends_with('…'));
        let section = body["blocks"][1]["text"]["text"].as_str().unwrap();
        // Cut before escaping: only whole entities.
        let text = section.split('\n').next().unwrap();
        assert!(text.trim_end_matches('…').ends_with("&amp;"), "{text}");
        let jira_body = jira(&event, "SEC", "Task");
        let summary = jira_body["fields"]["summary"].as_str().unwrap();
        assert_eq!(summary.chars().count(), 255);
    }

    /// Every `<` of a Slack body is the opening of the one link Warrant writes.
    fn raw_angles_outside_link(body: &Value, link: Option<&str>) -> Vec<String> {
        let mut texts = Vec::new();
        collect_strings(body, &mut texts);
        texts
            .into_iter()
            .map(|text| match link {
                Some(url) => text.replace(&format!("<{url}|Open in Warrant>"), ""),
                None => text,
            })
            .filter(|text| text.contains('<') || text.contains('>'))
            .collect()
    }

    fn collect_strings(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::String(text) => into.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| collect_strings(item, into)),
            Value::Object(map) => map.values().for_each(|item| collect_strings(item, into)),
            _ => {}
        }
    }

    proptest! {
        #[test]
        fn slack_escaping_never_leaves_a_raw_angle_bracket(
            title in "\\PC{0,200}",
            summary in "(\\PC|[<>&|\n]){0,400}",
            subject in "[<>&a-z!@#|]{0,40}",
            identity in proptest::option::of("\\PC{0,40}"),
            detail_key in "[<>&a-z]{0,10}",
            detail_value in "\\PC{0,60}",
            link in proptest::option::of("(https://|http://|javascript:|)[a-z<>|&?=./]{0,40}"),
        ) {
            let mut event = plan_proposed();
            event.title = title;
            event.summary = summary;
            event.subject = subject;
            event.identity = identity;
            event.details = BTreeMap::from([(detail_key, detail_value)]);
            event.link = link;
            let body = slack(&event);
            let written_link = slack_link(event.link.as_deref());
            if let Some(url) = &written_link {
                prop_assert!(!url.contains(['<', '>', '|']), "{}", url);
            }
            let raw = raw_angles_outside_link(&body, written_link.as_deref());
            prop_assert!(raw.is_empty(), "raw < or > in {:?}", raw);
        }

        #[test]
        fn escape_slack_round_trips(text in "\\PC{0,200}") {
            let escaped = escape_slack(&text);
            prop_assert!(!escaped.contains('<') && !escaped.contains('>'));
            let unescaped = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
            prop_assert_eq!(unescaped, text);
        }
    }
}
