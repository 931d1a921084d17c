//! Deliveries against a real HTTP listener on 127.0.0.1: bodies, paths and headers as
//! received, retries, timeouts, event filters and what errors show.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{Reply, TestServer, closed_port, event, fast_retries};
use warrant_notify::{
    DeliveryError, EventKind, Notifier, NotifyConfig, Outcome, TargetConfig, TargetKind,
};

fn notifier(targets: Vec<TargetConfig>) -> Notifier {
    Notifier::new(&NotifyConfig { targets })
        .unwrap()
        .with_retry_policy(fast_retries())
}

fn failure(outcome: &Outcome) -> &DeliveryError {
    match outcome {
        Outcome::Failed { error } => error,
        Outcome::Delivered { status } => panic!("delivered ({status}), expected a failure"),
    }
}

#[tokio::test]
async fn slack_target_receives_a_block_kit_message() {
    let server = TestServer::start(vec![]).await;
    let target = TargetConfig::new("chat", TargetKind::Slack, server.url("/services/T1/B2/xyz"));
    let event = event(EventKind::PlanProposed);

    let deliveries = notifier(vec![target]).send(&event).await;

    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].target, "chat");
    assert_eq!(deliveries[0].attempts, 1);
    assert_eq!(deliveries[0].outcome, Outcome::Delivered { status: 200 });
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/services/T1/B2/xyz");
    assert_eq!(
        request.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("warrant/")
    );
    assert_eq!(request.header("idempotency-key"), Some(event.id().as_str()));
    let body = request.json();
    assert_eq!(
        body["text"],
        "Plan proposed: Rotate the access key of ci-deployer (plan-7f3a)"
    );
    let blocks = body["blocks"].as_array().unwrap();
    let types: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["header", "section", "section", "context"]);
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert!(
        blocks[1]["text"]["text"]
            .as_str()
            .unwrap()
            .ends_with("<https://warrant.example.com/plans/plan-7f3a|Open in Warrant>")
    );
    assert_eq!(blocks[2]["fields"][0]["text"], "*Subject*\nplan-7f3a");
}

#[tokio::test]
async fn webhook_target_receives_the_versioned_event() {
    let server = TestServer::start(vec![Reply::Status(202)]).await;
    let target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/in/warrant"));
    let event = event(EventKind::ReviewOverdue);

    let deliveries = notifier(vec![target]).send(&event).await;

    assert_eq!(deliveries[0].outcome, Outcome::Delivered { status: 202 });
    let request = &server.requests()[0];
    assert_eq!(request.target, "/in/warrant");
    assert_eq!(
        request.json(),
        serde_json::json!({
            "schema": "warrant.notification/1",
            "event_id": event.id(),
            "kind": "review.overdue",
            "subject": "plan-7f3a",
            "identity": "aws:iam:user/ci-deployer",
            "owner": "platform@example.com",
            "title": "Rotate the access key of ci-deployer",
            "summary": "Key AKIA…7QX is 412 days old; rotation waits for your approval.",
            "link": "https://warrant.example.com/plans/plan-7f3a",
            "at": "2026-03-02T09:30:00Z",
            "details": {"tier": "prod"},
        })
    );
}

#[tokio::test]
async fn jira_target_creates_an_issue_under_the_base_url() {
    let server = TestServer::start(vec![Reply::Status(201)]).await;
    let mut target = TargetConfig::new("jira", TargetKind::Jira, server.url("/jira/"));
    target.project = Some("SEC".into());
    target.headers = BTreeMap::from([("Authorization".into(), "Basic ${JIRA_AUTH}".into())]);
    let event = event(EventKind::ReviewAssigned);

    let deliveries = notifier(vec![target])
        .with_environment(|name| (name == "JIRA_AUTH").then(|| "dXNlcjp0b2tlbg==".to_string()))
        .send(&event)
        .await;

    assert_eq!(deliveries[0].outcome, Outcome::Delivered { status: 201 });
    let request = &server.requests()[0];
    assert_eq!(request.target, "/jira/rest/api/2/issue");
    assert_eq!(
        request.header("authorization"),
        Some("Basic dXNlcjp0b2tlbg==")
    );
    let fields = &request.json()["fields"];
    assert_eq!(fields["project"], serde_json::json!({"key": "SEC"}));
    assert_eq!(fields["issuetype"], serde_json::json!({"name": "Task"}));
    assert_eq!(
        fields["summary"],
        "[Warrant] Rotate the access key of ci-deployer"
    );
    assert_eq!(
        fields["labels"],
        serde_json::json!(["warrant", "warrant-review-assigned"])
    );
    let description = fields["description"].as_str().unwrap();
    assert!(
        description.contains("*Subject:* plan-7f3a"),
        "{description}"
    );
    assert!(description.contains(&event.id()), "{description}");
}

#[tokio::test]
async fn header_variables_are_read_at_send_time() {
    let server = TestServer::start(vec![]).await;
    let mut target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    target.headers = BTreeMap::from([
        ("Authorization".into(), "Bearer ${SOAR_TOKEN}".into()),
        ("X-Team".into(), "secops-$1-${TEAM}".into()),
        ("User-Agent".into(), "custom-agent".into()),
    ]);
    let token = Arc::new(Mutex::new("first-token".to_string()));
    let environment = Arc::clone(&token);
    let notifier = notifier(vec![target]).with_environment(move |name| match name {
        "SOAR_TOKEN" => Some(environment.lock().unwrap().clone()),
        "TEAM" => Some("blue".to_string()),
        _ => None,
    });
    let event = event(EventKind::PlanFailed);

    notifier.send(&event).await;
    *token.lock().unwrap() = "rotated-token".to_string();
    notifier.send(&event).await;

    let requests = server.requests();
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer first-token")
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer rotated-token")
    );
    assert_eq!(requests[0].header("x-team"), Some("secops-$1-blue"));
    assert_eq!(requests[0].header("user-agent"), Some("custom-agent"));
    assert_eq!(
        requests[0]
            .headers
            .iter()
            .filter(|(name, _)| name == "user-agent")
            .count(),
        1
    );
}

#[tokio::test]
async fn header_variables_come_from_the_process_environment_by_default() {
    let server = TestServer::start(vec![]).await;
    let mut target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    // Cargo sets CARGO_PKG_NAME for the test process too.
    target.headers = BTreeMap::from([("X-Package".into(), "${CARGO_PKG_NAME}".into())]);

    Notifier::new(&NotifyConfig {
        targets: vec![target],
    })
    .unwrap()
    .send(&event(EventKind::PlanApplied))
    .await;

    assert_eq!(
        server.requests()[0].header("x-package"),
        Some("warrant-notify")
    );
}

#[tokio::test]
async fn an_unset_header_variable_fails_the_delivery_before_sending() {
    let server = TestServer::start(vec![]).await;
    let mut target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    target.headers = BTreeMap::from([("Authorization".into(), "Bearer ${NOT_SET_X}".into())]);

    let deliveries = notifier(vec![target])
        .with_environment(|_| None)
        .send(&event(EventKind::PlanApplied))
        .await;

    assert_eq!(deliveries[0].attempts, 0);
    assert_eq!(
        failure(&deliveries[0].outcome).to_string(),
        "notify target \"soar\": headers.Authorization: environment variable NOT_SET_X is not set"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_header_variable_holding_a_line_break_is_not_sent() {
    let server = TestServer::start(vec![]).await;
    let mut target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    target.headers = BTreeMap::from([("X-Token".into(), "${TOKEN}".into())]);

    let deliveries = notifier(vec![target])
        .with_environment(|_| Some("abc\r\nX-Injected: 1".to_string()))
        .send(&event(EventKind::PlanApplied))
        .await;

    let error = failure(&deliveries[0].outcome);
    assert!(
        matches!(error, DeliveryError::InvalidHeader { .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("abc"), "{error}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let server = TestServer::start(vec![Reply::Status(500), Reply::Status(503)]).await;
    let target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    let event = event(EventKind::PlanProposed);

    let deliveries = notifier(vec![target]).send(&event).await;

    assert_eq!(deliveries[0].attempts, 3);
    assert_eq!(deliveries[0].outcome, Outcome::Delivered { status: 200 });
    assert_eq!(
        serde_json::to_value(&deliveries[0]).unwrap(),
        serde_json::json!({"target": "soar", "attempts": 3, "outcome": "delivered", "status": 200})
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.header("idempotency-key"), Some(event.id().as_str()));
        assert_eq!(request.body, requests[0].body);
    }
}

#[tokio::test]
async fn server_errors_exhaust_max_attempts() {
    let server = TestServer::start(vec![Reply::Status(502); 10]).await;
    let mut target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    target.max_attempts = 4;

    let deliveries = notifier(vec![target])
        .send(&event(EventKind::PlanProposed))
        .await;

    assert_eq!(deliveries[0].attempts, 4);
    assert_eq!(server.requests().len(), 4);
    let error = failure(&deliveries[0].outcome);
    assert_eq!(
        error.to_string(),
        format!(
            "notify target \"soar\": POST {} answered 502 Bad Gateway",
            server.url("/hook")
        )
    );
    assert_eq!(
        serde_json::to_value(&deliveries[0]).unwrap()["error"],
        error.to_string()
    );
}

#[tokio::test]
async fn too_many_requests_waits_as_long_as_retry_after_says() {
    let server = TestServer::start(vec![Reply::WithHeaders(
        429,
        vec![("Retry-After", "1".into())],
    )])
    .await;
    let target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));

    let deliveries = notifier(vec![target])
        .send(&event(EventKind::PlanProposed))
        .await;

    assert_eq!(deliveries[0].attempts, 2);
    assert_eq!(deliveries[0].outcome, Outcome::Delivered { status: 200 });
    let requests = server.requests();
    let waited = requests[1].received - requests[0].received;
    // The backoff alone would wait at most 10 ms.
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test]
async fn retry_after_is_capped() {
    let server = TestServer::start(vec![Reply::WithHeaders(
        503,
        vec![("Retry-After", "3600".into())],
    )])
    .await;
    let target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    let mut retry = fast_retries();
    retry.max_retry_after = Duration::from_millis(200);
    let started = Instant::now();

    let deliveries = notifier(vec![target])
        .with_retry_policy(retry)
        .send(&event(EventKind::PlanProposed))
        .await;

    assert_eq!(deliveries[0].attempts, 2);
    assert!(deliveries[0].is_delivered());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = TestServer::start(vec![Reply::Status(400), Reply::Status(200)]).await;
    let target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));

    let deliveries = notifier(vec![target])
        .send(&event(EventKind::PlanProposed))
        .await;

    assert_eq!(deliveries[0].attempts, 1);
    assert!(matches!(
        failure(&deliveries[0].outcome),
        DeliveryError::Status { status: 400, .. }
    ));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unanswered_requests_time_out_and_are_retried() {
    let server = TestServer::start(vec![Reply::Hang, Reply::Hang]).await;
    let mut target = TargetConfig::new("soar", TargetKind::Webhook, server.url("/hook"));
    target.timeout_seconds = 1;
    target.max_attempts = 2;
    let started = Instant::now();

    let deliveries = notifier(vec![target])
        .send(&event(EventKind::PlanProposed))
        .await;

    let elapsed = started.elapsed();
    assert_eq!(deliveries[0].attempts, 2);
    assert_eq!(
        failure(&deliveries[0].outcome).to_string(),
        format!(
            "notify target \"soar\": POST {}: no answer within 1 s",
            server.url("/hook")
        )
    );
    assert_eq!(server.requests().len(), 2);
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn refused_connections_are_retried() {
    let port = closed_port().await;
    let mut target = TargetConfig::new(
        "down",
        TargetKind::Webhook,
        format!("http://127.0.0.1:{port}/hook?token=s3cr3t"),
    );
    target.max_attempts = 3;

    let deliveries = notifier(vec![target])
        .send(&event(EventKind::PlanProposed))
        .await;

    assert_eq!(deliveries[0].attempts, 3);
    let error = failure(&deliveries[0].outcome);
    assert!(
        matches!(error, DeliveryError::Transport { connect: true, .. }),
        "{error:?}"
    );
    let shown = error.to_string();
    assert!(shown.contains("tcp connect error"), "{shown}");
    assert!(
        shown.starts_with(&format!(
            "notify target \"down\": POST http://127.0.0.1:{port}/hook?…: "
        )),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[tokio::test]
async fn each_target_gets_only_the_events_it_lists() {
    let plans = TestServer::start(vec![]).await;
    let reviews = TestServer::start(vec![]).await;
    let everything = TestServer::start(vec![]).await;
    let mut plans_target = TargetConfig::new("plans", TargetKind::Webhook, plans.url("/"));
    plans_target.events = Some(vec!["plan.proposed".into(), "plan.failed".into()]);
    let mut reviews_target = TargetConfig::new("reviews", TargetKind::Slack, reviews.url("/"));
    reviews_target.events = Some(vec!["review.assigned".into()]);
    let everything_target = TargetConfig::new("all", TargetKind::Webhook, everything.url("/"));
    let notifier = notifier(vec![plans_target, reviews_target, everything_target]);

    let names = |deliveries: Vec<warrant_notify::Delivery>| {
        deliveries
            .into_iter()
            .map(|delivery| delivery.target)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(notifier.send(&event(EventKind::PlanProposed)).await),
        ["plans", "all"]
    );
    assert_eq!(
        names(notifier.send(&event(EventKind::ReviewAssigned)).await),
        ["reviews", "all"]
    );
    assert_eq!(
        names(notifier.send(&event(EventKind::ExceptionExpiring)).await),
        ["all"]
    );
    assert_eq!(plans.requests().len(), 1);
    assert_eq!(reviews.requests().len(), 1);
    assert_eq!(everything.requests().len(), 3);
}

#[tokio::test]
async fn errors_show_the_url_without_credentials_or_query() {
    let server = TestServer::start(vec![Reply::Status(403)]).await;
    let url = format!(
        "http://bot:hunter2@{}/hook?token=s3cr3t&channel=x",
        server.addr
    );
    let mut target = TargetConfig::new("soar", TargetKind::Webhook, url);
    target.headers = BTreeMap::from([("X-Api-Key".into(), "${API_KEY}".into())]);

    let deliveries = notifier(vec![target])
        .with_environment(|_| Some("key-value-secret".to_string()))
        .send(&event(EventKind::PlanProposed))
        .await;

    let request = &server.requests()[0];
    // The credentials are sent as Basic authentication and the query as given.
    assert_eq!(request.target, "/hook?token=s3cr3t&channel=x");
    let basic = base64::engine::general_purpose::STANDARD.encode("bot:hunter2");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(request.header("x-api-key"), Some("key-value-secret"));

    let error = failure(&deliveries[0].outcome).to_string();
    assert_eq!(
        error,
        format!(
            "notify target \"soar\": POST http://{}/hook?… answered 403 Forbidden",
            server.addr
        )
    );
    let everything_shown = format!(
        "{error} {:?} {}",
        deliveries,
        serde_json::to_string(&deliveries).unwrap()
    );
    for secret in ["s3cr3t", "hunter2", &basic, "key-value-secret", "channel=x"] {
        assert!(
            !everything_shown.contains(secret),
            "{secret} in {everything_shown}"
        );
    }
}

#[tokio::test]
async fn slack_errors_hide_the_webhook_path() {
    let server = TestServer::start(vec![Reply::Status(404)]).await;
    let target = TargetConfig::new(
        "chat",
        TargetKind::Slack,
        server.url("/services/T1/B2/xoxsecret"),
    );

    let deliveries = notifier(vec![target])
        .send(&event(EventKind::PlanProposed))
        .await;

    let error = failure(&deliveries[0].outcome).to_string();
    assert_eq!(
        error,
        format!(
            "notify target \"chat\": POST http://{}/services/… answered 404 Not Found",
            server.addr
        )
    );
}

#[tokio::test]
async fn targets_are_sent_to_at_once() {
    let slow = TestServer::start(vec![Reply::Hang]).await;
    let fast = TestServer::start(vec![]).await;
    let mut slow_target = TargetConfig::new("slow", TargetKind::Webhook, slow.url("/"));
    slow_target.timeout_seconds = 1;
    slow_target.max_attempts = 1;
    let fast_target = TargetConfig::new("fast", TargetKind::Webhook, fast.url("/"));
    let started = Instant::now();

    let deliveries = notifier(vec![slow_target, fast_target])
        .send(&event(EventKind::PlanProposed))
        .await;

    assert_eq!(deliveries[0].target, "slow");
    assert!(!deliveries[0].is_delivered());
    assert!(deliveries[1].is_delivered());
    // The fast target's request did not wait for the slow one's timeout.
    let fast_received = fast.requests()[0].received - started;
    assert!(
        fast_received < Duration::from_millis(900),
        "{fast_received:?}"
    );
}
