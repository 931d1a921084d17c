#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(clippy::indexing_slicing, reason = "tests index their own data")]
//! The console in a real browser: headless Chromium driven through chromedriver (WebDriver),
//! against the server listening on loopback over the demo organisation.
//!
//! One walk through the console as people use it: a reviewer signs in through the form, reads
//! the overview's charts, filters the inventory, opens an identity and its blast-radius graph,
//! accepts a finding through the htmx form and signs out; then a viewer's attempt at a reviewer's
//! action is refused. Every page is checked for what the Content Security Policy guarantees (no
//! inline script, htmx loaded from its file, no violation in the browser's console).
//!
//! Screenshots of the main pages go to `<target>/browser-screenshots/`; with
//! `WARRANT_UPDATE_DOCS_SCREENSHOT=1` the overview's also replaces `docs/console-overview.png`.
//!
//! Needs `chromium` and `chromedriver` (Debian packages `chromium`, `chromium-driver`;
//! `scripts/test` installs them). Without them the test skips, except under CI (`CI` set), where
//! it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Demo, Listening, PASSWORD, demo_server, listen, required_program, segment};
use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use warrant_app::accounts::Role;

/// How long a page, an htmx swap or chromedriver may take.
const WAIT: Duration = Duration::from_secs(15);
const WINDOW: (u32, u32) = (1400, 1000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    let Some(chromedriver) = required_program(&["chromedriver"], "chromedriver") else {
        return;
    };
    let Some(chromium) = required_program(&["chromium", "chromium-browser"], "Chromium") else {
        return;
    };
    let started = Instant::now();
    let demo = demo_server().await;
    let server = listen(demo.state.clone()).await;
    let browser = Browser::start(&chromedriver, &chromium).await;
    let shots = Screenshots::new();
    let b = &browser.client;

    reviewer_signs_in_and_reads_the_overview(b, &server, &shots).await;
    let identity = inventory_filters_and_opens_an_identity(b, &demo, &shots).await;
    reviewer_accepts_a_finding(b, &demo, &server, &identity, &shots).await;
    signing_out_ends_the_session(b, &server).await;
    let plans = propose_two_plans(&demo).await;
    approver_approves_in_the_inbox(b, &demo, &server, &plans[0], &shots).await;
    viewer_cannot_triage(b, &demo, &server, &plans[1]).await;

    browser.close().await;
    server.stop().await;
    eprintln!(
        "browser test done in {:.1}s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.dir.display()
    );
}

// ---- The scenarios ----

/// Opening the console sends the reviewer to sign in, and back to the overview afterwards;
/// the overview draws its charts.
async fn reviewer_signs_in_and_reads_the_overview(
    b: &Client,
    server: &Listening,
    shots: &Screenshots,
) {
    step("the overview sends a person without a session to sign in");
    b.goto(&server.url("/")).await.unwrap();
    wait_for_path(b, "/login").await;
    let url = b.current_url().await.unwrap();
    assert_eq!(query_value(&url, "next").as_deref(), Some("/"), "{url}");
    shots.take(b, "login").await;
    check_page(b, "login").await;

    step("the reviewer signs in through the form and lands on the overview");
    sign_in_with_form(b, "reviewer@example.org").await;
    wait_for_path(b, "/").await;
    let heading = b.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "Overview");
    let who = b.find(Locator::Css("header .who")).await.unwrap();
    assert!(
        who.text()
            .await
            .unwrap()
            .contains("reviewer@example.org · reviewer"),
        "the header names the signed-in user and role"
    );

    step("the overview's charts render with a size");
    let charts: Value = b
        .execute(
            "return Array.from(document.querySelectorAll('svg.chart')).map(svg => {
                 const r = svg.getBoundingClientRect();
                 return { width: r.width, height: r.height,
                          marks: svg.querySelectorAll('rect, polyline, circle, path').length };
             });",
            vec![],
        )
        .await
        .unwrap();
    let charts = charts.as_array().unwrap();
    // Identities by kind and by risk, open findings by OWASP risk, at least.
    assert!(
        charts.len() >= 3,
        "the overview draws {} charts: {charts:?}",
        charts.len()
    );
    for chart in charts {
        assert!(
            chart["width"].as_f64().unwrap() > 100.0,
            "chart too narrow: {chart}"
        );
        assert!(
            chart["height"].as_f64().unwrap() > 20.0,
            "chart too flat: {chart}"
        );
        assert!(
            chart["marks"].as_u64().unwrap() > 0,
            "chart that draws nothing: {chart}"
        );
    }
    shots.take(b, "overview").await;
    check_page(b, "overview").await;
    shots.update_docs();
}

/// The inventory's form filters by provider: only matching rows show, the URL carries the
/// filter, the count agrees with the API; an identity opens from the table with its graph.
/// Returns the opened identity's id.
async fn inventory_filters_and_opens_an_identity(
    b: &Client,
    demo: &Demo,
    shots: &Screenshots,
) -> String {
    step("the inventory opens from the navigation");
    b.find(Locator::Css("nav a[href='/inventory']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(b, "/inventory").await;
    let all = matched_count(b).await;
    let providers = column_texts(b, "table.identities", 3).await;
    assert!(
        providers.iter().any(|p| p != "aws"),
        "the unfiltered first page should show more than AWS: {providers:?}"
    );

    step("filtering by provider=aws with the form");
    let select = b
        .find(Locator::Css("form.filters select#provider"))
        .await
        .unwrap();
    select.select_by_value("aws").await.unwrap();
    b.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the URL carries provider=aws", || async {
        let url = b.current_url().await?;
        Ok(url.path() == "/inventory" && query_value(&url, "provider").as_deref() == Some("aws"))
    })
    .await;
    wait_for_path(b, "/inventory").await;
    let providers = column_texts(b, "table.identities", 3).await;
    assert!(
        !providers.is_empty(),
        "no AWS identity listed at {}: {}",
        b.current_url().await.unwrap(),
        main_text(b).await
    );
    assert!(
        providers.iter().all(|p| p == "aws"),
        "a row of another provider is listed: {providers:?}"
    );
    let aws = matched_count(b).await;
    let expected = demo
        .get("/api/v1/identities?provider=aws&limit=1")
        .await
        .json()["matched"]
        .as_u64()
        .unwrap();
    assert_eq!(aws, expected, "the page's count is the API's");
    assert!(aws < all, "the filter narrowed nothing ({aws} of {all})");
    let kept = b
        .find(Locator::Css("select#provider"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("aws"), "the form keeps the filter");
    shots.take(b, "inventory").await;
    check_page(b, "inventory").await;

    step("opening the identity with the most open findings from the table");
    let mut target: Option<(u64, Element)> = None;
    for row in b
        .find_all(Locator::Css("table.identities tbody tr"))
        .await
        .unwrap()
    {
        let cell = row.find(Locator::Css("td:nth-child(6)")).await.unwrap();
        let findings: u64 = cell.text().await.unwrap().trim().parse().unwrap_or(0);
        if findings > target.as_ref().map_or(0, |(n, _)| *n) {
            let link = row.find(Locator::Css("td:first-child a")).await.unwrap();
            target = Some((findings, link));
        }
    }
    let (_, link) = target.expect("an AWS identity with open findings");
    let href = link.attr("href").await.unwrap().unwrap();
    link.click().await.unwrap();
    wait_for_path(b, &href).await;
    let id = b
        .find(Locator::Css("main p.id"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        format!("/identities/{}", segment(&id)),
        href,
        "the page is the link's identity"
    );

    step("the blast-radius graph renders with nodes and a size");
    let graph: Value = b
        .execute(
            "const svg = document.querySelector('svg.graph');
             if (!svg) { return null; }
             const r = svg.getBoundingClientRect();
             const nodes = Array.from(svg.querySelectorAll('g.node'));
             const first = nodes.length ? nodes[0].getBoundingClientRect() : { width: 0, height: 0 };
             return { width: r.width, height: r.height, right: r.right,
                      viewport: document.documentElement.clientWidth,
                      nodes: nodes.length, edges: svg.querySelectorAll('line.edge').length,
                      node_width: first.width, node_height: first.height,
                      // Labels wider than their box (in the SVG's own units).
                      overflowing: nodes.filter(g => {
                          const box = g.querySelector('rect').getBBox();
                          const label = g.querySelector('text').getBBox();
                          return label.x + label.width > box.x + box.width;
                      }).map(g => g.querySelector('text').textContent) };",
            vec![],
        )
        .await
        .unwrap();
    assert!(!graph.is_null(), "no svg.graph on the identity page");
    assert!(
        graph["width"].as_f64().unwrap() > 0.0,
        "graph has no width: {graph}"
    );
    assert!(
        graph["height"].as_f64().unwrap() > 0.0,
        "graph has no height: {graph}"
    );
    assert!(
        graph["nodes"].as_u64().unwrap() >= 2,
        "graph of the identity alone: {graph}"
    );
    assert!(
        graph["edges"].as_u64().unwrap() >= 1,
        "graph without edges: {graph}"
    );
    assert!(
        graph["node_width"].as_f64().unwrap() > 0.0 && graph["node_height"].as_f64().unwrap() > 0.0,
        "a node is drawn without a size: {graph}"
    );
    assert!(
        graph["right"].as_f64().unwrap() <= graph["viewport"].as_f64().unwrap() + 1.0,
        "the graph overflows the page: {graph}"
    );
    assert_eq!(
        graph["overflowing"],
        json!([]),
        "node labels run out of their boxes: {graph}"
    );
    shots.take(b, "identity").await;
    check_page(b, "identity").await;
    id
}

/// On the identity page the reviewer types a reason and clicks Accept: htmx replaces the row
/// with the "Accepted:" row, and the finding is no longer open in the API or the findings page.
async fn reviewer_accepts_a_finding(
    b: &Client,
    demo: &Demo,
    server: &Listening,
    identity: &str,
    shots: &Screenshots,
) {
    step("accepting a finding with a reason through the htmx form");
    let open_before = open_finding_ids(demo, identity).await;
    let row = b
        .find(Locator::Css("table.findings tbody tr[id^='finding-']"))
        .await
        .unwrap();
    let row_id = row.attr("id").await.unwrap().unwrap();
    let finding = row_id.strip_prefix("finding-").unwrap().to_string();
    assert!(
        open_before.contains(&finding),
        "{finding} is not an open finding of {identity} before accepting"
    );
    let reason = "Break-glass role, reviewed in the browser test";
    row.find(Locator::Css("input[name=reason]"))
        .await
        .unwrap()
        .send_keys(reason)
        .await
        .unwrap();
    row.find(Locator::Css("form.accept button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let accepted = b
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("table.findings tr.accepted"))
        .await
        .expect("htmx replaced the row with the accepted row");
    assert_eq!(
        accepted.text().await.unwrap().trim(),
        format!("Accepted: {reason}")
    );
    let still_there: Value = b
        .execute(
            "return document.getElementById(arguments[0]) !== null;",
            vec![json!(row_id)],
        )
        .await
        .unwrap();
    assert_eq!(
        still_there,
        json!(false),
        "the finding's row was not replaced"
    );
    assert_eq!(
        b.current_url().await.unwrap().path(),
        format!("/identities/{}", segment(identity))
    );

    step("the API no longer lists the accepted finding as open");
    let open_after = open_finding_ids(demo, identity).await;
    assert!(
        !open_after.contains(&finding),
        "{finding} is still open in the API"
    );
    assert_eq!(
        open_after.len() + 1,
        open_before.len(),
        "exactly one finding left the open ones"
    );

    step("the findings page no longer lists it");
    b.find(Locator::Css("nav a[href='/findings']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(b, "/findings").await;
    let rows = b
        .find_all(Locator::Css("table.findings tbody tr[id^='finding-']"))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the findings page lists no finding");
    shots.take(b, "findings").await;
    check_page(b, "findings").await;
    b.goto(&server.url(&format!("/findings?identity={}", segment(identity))))
        .await
        .unwrap();
    wait_for_path(b, "/findings").await;
    assert_eq!(
        matched_count(b).await,
        open_after.len() as u64,
        "the page counts the open ones"
    );
    let listed: Value = b
        .execute(
            "return Array.from(document.querySelectorAll('table.findings tbody tr[id]')).map(r => r.id);",
            vec![],
        )
        .await
        .unwrap();
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !listed.contains(&row_id.as_str()),
        "the accepted finding is still listed: {listed:?}"
    );
    assert_eq!(
        listed.len(),
        open_after.len(),
        "the identity's other findings are listed"
    );
}

/// "Sign out" (htmx) lands on the sign-in page, and the console then asks to sign in again.
async fn signing_out_ends_the_session(b: &Client, server: &Listening) {
    step("signing out with the header's button");
    b.find(Locator::Css("header button[hx-post='/logout']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(b, "/login").await;
    b.goto(&server.url("/")).await.unwrap();
    wait_for_path(b, "/login").await;
    let url = b.current_url().await.unwrap();
    assert_eq!(query_value(&url, "next").as_deref(), Some("/"), "{url}");
    let nav = b.find_all(Locator::Css("header nav a")).await.unwrap();
    assert!(
        nav.is_empty(),
        "signed out, the header still shows the navigation"
    );
}

/// Two quarantine plans an owner asked for, waiting for an approver.
async fn propose_two_plans(demo: &Demo) -> Vec<String> {
    let roles = demo
        .get("/api/v1/identities?provider=aws&kind=aws_role&limit=2")
        .await
        .json();
    let mut plans = Vec::new();
    for item in roles["items"].as_array().unwrap() {
        let ask = warrant_app::remediation::PlanRequest {
            action: warrant_lifecycle::Action::Quarantine,
            identity: item["id"].as_str().unwrap().to_string(),
            reason: Some("access review: not used by its team".into()),
            key: None,
            secret: None,
            policy: None,
            grace_hours: None,
            usage_since: common::now() - chrono::Duration::days(90),
        };
        let view = warrant_app::remediation::propose(
            &demo.state.store,
            &warrant_lifecycle::GovernancePolicy::default(),
            &ask,
            common::now(),
            "owner@example.org",
        )
        .await
        .unwrap();
        plans.push(view.plan.id);
    }
    assert_eq!(plans.len(), 2);
    plans
}

/// The approver opens the approvals inbox, sees the plan's change on its page, approves it with
/// the inbox's button (htmx) and signs out.
async fn approver_approves_in_the_inbox(
    b: &Client,
    demo: &Demo,
    server: &Listening,
    plan: &str,
    shots: &Screenshots,
) {
    step("the approver signs in and opens the approvals inbox");
    sign_in_with_form(b, "approver@example.org").await;
    wait_for_path(b, "/").await;
    b.goto(&server.url(&format!("/plans/{plan}")))
        .await
        .unwrap();
    wait_for_path(b, &format!("/plans/{plan}")).await;
    let changes = b
        .find_all(Locator::Css("table.findings tbody tr"))
        .await
        .unwrap();
    assert!(!changes.is_empty(), "the plan's page lists no step");
    let text = main_text(b).await;
    assert!(text.contains("What it changes"), "{text}");
    shots.take(b, "plan").await;
    check_page(b, "plan").await;
    b.goto(&server.url("/approvals")).await.unwrap();
    wait_for_path(b, "/approvals").await;
    shots.take(b, "approvals").await;
    check_page(b, "approvals").await;

    step("the approver approves the plan with the inbox's button");
    let button = b
        .find(Locator::Css(&format!(
            "form[hx-post='/plans/{plan}/approve'] button"
        )))
        .await
        .unwrap();
    button.click().await.unwrap();
    eventually("the plan to be approved", || async {
        Ok(demo.get(&format!("/api/v1/plans/{plan}")).await.json()["status"] == "approved")
    })
    .await;
    let approved = demo.get(&format!("/api/v1/plans/{plan}")).await.json();
    assert_eq!(approved["approved_by"][0], "approver@example.org");
    drain_console(b).await;
    signing_out_ends_the_session(b, server).await;
}

/// A viewer sees no Accept form, and a hand-made request with their valid CSRF token is refused
/// for their role (403), not for the token; the same for an approver's action.
async fn viewer_cannot_triage(b: &Client, demo: &Demo, server: &Listening, plan: &str) {
    let first = demo.get("/api/v1/findings?limit=1").await.json();
    let identity = first["items"][0]["identity"].as_str().unwrap().to_string();
    let finding = segment(first["items"][0]["id"].as_str().unwrap());
    let identity = identity.as_str();

    step("a viewer signs in and sees no Accept form");
    sign_in_with_form(b, "viewer@example.org").await;
    wait_for_path(b, "/").await;
    b.goto(&server.url(&format!("/identities/{}", segment(identity))))
        .await
        .unwrap();
    wait_for_path(b, &format!("/identities/{}", segment(identity))).await;
    let rows = b
        .find_all(Locator::Css("table.findings tbody tr"))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the viewer sees the identity's findings");
    let forms = b.find_all(Locator::Css("form.accept")).await.unwrap();
    assert!(
        forms.is_empty(),
        "a viewer is offered {} Accept forms",
        forms.len()
    );

    step("the viewer's own POST to accept a finding is refused with 403");
    let token: Value = b
        .execute(
            "return JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];",
            vec![],
        )
        .await
        .unwrap();
    let token = token
        .as_str()
        .expect("the page carries the session's CSRF token")
        .to_string();
    let (status, body) = fetch(
        b,
        "POST",
        &format!("/findings/{finding}/accept"),
        &token,
        "reason=x",
    )
    .await;
    assert_eq!(status, 403, "a viewer accepted a finding: {body}");
    assert!(
        body.contains("your role does not allow"),
        "refused for another reason: {body}"
    );
    drain_console(b).await;
    assert!(
        open_finding_ids(demo, identity).await.contains(&finding),
        "the finding is no longer open after the viewer's attempt"
    );

    step("the viewer's POST to approve a plan (an approver's action) is refused with 403");
    let (status, body) = fetch(b, "POST", &format!("/plans/{plan}/approve"), &token, "").await;
    assert_eq!(status, 403, "a viewer approved a plan: {body}");
    assert!(
        body.contains("your role does not allow"),
        "refused for another reason: {body}"
    );
    drain_console(b).await;
    assert_eq!(
        demo.get(&format!("/api/v1/plans/{plan}")).await.json()["status"],
        "proposed"
    );

    step("the same CSRF token is good: the viewer may sign out with it");
    let (status, body) = fetch(b, "POST", "/logout", &token, "").await;
    assert_eq!(status, 204, "the token was not the session's: {body}");
}

// ---- Helpers ----

fn step(what: &str) {
    eprintln!("browser: {what}");
}

/// Headless Chromium under chromedriver; both (the whole process group) end when this drops.
struct Browser {
    client: Client,
    driver: Chromedriver,
}

struct Chromedriver {
    child: std::process::Child,
    /// Chromium's profile and both programs' temporary files (`TMPDIR`), removed after the
    /// browser is gone.
    profile: tempfile::TempDir,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // chromedriver and the Chromium processes it started share its process group.
        let group = format!("-{}", self.child.id());
        let kill = |signal: &str| {
            std::process::Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        kill("-KILL");
        let _ = self.child.wait();
        // Let the group's last processes go before their temporary files are removed.
        let deadline = Instant::now() + Duration::from_secs(2);
        while kill("-0") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Browser {
    async fn start(chromedriver: &Path, chromium: &Path) -> Browser {
        use std::os::unix::process::CommandExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let profile = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("TMPDIR", profile.path())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let driver = Chromedriver { child, profile };
        let mut capabilities = Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--no-first-run",
                    "--hide-scrollbars",
                    format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                    format!("--user-data-dir={}", driver.profile.path().display()),
                ],
            }),
        );
        capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        let client = loop {
            let mut builder =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities.clone());
            match builder.connect(&url).await {
                Ok(client) => break client,
                // chromedriver takes a moment to listen.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no WebDriver session from chromedriver on {url}: {e}"),
            }
        };
        client.set_window_size(WINDOW.0, WINDOW.1).await.unwrap();
        Browser { client, driver }
    }

    /// Ends the WebDriver session (Chromium quits), then chromedriver.
    async fn close(self) {
        let Browser { client, driver } = self;
        client.close().await.unwrap();
        drop(driver);
    }
}

/// Fills and submits the sign-in form of the page the browser is on.
async fn sign_in_with_form(b: &Client, username: &str) {
    let user = b
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("username"))
        .await
        .unwrap();
    user.clear().await.unwrap();
    user.send_keys(username).await.unwrap();
    b.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    b.find(Locator::Css("section.login button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until `check` holds, for at most [`WAIT`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, fantoccini::error::CmdError>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if check().await.unwrap() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the browser is on `path` (the query may be anything) and the page has loaded.
async fn wait_for_path(b: &Client, path: &str) {
    eventually(&format!("the browser is on {path}"), || async {
        let url = b.current_url().await?;
        if url.path() != path {
            return Ok(false);
        }
        // The document that finished loading must be the one at that URL, not the previous.
        let state = b
            .execute(
                "return document.readyState === 'complete' && location.href === arguments[0];",
                vec![json!(url.as_str())],
            )
            .await?;
        Ok(state == json!(true))
    })
    .await;
}

fn query_value(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// The texts of column `n` (1-based) of a table's body rows.
async fn column_texts(b: &Client, table: &str, n: usize) -> Vec<String> {
    let cells = b
        .find_all(Locator::Css(&format!("{table} tbody tr td:nth-child({n})")))
        .await
        .unwrap();
    let mut texts = Vec::new();
    for cell in cells {
        texts.push(cell.text().await.unwrap().trim().to_string());
    }
    texts
}

/// The text of the page's `main` element (for failure messages).
async fn main_text(b: &Client) -> String {
    match b.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(e) => format!("(no main element: {e})"),
    }
}

/// The number a listing page says matched ("N identities match.", "N open findings.").
async fn matched_count(b: &Client) -> u64 {
    let text = b
        .find(Locator::Css("main p.count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {text:?}"))
}

/// The open findings of `identity` through the API (as an admin), each id percent-encoded as
/// the console writes it into row ids and form actions.
async fn open_finding_ids(demo: &Demo, identity: &str) -> Vec<String> {
    let answer = demo
        .get_as(
            Role::Admin,
            &format!("/api/v1/findings?identity={}&limit=1000", segment(identity)),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| segment(f["id"].as_str().unwrap()))
        .collect()
}

/// A same-origin `fetch` from the page, with the session's cookie and `token` as the CSRF
/// header: the response's status and body.
async fn fetch(b: &Client, method: &str, path: &str, token: &str, body: &str) -> (u64, String) {
    let answer = b
        .execute_async(
            "const [method, path, token, body, done] = arguments;
             fetch(path, { method, body, headers: { 'X-CSRF-Token': token,
                 'Content-Type': 'application/x-www-form-urlencoded' } })
               .then(r => r.text().then(t => done([r.status, t])))
               .catch(e => done([0, String(e)]));",
            vec![json!(method), json!(path), json!(token), json!(body)],
        )
        .await
        .unwrap();
    (
        answer[0].as_u64().unwrap(),
        answer[1].as_str().unwrap_or_default().to_string(),
    )
}

/// What the CSP promises, checked in the browser: no inline script, htmx loaded from its file,
/// no Content-Security-Policy violation or script error in the console, no horizontal overflow.
async fn check_page(b: &Client, page: &str) {
    let facts: Value = b
        .execute(
            "return { inline_scripts: document.querySelectorAll('script:not([src])').length,
                      inline_styles: document.querySelectorAll('style, [style]').length,
                      htmx: typeof htmx,
                      scroll_width: document.documentElement.scrollWidth,
                      client_width: document.documentElement.clientWidth };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(facts["inline_scripts"], json!(0), "{page}: inline script");
    assert_eq!(facts["inline_styles"], json!(0), "{page}: inline style");
    // htmx's own script loads deferred: wait for it rather than racing it.
    eventually(&format!("htmx is loaded on {page}"), || async {
        Ok(b.execute("return typeof htmx;", vec![]).await? == json!("object"))
    })
    .await;
    let problems: Vec<Value> = drain_console(b)
        .await
        .into_iter()
        .filter(|entry| {
            let message = entry["message"].as_str().unwrap_or_default();
            message.contains("Content Security Policy")
                || entry["source"] == json!("javascript")
                // Any failed request but the favicon, which the console does not serve and
                // a browser may ask for on its own.
                || (entry["level"] == json!("SEVERE") && !message.contains("favicon.ico"))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{page}: the browser's console reports {problems:#?}"
    );
    assert!(
        facts["scroll_width"].as_u64() <= facts["client_width"].as_u64(),
        "{page}: the page scrolls sideways ({facts})"
    );
}

/// The browser console's entries since the last call (chromedriver's log endpoint).
async fn drain_console(b: &Client) -> Vec<Value> {
    let entries = b.issue_cmd(BrowserLog).await.unwrap();
    entries.as_array().cloned().unwrap_or_default()
}

/// `POST /session/{id}/se/log {"type": "browser"}`: chromedriver's console log, which the
/// session collects because of the `goog:loggingPrefs` capability.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// Where screenshots go: `<target>/browser-screenshots/`.
struct Screenshots {
    dir: PathBuf,
}

fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

impl Screenshots {
    fn new() -> Screenshots {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => workspace_root().join(dir),
            None => workspace_root().join("target"),
        };
        let dir = target.join("browser-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Screenshots { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.png"))
    }

    async fn take(&self, b: &Client, name: &str) {
        let png = b.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        std::fs::write(self.path(name), png).unwrap();
    }

    /// With `WARRANT_UPDATE_DOCS_SCREENSHOT=1`: the overview's screenshot becomes
    /// `docs/console-overview.png`.
    fn update_docs(&self) {
        if std::env::var("WARRANT_UPDATE_DOCS_SCREENSHOT").as_deref() == Ok("1") {
            let docs = workspace_root().join("docs/console-overview.png");
            std::fs::copy(self.path("overview"), &docs).unwrap();
            eprintln!("updated {}", docs.display());
        }
    }
}
