#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(clippy::indexing_slicing, reason = "tests index their own data")]
//! Single sign-on against a real, OpenID-certified provider (the npm package `oidc-provider`,
//! tests/oidc-provider/, installed by scripts/test), driven hop by hop as a browser would:
//! Warrant's redirect to the provider, the provider's development login and consent forms, the
//! redirect back, and the signed-in session.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{demo_server, demo_server_with, get, required_program, serve_on};
use reqwest::Url;
use warrant_server::oidc::{Oidc, OidcConfig, UsernameClaim};

const CLIENT_ID: &str = "warrant-test";
const CLIENT_SECRET: &str = "a client secret for the test provider";

/// The provider's node process: killed when dropped, so a failing test leaves nothing behind.
struct Provider {
    child: Child,
    issuer: String,
    /// Every access and ID token the provider issued (its `TOKENS` lines).
    tokens: Arc<Mutex<Vec<String>>>,
    accounts: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// The claims each login name (= subject) gets from now on.
    fn set_accounts(&self, accounts: serde_json::Value) {
        std::fs::write(&self.accounts, accounts.to_string()).unwrap();
    }
}

fn start_provider(redirect_uri: &str, accounts: serde_json::Value) -> Option<Provider> {
    let node = required_program(&["node"], "Node.js")?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
    if !dir.join("node_modules/oidc-provider").is_dir() {
        let message = format!(
            "oidc-provider is not installed (run `npm ci` in {}; scripts/test does)",
            dir.display()
        );
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        return None;
    }
    let temp = tempfile::tempdir().unwrap();
    let accounts_file = temp.path().join("accounts.json");
    std::fs::write(&accounts_file, accounts.to_string()).unwrap();
    let mut child = Command::new(node)
        .arg("provider.mjs")
        .current_dir(&dir)
        .env("OIDC_CLIENT_ID", CLIENT_ID)
        .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env("OIDC_REDIRECT_URI", redirect_uri)
        .env("OIDC_ACCOUNTS_FILE", &accounts_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let seen = tokens.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(issuer) = line.strip_prefix("READY ") {
                let _ = ready_tx.send(issuer.to_string());
            } else if let Some(json) = line.strip_prefix("TOKENS ") {
                let issued: serde_json::Value = serde_json::from_str(json).unwrap();
                let mut seen = seen.lock().unwrap();
                for key in ["access_token", "id_token"] {
                    if let Some(token) = issued[key].as_str() {
                        seen.push(token.to_string());
                    }
                }
            }
        }
    });
    let mut provider = Provider {
        child,
        issuer: String::new(),
        tokens,
        accounts: accounts_file,
        _dir: temp,
    };
    provider.issuer = ready
        .recv_timeout(Duration::from_secs(60))
        .expect("the OpenID provider did not start (its output is above)");
    Some(provider)
}

/// One HTTP exchange as a browser sees it.
struct Hop {
    url: Url,
    status: u16,
    location: Option<Url>,
    set_cookies: Vec<String>,
    body: String,
}

/// A browser: a cookie jar, redirects taken one at a time. Keeps every body Warrant sent.
struct Browser {
    http: reqwest::Client,
    warrant: Url,
    warrant_bodies: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    fn new(warrant: &str, bodies: &Arc<Mutex<Vec<String>>>) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            warrant: Url::parse(warrant).unwrap(),
            warrant_bodies: bodies.clone(),
        }
    }

    fn is_warrant(&self, url: &Url) -> bool {
        url.origin() == self.warrant.origin()
    }

    async fn send(&self, url: Url, request: reqwest::RequestBuilder) -> Hop {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| url.join(l.to_str().unwrap()).unwrap());
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let body = response.text().await.unwrap();
        if self.is_warrant(&url) {
            self.warrant_bodies.lock().unwrap().push(body.clone());
        }
        Hop {
            url,
            status,
            location,
            set_cookies,
            body,
        }
    }

    async fn get(&self, url: &Url) -> Hop {
        self.send(url.clone(), self.http.get(url.clone())).await
    }

    async fn warrant(&self, path: &str) -> Hop {
        self.get(&self.warrant.join(path).unwrap()).await
    }

    /// `GET /auth/oidc/login?next=…`: Warrant's redirect to the provider (and the pending
    /// login's cookie, as `name=value`).
    async fn start(&self, next: &str) -> (Url, String) {
        let hop = self
            .warrant(&format!("/auth/oidc/login?next={}", common::segment(next)))
            .await;
        assert_eq!(hop.status, 303, "{}", hop.body);
        let cookie = hop
            .set_cookies
            .iter()
            .find(|c| c.starts_with("warrant_oidc="))
            .expect("the pending-login cookie");
        for flag in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/auth/oidc",
            "Max-Age=600",
        ] {
            assert!(cookie.contains(flag), "{cookie} lacks {flag}");
        }
        let to = hop.location.unwrap();
        assert!(!self.is_warrant(&to), "{to}");
        let query: Vec<(String, String)> = to.query_pairs().into_owned().collect();
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(param("response_type"), Some("code"));
        assert_eq!(param("code_challenge_method"), Some("S256"));
        assert!(param("code_challenge").is_some_and(|c| c.len() >= 43));
        assert!(param("nonce").is_some_and(|n| !n.is_empty()));
        assert!(param("state").is_some_and(|s| !s.is_empty()));
        assert_eq!(param("scope"), Some("openid email profile"));
        let pair = cookie.split(';').next().unwrap().to_string();
        (to, pair)
    }

    /// Follows the provider's redirects until it shows a page or sends the browser back to
    /// Warrant (not followed: the caller looks at that hop).
    async fn follow_at_provider(&self, mut hop: Hop) -> Hop {
        for _ in 0..10 {
            match &hop.location {
                Some(to) if !self.is_warrant(to) => hop = self.get(&to.clone()).await,
                _ => return hop,
            }
        }
        panic!("the provider redirected too many times");
    }

    /// Signs in at the provider as `login` (login form, then consent); the URL of Warrant's
    /// callback the provider sends the browser to.
    async fn sign_in_at_provider(&self, authorize: &Url, login: &str) -> Url {
        let mut hop = self.follow_at_provider(self.get(authorize).await).await;
        for _ in 0..4 {
            if let Some(to) = &hop.location {
                return to.clone();
            }
            assert_eq!(hop.status, 200, "{}", hop.body);
            let action = hop.url.join(&attribute(&hop.body, "action")).unwrap();
            let form: Vec<(&str, &str)> = if hop.body.contains(r#"name="prompt" value="login""#) {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else if hop.body.contains(r#"name="prompt" value="consent""#) {
                vec![("prompt", "consent")]
            } else {
                panic!("an unexpected page at the provider: {}", hop.body)
            };
            let posted = self
                .send(action.clone(), self.http.post(action).form(&form))
                .await;
            hop = self.follow_at_provider(posted).await;
        }
        panic!("the provider never sent the browser back");
    }

    /// Cancels at the provider's login page; the callback URL it then sends the browser to.
    async fn cancel_at_provider(&self, authorize: &Url) -> Url {
        let hop = self.follow_at_provider(self.get(authorize).await).await;
        assert!(hop.body.contains(r#"value="login""#), "{}", hop.body);
        let abort = hop
            .body
            .split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .find(|href| href.ends_with("/abort"))
            .expect("the login page's cancel link");
        let hop = self
            .follow_at_provider(self.get(&hop.url.join(&unescape(abort)).unwrap()).await)
            .await;
        hop.location.expect("a redirect back to Warrant")
    }

    fn session_cookie_set(hop: &Hop) -> bool {
        hop.set_cookies
            .iter()
            .any(|c| c.starts_with("warrant_session=") && !c.contains("Max-Age=0"))
    }
}

/// The first `name="…"` attribute's value in `html`.
fn attribute(html: &str, name: &str) -> String {
    let start = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 2;
    unescape(&html[start..start + html[start..].find('"').unwrap()])
}

fn unescape(text: &str) -> String {
    text.replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Where the signed-in page sends the browser on: its refresh, and its link, alike.
fn continues_to(body: &str) -> String {
    let marker = "content=\"0;url=";
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("no refresh in {body}"))
        + marker.len();
    let target = unescape(&body[start..start + body[start..].find('"').unwrap()]);
    assert!(
        body.contains(&format!("href=\"{}\"", target.replace('&', "&amp;"))),
        "{body}"
    );
    target
}

#[tokio::test]
async fn without_configuration_the_routes_are_not_there() {
    let demo = demo_server().await;
    assert_eq!(get(&demo.state, "/auth/oidc/login").await.status, 404);
    assert_eq!(
        get(&demo.state, "/auth/oidc/callback?code=x&state=y")
            .await
            .status,
        404
    );
    let page = get(&demo.state, "/login").await.text();
    assert!(!page.contains("/auth/oidc/login"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_through_a_real_openid_provider() {
    tokio::time::timeout(Duration::from_secs(240), sign_in_flows())
        .await
        .expect("the single sign-on test took too long");
}

async fn sign_in_flows() {
    // Warrant's address first: the provider must know the redirect URI.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let redirect_uri = format!("{base}/auth/oidc/callback");
    let Some(provider) = start_provider(
        &redirect_uri,
        serde_json::json!({
            "alice": {"email": "reviewer@example.org", "email_verified": true},
            "mallory": {"email": "nobody@example.org", "email_verified": true},
            "eve": {"email": "admin@example.org", "email_verified": false},
        }),
    ) else {
        return;
    };
    let oidc = Oidc::discover(OidcConfig {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_url: redirect_uri.clone(),
        scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
        username_claim: UsernameClaim::Email,
        display_name: "Acme SSO".into(),
    })
    .await
    .unwrap();
    let demo = demo_server_with(Some(oidc)).await;
    let state = demo.state.clone();
    let server = serve_on(listener, state.clone());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let mut codes = Vec::new();

    // The sign-in page offers the provider, as a plain link.
    let browser = Browser::new(&base, &bodies);
    let page = browser.warrant("/login?next=/findings").await;
    assert!(
        page.body
            .contains(r#"href="/auth/oidc/login?next=%2Ffindings""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Sign in with Acme SSO"), "{}", page.body);

    // A user whose username is the verified email signs in, lands on `next`, and is linked.
    let (authorize, pending) = browser.start("/findings?severity=high").await;
    let callback = browser.sign_in_at_provider(&authorize, "alice").await;
    codes.extend(
        callback
            .query_pairs()
            .filter(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned()),
    );
    assert!(!codes.is_empty(), "{callback}");
    let done = browser.get(&callback).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(Browser::session_cookie_set(&done), "{:?}", done.set_cookies);
    let session_cookie = done
        .set_cookies
        .iter()
        .find(|c| c.starts_with("warrant_session="))
        .unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(
            session_cookie.contains(flag),
            "{session_cookie} lacks {flag}"
        );
    }
    assert!(
        done.set_cookies
            .iter()
            .any(|c| c.starts_with("warrant_oidc=;") && c.contains("Max-Age=0")),
        "{:?}",
        done.set_cookies
    );
    assert_eq!(continues_to(&done.body), "/findings?severity=high");
    let me = browser.warrant("/api/v1/session").await;
    assert_eq!(me.status, 200, "{}", me.body);
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["username"], "reviewer@example.org");
    assert_eq!(me["role"], "reviewer");
    assert_eq!(browser.warrant("/findings?severity=high").await.status, 200);
    let linked = state
        .store
        .user_by_oidc(&provider.issuer, "alice")
        .await
        .unwrap()
        .expect("linked to the provider's subject");
    assert_eq!(linked.username, "reviewer@example.org");

    // The callback again (a replay, with the pending login's cookie put back): refused.
    let replay = Browser::new(&base, &bodies);
    let again = replay
        .send(
            callback.clone(),
            replay.http.get(callback.clone()).header("cookie", &pending),
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("start again"), "{}", again.body);
    assert!(!Browser::session_cookie_set(&again));

    // A second sign-in by the same subject goes by the stored link, not by the email: the
    // provider now says another (unverified) address.
    provider.set_accounts(serde_json::json!({
        "alice": {"email": "alice@elsewhere.example", "email_verified": false},
        "mallory": {"email": "nobody@example.org", "email_verified": true},
        "eve": {"email": "admin@example.org", "email_verified": false},
    }));
    let second = Browser::new(&base, &bodies);
    let (authorize, _) = second.start("/").await;
    let callback = second.sign_in_at_provider(&authorize, "alice").await;
    let done = second.get(&callback).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let me = second.warrant("/api/v1/session").await;
    assert!(me.body.contains("reviewer@example.org"), "{}", me.body);

    // An email no Warrant user has: refused with the sign-in page, no session.
    let stranger = Browser::new(&base, &bodies);
    let (authorize, _) = stranger.start("/").await;
    let callback = stranger.sign_in_at_provider(&authorize, "mallory").await;
    let refused = stranger.get(&callback).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(
        refused.body.contains("Sign in to Warrant"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("not linked to an active Warrant user"),
        "{}",
        refused.body
    );
    assert!(!Browser::session_cookie_set(&refused));
    assert_eq!(stranger.warrant("/api/v1/session").await.status, 401);

    // An existing user's email, but unverified: not linked, not signed in.
    let unverified = Browser::new(&base, &bodies);
    let (authorize, _) = unverified.start("/").await;
    let callback = unverified.sign_in_at_provider(&authorize, "eve").await;
    let refused = unverified.get(&callback).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(!Browser::session_cookie_set(&refused));
    let admin = state
        .store
        .user("admin@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(admin.oidc_issuer.is_none());

    // A wrong state is refused, and uses the pending login up: the right one then fails too.
    let forger = Browser::new(&base, &bodies);
    let (authorize, _) = forger.start("/").await;
    let callback = forger.sign_in_at_provider(&authorize, "alice").await;
    let mut wrong = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    wrong.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = forger.get(&wrong).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("start again"), "{}", refused.body);
    assert!(!Browser::session_cookie_set(&refused));
    let late = forger.get(&callback).await;
    assert_eq!(late.status, 400, "{}", late.body);
    assert!(!Browser::session_cookie_set(&late));
    codes.extend(
        callback
            .query_pairs()
            .filter(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned()),
    );

    // Another site as `next`: the sign-in ends on this server's front page.
    let lured = Browser::new(&base, &bodies);
    let (authorize, _) = lured.start("https://evil.example/").await;
    let callback = lured.sign_in_at_provider(&authorize, "alice").await;
    let done = lured.get(&callback).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(continues_to(&done.body), "/");

    // The person cancels at the provider: the provider's access_denied, told on the sign-in
    // page.
    let cancelling = Browser::new(&base, &bodies);
    let (authorize, _) = cancelling.start("/").await;
    let callback = cancelling.cancel_at_provider(&authorize).await;
    assert!(
        callback
            .query_pairs()
            .any(|(k, v)| k == "error" && v == "access_denied"),
        "{callback}"
    );
    let refused = cancelling.get(&callback).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Sign-in with Acme SSO was cancelled or refused."),
        "{}",
        refused.body
    );
    assert!(!Browser::session_cookie_set(&refused));

    // Audited as password sign-ins are: each session's start, and the one link.
    let audit = warrant_app::lifecycle::audit(&state.store).await.unwrap();
    let count = |action: &str| {
        audit
            .iter()
            .filter(|e| e.action == action && e.subject == "reviewer@example.org")
            .count()
    };
    assert_eq!(count("session.start"), 3, "three sign-ins as alice");
    assert_eq!(count("user.link_oidc"), 1);
    assert!(audit.iter().all(|e| e.subject != "nobody@example.org"
        && e.subject != "admin@example.org"
        || e.action != "session.start"));

    // No code or token the provider handed out ever appears in a page of Warrant.
    let tokens = provider.tokens.lock().unwrap().clone();
    assert!(
        tokens.len() >= 8,
        "the provider issued {} tokens",
        tokens.len()
    );
    let bodies = bodies.lock().unwrap().clone();
    assert!(bodies.len() > 10);
    for secret in tokens.iter().chain(&codes) {
        assert!(secret.len() >= 16, "{secret}");
        for body in bodies.iter() {
            assert!(!body.contains(secret.as_str()), "a token in {body}");
        }
    }
    server.stop().await;
}
