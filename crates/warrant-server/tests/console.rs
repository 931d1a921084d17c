#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(clippy::indexing_slicing, reason = "tests index their own data")]
//! The console's pages as HTML: what they show, that they are escaped and carry no inline
//! script or style, the security headers, and that no secret of the demo organisation reaches
//! any page or API response.

mod common;

use common::{Demo, PASSWORD, demo_server, segment, send};
use warrant_app::accounts::Role;

/// Secret values the demo organisation's files hold in plaintext (a Kubernetes secret and an
/// MCP client configuration's token): stored only as fingerprints, so never shown.
const DEMO_SECRETS: &[&str] = &[
    "ghp_7RyCUgVBYwOxqKk1rqiC0CWbYOjVcl6V7RyC",
    "bm90LWEtcmVhbC1wYXNzd29yZA==",
    "not-a-real-password",
];

fn assert_clean_html(uri: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    // Every script comes from a file; no attribute runs code or sets a style.
    for (at, _) in lower.match_indices("<script") {
        let tag_end = lower[at..].find('>').map_or(lower.len(), |e| at + e);
        assert!(lower[at..tag_end].contains(" src="), "{uri}: inline script");
    }
    for forbidden in [
        " style=",
        " onclick=",
        " onload=",
        " onerror=",
        "javascript:",
    ] {
        assert!(!lower.contains(forbidden), "{uri}: contains {forbidden}");
    }
}

async fn page(demo: &Demo, uri: &str) -> String {
    let answer = demo.get(uri).await;
    assert_eq!(answer.status, 200, "{uri}: {}", answer.text());
    assert!(answer.content_type.starts_with("text/html"), "{uri}");
    let csp = answer.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");
    assert_eq!(answer.headers["x-frame-options"], "DENY");
    let html = answer.text();
    assert_clean_html(uri, &html);
    html
}

#[tokio::test]
async fn overview_shows_the_aggregates_as_charts() {
    let demo = demo_server().await;
    let html = page(&demo, "/").await;
    assert!(html.contains("<svg class=\"chart\""), "no chart");
    assert!(html.contains("Riskiest identities"));
    assert!(html.contains(">72<"), "identity count");
    assert!(html.contains("NHI"), "OWASP chart");
    assert!(
        html.contains("class=\"trend-point\""),
        "trend of the saved assessments"
    );
}

#[tokio::test]
async fn inventory_filters_paginates_and_exports_the_view() {
    let demo = demo_server().await;
    let html = page(&demo, "/inventory?provider=aws&limit=5").await;
    assert!(html.contains("identities match"));
    assert!(html.contains("rel=\"next\""), "no next page link");
    assert_eq!(
        html.matches("<tr>").count(),
        1 + 5,
        "header row and five identities"
    );
    let csv = demo.get("/inventory.csv?provider=aws").await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    let text = csv.text();
    let rows = text.lines().count() - 1;
    let api = demo
        .get("/api/v1/identities?provider=aws&limit=1")
        .await
        .json();
    assert_eq!(
        rows as u64,
        api["matched"].as_u64().unwrap(),
        "the CSV has every match"
    );
    assert!(text.lines().skip(1).all(|l| l.contains(",aws,")));
}

#[tokio::test]
async fn input_is_escaped_wherever_it_is_shown() {
    let demo = demo_server().await;
    let hostile = "<script>alert(1)</script>\"><img src=x>";
    let html = page(
        &demo,
        &format!(
            "/inventory?q={}&owner={}",
            segment(hostile),
            segment(hostile)
        ),
    )
    .await;
    assert!(
        !html.contains("<script>alert(1)"),
        "search reflected unescaped"
    );
    assert!(!html.contains("<img src=x>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let login = demo.get(&format!("/login?next={}", segment(hostile))).await;
    assert!(!login.text().contains("<script>alert(1)"));
}

#[tokio::test]
async fn signing_in_goes_on_only_to_a_path_of_this_server() {
    let demo = demo_server().await;
    for (next, expected) in [
        ("/findings?severity=high", "/findings?severity=high"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        // Browsers drop tabs and newlines from URLs: `//evil.example`.
        ("/\t/evil.example/", "/"),
        ("/\n/evil.example/", "/"),
        // Not a valid Location header either.
        ("/caf\u{e9}", "/"),
    ] {
        let form = format!(
            "username={}&password={}&next={}",
            segment("viewer@example.org"),
            segment(PASSWORD),
            segment(next)
        );
        let answer = send(
            &demo.state,
            axum::http::Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(form))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 303, "{next:?}: {}", answer.text());
        assert_eq!(answer.headers["location"], expected, "{next:?}");
    }
}

#[tokio::test]
async fn an_identity_page_draws_its_blast_radius_graph() {
    let demo = demo_server().await;
    let list = demo.get("/api/v1/identities?limit=1").await.json();
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let html = page(&demo, &format!("/identities/{}", segment(&id))).await;
    assert!(html.contains("<svg class=\"graph\""), "no graph");
    assert!(html.contains("Why this risk"));
    assert!(html.contains("Timeline"));
    // An admin can accept findings from the page; a viewer sees no such form.
    assert!(html.contains("hx-post=\"/findings/"));
    let as_viewer = demo
        .get_as(Role::Viewer, &format!("/identities/{}", segment(&id)))
        .await;
    assert!(!as_viewer.text().contains("hx-post=\"/findings/"));
}

#[tokio::test]
async fn an_identity_page_draws_and_lists_its_trust_chains() {
    use common::{CHAIN_ADMIN, CHAIN_BOT, CHAIN_BREAK_GLASS, CHAIN_CI, CHAIN_DEPLOYER};
    let dir = tempfile::tempdir().unwrap();
    let demo = common::server_over(common::trust_chain_state(dir.path()).await).await;
    let link = |id: &str| format!("href=\"/identities/{}\"", segment(id));

    let html = page(&demo, &format!("/identities/{}", segment(CHAIN_ADMIN))).await;
    // Drawn: the user and the service account two hops to the left, joined hop to hop, each a
    // link coloured by its risk, in a frame that scrolls rather than shrinks.
    assert!(
        html.contains(">can become it, 2 hops</text>"),
        "no second column in"
    );
    assert!(html.contains("class=\"edge edge-chain\""), "no chain edge");
    assert!(html.contains("graph-frame graph-frame-wide"));
    for id in [CHAIN_CI, CHAIN_BOT, CHAIN_DEPLOYER, CHAIN_BREAK_GLASS] {
        assert!(html.contains(&link(id)), "no link to {id}");
    }
    assert!(
        html.matches("<g class=\"node risk-").count() >= 5,
        "chain nodes are not coloured by risk"
    );
    // Listed as text, for readers without the picture.
    assert!(html.contains("Who can become whom"));
    assert!(html.contains("Who can become it"));
    let list = &html[html.find("id=\"chains\"").unwrap()..];
    let ci = list.find("ci-bot</a>").expect("ci-bot listed");
    let deployer = list[ci..]
        .find("deployer</a>")
        .expect("deployer after ci-bot")
        + ci;
    assert!(
        list[ci..deployer].contains("assume role"),
        "{}",
        &list[ci..deployer]
    );
    assert!(list.contains("<strong>prod-admin</strong>"));

    // Three hops out from the service account, each further column to the right.
    let bot = page(&demo, &format!("/identities/{}", segment(CHAIN_BOT))).await;
    assert!(
        bot.contains(">can become, 2 hops</text>") && bot.contains(">can become, 3 hops</text>")
    );
    assert!(bot.contains("Whom it can become"));
    assert!(bot.contains("assume role with web identity"));
    assert!(bot.contains(&link(CHAIN_BREAK_GLASS)));

    // Trust of one hop keeps the graph at its usual width.
    let id = "arn:aws:iam::111111111111:role/reporting-etl";
    let plain = page(&demo, &format!("/identities/{}", segment(id))).await;
    assert!(!plain.contains("graph-frame-wide"));
    assert!(!plain.contains("edge-chain"));
}

#[tokio::test]
async fn no_secret_reaches_any_page_or_response() {
    let demo = demo_server().await;
    let mut bodies = Vec::new();
    for uri in [
        "/",
        "/inventory?limit=1000",
        "/findings?limit=1000",
        "/alerts",
        "/inventory.csv",
        "/secrets?limit=1000",
        "/api/v1/secrets?limit=1000",
        "/api/v1/identities?limit=1000",
        "/api/v1/findings?limit=1000",
        "/api/v1/alerts?all=true",
    ] {
        bodies.push((uri.to_string(), demo.get(uri).await.text()));
    }
    let all = demo.get("/api/v1/identities?limit=1000").await.json();
    for item in all["items"].as_array().unwrap() {
        let id = segment(item["id"].as_str().unwrap());
        for uri in [
            format!("/api/v1/identities/{id}"),
            format!("/identities/{id}"),
        ] {
            let answer = demo.get(&uri).await;
            assert_eq!(answer.status, 200, "{uri}");
            bodies.push((uri, answer.text()));
        }
    }
    for (uri, body) in &bodies {
        for secret in DEMO_SECRETS {
            assert!(!body.contains(secret), "{uri} shows a secret");
        }
    }
}

/// A leaked key pair of a demo identity (its key id is in the demo's credential report).
const LEAKED_SECRET: &str = "q8Vd2LrN7xKp4ZtWm9BsYc3HfJ6gE1uA5oRiTnXe";

#[tokio::test]
async fn secrets_show_where_each_leak_is_and_what_it_unlocks() {
    let demo = demo_server().await;
    let file = format!(
        "aws_access_key_id = AKIAZP6WDFRWPBJ3NNUJ\naws_secret_access_key = {LEAKED_SECRET}\n"
    );
    let answer = common::send(
        &demo.state,
        axum::http::Request::post("/api/v1/imports?name=deploy.env")
            .header(
                "authorization",
                format!("Bearer {}", demo.token(Role::Admin)),
            )
            .body(axum::body::Body::from(file))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let location = answer.headers["location"].to_str().unwrap().to_string();
    for _ in 0..600 {
        if demo.get(&location).await.json()["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let job = demo.get(&location).await;
    assert_eq!(job.json()["state"], "succeeded", "{}", job.text());
    assert!(!job.text().contains(LEAKED_SECRET));

    let api = demo.get("/api/v1/secrets?limit=2").await.json();
    let total = api["total"].as_u64().unwrap();
    assert!(total > 0, "the demo organisation has leaks");
    let items = api["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|s| s["fingerprint"].as_str().unwrap().starts_with("fp1:"))
    );
    assert!(
        items.iter().any(|s| s["identity"].is_string()),
        "linked leaks come first"
    );
    if total > 2 {
        assert!(api["next"].is_string());
    }
    let html = page(&demo, "/secrets").await;
    assert!(html.contains("Leaked secrets") && html.contains("fp1:"));
    assert!(!html.contains(LEAKED_SECRET) && !api.to_string().contains(LEAKED_SECRET));
    let bad = demo.get("/api/v1/secrets?after=nope").await;
    assert_eq!(bad.status, 400);
}
