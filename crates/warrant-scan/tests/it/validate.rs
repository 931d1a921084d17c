//! `--validate` end to end: scan files holding fabricated tokens, then validate them against
//! loopback doubles, one per provider, that answer the way each provider documents (status codes,
//! JSON shapes) and accept only a request made the documented way (method, path, credential
//! scheme, required headers). No test here reaches a real provider: every validator is built
//! with a base URL override and checked to be loopback.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
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

/// A GitHub- or npm-format token: prefix, 30 characters, their CRC32 in 6 base62 digits.
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

/// Fabricated tokens of the first five providers, used on their own by some tests.
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

/// One provider's fabricated secrets: one its double accepts, one it rejects, each on a fixture
/// line with the context its rule needs.
struct Case {
    provider: Provider,
    live: String,
    dead: String,
    live_line: String,
    dead_line: String,
    /// The verdict on `live`; `dead` must be judged invalid.
    verdict: Verdict,
}

fn case(
    provider: Provider,
    (live_line, live): (&str, String),
    (dead_line, dead): (&str, String),
    detail: &str,
) -> Case {
    Case {
        provider,
        live_line: live_line.replace("{}", &live),
        dead_line: dead_line.replace("{}", &dead),
        live,
        dead,
        verdict: Verdict::Valid {
            detail: Some(detail.to_string()),
        },
    }
}

/// The same fixture line for both secrets.
fn same(
    provider: Provider,
    line: &str,
    live: impl Into<String>,
    dead: impl Into<String>,
    detail: &str,
) -> Case {
    case(provider, (line, live.into()), (line, dead.into()), detail)
}

/// Every provider's fabricated secrets and the verdict its double leads to. Where a provider
/// has several token shapes, the live and dead secrets differ in shape so both are exercised.
fn cases() -> Vec<Case> {
    let t = tokens();
    let cases = vec![
        same(
            Provider::GitHub,
            "GITHUB_TOKEN={}",
            t.gh_good.as_str(),
            t.gh_bad.as_str(),
            "login fixture-bot; scopes: repo, read:org",
        ),
        same(
            Provider::GitLab,
            "GITLAB_TOKEN={}",
            t.gitlab_good,
            t.gitlab_bad,
            "token ci-deploy; scopes: api, read_repository; expires 2027-06-30",
        ),
        same(
            Provider::OpenAi,
            "OPENAI_API_KEY={}",
            t.openai_good,
            t.openai_bad,
            "3 models visible",
        ),
        same(
            Provider::Slack,
            "SLACK_BOT_TOKEN={}",
            t.slack_good,
            t.slack_bad,
            "team Fixture; user deploy-bot",
        ),
        same(
            Provider::Stripe,
            "STRIPE_KEY={}",
            t.stripe_good,
            t.stripe_bad,
            "livemode false",
        ),
        same(
            Provider::Airtable,
            "AIRTABLE_API_KEY={}",
            "patwNZOdIP6TRHSJ7.0af2c4288be395399e408352ded510668c9c815019f2442ab8a8cc396d9a7bf4",
            "patzdleQ0iX7SWUNi.2010db2b469942a3958651ecf6cf90b49417a216baf5787d89688d8a851ea68c",
            "user usrFixture00001; scopes: data.records:read, schema.bases:read",
        ),
        same(
            Provider::Anthropic,
            "ANTHROPIC_API_KEY={}",
            "sk-ant-api03-8ISsWbV9J6Das4VuRAhzjRZlchCl24o2rOugvkZ189XdkyHTUXNoGEQUVwdW3edC2fXAnCwjJe3J-Sg6VARK689Ev7UxyAA",
            "sk-ant-api03-CaIRwEbfFoUtdPJpD9_TH4u5LfJQ4BKGdadqI1rEz38hHf13lZzSVXuctdej1zWmTyNI_pBYFj0TPkQslNNx3UwdA_4_wAA",
            "2 models visible",
        ),
        same(
            Provider::Asana,
            "ASANA_TOKEN={}",
            "2/8840933340025508/1778474891096265:d2ddec197833503347cb378c231b7fc0",
            "1/2126327629261303:d57337a298d23e813a45ca9fa239b0ae",
            "user Fixture User",
        ),
        same(
            Provider::CircleCi,
            "CIRCLE_TOKEN={}",
            "CCIPAT_hvp465UCZVo1HNGW8disSn_af29c35cd3268a9ffad577a80bd563536887049e",
            "CCIPAT_GIfDy5OPn7GKcWscog6y6l_f0e99ddb0004195c7311ff83f3346f8bbcb7ff4d",
            "login fixture-user",
        ),
        // A 40-character token (which may be user- or account-owned) is live; a `cfut_` user
        // token is rejected, which proves it dead.
        same(
            Provider::Cloudflare,
            "CLOUDFLARE_API_TOKEN={}",
            "1sdQjJNCM0JYkfKUKSkpfositrvwTCZcsK66PvGb",
            "cfut_NeuE7RCHfBPz6mk926KPlPKjfISkUuOLQkcoEU2FV4ik6f28",
            "token active",
        ),
        same(
            Provider::DeepSeek,
            "DEEPSEEK_API_KEY={}",
            "sk-b08565b6cc03d26bbba951987e00d965",
            "sk-b933a8d93e1f3e38867306a24e14dc4b",
            "2 models visible",
        ),
        same(
            Provider::DigitalOcean,
            "DIGITALOCEAN_ACCESS_TOKEN={}",
            "dop_v1_88ad33f5b48ca9bbae25c6abb49aac1a2385f295e7927668365f9e4fceecb867",
            "doo_v1_fabc94029c9f4da58dd141e397563cf92647c8b6463781e3f51d90fcbc22ec0b",
            "account fixture@example.com; team Fixture Team; status active",
        ),
        same(
            Provider::Discord,
            "DISCORD_TOKEN={}",
            "OCnPku5p39er8-2XCED7M0HpZX.ReAkbH.lvDnf9DJcIa2UybROfdS16-c63GXtd4VY0qURq",
            "ObVBhHMCnJubPgirGWcj0UGmCG.7j2UvP.Xg-e3LobTmTNHgLDRM1lZJSmGk-nkaR7ei5aOy",
            "bot fixture-bot",
        ),
        same(
            Provider::Doppler,
            "DOPPLER_TOKEN={}",
            "dp.st.dqMELWzi6mG2GCLx3KFefmhhflMrKkO61crqMeBLq4l",
            "dp.pt.Orfet3S7Ov8gbYvmkdiem6p4QbU5PSk45uxcnrYsomB",
            "service token ci-read; workplace Fixture Inc",
        ),
        same(
            Provider::Figma,
            "FIGMA_TOKEN={}",
            "figd_zGg1U2Gy2CWO_eE1ni-kuAdNHQlbAEh_mPRUI5tQ",
            "figd_qCZii6VVCvDZdFTz05WorUCtyYxxVEos_G8mhUpy",
            "user Fixture Designer",
        ),
        same(
            Provider::Groq,
            "GROQ_API_KEY={}",
            "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",
            "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",
            "2 models visible",
        ),
        same(
            Provider::Heroku,
            "HEROKU_API_KEY={}",
            "HRKU-AAHMTpv4m30VJUnnPJDPG99RapkZauD4-YXilu5v5NMEgazO-YOwri0qkQWa",
            "5dd2a31f-31fd-9ffd-7fc4-60ea57f82645",
            "account fixture@example.com",
        ),
        same(
            Provider::HuggingFace,
            "HF_TOKEN={}",
            "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",
            "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",
            "user fixture-user; role read",
        ),
        // A personal API key (sent bare) is live; an OAuth token (sent as bearer) is rejected.
        case(
            Provider::Linear,
            (
                "LINEAR_API_KEY={}",
                "lin_api_Li2OZaTXl0usuBl2DJQo2S07o9f5ZpDUTSZzje7P".to_string(),
            ),
            (
                "LINEAR_ACCESS_TOKEN={}",
                "lin_oauth_a5f5c0ac85343ae75f524a8c803901fd3fd9f688f3ad2c59ccaa0365a9f06012"
                    .to_string(),
            ),
            "user Fixture User",
        ),
        same(
            Provider::Mistral,
            "MISTRAL_API_KEY={}",
            "kLGhdsQvE73ApQjsLSuT8lP32oMvSkqq",
            "HpnsQECP6RMYUogTpXcqeRrS8vAs5fil",
            "2 models visible",
        ),
        same(
            Provider::Netlify,
            "NETLIFY_AUTH_TOKEN={}",
            "nfp_I56db51hByCN8bNC2Z7yclwdm8zgrQ7OJryJmRzn",
            "nfp_upg7knUFMD4X2mWkOhIdfXKjBYWXyxhGyM1JFNQB",
            "user fixture@example.com",
        ),
        case(
            Provider::Notion,
            (
                "NOTION_TOKEN={}",
                "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".to_string(),
            ),
            (
                "NOTION_API_KEY={}",
                "secret_TzAFKxuxDTtP5VNwN4HaD8lKPrCbwIGUiAPIY8xZkj9".to_string(),
            ),
            "bot Fixture Sync; workspace Fixture Workspace",
        ),
        same(
            Provider::Npm,
            "NPM_TOKEN={}",
            github_token("npm_", "cSwgOWalrLZN62NFli0FxKMZc8g1Dx"),
            github_token("npm_", "uX26zo67YKA3WTRuhosEi71Xz0tOT4"),
            "user fixture-publisher",
        ),
        same(
            Provider::OpenRouter,
            "OPENROUTER_API_KEY={}",
            "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",
            "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",
            "usage 1.5 credits; no limit",
        ),
        same(
            Provider::Postman,
            "POSTMAN_API_KEY={}",
            "PMAK-a93339f3b305ab99665d934d-55cec4f40a041b69ce589293095393fc94",
            "PMAK-82985e50a376f4b41f837c53-157f412e6e5c354ba6025bbd854077e482",
            "user fixture-user",
        ),
        same(
            Provider::Replicate,
            "REPLICATE_API_TOKEN={}",
            "r8_W0d8n1gkJCAgnzggp9g4UW95U92fO4FuCbcFW",
            "r8_Ri14qODsOdCsBedZxkHQKVwsFh4IQyOBfQPfe",
            "user fixture",
        ),
        same(
            Provider::SendGrid,
            "SENDGRID_API_KEY={}",
            "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",
            "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",
            "3 scopes",
        ),
        same(
            Provider::Telegram,
            "TELEGRAM_BOT_TOKEN={}",
            "5912727576:AAQw3dvoDjUWglN64DoH6UHZgxLmzGNsyTC",
            "9350681012:AA-9GP_GDHEnjBxPSR2aXqe-Uz5IYrr96xw",
            "bot @fixture_bot",
        ),
        same(
            Provider::Vercel,
            "VERCEL_TOKEN={}",
            "dRojrZEChR8ZvsanpSGANN0i",
            "fcz2bG7PrtojcaN914TCWMNE",
            "user fixture",
        ),
        same(
            Provider::XAi,
            "XAI_API_KEY={}",
            "xai-ONtbeCfhJvhrBjP0yXWnsXZSUndCKakPDmd9CduNjAKAT0dBVSA2p3MVTD6HCtinhZjnQwHiFek9zFr0",
            "xai-dyFnYvKBMzPnVr9BNv7Y55bqTAVrIUCKFmG4lDadbHWy1eBtkmD5M5zI76ZzzQlROSsr6HWZ9Yzpk80I",
            "key fixture key",
        ),
    ];
    let covered: BTreeSet<&str> = cases.iter().map(|c| c.provider.name()).collect();
    assert_eq!(covered.len(), Provider::ALL.len(), "a provider has no case");
    cases
}

/// One request as a provider double saw it (header names lower-cased).
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
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
        body: String::from_utf8_lossy(&body).into_owned(),
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

/// How one provider's check request looks and what the provider answers, per its API reference.
#[derive(Clone, Copy)]
struct Double {
    /// The credential of a request made the documented way (method, path, credential scheme,
    /// required headers), or `None` for any other request.
    credential: fn(&Seen) -> Option<String>,
    /// The documented answer for a live secret.
    live: fn() -> Reply,
    /// The documented answer for a secret the provider does not accept.
    rejected: fn() -> Reply,
}

/// `req` when it is a GET of exactly `path`.
fn get<'a>(req: &'a Seen, path: &str) -> Option<&'a Seen> {
    (req.method == "GET" && req.path == path).then_some(req)
}

fn bearer(req: &Seen) -> Option<String> {
    req.header("authorization")?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

/// The value of a header other than `Authorization`, on a request without `Authorization`.
fn only_header(req: &Seen, name: &str) -> Option<String> {
    if req.header("authorization").is_some() {
        return None;
    }
    req.header(name).map(str::to_string)
}

fn double(provider: Provider) -> Double {
    match provider {
        // https://docs.github.com/en/rest/users/users#get-the-authenticated-user
        Provider::GitHub => Double {
            credential: |r| {
                get(r, "/user")
                    .filter(|r| r.header("accept") == Some("application/vnd.github+json"))
                    .and_then(bearer)
            },
            live: || Reply {
                status: 200,
                headers: vec![("X-OAuth-Scopes", "repo, read:org".to_string())],
                body: r#"{"login":"fixture-bot","id":1}"#.to_string(),
            },
            rejected: || {
                json(
                    401,
                    r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
                )
            },
        },
        Provider::GitLab => Double {
            credential: |r| {
                get(r, "/api/v4/personal_access_tokens/self")
                    .and_then(|r| only_header(r, "private-token"))
            },
            live: || {
                json(
                    200,
                    r#"{"id":42,"name":"ci-deploy","revoked":false,"active":true,"scopes":["api","read_repository"],"expires_at":"2027-06-30"}"#,
                )
            },
            rejected: || json(401, r#"{"message":"401 Unauthorized"}"#),
        },
        Provider::OpenAi => Double {
            credential: |r| get(r, "/v1/models").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"object":"list","data":[{"id":"model-a","object":"model"},{"id":"model-b","object":"model"},{"id":"model-c","object":"model"}]}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
                )
            },
        },
        Provider::Slack => Double {
            credential: |r| {
                (r.method == "POST" && r.path == "/api/auth.test")
                    .then(|| bearer(r))
                    .flatten()
            },
            live: || {
                json(
                    200,
                    r#"{"ok":true,"url":"https://fixture.slack.com/","team":"Fixture","user":"deploy-bot","team_id":"T0001","user_id":"U0001"}"#,
                )
            },
            rejected: || json(200, r#"{"ok":false,"error":"invalid_auth"}"#),
        },
        Provider::Stripe => Double {
            credential: |r| {
                let basic = get(r, "/v1/balance")?
                    .header("authorization")?
                    .strip_prefix("Basic ")?;
                let user = base64::engine::general_purpose::STANDARD
                    .decode(basic)
                    .ok()?;
                String::from_utf8(user)
                    .ok()?
                    .strip_suffix(':')
                    .map(str::to_string)
            },
            live: || {
                json(
                    200,
                    r#"{"object":"balance","available":[],"pending":[],"livemode":false}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"error":{"message":"Invalid API Key provided","type":"invalid_request_error"}}"#,
                )
            },
        },
        // https://airtable.com/developers/web/api/get-user-id-scopes
        Provider::Airtable => Double {
            credential: |r| get(r, "/v0/meta/whoami").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"id":"usrFixture00001","scopes":["data.records:read","schema.bases:read"]}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}}"#,
                )
            },
        },
        // https://docs.anthropic.com/en/api/models-list and /en/api/errors
        Provider::Anthropic => Double {
            credential: |r| {
                get(r, "/v1/models")
                    .filter(|r| r.header("anthropic-version") == Some("2023-06-01"))
                    .and_then(|r| only_header(r, "x-api-key"))
            },
            live: || {
                Reply {
                status: 200,
                headers: vec![("request-id", "req_fixture".to_string())],
                body: r#"{"data":[{"type":"model","id":"claude-fixture-1","display_name":"Fixture 1","created_at":"2025-02-19T00:00:00Z"},{"type":"model","id":"claude-fixture-2","display_name":"Fixture 2","created_at":"2025-02-19T00:00:00Z"}],"has_more":false,"first_id":"claude-fixture-1","last_id":"claude-fixture-2"}"#.to_string(),
            }
            },
            rejected: || {
                json(
                    401,
                    r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
                )
            },
        },
        // https://developers.asana.com/reference/getuser
        Provider::Asana => Double {
            credential: |r| get(r, "/api/1.0/users/me").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"data":{"gid":"12345","resource_type":"user","name":"Fixture User","email":"fixture@example.com","photo":null,"workspaces":[{"gid":"1","resource_type":"workspace","name":"Fixture"}]}}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"errors":[{"message":"Not Authorized","help":"For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"}]}"#,
                )
            },
        },
        // https://circleci.com/docs/api/v2/#operation/getCurrentUser
        Provider::CircleCi => Double {
            credential: |r| get(r, "/api/v2/me").and_then(|r| only_header(r, "circle-token")),
            live: || {
                json(
                    200,
                    r#"{"name":"Fixture User","login":"fixture-user","id":"97fb1c59-a2a3-4d5e-9a5d-0b2c7e8b4f10"}"#,
                )
            },
            rejected: || json(401, r#"{"message":"You must log in first."}"#),
        },
        // https://developers.cloudflare.com/api/resources/user/subresources/tokens/methods/verify/
        Provider::Cloudflare => Double {
            credential: |r| get(r, "/client/v4/user/tokens/verify").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"success":true,"errors":[],"messages":[{"code":10000,"message":"This API Token is valid and active","type":null}],"result":{"id":"f267e341f3dd4697bd3b9f71dd96247f","status":"active"}}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}],"messages":[],"result":null}"#,
                )
            },
        },
        // https://api-docs.deepseek.com/api/list-models
        Provider::DeepSeek => Double {
            credential: |r| get(r, "/models").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"object":"list","data":[{"id":"deepseek-chat","object":"model","owned_by":"deepseek"},{"id":"deepseek-reasoner","object":"model","owned_by":"deepseek"}]}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"error":{"message":"Authentication Fails, Your api key: ****4b is invalid","type":"authentication_error","param":null,"code":"invalid_request_error"}}"#,
                )
            },
        },
        // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Account
        Provider::DigitalOcean => Double {
            credential: |r| get(r, "/v2/account").and_then(bearer),
            live: || {
                Reply {
                status: 200,
                headers: vec![("ratelimit-remaining", "4999".to_string())],
                body: r#"{"account":{"droplet_limit":25,"floating_ip_limit":5,"email":"fixture@example.com","name":"Fixture","uuid":"b6fr89dbf6d9156cace5f3c78dc9851d957381ef","email_verified":true,"status":"active","status_message":"","team":{"uuid":"5df3e3004a17e242b7c20ca6c9fc25b701a47ece","name":"Fixture Team"}}}"#.to_string(),
            }
            },
            rejected: || {
                json(
                    401,
                    r#"{"id":"Unauthorized","message":"Unable to authenticate you"}"#,
                )
            },
        },
        // https://discord.com/developers/docs/resources/user#get-current-user
        Provider::Discord => Double {
            credential: |r| {
                get(r, "/api/v10/users/@me")?
                    .header("authorization")?
                    .strip_prefix("Bot ")
                    .map(str::to_string)
            },
            live: || {
                json(
                    200,
                    r#"{"id":"80351110224678912","username":"fixture-bot","discriminator":"0000","global_name":null,"avatar":null,"bot":true,"flags":0,"mfa_enabled":true}"#,
                )
            },
            rejected: || json(401, r#"{"message":"401: Unauthorized","code":0}"#),
        },
        // https://docs.doppler.com/reference/auth-me
        Provider::Doppler => Double {
            credential: |r| get(r, "/v3/me").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"workplace":{"slug":"fixture","name":"Fixture Inc"},"slug":"8b4f10","name":"ci-read","created_at":"2024-01-01T00:00:00.000Z","last_seen_at":"2024-06-01T00:00:00.000Z","type":"service","token_preview":"dp.st.dqME...Lq4l"}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"messages":["Invalid Auth token"],"success":false}"#,
                )
            },
        },
        // https://www.figma.com/developers/api#get-me-endpoint and #errors
        Provider::Figma => Double {
            credential: |r| get(r, "/v1/me").and_then(|r| only_header(r, "x-figma-token")),
            live: || {
                json(
                    200,
                    r#"{"id":"1234567890","email":"fixture@example.com","handle":"Fixture Designer","img_url":"https://example.com/a.png"}"#,
                )
            },
            rejected: || json(403, r#"{"status":403,"err":"Invalid token"}"#),
        },
        // https://console.groq.com/docs/api-reference#models-list
        Provider::Groq => Double {
            credential: |r| get(r, "/openai/v1/models").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"object":"list","data":[{"id":"llama-fixture","object":"model","created":1693721698,"owned_by":"Meta","active":true,"context_window":8192},{"id":"whisper-fixture","object":"model","created":1693721698,"owned_by":"OpenAI","active":true,"context_window":448}]}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
                )
            },
        },
        // https://devcenter.heroku.com/articles/platform-api-reference#account-info
        Provider::Heroku => Double {
            credential: |r| {
                get(r, "/account")
                    .filter(|r| {
                        r.header("accept") == Some("application/vnd.heroku+json; version=3")
                    })
                    .and_then(bearer)
            },
            live: || {
                Reply {
                status: 200,
                headers: vec![("RateLimit-Remaining", "4499".to_string())],
                body: r#"{"allow_tracking":true,"beta":false,"created_at":"2012-01-01T12:00:00Z","email":"fixture@example.com","federated":false,"id":"01234567-89ab-cdef-0123-456789abcdef","last_login":"2012-01-01T12:00:00Z","name":"Fixture","two_factor_authentication":true,"verified":true}"#.to_string(),
            }
            },
            rejected: || {
                json(
                    401,
                    r#"{"id":"unauthorized","message":"Invalid credentials provided."}"#,
                )
            },
        },
        // https://huggingface.co/docs/hub/api (GET /api/whoami-v2)
        Provider::HuggingFace => Double {
            credential: |r| get(r, "/api/whoami-v2").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"type":"user","id":"6530b2f0e1b0b1a1c0f0e0d0","name":"fixture-user","fullname":"Fixture User","isPro":false,"orgs":[],"auth":{"type":"access_token","accessToken":{"displayName":"ci","role":"read","createdAt":"2024-01-01T00:00:00.000Z"}}}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"error":"Invalid credentials in Authorization header"}"#,
                )
            },
        },
        // https://linear.app/developers/graphql: API keys bare, OAuth tokens as bearer tokens.
        Provider::Linear => Double {
            credential: |r| {
                if r.method != "POST"
                    || r.path != "/graphql"
                    || r.header("content-type") != Some("application/json")
                {
                    return None;
                }
                let body: serde_json::Value = serde_json::from_str(&r.body).ok()?;
                if !body["query"].as_str()?.contains("viewer") {
                    return None;
                }
                let auth = r.header("authorization")?;
                match auth.strip_prefix("Bearer ") {
                    Some(token) => token.starts_with("lin_oauth_").then(|| token.to_string()),
                    None => auth.starts_with("lin_api_").then(|| auth.to_string()),
                }
            },
            live: || {
                json(
                    200,
                    r#"{"data":{"viewer":{"id":"2e4b1a6c-9d3f-4b8e-a7c1-5f0d2e9b8a7c","name":"Fixture User"}}}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"errors":[{"message":"Authentication required, not authenticated","extensions":{"type":"authentication error","code":"AUTHENTICATION_ERROR","statusCode":401,"userError":true,"userPresentableMessage":"You need to authenticate to access this operation."}}]}"#,
                )
            },
        },
        // https://docs.mistral.ai/api/#tag/models/operation/list_models_v1_models_get
        Provider::Mistral => Double {
            credential: |r| get(r, "/v1/models").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"object":"list","data":[{"id":"mistral-small-fixture","object":"model","created":1711324800,"owned_by":"mistralai"},{"id":"mistral-large-fixture","object":"model","created":1711324800,"owned_by":"mistralai"}]}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"message":"Unauthorized","request_id":"0d5e3c7f9a2b4c1d8e6f"}"#,
                )
            },
        },
        // https://open-api.netlify.com/#tag/user/operation/getCurrentUser
        Provider::Netlify => Double {
            credential: |r| get(r, "/api/v1/user").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"id":"5f1e2d3c4b5a69788796a5b4","uid":null,"full_name":"Fixture User","avatar_url":null,"email":"fixture@example.com","affiliate_id":"","site_count":3,"created_at":"2020-01-01T00:00:00Z","last_login":"2024-06-01T00:00:00Z","login_providers":["email"]}"#,
                )
            },
            rejected: || json(401, r#"{"code":401,"message":"Access Denied"}"#),
        },
        // https://developers.notion.com/reference/get-self and /reference/status-codes
        Provider::Notion => Double {
            credential: |r| {
                get(r, "/v1/users/me")
                    .filter(|r| r.header("notion-version") == Some("2022-06-28"))
                    .and_then(bearer)
            },
            live: || {
                json(
                    200,
                    r#"{"object":"user","id":"16d84278-ab0e-484c-9bdd-b35da3bd8905","name":"Fixture Sync","avatar_url":null,"type":"bot","bot":{"owner":{"type":"workspace","workspace":true},"workspace_name":"Fixture Workspace"},"request_id":"9e2b6d3a-0c5f-4a1e-8b7d-2f4c6a8e0b1d"}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"object":"error","status":401,"code":"unauthorized","message":"API token is invalid.","request_id":"4d5c6b7a-8e9f-4a0b-9c1d-2e3f4a5b6c7d"}"#,
                )
            },
        },
        // https://github.com/npm/registry/blob/main/docs/user/authentication.md (`npm whoami`)
        Provider::Npm => Double {
            credential: |r| get(r, "/-/whoami").and_then(bearer),
            live: || json(200, r#"{"username":"fixture-publisher"}"#),
            rejected: || json(401, r#"{"error":"Unauthorized"}"#),
        },
        // https://openrouter.ai/docs/api-reference/api-keys/get-current-key
        Provider::OpenRouter => Double {
            credential: |r| get(r, "/api/v1/key").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"data":{"label":"sk-or-v1-f18...926","usage":1.5,"limit":null,"is_free_tier":false,"limit_remaining":null,"rate_limit":{"requests":10,"interval":"10s"}}}"#,
                )
            },
            rejected: || json(401, r#"{"error":{"message":"User not found.","code":401}}"#),
        },
        // https://learning.postman.com/docs/developer/postman-api/authentication/
        Provider::Postman => Double {
            credential: |r| get(r, "/me").and_then(|r| only_header(r, "x-api-key")),
            live: || {
                json(
                    200,
                    r#"{"user":{"id":12345678,"username":"fixture-user","email":"fixture@example.com","fullName":"Fixture User","avatar":null,"isPublic":false,"teamId":0,"teamDomain":"","roles":["user"]},"operations":[{"name":"api_object_usage","limit":3,"usage":0,"overage":0}]}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"error":{"name":"AuthenticationError","message":"Invalid API Key. Every request requires a valid API Key to be sent."}}"#,
                )
            },
        },
        // https://replicate.com/docs/reference/http#accounts.get
        Provider::Replicate => Double {
            credential: |r| get(r, "/v1/account").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"type":"user","username":"fixture","name":"Fixture User","github_url":"https://github.com/fixture"}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#,
                )
            },
        },
        // https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions
        Provider::SendGrid => Double {
            credential: |r| get(r, "/v3/scopes").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"scopes":["mail.send","alerts.read","user.profile.read"]}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"errors":[{"field":null,"message":"authorization required"}]}"#,
                )
            },
        },
        // https://core.telegram.org/bots/api#making-requests and #getme
        Provider::Telegram => Double {
            credential: |r| {
                if r.method != "GET" || r.header("authorization").is_some() {
                    return None;
                }
                r.path
                    .strip_prefix("/bot")?
                    .strip_suffix("/getMe")
                    .map(str::to_string)
            },
            live: || {
                json(
                    200,
                    r#"{"ok":true,"result":{"id":5912727576,"is_bot":true,"first_name":"Fixture","username":"fixture_bot","can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false}}"#,
                )
            },
            rejected: || {
                json(
                    401,
                    r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
                )
            },
        },
        // https://vercel.com/docs/rest-api/reference/endpoints/user/get-the-user
        Provider::Vercel => Double {
            credential: |r| get(r, "/v2/user").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"user":{"id":"AEIIDYVk59zbFF2Sxfyxxmua","email":"fixture@example.com","name":"Fixture","username":"fixture","avatar":null,"defaultTeamId":null}}"#,
                )
            },
            rejected: || {
                json(
                    403,
                    r#"{"error":{"code":"forbidden","message":"Not authorized","invalidToken":true}}"#,
                )
            },
        },
        // https://docs.x.ai/docs/api-reference#api-key (400 for an invalid key)
        Provider::XAi => Double {
            credential: |r| get(r, "/v1/api-key").and_then(bearer),
            live: || {
                json(
                    200,
                    r#"{"redacted_api_key":"xai-...zFr0","user_id":"59fbe5f2-040b-46d5-8325-868bb8f23eb2","name":"fixture key","create_time":"2024-01-01T12:55:18.139305Z","modify_time":"2024-08-28T17:20:12.343321Z","modified_by":"3d38b4dc-4eb7-4785-ae26-c3fa8997ffc7","team_id":"5ea6f6bd-7815-4b8a-9135-28b2d7ba6722","acls":["api-key:model:*","api-key:endpoint:*"],"api_key_id":"ae1e1841-4326-4b36-a8a9-8a1a7237db11","team_blocked":false,"api_key_blocked":false,"api_key_disabled":false}"#,
                )
            },
            rejected: || {
                json(
                    400,
                    r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***0I. You can obtain an API key from https://console.x.ai."}"#,
                )
            },
        },
    }
}

/// Serves `provider`'s documented answers: `live` is the one secret it accepts.
fn serve(provider: Provider, live: String) -> impl Fn(&Seen) -> Option<Reply> + Send + 'static {
    let d = double(provider);
    move |req: &Seen| {
        Some(match (d.credential)(req) {
            Some(credential) if credential == live => (d.live)(),
            Some(_) => (d.rejected)(),
            None => json(404, r#"{"message":"Not Found"}"#),
        })
    }
}

/// One double per provider, each accepting its case's live secret.
struct Doubles {
    servers: BTreeMap<&'static str, ProviderDouble>,
}

impl Doubles {
    fn start(cases: &[Case]) -> Doubles {
        let servers = cases
            .iter()
            .map(|c| {
                (
                    c.provider.name(),
                    ProviderDouble::start(serve(c.provider, c.live.clone())),
                )
            })
            .collect();
        Doubles { servers }
    }

    fn of(&self, provider: Provider) -> &ProviderDouble {
        &self.servers[provider.name()]
    }

    fn seen(&self) -> Vec<Seen> {
        self.servers
            .values()
            .flat_map(ProviderDouble::seen)
            .collect()
    }

    /// Validators for every provider, each pointed at its double, checked to be loopback.
    fn validators(&self) -> Vec<Box<dyn Validator>> {
        let overrides: BTreeMap<String, String> = self
            .servers
            .iter()
            .map(|(name, server)| (name.to_string(), server.base.clone()))
            .collect();
        let validators = validators_with_base(&overrides).unwrap();
        assert_eq!(validators.len(), Provider::ALL.len());
        for v in &validators {
            assert_eq!(
                v.base_url(),
                self.servers[v.provider()].base,
                "{} would call {}",
                v.provider(),
                v.base_url()
            );
            assert!(v.base_url().starts_with("http://127.0.0.1:"));
        }
        validators
    }
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

fn write_fixture(root: &Path, cases: &[Case]) {
    let mut env = String::new();
    for c in cases {
        env.push_str(&c.live_line);
        env.push('\n');
        env.push_str(&c.dead_line);
        env.push('\n');
    }
    std::fs::write(root.join("app.env"), env).unwrap();
    // The live GitHub token again, twice, in another file: still one request.
    let t = tokens();
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
    &validation_for(validations, report, secret).verdict
}

fn validation_for<'a>(
    validations: &'a [Validation],
    report: &ScanReport,
    secret: &str,
) -> &'a Validation {
    let fp = Fingerprinter::new(b"validate-test-key").fingerprint(secret.as_bytes());
    assert!(
        report.findings.iter().any(|f| f.fingerprint == fp),
        "the scan did not find {}",
        warrant_core::redact(secret)
    );
    validations
        .iter()
        .find(|v| v.fingerprint == fp)
        .unwrap_or_else(|| panic!("no validation for {}", warrant_core::redact(secret)))
}

#[test]
fn live_and_dead_tokens_of_every_provider() {
    let cases = cases();
    let doubles = Doubles::start(&cases);
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &cases);
    let report = scan_dir(dir.path(), true);
    let validations = validate_report(&report, &doubles.validators());

    for c in &cases {
        let name = c.provider.name();
        let live = validation_for(&validations, &report, &c.live);
        assert_eq!(live.provider, name);
        assert!(
            c.provider.rules().contains(&live.rule.as_str()),
            "{name}: {}",
            live.rule
        );
        assert_eq!(live.verdict, c.verdict, "{name} live");
        assert_eq!(
            verdict_for(&validations, &report, &c.dead),
            &Verdict::Invalid,
            "{name} dead"
        );
    }
    assert_eq!(validations.len(), 2 * cases.len(), "{validations:#?}");
    for p in Provider::ALL {
        assert_eq!(
            validations
                .iter()
                .filter(|v| v.provider == p.name())
                .count(),
            2,
            "{p:?}"
        );
    }

    // Serialised verdicts carry fingerprints, never a secret.
    let out = serde_json::to_string(&validations).unwrap();
    for c in &cases {
        assert!(
            !out.contains(&c.live) && !out.contains(&c.dead),
            "a {} secret leaked into {out}",
            c.provider.name()
        );
    }
    assert!(out.contains(r#""status":"valid""#) && out.contains(r#""status":"invalid""#));
}

#[test]
fn requests_carry_each_providers_documented_credential_header() {
    let cases = cases();
    let doubles = Doubles::start(&cases);
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &cases);
    let report = scan_dir(dir.path(), true);
    validate_report(&report, &doubles.validators());
    assert_eq!(doubles.seen().len(), 2 * cases.len());

    // Every provider was asked once per secret, each time in the documented shape (method,
    // path, scheme, required headers: the double's `credential` accepts nothing else), with
    // the secret nowhere else in the request.
    for c in &cases {
        let name = c.provider.name();
        let seen = doubles.of(c.provider).seen();
        let credentials: BTreeSet<String> = seen
            .iter()
            .map(|s| {
                (double(c.provider).credential)(s)
                    .unwrap_or_else(|| panic!("{name}: undocumented request {s:#?}"))
            })
            .collect();
        assert_eq!(
            credentials,
            BTreeSet::from([c.live.clone(), c.dead.clone()]),
            "{name}"
        );
        for s in &seen {
            assert!(
                s.header("user-agent")
                    .is_some_and(|ua| ua.starts_with("warrant-validate/")),
                "{name}"
            );
            assert!(!s.body.contains(&c.live) && !s.body.contains(&c.dead));
            if c.provider != Provider::Telegram {
                assert!(!s.path.contains(&c.live) && !s.path.contains(&c.dead));
            }
        }
    }

    // The schemes spelled out, one per kind.
    let case = |p: Provider| cases.iter().find(|c| c.provider == p).unwrap();
    let first = |p: Provider, secret: &str| -> Seen {
        doubles
            .of(p)
            .seen()
            .into_iter()
            .find(|s| (double(p).credential)(s).as_deref() == Some(secret))
            .unwrap()
    };
    let t = tokens();
    let gh = first(Provider::GitHub, &t.gh_good);
    assert_eq!(gh.method, "GET");
    assert_eq!(gh.path, "/user");
    assert_eq!(gh.header("x-github-api-version"), Some("2022-11-28"));
    let slack = first(Provider::Slack, t.slack_good);
    assert_eq!(slack.method, "POST");
    assert_eq!(
        slack.header("authorization"),
        Some(format!("Bearer {}", t.slack_good).as_str())
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:", t.stripe_good));
    assert_eq!(
        first(Provider::Stripe, t.stripe_good).header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    let gitlab = first(Provider::GitLab, t.gitlab_good);
    assert_eq!(gitlab.header("private-token"), Some(t.gitlab_good));
    assert_eq!(
        gitlab.header("authorization"),
        None,
        "GitLab takes PRIVATE-TOKEN only"
    );

    let anthropic = case(Provider::Anthropic);
    let a = first(Provider::Anthropic, &anthropic.live);
    assert_eq!((a.method.as_str(), a.path.as_str()), ("GET", "/v1/models"));
    assert_eq!(a.header("x-api-key"), Some(anthropic.live.as_str()));
    assert_eq!(a.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(a.header("authorization"), None);

    let discord = case(Provider::Discord);
    let d = first(Provider::Discord, &discord.live);
    assert_eq!(d.path, "/api/v10/users/@me");
    assert_eq!(
        d.header("authorization"),
        Some(format!("Bot {}", discord.live).as_str())
    );

    let heroku = case(Provider::Heroku);
    let h = first(Provider::Heroku, &heroku.live);
    assert_eq!(
        h.header("accept"),
        Some("application/vnd.heroku+json; version=3")
    );
    assert_eq!(
        h.header("authorization"),
        Some(format!("Bearer {}", heroku.live).as_str())
    );

    let notion = case(Provider::Notion);
    assert_eq!(
        first(Provider::Notion, &notion.dead).header("notion-version"),
        Some("2022-06-28")
    );

    for (p, header) in [
        (Provider::CircleCi, "circle-token"),
        (Provider::Figma, "x-figma-token"),
        (Provider::Postman, "x-api-key"),
    ] {
        let c = case(p);
        let s = first(p, &c.live);
        assert_eq!(s.header(header), Some(c.live.as_str()), "{p:?}");
        assert_eq!(s.header("authorization"), None, "{p:?}");
    }

    // Linear: a GraphQL POST; the API key bare, the OAuth token as a bearer token.
    let linear = case(Provider::Linear);
    let key = first(Provider::Linear, &linear.live);
    assert_eq!(
        (key.method.as_str(), key.path.as_str()),
        ("POST", "/graphql")
    );
    assert_eq!(key.header("authorization"), Some(linear.live.as_str()));
    let query: serde_json::Value = serde_json::from_str(&key.body).unwrap();
    assert_eq!(query["query"], "{ viewer { id name } }");
    assert_eq!(
        first(Provider::Linear, &linear.dead).header("authorization"),
        Some(format!("Bearer {}", linear.dead).as_str())
    );

    // Telegram: the token in the path, which is the Bot API's only form.
    let telegram = case(Provider::Telegram);
    let tg = first(Provider::Telegram, &telegram.live);
    assert_eq!(tg.path, format!("/bot{}/getMe", telegram.live));
    assert_eq!(tg.header("authorization"), None);

    for (p, path) in [
        (Provider::Airtable, "/v0/meta/whoami"),
        (Provider::Asana, "/api/1.0/users/me"),
        (Provider::Cloudflare, "/client/v4/user/tokens/verify"),
        (Provider::DeepSeek, "/models"),
        (Provider::DigitalOcean, "/v2/account"),
        (Provider::Doppler, "/v3/me"),
        (Provider::Groq, "/openai/v1/models"),
        (Provider::HuggingFace, "/api/whoami-v2"),
        (Provider::Mistral, "/v1/models"),
        (Provider::Netlify, "/api/v1/user"),
        (Provider::Npm, "/-/whoami"),
        (Provider::OpenAi, "/v1/models"),
        (Provider::OpenRouter, "/api/v1/key"),
        (Provider::Replicate, "/v1/account"),
        (Provider::SendGrid, "/v3/scopes"),
        (Provider::Vercel, "/v2/user"),
        (Provider::XAi, "/v1/api-key"),
    ] {
        let c = case(p);
        let s = first(p, &c.live);
        assert_eq!((s.method.as_str(), s.path.as_str()), ("GET", path), "{p:?}");
        assert_eq!(
            s.header("authorization"),
            Some(format!("Bearer {}", c.live).as_str()),
            "{p:?}"
        );
    }
}

#[test]
fn the_same_secret_found_three_times_is_asked_about_once() {
    let cases = cases();
    let t = tokens();
    let doubles = Doubles::start(&cases);
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &cases);
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
    let validations = validate_report(&report, &doubles.validators());
    assert_eq!(
        validations.iter().filter(|v| v.fingerprint == fp).count(),
        1
    );
    let bearer = format!("Bearer {}", t.gh_good);
    let asked = doubles
        .of(Provider::GitHub)
        .seen()
        .iter()
        .filter(|s| s.header("authorization") == Some(bearer.as_str()))
        .count();
    assert_eq!(asked, 1);
}

#[test]
fn findings_without_a_validator_are_left_out() {
    let cases = cases();
    let t = tokens();
    let doubles = Doubles::start(&cases);
    let dir = tempfile::tempdir().unwrap();
    // An AWS key id has a rule but no validator, nor has a Hugging Face organization token (a
    // rule of a validated provider); the Slack token has both.
    std::fs::write(
        dir.path().join("mixed.env"),
        format!(
            "AWS_ACCESS_KEY_ID=AKIAQX4TJ7WN2RB5LZ6M\nHF_ORG_TOKEN=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\nSLACK={}\n",
            t.slack_good
        ),
    )
    .unwrap();
    let report = scan_dir(dir.path(), true);
    for provider in ["aws", "huggingface"] {
        assert!(
            report.findings.iter().any(|f| f.provider == provider),
            "{provider}: {:?}",
            report.findings
        );
    }
    let validations = validate_report(&report, &doubles.validators());
    assert_eq!(validations.len(), 1, "{validations:#?}");
    assert_eq!(validations[0].provider, "slack");
    assert_eq!(doubles.seen().len(), 1);

    // Only the validators given are used.
    let only_github: Vec<Box<dyn Validator>> = vec![Box::new(
        HttpValidator::new(Provider::GitHub, &doubles.of(Provider::GitHub).base).unwrap(),
    )];
    assert!(validate_report(&report, &only_github).is_empty());
    assert_eq!(doubles.seen().len(), 1);
}

#[test]
fn without_revealed_secrets_nothing_is_sent() {
    let cases = cases();
    let doubles = Doubles::start(&cases);
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), &cases);
    let report = scan_dir(dir.path(), false);
    assert!(report.revealed.is_empty());
    let validations = validate_report(&report, &doubles.validators());
    assert_eq!(validations.len(), 2 * cases.len());
    assert!(validations.iter().all(
        |v| matches!(&v.verdict, Verdict::Unknown { reason } if reason.contains("reveal_secrets"))
    ));
    assert!(doubles.seen().is_empty());
}

/// Rate limits, server errors and redirects are no answer about the secret, for every provider:
/// each double answers 429 (with `Retry-After`), then 503, then 302.
#[test]
fn rate_limits_and_server_errors_are_unknown_for_every_provider() {
    for c in cases() {
        let replies = Arc::new(Mutex::new(vec![
            Reply {
                status: 302,
                headers: vec![("Location", "http://127.0.0.1:9/".to_string())],
                body: String::new(),
            },
            json(503, r#"{"message":"Service Unavailable"}"#),
            Reply {
                status: 429,
                headers: vec![("Retry-After", "30".to_string())],
                body: r#"{"error":{"message":"Too Many Requests"}}"#.to_string(),
            },
        ]));
        let server = ProviderDouble::start(move |_| replies.lock().unwrap().pop());
        let v = HttpValidator::new(c.provider, &server.base).unwrap();
        for expected in ["429", "503", "302"] {
            let verdict = v.validate(&c.live);
            assert!(
                matches!(&verdict, Verdict::Unknown { reason } if reason.contains(expected)),
                "{:?} {expected}: {verdict:?}",
                c.provider
            );
        }
        assert_eq!(server.seen().len(), 3, "{:?}", c.provider);
    }
}

/// A 200 that is not the documented answer (a proxy's sign-in page, an API change) proves
/// nothing. The first five providers judge by status alone, except Slack.
#[test]
fn an_undocumented_success_answer_is_unknown() {
    let by_status_alone = [
        Provider::GitHub,
        Provider::GitLab,
        Provider::OpenAi,
        Provider::Stripe,
    ];
    for c in cases() {
        if by_status_alone.contains(&c.provider) {
            continue;
        }
        let server = ProviderDouble::start(|_| {
            Some(Reply {
                status: 200,
                headers: vec![("Content-Type", "text/html".to_string())],
                body: "<html><body>Sign in</body></html>".to_string(),
            })
        });
        let v = HttpValidator::new(c.provider, &server.base).unwrap();
        let verdict = v.validate(&c.live);
        assert!(
            matches!(verdict, Verdict::Unknown { .. }),
            "{:?}: {verdict:?}",
            c.provider
        );
    }
}

/// Cloudflare's user-token check: a `cfut_` token it rejects is dead, a 40-character token may
/// be account-owned (verified elsewhere) so its rejection is unknown, and global API keys
/// (`cfk_`) and account tokens (`cfat_`) are not sent at all. Doppler's SCIM and audit tokens
/// are not sent to `/v3/me` either.
#[test]
fn secrets_the_endpoint_cannot_judge_are_unknown() {
    let server = ProviderDouble::start(serve(Provider::Cloudflare, "cfut_live".to_string()));
    let v = HttpValidator::new(Provider::Cloudflare, &server.base).unwrap();
    assert_eq!(
        v.validate("cfut_NeuE7RCHfBPz6mk926KPlPKjfISkUuOLQkcoEU2FV4ik6f28"),
        Verdict::Invalid
    );
    assert!(matches!(
        v.validate("K33AvcTTLm_V1TPfMbMOrhOEApliw3RIf3CVORgO"),
        Verdict::Unknown { .. }
    ));
    assert_eq!(server.seen().len(), 2);
    for unsendable in [
        "cfk_DMSJJoj7FY6j5rHJMpH3OqqfzkJr68I4KQbBMcC1Hi9mOBX3",
        "cfat_JlRdR6bahUIjztJnfCP6T11I0fGlYseYk6zb1v9ajgfarW4x",
    ] {
        assert!(matches!(v.validate(unsendable), Verdict::Unknown { .. }));
    }
    assert_eq!(server.seen().len(), 2, "a cfk_/cfat_ secret was sent");

    let server = ProviderDouble::start(serve(Provider::Doppler, "dp.pt.live".to_string()));
    let v = HttpValidator::new(Provider::Doppler, &server.base).unwrap();
    for unsendable in [
        "dp.scim.44YzQfbHuUvTXAcvUqAZg4yGrpQhqaptZzXXLioyylv",
        "dp.audit.pTGs32GI3AvWev1zsOsjRWgIPGGoheUw4nIaiVq4rCb",
    ] {
        assert!(matches!(v.validate(unsendable), Verdict::Unknown { .. }));
    }
    assert!(server.seen().is_empty());
}

/// The Telegram token travels in the URL: a transport failure's reason must not carry it.
#[test]
fn a_token_in_the_path_stays_out_of_the_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let token = "5912727576:AAQw3dvoDjUWglN64DoH6UHZgxLmzGNsyTC";
    let v = HttpValidator::new(Provider::Telegram, &base).unwrap();
    let Verdict::Unknown { reason } = v.validate(token) else {
        panic!("a closed port is no answer");
    };
    assert!(
        !reason.contains(token) && !reason.contains("AAQw3dvo"),
        "{reason}"
    );
    let silent = ProviderDouble::start(|_| None);
    let v = HttpValidator::new(Provider::Telegram, &silent.base)
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let Verdict::Unknown { reason } = v.validate(token) else {
        panic!("no answer is no verdict");
    };
    assert_eq!(silent.seen()[0].path, format!("/bot{token}/getMe"));
    assert!(!reason.contains("AAQw3dvo"), "{reason}");
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
    let err = validators_with_base(&overrides).err().unwrap();
    assert!(matches!(&err, ValidateError::UnknownProvider(p) if p == "githib"));
    // The message lists every provider name an override may use.
    let message = err.to_string();
    for p in Provider::ALL {
        assert!(message.contains(p.name()), "{message}");
    }
    let mut overrides = BTreeMap::new();
    overrides.insert("github".to_string(), "http://ghe.example.com".to_string());
    assert!(matches!(
        validators_with_base(&overrides),
        Err(ValidateError::BadBaseUrl { .. })
    ));
    // Every provider takes an override, by the name rule files use.
    for p in Provider::ALL {
        assert_eq!(Provider::from_name(p.name()), Some(p));
        let overrides = BTreeMap::from([(p.name().to_string(), "http://127.0.0.1:1".to_string())]);
        let validators = validators_with_base(&overrides).unwrap();
        let v = validators
            .iter()
            .find(|v| v.provider() == p.name())
            .unwrap();
        assert_eq!(v.base_url(), "http://127.0.0.1:1");
    }
}

#[test]
fn real_provider_defaults_are_https() {
    // Checked on the table, without constructing a validator for a real host.
    for p in Provider::ALL {
        assert!(p.default_base().starts_with("https://"), "{p:?}");
        assert!(!p.rules().is_empty(), "{p:?}");
    }
    assert!(Provider::ALL.len() >= 20);
}
