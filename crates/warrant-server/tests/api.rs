#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read their own fixtures and outputs"
)]
#![allow(clippy::indexing_slicing, reason = "tests index their own data")]
//! The REST API over the assessed demo organisation: listings, filters, pagination, one
//! identity, accepting findings, problem documents, probes, metrics and the OpenAPI document.

mod common;

use std::collections::BTreeSet;

use common::{demo_server, segment};

#[tokio::test]
async fn probes_and_metrics_answer() {
    let demo = demo_server().await;
    assert_eq!(demo.get("/healthz").await.status, 200);
    assert_eq!(demo.get("/readyz").await.status, 200);
    demo.get("/api/v1/identities?limit=1").await;
    let metrics = demo.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    assert!(text.contains("warrant_identities 72"), "{text}");
    assert!(
        text.contains("warrant_open_findings{severity=\"critical\"}"),
        "{text}"
    );
    assert!(
        text.contains("warrant_http_request_duration_seconds_bucket{")
            && text.contains("route=\"/api/v1/identities\""),
        "{text}"
    );
}

#[tokio::test]
async fn identities_page_through_every_match_once_riskiest_first() {
    let demo = demo_server().await;
    let mut seen = Vec::new();
    let mut risks = Vec::new();
    let mut uri = "/api/v1/identities?limit=20".to_string();
    let mut pages = 0;
    loop {
        let answer = demo.get(&uri).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let page = answer.json();
        assert_eq!(page["matched"], 72);
        assert_eq!(page["basis"]["source"], "saved");
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
            risks.push(item["risk"].as_f64().unwrap());
        }
        pages += 1;
        match page["next"].as_str() {
            Some(next) => uri = format!("/api/v1/identities?limit=20&after={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 72);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        72,
        "an identity repeated"
    );
    assert!(
        risks.windows(2).all(|w| w[0] >= w[1]),
        "not riskiest first: {risks:?}"
    );
}

#[tokio::test]
async fn alerts_page_through_every_match_once_most_severe_first() {
    let demo = demo_server().await;
    // A demo service user turns off audit logging and configuration recording: each call
    // is an alert whatever the baseline says.
    let records: Vec<serde_json::Value> = [
        ("cloudtrail.amazonaws.com", "StopLogging"),
        ("cloudtrail.amazonaws.com", "DeleteTrail"),
        ("config.amazonaws.com", "StopConfigurationRecorder"),
        ("config.amazonaws.com", "DeleteDeliveryChannel"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (source, name))| {
        serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAZP6WDFRWMETRICS1",
                "arn": "arn:aws:iam::111111111111:user/svc-metrics-export",
                "accountId": "111111111111",
                "accessKeyId": "AKIAZP6WDFRWMETRICS1",
                "userName": "svc-metrics-export"
            },
            "eventTime": format!("2026-10-20T03:1{i}:00Z"),
            "eventSource": source,
            "eventName": name,
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.40",
            "userAgent": "aws-cli/2.17.2 Python/3.12.4 Linux/6.8.0 exe/x86_64.ubuntu.24",
            "requestParameters": {"name": "org-trail"},
            "responseElements": null,
            "eventID": format!("5d0c4e8a-7a51-4f0e-9c1b-00000000000{i}"),
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "111111111111",
            "eventCategory": "Management"
        })
    })
    .collect();
    let trail = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap();
    let answer = upload(&demo, "trail.json", trail).await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let location = answer.headers["location"].to_str().unwrap().to_string();
    let job = finished_job(&demo, &location).await;
    assert_eq!(job["state"], "succeeded", "{job}");

    let everything = demo.get("/api/v1/alerts?all=true&limit=1000").await.json();
    let matched = everything["matched"].as_u64().unwrap();
    assert!(matched >= 3, "the demo organisation's logs raise alerts");
    assert_eq!(
        everything["items"].as_array().unwrap().len() as u64,
        matched
    );
    assert!(everything["next"].is_null());

    let rank = |s: &str| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .position(|x| *x == s)
    };
    let mut seen = Vec::new();
    let mut uri = "/api/v1/alerts?all=true&limit=2".to_string();
    loop {
        let answer = demo.get(&uri).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let page = answer.json();
        assert_eq!(page["matched"].as_u64(), Some(matched));
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        for item in items {
            seen.push((
                rank(item["severity"].as_str().unwrap()),
                item["id"].as_str().unwrap().to_string(),
            ));
        }
        match page["next"].as_str() {
            Some(next) => uri = format!("/api/v1/alerts?all=true&limit=2&after={next}"),
            None => break,
        }
    }
    let all: Vec<&str> = everything["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen.iter().map(|(_, id)| id.as_str()).collect::<Vec<_>>(),
        all
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "not most severe first"
    );

    // The console pages the same way.
    let page = demo.get("/alerts?limit=1").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("rel=\"next\""));

    let bad = demo.get("/api/v1/alerts?after=nothing-like-it").await;
    assert_eq!(bad.status, 400, "{}", bad.text());
}

#[tokio::test]
async fn identities_filter_search_and_sort() {
    let demo = demo_server().await;
    let aws = demo
        .get("/api/v1/identities?provider=aws&limit=1000")
        .await
        .json();
    let items = aws["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() < 72);
    assert!(items.iter().all(|i| i["provider"] == "aws"));

    let unowned = demo
        .get("/api/v1/identities?no_owner=true&limit=1000")
        .await
        .json();
    assert_eq!(unowned["matched"], 13);

    let first = &items[0];
    let name = first["name"].as_str().unwrap();
    let found = demo
        .get(&format!(
            "/api/v1/identities?q={}",
            segment(&name.to_uppercase())
        ))
        .await
        .json();
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == first["id"]),
        "search is case-insensitive"
    );

    let by_name = demo
        .get("/api/v1/identities?sort=name&limit=1000")
        .await
        .json();
    let names: Vec<String> = by_name["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    // An HTML form sends its untouched fields empty: they filter nothing.
    let form = demo
        .get("/api/v1/identities?q=&kind=&provider=aws&status=&owner=&min_risk=&max_risk=&sort=&no_owner=&limit=1000")
        .await;
    assert_eq!(form.status, 200, "{}", form.text());
    assert_eq!(form.json()["matched"], aws["matched"]);

    let risky = demo
        .get("/api/v1/identities?min_risk=50&max_risk=80&limit=1000")
        .await
        .json();
    assert!(risky["items"].as_array().unwrap().iter().all(|i| {
        let r = i["risk"].as_f64().unwrap();
        (50.0..=80.0).contains(&r)
    }));
}

#[tokio::test]
async fn bad_input_is_a_problem_document_without_internals() {
    let demo = demo_server().await;
    for uri in [
        "/api/v1/identities?provider=nowhere",
        "/api/v1/identities?limit=0",
        "/api/v1/identities?limit=100000",
        "/api/v1/identities?min_risk=250",
        "/api/v1/identities?sort=colour",
        "/api/v1/identities?after=not-a-cursor",
        "/api/v1/identities?limit=ten",
        "/api/v1/findings?severity=apocalyptic",
        "/api/v1/findings?after=00",
        "/api/v1/alerts?severity=meh",
    ] {
        let answer = demo.get(uri).await;
        assert_eq!(answer.status, 400, "{uri}: {}", answer.text());
        assert_eq!(answer.content_type, "application/problem+json", "{uri}");
        let problem = answer.json();
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["title"], "Bad Request");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            !detail.contains("SELECT") && !detail.contains("sqlite"),
            "{detail}"
        );
    }
    let missing = demo.get("/api/v1/nothing-here").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.content_type, "application/problem+json");
}

#[tokio::test]
async fn one_identity_with_its_graph_risk_and_findings() {
    let demo = demo_server().await;
    let list = demo.get("/api/v1/identities?limit=1").await.json();
    let riskiest = list["items"][0]["id"].as_str().unwrap().to_string();
    let answer = demo
        .get(&format!("/api/v1/identities/{}", segment(&riskiest)))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let detail = answer.json();
    assert_eq!(detail["identity"]["id"], riskiest.as_str());
    assert!(!detail["findings"].as_array().unwrap().is_empty());
    assert!(!detail["risk"]["components"].as_array().unwrap().is_empty());
    assert!(detail["risk"]["score"].as_f64().unwrap() > 0.0);
    // Credentials carry fingerprints and previews only.
    for c in detail["credentials"].as_array().unwrap() {
        assert!(c.get("secret").is_none());
    }
    let unknown = demo
        .get("/api/v1/identities/no-such-identity-anywhere")
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(unknown.content_type, "application/problem+json");
}

/// The ids, and how each was reached, along one chain of the API's answer.
fn chain_hops(chain: &serde_json::Value) -> Vec<(String, Option<String>)> {
    chain["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["id"].as_str().unwrap().to_string(),
                h["via"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[tokio::test]
async fn one_identity_with_its_trust_chains_in_and_out() {
    use common::{CHAIN_ADMIN, CHAIN_BOT, CHAIN_BREAK_GLASS, CHAIN_CI, CHAIN_DEPLOYER};
    let dir = tempfile::tempdir().unwrap();
    let demo = common::server_over(common::trust_chain_state(dir.path()).await).await;
    let get = |id: &str| {
        let uri = format!("/api/v1/identities/{}", segment(id));
        let demo = &demo;
        async move {
            let answer = demo.get(&uri).await;
            assert_eq!(answer.status, 200, "{uri}: {}", answer.text());
            answer.json()
        }
    };
    let hop = |id: &str, via: Option<&str>| (id.to_string(), via.map(str::to_string));

    // The service account becomes its IRSA role, which becomes the administrator role, which
    // becomes the break-glass role: three hops, and the cycle back to prod-admin ends there.
    let bot = get(CHAIN_BOT).await;
    let out = bot["chains_out"].as_array().unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        chain_hops(&out[0]),
        [
            hop(CHAIN_BOT, None),
            hop(CHAIN_DEPLOYER, Some("assume_role_with_web_identity")),
            hop(CHAIN_ADMIN, Some("assume_role")),
            hop(CHAIN_BREAK_GLASS, Some("assume_role")),
        ]
    );
    let hops = out[0]["hops"].as_array().unwrap();
    assert_eq!(hops[0]["kind"], "k8s_service_account");
    assert_eq!(hops[2]["name"], "prod-admin");
    assert_eq!(hops[2]["principal"], "identity");
    // Each identity carries its saved risk.
    let risks: Vec<f64> = hops.iter().map(|h| h["risk"].as_f64().unwrap()).collect();
    assert!(risks[2] > 0.0, "{risks:?}");
    assert_eq!(risks[0], bot["identity"]["risk"].as_f64().unwrap());
    assert_eq!(bot["chains_in"], serde_json::json!([]));
    assert_eq!(bot["chains_truncated"], false);

    // Who can become the administrator: break-glass directly, the user and the service
    // account through deployer; shortest first.
    let admin = get(CHAIN_ADMIN).await;
    let inward: Vec<_> = admin["chains_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(chain_hops)
        .collect();
    assert_eq!(
        inward,
        [
            vec![
                hop(CHAIN_BREAK_GLASS, None),
                hop(CHAIN_ADMIN, Some("assume_role"))
            ],
            vec![
                hop(CHAIN_CI, None),
                hop(CHAIN_DEPLOYER, Some("assume_role")),
                hop(CHAIN_ADMIN, Some("assume_role")),
            ],
            vec![
                hop(CHAIN_BOT, None),
                hop(CHAIN_DEPLOYER, Some("assume_role_with_web_identity")),
                hop(CHAIN_ADMIN, Some("assume_role")),
            ],
        ]
    );
    let outward: Vec<_> = admin["chains_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(chain_hops)
        .collect();
    assert_eq!(
        outward,
        [vec![
            hop(CHAIN_ADMIN, None),
            hop(CHAIN_BREAK_GLASS, Some("assume_role"))
        ]]
    );
    // The one-hop edges are still listed as they were.
    assert_eq!(admin["trust_in"].as_array().unwrap().len(), 2);

    // A principal outside the inventory ends a chain, with what it is and no name or risk.
    let demo_role = get("arn:aws:iam::111111111111:role/orders-api").await;
    let service = demo_role["chains_in"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["hops"].as_array().unwrap())
        .find(|h| h["principal"] == "service")
        .unwrap_or_else(|| panic!("{}", demo_role["chains_in"]));
    assert_eq!(service["id"], "ecs-tasks.amazonaws.com");
    assert!(service["kind"].is_null() && service["name"].is_null() && service["risk"].is_null());

    // The OpenAPI document describes hops as they are sent: every field a property, the
    // required ones present, null only where nullable.
    let doc = demo.get("/api/v1/openapi.json").await.json();
    let schema = &doc["components"]["schemas"]["ChainHopDto"];
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let sent = [&bot, &admin, &demo_role]
        .into_iter()
        .flat_map(|d| {
            let chains = d["chains_in"].as_array().unwrap();
            chains.iter().chain(d["chains_out"].as_array().unwrap())
        })
        .flat_map(|c| c["hops"].as_array().unwrap());
    for hop in sent {
        let fields = hop.as_object().unwrap();
        assert!(required.iter().all(|r| fields.contains_key(*r)), "{hop}");
        for (name, value) in fields {
            let types = &schema["properties"][name.as_str()]["type"];
            assert!(!types.is_null(), "{name} is not in the schema");
            let nullable = types.as_array().is_some_and(|t| t.contains(&"null".into()));
            assert!(!value.is_null() || nullable, "{name} is sent null: {types}");
        }
    }
    let detail = &doc["components"]["schemas"]["IdentityDetailDto"]["required"];
    for field in ["chains_in", "chains_out", "chains_truncated"] {
        assert!(
            detail.as_array().unwrap().contains(&field.into()),
            "{field}"
        );
    }
}

#[tokio::test]
async fn findings_page_accept_with_a_reason_and_reopen() {
    let demo = demo_server().await;
    let all = demo.get("/api/v1/findings?limit=1000").await.json();
    let total = all["matched"].as_u64().unwrap();
    assert_eq!(all["items"].as_array().unwrap().len() as u64, total);
    assert!(total >= 50);

    // Pages of 10 give the same findings in the same order.
    let mut paged = Vec::new();
    let mut uri = "/api/v1/findings?limit=10".to_string();
    loop {
        let page = demo.get(&uri).await.json();
        paged.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].clone()),
        );
        match page["next"].as_str() {
            Some(next) => uri = format!("/api/v1/findings?limit=10&after={next}"),
            None => break,
        }
    }
    let ids: Vec<_> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert_eq!(paged, ids);

    let critical = demo
        .get("/api/v1/findings?severity=critical&limit=1000")
        .await
        .json();
    assert!(
        critical["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "critical")
    );

    let id = ids[0].as_str().unwrap().to_string();
    let no_reason = demo
        .post(
            &format!("/api/v1/findings/{}/accept", segment(&id)),
            serde_json::json!({"reason": "  "}),
        )
        .await;
    assert_eq!(no_reason.status, 400);
    let malformed = demo
        .post(
            &format!("/api/v1/findings/{}/accept", segment(&id)),
            serde_json::json!({"because": "x"}),
        )
        .await;
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.content_type, "application/problem+json");

    let accepted = demo
        .post(
            &format!("/api/v1/findings/{}/accept", segment(&id)),
            serde_json::json!({"reason": "break-glass role, reviewed quarterly"}),
        )
        .await;
    assert_eq!(accepted.status, 204, "{}", accepted.text());
    let after = demo.get("/api/v1/findings?limit=1000").await.json();
    assert_eq!(after["matched"].as_u64().unwrap(), total - 1);
    assert!(
        !after["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == id.as_str())
    );

    let reopened = demo
        .post(
            &format!("/api/v1/findings/{}/reopen", segment(&id)),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(reopened.status, 204);
    let again = demo.get("/api/v1/findings?limit=1000").await.json();
    assert_eq!(again["matched"].as_u64().unwrap(), total);
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let demo = demo_server().await;
    let answer = demo.get("/api/v1/openapi.json").await;
    assert_eq!(answer.status, 200);
    let doc = answer.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = warrant_server::API_ROUTES
        .iter()
        .filter(|r| r.documented)
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(documented, routed);
}

/// Polls a job until it ends.
async fn finished_job(demo: &common::Demo, location: &str) -> serde_json::Value {
    for _ in 0..600 {
        let job = demo.get(location).await.json();
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job at {location} did not finish");
}

async fn upload(demo: &common::Demo, name: &str, bytes: Vec<u8>) -> common::Answer {
    upload_to(
        demo,
        &format!("/api/v1/imports?name={}", segment(name)),
        bytes,
    )
    .await
}

/// `POST uri` with `bytes` as an admin.
async fn upload_to(demo: &common::Demo, uri: &str, bytes: Vec<u8>) -> common::Answer {
    common::send(
        &demo.state,
        axum::http::Request::post(uri)
            .header(
                "authorization",
                format!("Bearer {}", demo.token(warrant_app::accounts::Role::Admin)),
            )
            .header("content-type", "application/octet-stream")
            .body(axum::body::Body::from(bytes))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_uploaded_export_is_imported_by_a_job_and_assessed() {
    let demo = demo_server().await;
    let file = common::demo_org().join("github/orgs_acme-analytics_installations.json");
    let answer = upload(
        &demo,
        "orgs_acme-analytics_installations.json",
        std::fs::read(&file).unwrap(),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let location = answer.headers["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/api/v1/jobs/"));
    let job = finished_job(&demo, &location).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "import");
    assert_eq!(job["requested_by"], "admin@example.org");
    let result = &job["result"];
    assert_eq!(result["files"], 1);
    assert_eq!(result["assessed"], true);
    let inputs = result["inputs"].as_array().unwrap();
    assert!(
        inputs.iter().all(|i| i["path"]
            .as_str()
            .unwrap()
            .starts_with("orgs_acme-analytics_installations.json!")),
        "{inputs:?}"
    );
    assert!(
        inputs.iter().any(|i| i["records"].as_u64().unwrap() > 0),
        "{inputs:?}"
    );
    // Listed, and the listings still answer from a saved (current) assessment.
    let jobs = demo.get("/api/v1/jobs").await.json();
    assert_eq!(jobs[0]["id"], job["id"]);
    let page = demo.get("/api/v1/identities?limit=1").await.json();
    assert_eq!(page["basis"]["source"], "saved");
    let metrics = demo.get("/metrics").await.text();
    assert!(
        metrics.contains(
            "warrant_job_duration_seconds_count{kind=\"import\",outcome=\"succeeded\"} 1"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_uploaded_archive_is_unpacked_inside_its_directory_only() {
    let demo = demo_server().await;
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("aws-dev.tar.gz");
    // One member named to climb out of wherever it is unpacked.
    let status = std::process::Command::new("tar")
        .arg("-czPf")
        .arg(&archive)
        .arg("-C")
        .arg(common::demo_org().join("aws"))
        .arg("--transform=s,^dev/credential-report.csv,../../escaped/credential-report.csv,")
        .arg("dev")
        .status()
        .unwrap();
    assert!(status.success());
    let answer = upload(&demo, "aws-dev.tar.gz", std::fs::read(&archive).unwrap()).await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let job = finished_job(&demo, answer.headers["location"].to_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let inputs = job["result"]["inputs"].as_array().unwrap();
    assert!(inputs.len() >= 2, "{inputs:?}");
    for input in inputs {
        let path = input["path"].as_str().unwrap();
        assert!(
            path.starts_with("aws-dev.tar.gz!") && !path.contains(".."),
            "{path}"
        );
    }
    assert!(inputs.iter().any(|i| {
        i["path"]
            .as_str()
            .unwrap()
            .ends_with("escaped/credential-report.csv")
    }));

    let empty = upload(&demo, "nothing.json", Vec::new()).await;
    assert_eq!(empty.status, 400);
    let garbage = upload(
        &demo,
        "garbage.tar.gz",
        vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
    )
    .await;
    assert_eq!(garbage.status, 202);
    let failed = finished_job(&demo, garbage.headers["location"].to_str().unwrap()).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("garbage.tar.gz"),
        "{failed}"
    );
}

#[tokio::test]
async fn identities_filter_by_tier_owasp_risk_and_registration() {
    let policy = warrant_lifecycle::GovernancePolicy::from_toml(
        &std::fs::read_to_string(common::demo_org().join("../warrant-policy.toml")).unwrap(),
        "examples/warrant-policy.toml",
    )
    .unwrap();
    let state = common::demo_state_with(Some(policy)).await;
    let demo = common::Demo::with_tokens(state).await;
    let all = demo.get("/api/v1/identities?limit=1000").await.json();
    let total = all["matched"].as_u64().unwrap();
    let production = demo
        .get("/api/v1/identities?tier=production&limit=1000")
        .await
        .json();
    let crown = demo
        .get("/api/v1/identities?tier=crown-jewels&limit=1000")
        .await
        .json();
    let defaults = demo
        .get("/api/v1/identities?tier=defaults&limit=1000")
        .await
        .json();
    let sandbox = demo
        .get("/api/v1/identities?tier=sandbox&limit=1000")
        .await
        .json();
    let counted: Vec<u64> = [&production, &crown, &defaults, &sandbox]
        .iter()
        .map(|p| p["matched"].as_u64().unwrap())
        .collect();
    assert!(counted[0] > 0 && counted[2] > 0, "{counted:?}");
    assert_eq!(
        counted.iter().sum::<u64>(),
        total,
        "every identity has one tier"
    );
    for item in production["items"].as_array().unwrap() {
        assert_eq!(item["environment"], "production", "{item}");
    }
    assert_eq!(
        demo.get("/api/v1/identities?tier=no-such-tier")
            .await
            .json()["matched"],
        0
    );

    // OWASP: exactly the identities with an open finding of that risk.
    let nhi7 = demo
        .get("/api/v1/identities?owasp=NHI7&limit=1000")
        .await
        .json();
    let findings = demo
        .get("/api/v1/findings?owasp=NHI7&limit=1000")
        .await
        .json();
    let mut expected: Vec<&str> = findings["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["identity"].as_str().unwrap())
        .collect();
    expected.sort_unstable();
    expected.dedup();
    let mut got: Vec<&str> = nhi7["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    assert!(!got.is_empty());
    assert_eq!(got, expected);
    assert_eq!(demo.get("/api/v1/identities?owasp=NHI99").await.status, 400);

    // Registration: one approved registration sanctions one identity; the rest are shadow.
    let first = &all["items"][0];
    let kind: warrant_core::IdentityKind = first["kind"].as_str().unwrap().parse().unwrap();
    let registration = warrant_app::ownership::register(
        &demo.state.store,
        warrant_lifecycle::register::NewRegistration {
            name: first["name"].as_str().unwrap().to_string(),
            kind,
            account: first["account"].as_str().map(str::to_string),
            owner: "dana.ng@acme-analytics.example".into(),
            purpose: "nightly exports".into(),
            scope: None,
            environment: first["environment"].as_str().unwrap().parse().unwrap(),
            expires: None,
        },
        "dana.ng@acme-analytics.example",
        common::now(),
    )
    .await
    .unwrap();
    warrant_app::ownership::decide_registration(
        &demo.state.store,
        &registration.id,
        "erin.fox@acme-analytics.example",
        "approve",
        None,
        common::now(),
    )
    .await
    .unwrap();
    let sanctioned = demo
        .get("/api/v1/identities?registration=sanctioned")
        .await
        .json();
    assert_eq!(sanctioned["matched"], 1, "{sanctioned}");
    assert_eq!(sanctioned["items"][0]["id"], first["id"]);
    let shadow = demo
        .get("/api/v1/identities?registration=shadow&limit=1")
        .await
        .json();
    assert_eq!(shadow["matched"].as_u64().unwrap(), total - 1);
    assert_eq!(
        demo.get("/api/v1/identities?registration=maybe")
            .await
            .status,
        400
    );

    // The console's inventory offers the same filters.
    let page = demo.get("/inventory?tier=production&owasp=NHI7").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains(r#"<option value="crown-jewels">"#),
        "tiers listed"
    );
}

#[tokio::test]
async fn an_uploaded_repository_is_scanned_by_a_job_and_its_leak_linked_to_the_identity() {
    let demo = demo_server().await;
    // A repository archive with a key pair of a demo identity (its key id is in the demo's
    // credential report) in a nested path.
    const SECRET: &str = "h3Kp9WqZ2vLm7XbN4cRt8YsF1gJd6uAe5oTiBnQx";
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("deploy-tools");
    std::fs::create_dir_all(repo.join("config")).unwrap();
    std::fs::write(
        repo.join("config/prod.env"),
        format!("aws_access_key_id = AKIAZP6WDFRWPBJ3NNUJ\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(repo.join("README.md"), "Deploy tooling.\n").unwrap();
    let archive = work.path().join("deploy-tools.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(work.path())
        .arg("deploy-tools")
        .status()
        .unwrap();
    assert!(status.success());
    let answer = upload_to(
        &demo,
        "/api/v1/scans?name=deploy-tools.tar.gz",
        std::fs::read(&archive).unwrap(),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let job = finished_job(&demo, answer.headers["location"].to_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "scan");
    let result = &job["result"];
    assert!(result["findings"].as_u64().unwrap() >= 1, "{result}");
    assert!(result["linked"].as_u64().unwrap() >= 1, "{result}");
    let identities = result["identities"].as_array().unwrap();
    assert!(!identities.is_empty(), "{result}");
    assert!(!job.to_string().contains(SECRET));

    // The leak is listed where it was found — the upload and member, no server path — and
    // what it unlocks.
    let secrets = demo.get("/api/v1/secrets?limit=1000").await.json();
    let ours: Vec<&serde_json::Value> = secrets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["path"].as_str().unwrap().contains("deploy-tools.tar.gz"))
        .collect();
    assert!(!ours.is_empty(), "{secrets}");
    for s in &ours {
        let path = s["path"].as_str().unwrap();
        assert!(path.starts_with("deploy-tools.tar.gz!"), "{path}");
        assert!(path.ends_with("config/prod.env"), "{path}");
        assert!(!path.contains("warrant-scan-"), "{path}");
    }
    assert!(ours.iter().any(|s| identities.contains(&s["identity"])));
    assert!(!secrets.to_string().contains(SECRET));

    // Viewers do not upload; an empty upload is refused.
    let viewer = common::send(
        &demo.state,
        axum::http::Request::post("/api/v1/scans?name=x.env")
            .header(
                "authorization",
                format!("Bearer {}", demo.token(warrant_app::accounts::Role::Viewer)),
            )
            .body(axum::body::Body::from("a=b"))
            .unwrap(),
    )
    .await;
    assert_eq!(viewer.status, 403);
    let empty = upload_to(&demo, "/api/v1/scans?name=x.env", Vec::new()).await;
    assert_eq!(empty.status, 400);
}

#[tokio::test]
async fn an_identity_is_right_sized_granted_against_used() {
    let demo = demo_server().await;
    let page = demo
        .get("/api/v1/identities?provider=aws&kind=aws_role&limit=1")
        .await
        .json();
    let id = page["items"][0]["id"].as_str().unwrap();
    let sized = demo
        .get(&format!("/api/v1/identities/{}/rightsize", segment(id)))
        .await;
    assert_eq!(sized.status, 200, "{}", sized.text());
    let sized = sized.json();
    assert_eq!(sized["identity"], id);
    assert!(sized["granted_actions"].as_u64().unwrap() > 0, "{sized}");
    assert!(!sized["summary"].as_str().unwrap().is_empty());
    assert!(sized["policy"]["Version"].is_string(), "{sized}");
    let unknown = demo
        .get("/api/v1/identities/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fnope/rightsize")
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
}
