#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(clippy::indexing_slicing, reason = "tests index their own data")]
//! The lifecycle over HTTP on the demo organisation: an owner decides their own review items
//! (and only theirs), the decision's plan waits in the approvals inbox, its requester cannot
//! approve it, another approver can; exceptions are granted and withdrawn; a finding accepted
//! until a day becomes an exception that expires.

mod common;

use common::{Demo, demo_server, now, segment};
use warrant_app::accounts::Role;
use warrant_app::query::When;
use warrant_app::review::StartRequest;
use warrant_lifecycle::GovernancePolicy;

const ALICE: &str = "alice.chen@acme-analytics.example";
const FRANK: &str = "frank.li@acme-analytics.example";
const SECOPS: &str = "secops@acme-analytics.example";

/// Opens campaign `2026-Q4` over every AWS identity, as the admin.
async fn open_campaign(demo: &Demo) {
    start_campaign(demo, "2026-Q4", "provider=aws", (2026, 11, 30), now()).await;
}

/// Opens campaign `name` over `scope`, due on `due`, at `at`, with SecOps as the fallback
/// reviewer.
async fn start_campaign(
    demo: &Demo,
    name: &str,
    scope: &str,
    due: (i32, u32, u32),
    at: chrono::DateTime<chrono::Utc>,
) {
    let policy = GovernancePolicy {
        fallback_reviewer: Some(SECOPS.to_string()),
        ..GovernancePolicy::default()
    };
    let request = StartRequest {
        name: name.into(),
        scope: scope.parse().unwrap(),
        due: chrono::NaiveDate::from_ymd_opt(due.0, due.1, due.2).unwrap(),
        usage_window: chrono::Duration::days(90),
    };
    warrant_app::review::start(
        &demo.state.store,
        &demo.state.posture,
        &policy,
        &request,
        When {
            asked: None,
            now: at,
        },
        "admin@example.org",
        &warrant_app::NoProgress,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_owner_decides_their_items_and_an_approver_other_than_the_requester_approves_the_plan() {
    let demo = demo_server().await;
    open_campaign(&demo).await;
    let alice = demo.add_user(ALICE, Role::Owner).await;
    let frank = demo.add_user(FRANK, Role::Owner).await;

    let campaigns = demo.get("/api/v1/reviews").await;
    assert_eq!(campaigns.status, 200, "{}", campaigns.text());
    let campaign = &campaigns.json()[0];
    assert_eq!(campaign["name"], "2026-Q4");
    assert_eq!(campaign["status"], "open");
    assert!(campaign["items"].as_u64().unwrap() > 5);
    assert_eq!(campaign["decided"], 0);

    // Alice's inbox holds her items only.
    let mine = demo
        .get_with(&alice, "/api/v1/reviews/2026-Q4?reviewer=me&pending=true")
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text());
    let items = mine.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty(), "alice owns AWS identities in the demo");
    assert!(items.iter().all(|i| i["reviewer_now"] == ALICE));
    let item = items[0]["item"].as_i64().unwrap();
    let identity = items[0]["identity"].as_str().unwrap().to_string();

    // Someone else's item: Frank is an owner, but not this item's reviewer.
    let uri = format!("/api/v1/reviews/2026-Q4/items/{item}/decision");
    let body =
        serde_json::json!({"verdict": "decommission", "reason": "not used since the migration"});
    let refused = demo.post_with(&frank, &uri, body.clone()).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.content_type, "application/problem+json");
    assert!(
        refused.text().contains("may not decide"),
        "{}",
        refused.text()
    );
    // A viewer's role does not decide reviews at all.
    let viewer = demo.post_as(Role::Viewer, &uri, body.clone()).await;
    assert_eq!(viewer.status, 403);
    // Keeping access needs a reason.
    let bare = demo
        .post_with(&alice, &uri, serde_json::json!({"verdict": "keep"}))
        .await;
    assert_eq!(bare.status, 400, "{}", bare.text());
    let unknown = demo
        .post_with(&alice, &uri, serde_json::json!({"verdict": "shrug"}))
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.text());

    let decided = demo.post_with(&alice, &uri, body.clone()).await;
    assert_eq!(decided.status, 201, "{}", decided.text());
    let decided = decided.json();
    assert_eq!(decided["item"]["state"], "decided");
    assert_eq!(decided["item"]["decision"]["decided_by"], ALICE);
    // Decided once: a second decision needs `supersede`.
    let again = demo.post_with(&alice, &uri, body).await;
    assert_eq!(again.status, 400, "{}", again.text());

    // The decision's plan (when the identity's provider can carry it out) waits for an
    // approver; Alice, its requester, may not approve it even with an approver's role.
    let plan = decided["plan"].clone();
    let plan_id = match plan["id"].as_str() {
        Some(id) => id.to_string(),
        None => {
            // No plan for this identity (e.g. nothing to disable): write one directly.
            let ask = warrant_app::remediation::PlanRequest {
                action: warrant_lifecycle::Action::Quarantine,
                identity: identity.clone(),
                reason: Some("review 2026-Q4".into()),
                key: None,
                secret: None,
                policy: None,
                grace_hours: None,
                usage_since: now() - chrono::Duration::days(90),
            };
            warrant_app::remediation::propose(
                &demo.state.store,
                &GovernancePolicy::default(),
                &ask,
                now(),
                ALICE,
            )
            .await
            .unwrap()
            .plan
            .id
        }
    };
    let waiting = demo.get("/api/v1/plans?status=proposed").await;
    assert_eq!(waiting.status, 200);
    let listed = waiting.json();
    let ours = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == plan_id.as_str())
        .expect("the plan waits for approval")
        .clone();
    assert_eq!(ours["requested_by"], ALICE);
    assert!(!ours["steps"].as_array().unwrap().is_empty());
    assert!(ours["steps"][0]["before"].is_string() && ours["steps"][0]["after"].is_string());

    let alice_approver = demo
        .add_user("alice.approver@acme-analytics.example", Role::Approver)
        .await;
    let approve = format!("/api/v1/plans/{plan_id}/approve");
    // The owner's role does not approve.
    let by_owner = demo
        .post_with(&alice, &approve, serde_json::json!({}))
        .await;
    assert_eq!(by_owner.status, 403);
    // Reject without a reason: refused.
    let reject = format!("/api/v1/plans/{plan_id}/reject");
    let no_reason = demo
        .post_as(Role::Approver, &reject, serde_json::json!({}))
        .await;
    assert_eq!(no_reason.status, 400, "{}", no_reason.text());
    // Another approver approves.
    let approved = demo
        .post_with(
            &alice_approver,
            &approve,
            serde_json::json!({"reason": "agreed"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["status"], "approved");
    assert_eq!(
        approved.json()["approved_by"][0],
        "alice.approver@acme-analytics.example"
    );
    let shown = demo.get(&format!("/api/v1/plans/{plan_id}")).await;
    assert_eq!(shown.json()["decisions"][0]["decision"], "approve");
    assert_eq!(
        demo.get("/api/v1/plans/plan-0000000000000000").await.status,
        404
    );

    // The campaign counts the decision; the console's inboxes show it.
    let campaigns = demo.get("/api/v1/reviews").await.json();
    assert_eq!(campaigns[0]["decided"], 1);
    let page = demo.get_with(&alice, "/reviews").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Waiting for you"));
    let approvals = demo.get_as(Role::Approver, "/approvals").await;
    assert_eq!(approvals.status, 200);
    assert!(approvals.text().contains(&plan_id), "approved plan listed");
    let plan_page = demo.get(&format!("/plans/{plan_id}")).await;
    assert_eq!(plan_page.status, 200);
    assert!(plan_page.text().contains("What it changes"));
}

#[tokio::test]
async fn a_requester_never_approves_their_own_plan() {
    let demo = demo_server().await;
    let identity = demo
        .get("/api/v1/identities?provider=aws&kind=aws_role&limit=1")
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ask = warrant_app::remediation::PlanRequest {
        action: warrant_lifecycle::Action::Quarantine,
        identity,
        reason: Some("suspicious use".into()),
        key: None,
        secret: None,
        policy: None,
        grace_hours: None,
        usage_since: now() - chrono::Duration::days(90),
    };
    let plan = warrant_app::remediation::propose(
        &demo.state.store,
        &GovernancePolicy::default(),
        &ask,
        now(),
        "approver@example.org",
    )
    .await
    .unwrap()
    .plan
    .id;
    let own = demo
        .post_as(
            Role::Approver,
            &format!("/api/v1/plans/{plan}/approve"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(own.status, 403, "{}", own.text());
    assert!(
        own.text().contains("approver@example.org"),
        "{}",
        own.text()
    );
    // The inbox does not offer the requester the button.
    let inbox = demo.get_as(Role::Approver, "/approvals").await.text();
    assert!(inbox.contains("Your request: someone else approves it."));
    // An unapproved plan is not applied.
    let apply = demo
        .post(
            &format!("/api/v1/plans/{plan}/apply"),
            serde_json::json!({"dry_run": true}),
        )
        .await;
    assert_eq!(apply.status, 400, "{}", apply.text());
    let rejected = demo
        .post(
            &format!("/api/v1/plans/{plan}/reject"),
            serde_json::json!({"reason": "not without evidence"}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text());
    assert_eq!(rejected.json()["status"], "rejected");
}

#[tokio::test]
async fn exceptions_are_granted_listed_and_withdrawn_and_a_finding_accepted_until_a_day_reopens_after()
 {
    let demo = demo_server().await;
    let grant = demo
        .post(
            "/api/v1/exceptions",
            serde_json::json!({
                "rule": "access-key-old",
                "tags": {"team": "data"},
                "reason": "vendor rotates these in January",
                "expires": "2026-12-31",
            }),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.text());
    let exception = grant.json();
    assert_eq!(exception["owner"], "admin@example.org");
    assert_eq!(exception["state"], "active");
    let id = exception["id"].as_str().unwrap().to_string();
    for (body, why) in [
        (
            serde_json::json!({"reason": "x", "expires": "2026-12-31"}),
            "no scope",
        ),
        (
            serde_json::json!({"rule": "access-key-old", "reason": "x", "expires": "2026-10-01"}),
            "expired",
        ),
        (
            serde_json::json!({"rule": "access-key-old", "reason": "x", "expires": "2030-01-01"}),
            "beyond the policy's limit",
        ),
        (
            serde_json::json!({"rule": "no-such-rule", "reason": "x", "expires": "2026-12-31"}),
            "unknown rule",
        ),
        (
            serde_json::json!({"rule": "access-key-old", "reason": "x", "expires": "soon"}),
            "not a date",
        ),
    ] {
        let answer = demo.post("/api/v1/exceptions", body).await;
        assert_eq!(answer.status, 400, "{why}: {}", answer.text());
        assert_eq!(answer.content_type, "application/problem+json");
    }
    let viewer = demo
        .post_as(
            Role::Viewer,
            "/api/v1/exceptions",
            serde_json::json!({"rule": "access-key-old", "reason": "x", "expires": "2026-12-31"}),
        )
        .await;
    assert_eq!(viewer.status, 403);
    let listed = demo.get("/api/v1/exceptions").await.json();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == id.as_str())
    );
    let withdrawn = common::send(
        &demo.state,
        axum::http::Request::delete(format!("/api/v1/exceptions/{id}"))
            .header(
                "authorization",
                format!("Bearer {}", demo.token(Role::Admin)),
            )
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(withdrawn.status, 204, "{}", withdrawn.text());
    let again = common::send(
        &demo.state,
        axum::http::Request::delete(format!("/api/v1/exceptions/{id}"))
            .header(
                "authorization",
                format!("Bearer {}", demo.token(Role::Admin)),
            )
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, 404, "withdrawn once: {}", again.text());
    let in_force = demo.get("/api/v1/exceptions?in_force=true").await.json();
    assert!(
        in_force["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["id"] != id.as_str()),
        "a withdrawn exception is not in force"
    );
    let listed = demo.get("/api/v1/exceptions").await.json();
    let gone = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .unwrap();
    assert_eq!(gone["state"], "withdrawn");
    assert_eq!(gone["withdrawn_by"], "admin@example.org");

    // Accepting a finding until a day: out of the open findings now, covered by an exception
    // for that identity and rule that ends that day.
    let findings = demo.get("/api/v1/findings?limit=1").await.json();
    let finding = findings["items"][0].clone();
    let fid = finding["id"].as_str().unwrap();
    let before = findings["matched"].as_u64().unwrap();
    let uri = format!("/api/v1/findings/{}/accept", segment(fid));
    let past = demo
        .post_as(
            Role::Reviewer,
            &uri,
            serde_json::json!({"reason": "x", "expires": "2026-01-01"}),
        )
        .await;
    assert_eq!(past.status, 400, "{}", past.text());
    let accepted = demo
        .post_as(
            Role::Reviewer,
            &uri,
            serde_json::json!({"reason": "decommissioned with the old cluster", "expires": "2026-11-30"}),
        )
        .await;
    assert_eq!(accepted.status, 204, "{}", accepted.text());
    let after = demo.get("/api/v1/findings?limit=1").await.json();
    assert_eq!(after["matched"].as_u64().unwrap(), before - 1);
    let listed = demo.get("/api/v1/exceptions").await.json();
    let covering = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "decommissioned with the old cluster")
        .expect("an exception for the accepted finding");
    assert_eq!(covering["owner"], "reviewer@example.org");
    assert!(
        covering["expires"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-30")
    );
    let scope = covering["scope"].as_str().unwrap();
    assert!(
        scope.contains(finding["identity"].as_str().unwrap()),
        "{scope}"
    );
    assert!(scope.contains(finding["rule"].as_str().unwrap()), "{scope}");

    // A page at a time, soonest to expire first; the inbox pages the ones in force.
    for day in 1..=55 {
        let granted = demo
            .post(
                "/api/v1/exceptions",
                serde_json::json!({
                    "rule": "access-key-old",
                    "tags": {"team": format!("t{day}")},
                    "reason": format!("batch {day}"),
                    "expires": format!("2026-12-{:02}", day % 28 + 1),
                }),
            )
            .await;
        assert_eq!(granted.status, 201, "{}", granted.text());
    }
    let everything = demo.get("/api/v1/exceptions?limit=1000").await.json();
    let all: Vec<String> = everything["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), 57);
    let mut paged = Vec::new();
    let mut expiries = Vec::new();
    let mut uri = "/api/v1/exceptions?limit=10".to_string();
    loop {
        let page = demo.get(&uri).await.json();
        for e in page["items"].as_array().unwrap() {
            paged.push(e["id"].as_str().unwrap().to_string());
            expiries.push(e["expires"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => uri = format!("/api/v1/exceptions?limit=10&after={next}"),
            None => break,
        }
    }
    assert_eq!(paged, all);
    assert!(expiries.windows(2).all(|w| w[0] <= w[1]));
    let bad = demo.get("/api/v1/exceptions?after=exc-nothing").await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    let inbox = demo.get_as(Role::Approver, "/approvals").await.text();
    assert!(
        inbox.contains("/approvals?exceptions="),
        "56 in force: more than a page"
    );
    assert_eq!(
        inbox.matches("batch ").count(),
        49,
        "a page of 50 with the accepted one"
    );
}

#[tokio::test]
async fn plans_page_newest_first_by_status_in_the_api_and_the_approvals_inbox() {
    let demo = demo_server().await;
    let identity = demo
        .get("/api/v1/identities?provider=aws&kind=aws_role&limit=1")
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // More plans than one inbox page holds, written a minute apart.
    let mut written = Vec::new();
    for i in 0..53 {
        let ask = warrant_app::remediation::PlanRequest {
            action: warrant_lifecycle::Action::Quarantine,
            identity: identity.clone(),
            reason: Some(format!("case {i}")),
            key: None,
            secret: None,
            policy: None,
            grace_hours: None,
            usage_since: now() - chrono::Duration::days(90),
        };
        let plan = warrant_app::remediation::propose(
            &demo.state.store,
            &GovernancePolicy::default(),
            &ask,
            now() + chrono::Duration::minutes(i),
            ALICE,
        )
        .await
        .unwrap()
        .plan
        .id;
        written.push(plan);
    }
    let rejected = demo
        .post(
            &format!("/api/v1/plans/{}/reject", written[52]),
            serde_json::json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text());

    // Newest first, each once, a page at a time.
    let mut seen = Vec::new();
    let mut uri = "/api/v1/plans?limit=20".to_string();
    loop {
        let page = demo.get(&uri).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 20);
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => uri = format!("/api/v1/plans?limit=20&after={next}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = written.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    // A status filter pages over the plans in that status only.
    let proposed = demo
        .get("/api/v1/plans?status=proposed&limit=52")
        .await
        .json();
    assert_eq!(proposed["items"].as_array().unwrap().len(), 52);
    assert!(proposed["next"].is_null());
    let first = demo
        .get("/api/v1/plans?status=proposed&limit=1")
        .await
        .json();
    assert_eq!(first["items"][0]["id"], written[51].as_str());
    let both = demo
        .get("/api/v1/plans?status=rejected,proposed&limit=1")
        .await
        .json();
    assert_eq!(both["items"][0]["id"], written[52].as_str());
    for bad in [
        "/api/v1/plans?status=pending",
        "/api/v1/plans?after=plan-0000000000000000",
        "/api/v1/plans?limit=0",
    ] {
        let answer = demo.get(bad).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text());
        assert_eq!(answer.content_type, "application/problem+json");
    }

    // The inbox shows a page of each section and moves each on its own.
    let inbox = demo.get_as(Role::Approver, "/approvals").await.text();
    assert!(inbox.contains("Other plans (1)"), "one rejected plan");
    assert!(
        !inbox.contains("Waiting for approval ("),
        "52 do not fit one page"
    );
    assert_eq!(
        inbox.matches("case ").count(),
        51,
        "a page of 50 waiting plans and the rejected one"
    );
    let next = format!("/approvals?waiting={}#waiting", written[2]);
    assert!(inbox.contains(&next), "{inbox}");
    let second = demo.get_as(Role::Approver, &next).await.text();
    assert!(second.contains("« First page"));
    for plan in &written[..2] {
        assert!(second.contains(plan.as_str()));
    }
    assert!(!second.contains(written[3].as_str()));
}

#[tokio::test]
async fn review_items_page_in_item_order_and_the_inbox_pages_across_them() {
    let demo = demo_server().await;
    // Every identity, already overdue: the fallback reviewer holds every pending item.
    let a_month_ago = now() - chrono::Duration::days(30);
    start_campaign(&demo, "2026-late", "all", (2026, 10, 15), a_month_ago).await;

    let whole = demo
        .get("/api/v1/reviews/2026-late?limit=1000")
        .await
        .json();
    let total = whole["campaign"]["items"].as_u64().unwrap();
    assert!(total > 50, "{total} items: more than an inbox page");
    assert_eq!(whole["items"].as_array().unwrap().len() as u64, total);
    assert!(whole["next"].is_null());

    let mut numbers = Vec::new();
    let mut uri = "/api/v1/reviews/2026-late?limit=7".to_string();
    loop {
        let page = demo.get(&uri).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        assert_eq!(page["campaign"]["items"].as_u64(), Some(total));
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        numbers.extend(items.iter().map(|i| i["item"].as_i64().unwrap()));
        match page["next"].as_str() {
            Some(next) => uri = format!("/api/v1/reviews/2026-late?limit=7&after={next}"),
            None => break,
        }
    }
    assert_eq!(numbers, (1..=total as i64).collect::<Vec<_>>());

    // Alice's own items, a page at a time, are the ones assigned to her.
    let alice = demo.add_user(ALICE, Role::Owner).await;
    let assigned: Vec<i64> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["reviewer"] == ALICE)
        .map(|i| i["item"].as_i64().unwrap())
        .collect();
    assert!(assigned.len() >= 2);
    let mut hers = Vec::new();
    let mut uri = "/api/v1/reviews/2026-late?reviewer=me&pending=true&limit=1".to_string();
    loop {
        let page = demo.get_with(&alice, &uri).await.json();
        hers.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["item"].as_i64().unwrap()),
        );
        match page["next"].as_str() {
            Some(next) => {
                uri = format!(
                    "/api/v1/reviews/2026-late?reviewer=me&pending=true&limit=1&after={next}"
                )
            }
            None => break,
        }
    }
    assert_eq!(hers, assigned);
    let bad = demo.get("/api/v1/reviews/2026-late?after=seven").await;
    assert_eq!(bad.status, 400, "{}", bad.text());

    // The fallback reviewer's inbox: a page of 50, then the rest.
    let secops = demo.add_user(SECOPS, Role::Reviewer).await;
    let inbox = demo.get_with(&secops, "/reviews").await.text();
    assert_eq!(
        inbox.matches("name=\"verdict\"").count(),
        50,
        "a page of items"
    );
    let next = "/reviews?after=2026-late%2F50";
    assert!(inbox.contains(next), "{inbox}");
    let rest = demo.get_with(&secops, next).await.text();
    assert_eq!(rest.matches("name=\"verdict\"").count() as u64, total - 50);
    assert!(rest.contains("« First page") && !rest.contains("rel=\"next\""));
    assert_eq!(
        demo.get_with(&secops, "/reviews?after=nope/3").await.status,
        400
    );
}

/// The gateway's held calls over the API: everyone signed in sees them; approvers (not owners
/// or viewers) approve, deny with a note, and decide each once.
#[tokio::test]
async fn held_tool_calls_are_listed_and_decided_once_by_approvers() {
    let demo = demo_server().await;
    let held = |id: &str, minutes: i64| warrant_store::ApprovalRow {
        id: id.into(),
        agent: "agent:pay-bot".into(),
        task: Some("refund order 9".into()),
        tool: "payments::refund".into(),
        arguments_sha256: "ab".repeat(32),
        arguments_view: r#"{"amount":250,"order":"9"}"#.into(),
        taint: vec!["untrusted_input".into()],
        reason: "refunds over 100 need approval".into(),
        requested_at: now(),
        expires_at: now() + chrono::Duration::minutes(minutes),
        status: warrant_store::ApprovalStatus::Pending,
        decided_at: None,
        decided_by: None,
        note: None,
        used_at: None,
    };
    let store = &demo.state.store;
    store.request_approval(&held("h1", 5)).await.unwrap();
    store.request_approval(&held("h2", 5)).await.unwrap();
    store.request_approval(&held("h3", -1)).await.unwrap();

    let listed = demo.get("/api/v1/gateway/approvals?status=pending").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let items = listed.json();
    assert_eq!(items.as_array().unwrap().len(), 2, "h3 has expired");
    assert_eq!(items[0]["tool"], "payments::refund");
    assert_eq!(items[0]["arguments"]["amount"], 250);
    let expired = demo.get("/api/v1/gateway/approvals?status=expired").await;
    assert_eq!(expired.json()[0]["id"], "h3");
    assert_eq!(
        demo.get("/api/v1/gateway/approvals?status=maybe")
            .await
            .status,
        400
    );

    let approve = "/api/v1/gateway/approvals/h1/approve";
    assert_eq!(
        demo.post_as(Role::Viewer, approve, serde_json::json!({}))
            .await
            .status,
        403
    );
    let no_note = demo
        .post_as(
            Role::Approver,
            "/api/v1/gateway/approvals/h2/deny",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(no_note.status, 400, "{}", no_note.text());
    let approved = demo
        .post_as(Role::Approver, approve, serde_json::json!({"note": "ok"}))
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["status"], "approved");
    assert_eq!(
        demo.post_as(Role::Approver, approve, serde_json::json!({}))
            .await
            .status,
        409
    );
    let late = demo
        .post_as(
            Role::Approver,
            "/api/v1/gateway/approvals/h3/approve",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(late.status, 409, "{}", late.text());
    assert_eq!(
        demo.post_as(
            Role::Approver,
            "/api/v1/gateway/approvals/nope/approve",
            serde_json::json!({})
        )
        .await
        .status,
        404
    );
    let denied = demo
        .post_as(
            Role::Approver,
            "/api/v1/gateway/approvals/h2/deny",
            serde_json::json!({"note": "refund the card on file instead"}),
        )
        .await;
    assert_eq!(denied.json()["status"], "denied");
    // The gateway reads the decision from the store.
    let stored = store.approval("h1").await.unwrap().unwrap();
    assert_eq!(stored.status, warrant_store::ApprovalStatus::Approved);

    // Upstream tools a gateway listed: reviewed and pinned over the API.
    store
        .observe_tools(
            &[warrant_store::SeenTool {
                server: "payments".into(),
                tool: "refund".into(),
                fingerprint: "e".repeat(64),
                definition: r#"{"name":"refund","description":"Refunds an order"}"#.into(),
                concerns: "[]".into(),
            }],
            false,
            "gateway",
            now(),
        )
        .await
        .unwrap();
    let tools = demo.get("/api/v1/gateway/tools").await;
    assert_eq!(tools.status, 200, "{}", tools.text());
    assert_eq!(tools.json()[0]["status"], "unapproved");
    assert_eq!(
        tools.json()[0]["definition"]["description"],
        "Refunds an order"
    );
    let pin = "/api/v1/gateway/tools/payments::refund/approve";
    assert_eq!(
        demo.post_as(Role::Viewer, pin, serde_json::json!({}))
            .await
            .status,
        403
    );
    let stale = demo
        .post_as(
            Role::Approver,
            pin,
            serde_json::json!({"fingerprint": "f".repeat(64)}),
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.text());
    let pinned = demo
        .post_as(
            Role::Approver,
            pin,
            serde_json::json!({"fingerprint": "e".repeat(64)}),
        )
        .await;
    assert_eq!(pinned.status, 200, "{}", pinned.text());
    assert_eq!(pinned.json()["status"], "pinned");
    assert_eq!(
        demo.post_as(
            Role::Approver,
            "/api/v1/gateway/tools/nope/approve",
            serde_json::json!({})
        )
        .await
        .status,
        400
    );
}
