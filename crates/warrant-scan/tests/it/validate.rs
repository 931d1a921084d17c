//! `--validate` end to end: scan files holding fabricated tokens, then validate them against a
//! loopback server that answers the way each provider documents. No test here reaches a real
//! provider: every validator is built with a base URL override and checked to be loopback.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use warrant_core::Fingerprinter;
use warrant_scan::validate::{
    HttpValidator, Provider, ValidateError, Validation, Validator, Verdict, validate_report,
    validators_with_base,
};
use warrant_scan::{RuleSet, ScanOptions, ScanReport};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A GitHub-format token: prefix, 30 characters, their CRC32 in 6 base62 digits.
fn github_token(prefix: &str, random: &str) -> String {
    assert_eq!(random.len(), 30);
    let mut crc = crc32fast::hash(random.as_bytes());
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    format!("{prefix}{random}{}", String::from_utf8_lossy(&check))
}

/// Fabricated tokens, one live and one dead per provider.
struct Tokens {
    gh_good: String,
    gh_bad: String,
    slack_good: &'static str,
    slack_bad: &'static str,
    openai_good: &'static str,
    openai_bad: &'static str,
    stripe_good: &'static str,
    stripe_bad: &'static str,
    gitlab_good: &'static str,
    gitlab_bad: &'static str,
}

fn tokens() -> Tokens {
    Tokens {
        gh_good: github_token("ghp_", "Wq7Rt2Yu9Io4Pa8Sd3Fg6Hj1Kl5Zx0"),
        gh_bad: github_token("ghp_", "Mn3Bv8Cx1Zl6Kj4Hg9Fd2Sa7Po5Iu0"),
        slack_good: "xoxb-7301948265013-5829163047281-Qw8Er5Ty2Ui9Op4As7Df1Gh3",
        slack_bad: "xoxb-4418265093721-9036127458120-Lk2Jh7Gf4Ds9Aq1Zw6Xe3Rc8",
        openai_good: "sk-proj-Xa9Lm2Qw7Er4Ty1Ui8Op3As6Df0Gh5Jk2Zx7Cv4Bn9Mq1Wl6Ep3Rt8Yu5Io0",
        openai_bad: "sk-proj-Pz4Ok9Ij2Uh7Yg1Tf6Rd3Es8Wa5Qz0Xs4Cd9Vf2Bg7Nh1Mj6Ki3Lo8Pu5Ya0",
        stripe_good: "sk_test_51Hq8Zr2Kx7Lm4Nw9Pv3Qt6Rs1Yu5Io8Ap2Sd7Fg4Hj9Kl3Zx6Cv1",
        stripe_bad: "sk_test_51Ab3Cd8Ef1Gh6Ij9Kl2Mn7Op4Qr0St5Uv8Wx3Yz6Ab1Cd4Ef9Gh2",
        gitlab_good: "glpat-Rk7Wq2Zp9Lx4Mv8Nt3Bc",
        gitlab_bad: "glpat-Hs5Dj0Fk3Gl8Qa1We6Ry",
    }
}

/// One request as the provider double saw it (header names lower-cased).
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn json(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1, one connection at a time, `Connection: close`.
struct ProviderDouble {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl ProviderDouble {
    fn start(answer: impl Fn(&Seen) -> Option<Reply> + Send + 'static) -> ProviderDouble {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                log.lock().unwrap().push(request.clone());
                match answer(&request) {
                    Some(reply) => write_reply(stream, &reply),
                    // No reply: hold the connection open past the client's timeout.
                    None => std::thread::sleep(Duration::from_secs(3)),
                }
            }
        });
        ProviderDouble { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        headers,
    })
}

fn write_reply(mut stream: TcpStream, reply: &Reply) {
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
}

/// Answers each provider's check endpoint per its documentation: the `good` tokens are live.
fn providers(t: &Tokens) -> impl Fn(&Seen) -> Option<Reply> + Send + 'static {
    let gh_good = format!("Bearer {}", t.gh_good);
    let slack_good = format!("Bearer {}", t.slack_good);
    let openai_good = format!("Bearer {}", t.openai_good);
    let stripe_good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", t.stripe_good))
    );
    let gitlab_good = t.gitlab_good.to_string();
    move |req: &Seen| {
        let auth = req.header("authorization").unwrap_or_default();
        Some(match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/user") if auth == gh_good => Reply {
                status: 200,
                headers: vec![("X-OAuth-Scopes", "repo, read:org".to_string())],
                body: r#"{"login":"fixture-bot","id":1}"#.to_string(),
            },
            ("GET", "/user") => json(
                401,
                r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
            ),
            ("POST", "/api/auth.test") if auth == slack_good => json(
                200,
                r#"{"ok":true,"url":"https://fixture.slack.com/","team":"Fixture","user":"deploy-bot","team_id":"T0001","user_id":"U0001"}"#,
            ),
            ("POST", "/api/auth.test") => json(200, r#"{"ok":false,"error":"invalid_auth"}"#),
            ("GET", "/v1/models") if auth == openai_good => json(
                200,
                r#"{"object":"list","data":[{"id":"model-a","object":"model"},{"id":"model-b","object":"model"},{"id":"model-c","object":"model"}]}"#,
            ),
            ("GET", "/v1/models") => json(
                401,
                r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            ),
            ("GET", "/v1/balance") if auth == stripe_good => json(
                200,
                r#"{"object":"balance","available":[],"pending":[],"livemode":false}"#,
            ),
            ("GET", "/v1/balance") => json(
                401,
                r#"{"error":{"message":"Invalid API Key provided","type":"invalid_request_error"}}"#,
            ),
            ("GET", "/api/v4/personal_access_tokens/self")
                if req.header("private-token") == Some(gitlab_good.as_str()) =>
            {
                json(
                    200,
                    r#"{"id":42,"name":"ci-deploy","revoked":false,"active":true,"scopes":["api","read_repository"],"expires_at":"2027-06-30"}"#,
                )
            }
            ("GET", "/api/v4/personal_access_tokens/self") => {
                json(401, r#"{"message":"401 Unauthorized"}"#)
            }
            _ => json(404, r#"{"message":"Not Found"}"#),
        })
    }
}

/// Validators for every provider, all pointed at `base`, checked to be loopback.
fn loopback_validators(base: &str) -> Vec<Box<dyn Validator>> {
    let overrides: BTreeMap<String, String> = Provider::ALL
        .into_iter()
        .map(|p| (p.name().to_string(), base.to_string()))
        .collect();
    let validators = validators_with_base(&overrides).unwrap();
    assert_eq!(validators.len(), Provider::ALL.len());
    for v in &validators {
        assert!(
            v.base_url().starts_with("http://127.0.0.1:"),
            "{} would call {}",
            v.provider(),
            v.base_url()
        );
    }
    validators
}

fn scan_dir(root: &Path, reveal: bool) -> ScanReport {
    let options = ScanOptions {
        paths: vec![root.to_path_buf()],
        threads: 1,
        reveal_secrets: reveal,
        ..ScanOptions::default()
    };
    warrant_scan::scan(
        &options,
        &RuleSet::builtin().unwrap(),
        &Fingerprinter::new(b"validate-test-key"),
        &|_| {},
    )
    .unwrap()
}

fn write_fixture(root: &Path, t: &Tokens) {
    std::fs::write(
        root.join("app.env"),
        format!(
            "GITHUB_TOKEN={}\nOLD_GITHUB_TOKEN={}\nSLACK_BOT_TOKEN={}\nSLACK_OLD={}\n\
             OPENAI_API_KEY={}\nOPENAI_OLD={}\nSTRIPE_KEY={}\nSTRIPE_OLD={}\n\
             GITLAB_TOKEN={}\nGITLAB_OLD={}\n",
            t.gh_good,
            t.gh_bad,
            t.slack_good,
            t.slack_bad,
            t.openai_good,
            t.openai_bad,
            t.stripe_good,
            t.stripe_bad,
            t.gitlab_good,
            t.gitlab_bad,
        ),
    )
    .unwrap();
    // The live GitHub token again, twice, in another file: still one request.
    std::fs::write(
        root.join("ci.yml"),
        format!("env:\n  GH: {}\n  GH_AGAIN: {}\n", t.gh_good, t.gh_good),
    )
    .unwrap();
}

fn verdict_for<'a>(
    validations: &'a [Validation],
    report: &ScanReport,
    secret: &str,
) -> &'a Verdict {
    let fp = Fingerprinter::new(b"validate-test-key").fingerprint(secret.as_bytes());
    assert!(
        report.findings.iter().any(|f| f.fingerprint == fp),
        "the scan did not find {}",
        warrant_core::redact(secret)
    );
    &validations
        .iter()
        .find(|v| v.fingerprint == fp)
        .unwrap_or_else(|| panic!("no validation for {}", warrant_core::redact(secret)))
        .verdict
}

#[test]
fn live_and_dead_tokens_of_every_provider() {
    let t = tokens();
    let server = ProviderDouble::start(providers(&t));
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &t);
    let report = scan_dir(dir.path(), true);
    let validations = validate_report(&report, &loopback_validators(&server.base));

    assert_eq!(
        verdict_for(&validations, &report, &t.gh_good),
        &Verdict::Valid {
            detail: Some("login fixture-bot; scopes: repo, read:org".into())
        }
    );
    assert_eq!(
        verdict_for(&validations, &report, &t.gh_bad),
        &Verdict::Invalid
    );
    assert_eq!(
        verdict_for(&validations, &report, t.slack_good),
        &Verdict::Valid {
            detail: Some("team Fixture; user deploy-bot".into())
        }
    );
    assert_eq!(
        verdict_for(&validations, &report, t.slack_bad),
        &Verdict::Invalid
    );
    assert_eq!(
        verdict_for(&validations, &report, t.openai_good),
        &Verdict::Valid {
            detail: Some("3 models visible".into())
        }
    );
    assert_eq!(
        verdict_for(&validations, &report, t.openai_bad),
        &Verdict::Invalid
    );
    assert_eq!(
        verdict_for(&validations, &report, t.stripe_good),
        &Verdict::Valid {
            detail: Some("livemode false".into())
        }
    );
    assert_eq!(
        verdict_for(&validations, &report, t.stripe_bad),
        &Verdict::Invalid
    );
    assert_eq!(
        verdict_for(&validations, &report, t.gitlab_good),
        &Verdict::Valid {
            detail: Some(
                "token ci-deploy; scopes: api, read_repository; expires 2027-06-30".into()
            )
        }
    );
    assert_eq!(
        verdict_for(&validations, &report, t.gitlab_bad),
        &Verdict::Invalid
    );
    assert_eq!(validations.len(), 10, "{validations:#?}");

    let providers: Vec<&str> = validations.iter().map(|v| v.provider.as_str()).collect();
    for p in ["github", "slack", "openai", "stripe", "gitlab"] {
        assert_eq!(providers.iter().filter(|x| **x == p).count(), 2, "{p}");
    }

    // Serialised verdicts carry fingerprints, never a secret.
    let out = serde_json::to_string(&validations).unwrap();
    for secret in [
        t.gh_good.as_str(),
        t.gh_bad.as_str(),
        t.slack_good,
        t.openai_good,
        t.stripe_good,
        t.gitlab_good,
    ] {
        assert!(!out.contains(secret), "a secret leaked into {out}");
    }
    assert!(out.contains(r#""status":"valid""#) && out.contains(r#""status":"invalid""#));
}

#[test]
fn requests_carry_each_providers_documented_credential_header() {
    let t = tokens();
    let server = ProviderDouble::start(providers(&t));
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &t);
    let report = scan_dir(dir.path(), true);
    validate_report(&report, &loopback_validators(&server.base));
    let seen = server.seen();
    assert_eq!(seen.len(), 10, "{seen:#?}");

    let find = |path: &str, pred: &dyn Fn(&Seen) -> bool| -> Seen {
        seen.iter()
            .find(|s| s.path == path && pred(s))
            .cloned()
            .unwrap_or_else(|| panic!("no matching request to {path}"))
    };
    let gh = find("/user", &|s| {
        s.header("authorization") == Some(format!("Bearer {}", t.gh_good).as_str())
    });
    assert_eq!(gh.method, "GET");
    assert_eq!(gh.header("accept"), Some("application/vnd.github+json"));
    assert!(
        gh.header("user-agent")
            .is_some_and(|ua| ua.starts_with("warrant-validate/"))
    );

    let slack = find("/api/auth.test", &|s| {
        s.header("authorization") == Some(format!("Bearer {}", t.slack_good).as_str())
    });
    assert_eq!(slack.method, "POST");

    find("/v1/models", &|s| {
        s.header("authorization") == Some(format!("Bearer {}", t.openai_bad).as_str())
    });

    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:", t.stripe_good));
    find("/v1/balance", &|s| {
        s.header("authorization") == Some(format!("Basic {basic}").as_str())
    });

    let gitlab = find("/api/v4/personal_access_tokens/self", &|s| {
        s.header("private-token") == Some(t.gitlab_good)
    });
    assert_eq!(
        gitlab.header("authorization"),
        None,
        "GitLab takes PRIVATE-TOKEN only"
    );
}

#[test]
fn the_same_secret_found_three_times_is_asked_about_once() {
    let t = tokens();
    let server = ProviderDouble::start(providers(&t));
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &t);
    let report = scan_dir(dir.path(), true);
    let fp = Fingerprinter::new(b"validate-test-key").fingerprint(t.gh_good.as_bytes());
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.fingerprint == fp)
            .count(),
        3,
        "fixture should hold the live GitHub token three times"
    );
    let validations = validate_report(&report, &loopback_validators(&server.base));
    assert_eq!(
        validations.iter().filter(|v| v.fingerprint == fp).count(),
        1
    );
    let bearer = format!("Bearer {}", t.gh_good);
    let asked = server
        .seen()
        .iter()
        .filter(|s| s.header("authorization") == Some(bearer.as_str()))
        .count();
    assert_eq!(asked, 1);
}

#[test]
fn findings_without_a_validator_are_left_out() {
    let t = tokens();
    let server = ProviderDouble::start(providers(&t));
    let dir = tempfile::tempdir().unwrap();
    // An AWS key id has a rule but no validator; the Slack token has both.
    std::fs::write(
        dir.path().join("mixed.env"),
        format!(
            "AWS_ACCESS_KEY_ID=AKIAQX4TJ7WN2RB5LZ6M\nSLACK={}\n",
            t.slack_good
        ),
    )
    .unwrap();
    let report = scan_dir(dir.path(), true);
    assert!(
        report.findings.iter().any(|f| f.provider == "aws"),
        "{:?}",
        report.findings
    );
    let validations = validate_report(&report, &loopback_validators(&server.base));
    assert_eq!(validations.len(), 1, "{validations:#?}");
    assert_eq!(validations[0].provider, "slack");
    assert_eq!(server.seen().len(), 1);

    // Only the validators given are used.
    let only_github: Vec<Box<dyn Validator>> = vec![Box::new(
        HttpValidator::new(Provider::GitHub, &server.base).unwrap(),
    )];
    assert!(validate_report(&report, &only_github).is_empty());
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn without_revealed_secrets_nothing_is_sent() {
    let t = tokens();
    let server = ProviderDouble::start(providers(&t));
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &t);
    let report = scan_dir(dir.path(), false);
    assert!(report.revealed.is_empty());
    let validations = validate_report(&report, &loopback_validators(&server.base));
    assert_eq!(validations.len(), 10);
    assert!(validations.iter().all(
        |v| matches!(&v.verdict, Verdict::Unknown { reason } if reason.contains("reveal_secrets"))
    ));
    assert!(server.seen().is_empty());
}

#[test]
fn redirects_are_not_followed() {
    let t = tokens();
    // The "provider" sends every request to another host; following it would leak the token.
    let target = ProviderDouble::start(|_| Some(json(200, r#"{"login":"elsewhere"}"#)));
    let location = format!("{}/user", target.base.replace("127.0.0.1", "localhost"));
    let server = ProviderDouble::start(move |_| {
        Some(Reply {
            status: 302,
            headers: vec![("Location", location.clone())],
            body: String::new(),
        })
    });
    let v = HttpValidator::new(Provider::GitHub, &server.base).unwrap();
    let verdict = v.validate(&t.gh_good);
    assert!(
        matches!(&verdict, Verdict::Unknown { reason } if reason.contains("302")),
        "{verdict:?}"
    );
    assert_eq!(server.seen().len(), 1);
    assert!(target.seen().is_empty(), "the redirect was followed");
}

#[test]
fn a_provider_that_never_answers_times_out_as_unknown() {
    let t = tokens();
    let server = ProviderDouble::start(|_| None);
    let v = HttpValidator::new(Provider::OpenAi, &server.base)
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let verdict = v.validate(t.openai_good);
    assert_eq!(
        verdict,
        Verdict::Unknown {
            reason: "timeout".into()
        }
    );
}

#[test]
fn a_closed_port_is_unknown_not_invalid() {
    let t = tokens();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let v = HttpValidator::new(Provider::Slack, &base).unwrap();
    assert!(matches!(v.validate(t.slack_good), Verdict::Unknown { .. }));
}

#[test]
fn overrides_are_checked() {
    let mut overrides = BTreeMap::new();
    overrides.insert("githib".to_string(), "http://127.0.0.1:1".to_string());
    assert!(matches!(
        validators_with_base(&overrides),
        Err(ValidateError::UnknownProvider(p)) if p == "githib"
    ));
    let mut overrides = BTreeMap::new();
    overrides.insert("github".to_string(), "http://ghe.example.com".to_string());
    assert!(matches!(
        validators_with_base(&overrides),
        Err(ValidateError::BadBaseUrl { .. })
    ));
}

#[test]
fn real_provider_defaults_are_https() {
    // Checked on the table, without constructing a validator for a real host.
    for p in Provider::ALL {
        assert!(p.default_base().starts_with("https://"), "{p:?}");
        assert!(!p.rules().is_empty(), "{p:?}");
    }
}
