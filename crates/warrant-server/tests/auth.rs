#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(clippy::indexing_slicing, reason = "tests index their own data")]
//! Sign-in, sessions, CSRF and the permission matrix: every route × every role (and no one).

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{Demo, PASSWORD, demo_server, segment, send};
use warrant_app::accounts::Role;
use warrant_server::auth::{API_ROUTES, Action, allows};

/// A request for `route` with real ids in its path, and a body where it takes one.
async fn request_for(demo: &Demo, method: &str, path: &str) -> Request<Body> {
    let identity = demo.get("/api/v1/identities?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let finding = demo.get("/api/v1/findings?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = path
        .replace(
            "{id}",
            &segment(if path.contains("findings") {
                &finding
            } else {
                &identity
            }),
        )
        .replace("{name}", "warrant.css");
    let body = match (method, path) {
        ("POST", "/api/v1/session") => {
            serde_json::json!({"username": "viewer@example.org", "password": PASSWORD})
        }
        ("POST", p) if p.ends_with("/accept") => serde_json::json!({"reason": "tested"}),
        _ => serde_json::json!({}),
    };
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn every_route_allows_exactly_the_roles_the_matrix_names() {
    let demo = demo_server().await;
    for route in API_ROUTES {
        // No credentials.
        let answer = send(
            &demo.state,
            request_for(&demo, route.method, route.path).await,
        )
        .await;
        if route.action == Action::Public {
            assert!(
                answer.status != 401 && answer.status != 403,
                "{} {} is public but answered {}",
                route.method,
                route.path,
                answer.status
            );
        } else if route.path.starts_with("/api/")
            || route.method != "GET"
            || route.path == "/metrics"
        {
            assert_eq!(
                answer.status, 401,
                "{} {} without credentials",
                route.method, route.path
            );
            assert_eq!(answer.content_type, "application/problem+json");
        } else {
            // Console pages send a person to sign in, and back afterwards.
            assert_eq!(
                answer.status, 303,
                "{} {} without credentials",
                route.method, route.path
            );
            let location = answer.headers["location"].to_str().unwrap();
            assert!(location.starts_with("/login?next=%2F"), "{location}");
        }
        for role in Role::ALL {
            let mut request = request_for(&demo, route.method, route.path).await;
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {}", demo.token(role)).parse().unwrap(),
            );
            let answer = send(&demo.state, request).await;
            let denied = answer.status == 403;
            assert_eq!(
                denied,
                !allows(role, route.action),
                "{} {} as {role}: {} {}",
                route.method,
                route.path,
                answer.status,
                answer.text()
            );
            assert_ne!(
                answer.status, 401,
                "{} {} as {role}",
                route.method, route.path
            );
            assert!(
                answer.status < 500,
                "{} {} as {role}: {}",
                route.method,
                route.path,
                answer.status
            );
        }
    }
}

#[test]
fn the_matrix_gives_each_role_what_it_is_for() {
    for role in Role::ALL {
        assert!(allows(role, Action::Read));
        assert_eq!(allows(role, Action::Administer), role == Role::Admin);
    }
    assert!(!allows(Role::Viewer, Action::TriageFindings));
    assert!(!allows(Role::Owner, Action::TriageFindings));
    assert!(allows(Role::Reviewer, Action::TriageFindings));
}

async fn login(demo: &Demo, username: &str, password: &str) -> common::Answer {
    send(
        &demo.state,
        Request::post("/api/v1/session")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({"username": username, "password": password}).to_string(),
            ))
            .unwrap(),
    )
    .await
}

fn with_cookie(
    request: axum::http::request::Builder,
    cookie: &str,
) -> axum::http::request::Builder {
    request.header("cookie", cookie)
}

#[tokio::test]
async fn a_session_cookie_is_locked_down_and_state_changes_need_its_csrf_token() {
    let demo = demo_server().await;
    let answer = login(&demo, "reviewer@example.org", PASSWORD).await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let set_cookie = answer.headers["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let session = answer.json();
    assert_eq!(session["role"], "reviewer");
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    assert!(!answer.text().contains(PASSWORD));

    let me = send(
        &demo.state,
        with_cookie(Request::get("/api/v1/session"), &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "reviewer@example.org");

    let finding = demo.get("/api/v1/findings?limit=1").await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accept = |csrf: Option<&str>| {
        let mut builder = with_cookie(
            Request::post(format!("/api/v1/findings/{}/accept", segment(&finding))),
            &cookie,
        )
        .header("content-type", "application/json");
        if let Some(token) = csrf {
            builder = builder.header("x-csrf-token", token);
        }
        builder
            .body(Body::from(
                serde_json::json!({"reason": "tested"}).to_string(),
            ))
            .unwrap()
    };
    let no_token = send(&demo.state, accept(None)).await;
    assert_eq!(no_token.status, 403, "{}", no_token.text());
    let wrong_token = send(&demo.state, accept(Some("0000"))).await;
    assert_eq!(wrong_token.status, 403);
    let right = send(&demo.state, accept(Some(&csrf))).await;
    assert_eq!(right.status, 204, "{}", right.text());

    let out = send(
        &demo.state,
        with_cookie(Request::delete("/api/v1/session"), &cookie)
            .header("x-csrf-token", &csrf)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, 204);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = send(
        &demo.state,
        with_cookie(Request::get("/api/v1/session"), &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(after.status, 401);
}

#[tokio::test]
async fn wrong_passwords_are_refused_alike_and_lock_the_account() {
    let demo = demo_server().await;
    let unknown = login(&demo, "nobody@example.org", PASSWORD).await;
    let wrong = login(&demo, "viewer@example.org", "not the password at all").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    assert_eq!(
        unknown.json()["detail"],
        wrong.json()["detail"],
        "tells users apart"
    );
    for _ in 0..5 {
        login(&demo, "viewer@example.org", "not the password at all").await;
    }
    let locked = login(&demo, "viewer@example.org", PASSWORD).await;
    assert_eq!(
        locked.status, 401,
        "the right password works on a locked account"
    );
}

#[tokio::test]
async fn bad_tokens_are_no_one() {
    let demo = demo_server().await;
    for token in ["wat_00000000_nothing", "garbage", ""] {
        let answer = send(
            &demo.state,
            Request::get("/api/v1/identities")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 401, "{token}");
    }
}

#[tokio::test]
async fn sign_in_attempts_from_one_address_are_rate_limited() {
    let demo = demo_server().await;
    // Different accounts, so no account's lockout is what stops them.
    for n in 0..warrant_server::ratelimit::ATTEMPTS_PER_MINUTE {
        let answer = login(&demo, &format!("nobody-{n}@example.org"), "guess").await;
        assert_eq!(answer.status, 401, "attempt {n}");
    }
    let limited = login(&demo, "admin@example.org", PASSWORD).await;
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert_eq!(limited.content_type, "application/problem+json");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // The console's sign-in form is the same door.
    let form = send(
        &demo.state,
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("username=admin%40example.org&password=x"))
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, 429);
    // Requests that are not sign-ins are not counted.
    assert_eq!(demo.get("/api/v1/identities?limit=1").await.status, 200);
}
