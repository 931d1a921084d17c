//! What the server tests share: the demo organisation assessed into a fresh store, and a way to
//! send a request to the router without a socket.

#![allow(dead_code, reason = "each test binary uses part of it")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use chrono::TimeZone;
use http_body_util::BodyExt;
use tower::ServiceExt;
use warrant_app::accounts::{self, Role};
use warrant_app::{ActivityConfig, Cancel, ImportConfig, NoProgress, PostureConfig, Settings};
use warrant_core::{Fingerprinter, FixedClock, Timestamp};
use warrant_server::{ServerConfig, ServerState};
use warrant_store::Store;

pub fn demo_org() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-org")
}

/// The demo organisation's assessment date.
pub fn now() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

/// A server over the demo organisation, with one user and API token per role.
pub struct Demo {
    pub state: Arc<ServerState>,
    pub tokens: BTreeMap<Role, String>,
}

/// Every role's user's password.
pub const PASSWORD: &str = "correct horse battery staple";

pub async fn demo_server() -> Demo {
    Demo::with_tokens(demo_state().await).await
}

/// A server over `state`, with one user and API token per role.
pub async fn server_over(state: Arc<ServerState>) -> Demo {
    Demo::with_tokens(state).await
}

/// [`demo_server`] with single sign-on through `oidc`.
pub async fn demo_server_with(oidc: Option<warrant_server::oidc::Oidc>) -> Demo {
    Demo::with_tokens(demo_state_configured(&[demo_org()], None, oidc).await).await
}

impl Demo {
    /// `state` with one user and API token per role.
    pub async fn with_tokens(state: Arc<ServerState>) -> Demo {
        let mut tokens = BTreeMap::new();
        for role in Role::ALL {
            let username = format!("{role}@example.org");
            accounts::add_user(&state.store, &username, None, role, Some(PASSWORD), now())
                .await
                .unwrap();
            let (token, _) = accounts::create_token(
                &state.store,
                &username,
                "tests",
                role,
                now() + chrono::Duration::days(30),
                now(),
            )
            .await
            .unwrap();
            tokens.insert(role, token);
        }
        Demo { state, tokens }
    }
}

impl Demo {
    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// Adds the user `username` with `role` and returns an API token acting as them.
    pub async fn add_user(&self, username: &str, role: Role) -> String {
        accounts::add_user(
            &self.state.store,
            username,
            None,
            role,
            Some(PASSWORD),
            now(),
        )
        .await
        .unwrap();
        accounts::create_token(
            &self.state.store,
            username,
            "tests",
            role,
            now() + chrono::Duration::days(30),
            now(),
        )
        .await
        .unwrap()
        .0
    }

    /// `GET uri` as an admin.
    pub async fn get(&self, uri: &str) -> Answer {
        self.get_as(Role::Admin, uri).await
    }

    pub async fn get_as(&self, role: Role, uri: &str) -> Answer {
        let token = self.token(role).to_string();
        self.get_with(&token, uri).await
    }

    /// `GET uri` with the API token `token`.
    pub async fn get_with(&self, token: &str, uri: &str) -> Answer {
        send(
            &self.state,
            Request::get(uri)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// `POST uri` with a JSON body, as an admin.
    pub async fn post(&self, uri: &str, body: serde_json::Value) -> Answer {
        self.post_as(Role::Admin, uri, body).await
    }

    pub async fn post_as(&self, role: Role, uri: &str, body: serde_json::Value) -> Answer {
        let token = self.token(role).to_string();
        self.post_with(&token, uri, body).await
    }

    /// `POST uri` with a JSON body and the API token `token`.
    pub async fn post_with(&self, token: &str, uri: &str, body: serde_json::Value) -> Answer {
        send(
            &self.state,
            Request::post(uri)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }
}

/// A server over a store holding the demo organisation, assessed and saved as `assess` does.
pub async fn demo_state() -> Arc<ServerState> {
    assessed_state(&[demo_org()]).await
}

/// A server over a store holding the exports under `paths`, assessed and saved as `assess`
/// does.
pub async fn assessed_state(paths: &[PathBuf]) -> Arc<ServerState> {
    demo_state_configured(paths, None, None).await
}

/// [`demo_state`] judged by a governance policy.
pub async fn demo_state_with(
    governance: Option<warrant_lifecycle::GovernancePolicy>,
) -> Arc<ServerState> {
    demo_state_configured(&[demo_org()], governance, None).await
}

/// The exports under `paths` assessed with a governance policy, served with single sign-on
/// through `oidc`.
pub async fn demo_state_configured(
    paths: &[PathBuf],
    governance: Option<warrant_lifecycle::GovernancePolicy>,
    oidc: Option<warrant_server::oidc::Oidc>,
) -> Arc<ServerState> {
    let store = Store::open_url("sqlite::memory:").await.unwrap();
    let (import, posture, activity) = (
        ImportConfig::default(),
        PostureConfig::default(),
        ActivityConfig::default(),
    );
    let settings = Settings {
        import: &import,
        posture: &posture,
        activity: &activity,
        governance: governance.as_ref(),
    };
    warrant_app::assess(
        &store,
        settings,
        &Fingerprinter::new(b"warrant-server-test-key"),
        paths,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    Arc::new(ServerState::new(
        store,
        ServerConfig {
            import,
            posture,
            activity,
            governance,
            fingerprinter: Fingerprinter::new(b"warrant-server-test-key"),
            aws: Default::default(),
            oidc,
        },
        Arc::new(FixedClock(now())),
    ))
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn send(state: &Arc<ServerState>, request: Request<Body>) -> Answer {
    let response: Response<Body> = warrant_server::router(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

pub async fn get(state: &Arc<ServerState>, uri: &str) -> Answer {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

pub async fn post_json(state: &Arc<ServerState>, uri: &str, body: serde_json::Value) -> Answer {
    send(
        state,
        Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// `text` percent-encoded as one path segment (or query value).
pub fn segment(text: &str) -> String {
    warrant_server::console::encode(text)
}

/// The server listening on a free loopback port (for tests that drive it from outside the
/// process: a browser, a fuzzer); it shuts down when this is stopped or dropped.
pub struct Listening {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Serves `state` on `127.0.0.1:0` from a spawned task.
pub async fn listen(state: Arc<ServerState>) -> Listening {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, state)
}

/// Serves `state` on `listener` (bound beforehand, when its address must be known before the
/// state is made) from a spawned task.
pub fn serve_on(listener: tokio::net::TcpListener, state: Arc<ServerState>) -> Listening {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(warrant_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Listening {
        base,
        stop: Some(stop),
        task: Some(task),
    }
}

impl Listening {
    /// `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Shuts the server down and waits for it; fails the test if serving failed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The first of `names` found on `PATH` (or given as an absolute path), for a test that runs an
/// outside program. When none is there the test skips with a message, except under CI (`CI`
/// set), where a missing program is a failure, as for PostgreSQL (`scripts/test` installs it).
pub fn required_program(names: &[&str], what: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = names.iter().find_map(|name| {
        let name = std::path::Path::new(name);
        if name.is_absolute() {
            return name.is_file().then(|| name.to_path_buf());
        }
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message = format!(
            "{what} is not installed ({} not on PATH; scripts/test installs it)",
            names.join(", ")
        );
        if std::env::var_os("CI").is_some() {
            panic!("{message}: it is required under CI");
        }
        eprintln!("SKIPPED: {message}");
    }
    found
}

/// Ids of [`write_trust_chain_org`]'s identities.
pub const CHAIN_BOT: &str = "system:serviceaccount:delivery:release-bot";
pub const CHAIN_CI: &str = "arn:aws:iam::444455556666:user/ci-bot";
pub const CHAIN_DEPLOYER: &str = "arn:aws:iam::444455556666:role/deployer";
pub const CHAIN_ADMIN: &str = "arn:aws:iam::444455556666:role/prod-admin";
pub const CHAIN_BREAK_GLASS: &str = "arn:aws:iam::444455556666:role/break-glass";

/// Writes under `dir` exports in the providers' own formats whose trust forms chains of
/// several hops (the demo organisation's are one hop): a Kubernetes service account's IRSA
/// role `deployer`, which the user `ci-bot` may also assume, can assume `prod-admin`
/// (administrator), which can assume `break-glass`, which trusts `prod-admin` back (a cycle).
pub fn write_trust_chain_org(dir: &std::path::Path) {
    let trust = |principals: &[&str]| {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": "sts:AssumeRole"
            }]
        })
    };
    let assume = |target: &str| {
        serde_json::json!([{
            "PolicyName": "assume",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}]
            }
        }])
    };
    let role = |name: &str, trusted: &[&str], inline: serde_json::Value, managed: &[&str]| {
        serde_json::json!({
            "Path": "/",
            "RoleName": name,
            "RoleId": format!("AROACHAIN{}", name.to_uppercase().replace('-', "")),
            "Arn": format!("arn:aws:iam::444455556666:role/{name}"),
            "CreateDate": "2025-01-10T09:00:00Z",
            "AssumeRolePolicyDocument": trust(trusted),
            "InstanceProfileList": [],
            "RolePolicyList": inline,
            "AttachedManagedPolicies": managed.iter().map(|arn| serde_json::json!({
                "PolicyName": arn.rsplit('/').next().unwrap(),
                "PolicyArn": arn
            })).collect::<Vec<_>>(),
            "Tags": [{"Key": "owner", "Value": "platform@example.org"}]
        })
    };
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let details = serde_json::json!({
        "UserDetailList": [{
            "Path": "/",
            "UserName": "ci-bot",
            "UserId": "AIDACHAINCIBOT0000001",
            "Arn": CHAIN_CI,
            "CreateDate": "2025-01-10T09:00:00Z",
            "GroupList": [],
            "AttachedManagedPolicies": [],
            "UserPolicyList": assume(CHAIN_DEPLOYER),
            "Tags": [{"Key": "owner", "Value": "platform@example.org"}]
        }],
        "GroupDetailList": [],
        "RoleDetailList": [
            role("deployer", &[CHAIN_CI], assume(CHAIN_ADMIN), &[]),
            role("prod-admin", &[CHAIN_DEPLOYER, CHAIN_BREAK_GLASS], serde_json::json!([]), &[admin]),
            role("break-glass", &[CHAIN_ADMIN], assume(CHAIN_ADMIN), &[]),
        ],
        "Policies": [{
            "PolicyName": "AdministratorAccess",
            "PolicyId": "ANPAIWMBCKSKIEE64ZLYK",
            "Arn": admin,
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": true,
            "CreateDate": "2015-02-06T18:39:46Z",
            "UpdateDate": "2015-02-06T18:39:46Z",
            "PolicyVersionList": [{
                "Document": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
                },
                "VersionId": "v1",
                "IsDefaultVersion": true,
                "CreateDate": "2015-02-06T18:39:46Z"
            }]
        }]
    });
    let kubernetes = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [{
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": "release-bot",
                "namespace": "delivery",
                "uid": "0b7c2d4e-0000-4000-8000-00000000c4a1",
                "resourceVersion": "100001",
                "creationTimestamp": "2025-01-10T09:00:00Z",
                "labels": {"team": "platform"},
                "annotations": {"eks.amazonaws.com/role-arn": CHAIN_DEPLOYER}
            }
        }]
    });
    for (path, value) in [
        ("aws/chain/authorization-details.json", details),
        ("kubernetes/delivery-eks.json", kubernetes),
    ] {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    }
}

/// A server over the demo organisation and [`write_trust_chain_org`]'s exports (in `dir`).
pub async fn trust_chain_state(dir: &std::path::Path) -> Arc<ServerState> {
    write_trust_chain_org(dir);
    assessed_state(&[demo_org(), dir.to_path_buf()]).await
}
