//! The `[notify]` table: defaults, and errors that name the target and the key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use warrant_notify::{ConfigError, Notifier, NotifyConfig, TargetConfig, TargetKind};

const EXAMPLE: &str = r#"
[[targets]]
name = "secops-slack"
kind = "slack"
url = "https://hooks.slack.com/services/T0EXAMPLE/B0EXAMPLE/example-webhook-path"
events = ["plan.proposed", "plan.failed", "exception.expiring"]

[[targets]]
name = "soar"
kind = "webhook"
url = "https://soar.example.com/hooks/warrant"
headers = { Authorization = "Bearer ${SOAR_TOKEN}" }
timeout_seconds = 5
max_attempts = 3

[[targets]]
name = "jira"
kind = "jira"
url = "https://example.atlassian.net"
project = "SEC"
events = ["review.assigned", "review.overdue"]
headers = { Authorization = "Basic ${JIRA_BASIC_AUTH}" }
"#;

#[test]
fn the_documented_example_parses_with_defaults() {
    let config = NotifyConfig::from_toml(EXAMPLE, "warrant.toml").unwrap();
    assert_eq!(config.targets.len(), 3);
    let slack = &config.targets[0];
    assert_eq!(slack.kind, TargetKind::Slack);
    assert_eq!(slack.timeout_seconds, 10);
    assert_eq!(slack.max_attempts, 5);
    assert!(slack.headers.is_empty());
    let soar = &config.targets[1];
    assert_eq!(soar.events, None, "all events");
    assert_eq!((soar.timeout_seconds, soar.max_attempts), (5, 3));
    let jira = &config.targets[2];
    assert_eq!(jira.project.as_deref(), Some("SEC"));
    assert_eq!(jira.issue_type, None, "Task when sent");
}

#[test]
fn an_empty_table_has_no_targets() {
    let config = NotifyConfig::from_toml("", "warrant.toml").unwrap();
    assert!(config.targets.is_empty());
    let notifier = Notifier::new(&config).unwrap();
    assert_eq!(notifier.target_names().count(), 0);
}

#[test]
fn unknown_keys_are_errors_with_their_position() {
    let text = "[[targets]]\nname = \"a\"\nkind = \"webhook\"\nurl = \"http://x\"\ntimeout = 3\n";
    let error = NotifyConfig::from_toml(text, "warrant.toml").unwrap_err();
    let shown = error.to_string();
    assert!(
        shown.starts_with("warrant.toml: line 5, column 1: "),
        "{shown}"
    );
    assert!(shown.contains("unknown field `timeout`"), "{shown}");

    let error = NotifyConfig::from_toml(
        "[[targets]]\nname = \"a\"\nkind = \"teams\"\nurl = \"http://x\"\n",
        "w.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("line 3") && error.contains("teams"),
        "{error}"
    );

    let error = NotifyConfig::from_toml("target = []\n", "w.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown field `target`"), "{error}");
}

fn target_error(entry: &str) -> String {
    let text = format!("[[targets]]\n{entry}\n");
    match NotifyConfig::from_toml(&text, "warrant.toml") {
        Err(error @ ConfigError::Target { .. }) => error.to_string(),
        other => panic!("{entry}: expected a target error, got {other:?}"),
    }
}

#[test]
fn bad_values_are_errors_naming_the_target_and_the_key() {
    let cases = [
        (
            r#"name = "" 
               kind = "webhook"
               url = "https://x.example""#,
            "notify target #1: name: must not be empty",
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "ftp://x.example/drop""#,
            r#"notify target "a": url: scheme must be http or https, not "ftp""#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "hooks.example.com/x""#,
            r#"notify target "a": url: not a valid URL (relative URL without a base)"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://x.example"
               events = ["plan.proposed", "plan.propose"]"#,
            r#"notify target "a": events: unknown event "plan.propose" (known: plan.proposed, plan.approved, plan.applied, plan.failed, review.assigned, review.overdue, exception.expiring)"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://x.example"
               events = []"#,
            r#"notify target "a": events: is empty (leave the key out to send every event)"#,
        ),
        (
            r#"name = "j"
               kind = "jira"
               url = "https://x.atlassian.net""#,
            r#"notify target "j": project: a jira target needs a project key"#,
        ),
        (
            r#"name = "j"
               kind = "jira"
               url = "https://x.atlassian.net?x=1"
               project = "SEC""#,
            r#"notify target "j": url: a jira target's url is the site's base URL, without a query"#,
        ),
        (
            r#"name = "s"
               kind = "slack"
               url = "https://hooks.slack.com/services/a"
               project = "SEC""#,
            r#"notify target "s": project: is only for jira targets"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://x.example"
               headers = { "Bad Name" = "v" }"#,
            r#"notify target "a": headers.Bad Name: is not a valid HTTP header name"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://x.example"
               headers = { Content-Type = "text/plain" }"#,
            r#"notify target "a": headers.Content-Type: is set by Warrant and cannot be replaced"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://x.example"
               headers = { Authorization = "Bearer ${TOKEN" }"#,
            r#"notify target "a": headers.Authorization: has `${` without a closing `}`"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://u:p@x.example"
               headers = { Authorization = "Bearer ${TOKEN}" }"#,
            r#"notify target "a": headers.Authorization: the url carries credentials already; use one or the other"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://x.example"
               timeout_seconds = 0"#,
            r#"notify target "a": timeout_seconds: must be between 1 and 300"#,
        ),
        (
            r#"name = "a"
               kind = "webhook"
               url = "https://x.example"
               max_attempts = 0"#,
            r#"notify target "a": max_attempts: must be between 1 and 20"#,
        ),
    ];
    for (entry, expected) in cases {
        assert_eq!(target_error(entry), expected, "{entry}");
    }
}

#[test]
fn target_names_are_unique() {
    let text = "[[targets]]\nname = \"a\"\nkind = \"webhook\"\nurl = \"http://x\"\n\
                [[targets]]\nname = \"a\"\nkind = \"slack\"\nurl = \"http://y\"\n";
    let error = NotifyConfig::from_toml(text, "w.toml").unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"notify target "a": name: another target has the same name"#
    );
}

#[test]
fn errors_never_quote_header_values_or_urls() {
    // A syntax error on a line holding a literal token.
    let text = "[[targets]]\nname = \"a\"\nkind = \"webhook\"\nurl = \"http://x\"\n\
                headers = { Authorization = \"Bearer tok-123\" \n";
    let error = NotifyConfig::from_toml(text, "w.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("line 5"), "{error}");
    assert!(!error.contains("tok-123"), "{error}");

    // A literal value that cannot be a header.
    let mut target = TargetConfig::new("a", TargetKind::Webhook, "http://x");
    target
        .headers
        .insert("X-Key".into(), "tok-123\u{7f}".into());
    let error = NotifyConfig {
        targets: vec![target],
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        r#"notify target "a": headers.X-Key: contains characters a header value cannot hold"#
    );

    // A URL that does not parse, holding a token.
    let target = TargetConfig::new("a", TargetKind::Webhook, "http://[tok-123/x");
    let error = NotifyConfig {
        targets: vec![target],
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(!error.contains("tok-123"), "{error}");
}

#[test]
fn debug_hides_header_values_and_url_secrets() {
    let mut target = TargetConfig::new(
        "chat",
        TargetKind::Slack,
        "https://user:pw-1@hooks.slack.com/services/T1/B2/secret-path?x=q-1",
    );
    target
        .headers
        .insert("Authorization".into(), "Bearer tok-123".into());
    let shown = format!("{target:?}");
    assert!(
        shown.contains("https://hooks.slack.com/services/…?…"),
        "{shown}"
    );
    assert!(shown.contains("Authorization"), "{shown}");
    for secret in ["tok-123", "secret-path", "pw-1", "q-1"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn https_targets_load_the_system_roots() {
    let target = TargetConfig::new("a", TargetKind::Webhook, "https://x.example/hook");
    let config = NotifyConfig {
        targets: vec![target],
    };
    match Notifier::new(&config) {
        Ok(notifier) => assert_eq!(notifier.target_names().collect::<Vec<_>>(), ["a"]),
        // A machine without a CA bundle: the error says so instead of failing every send.
        Err(ConfigError::RootCertificates { message }) => {
            eprintln!("no system root certificates here: {message}");
        }
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn config_round_trips_through_toml() {
    let config = NotifyConfig::from_toml(EXAMPLE, "warrant.toml").unwrap();
    let written = toml::to_string(&config).unwrap();
    assert_eq!(NotifyConfig::from_toml(&written, "again").unwrap(), config);
}
