#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Events from the fixtures attributed to a small inventory, and the usage they record.

use std::path::Path;

use warrant_activity::ingest::{IngestOptions, ingest_reader};
use warrant_activity::{Attribution, Attributor, Event, UsageAccumulator};
use warrant_core::{Credential, CredentialKind, Identity, IdentityKind, Inventory, Provider};

fn events(name: &str) -> Vec<Event> {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/ingest")
            .join(name),
    )
    .unwrap();
    let mut out = Vec::new();
    ingest_reader(name, &bytes[..], &IngestOptions::default(), &mut |e| {
        out.push(e)
    });
    out
}

fn inventory() -> Inventory {
    let mut inv = Inventory::default();
    let mut user = Identity::new(
        "arn:aws:iam::111122223333:user/legacy-etl",
        IdentityKind::AwsUser,
        Provider::Aws,
        "legacy-etl",
    );
    user.account = Some("111122223333".into());
    inv.identities.push(user);
    let mut role = Identity::new(
        "arn:aws:iam::111122223333:role/ci/gha-deploy",
        IdentityKind::AwsRole,
        Provider::Aws,
        "gha-deploy",
    );
    role.account = Some("111122223333".into());
    inv.identities.push(role);
    inv.credentials.push(Credential::new(
        "AKIAEXAMPLEKEY000001",
        "user:legacy-etl",
        CredentialKind::AccessKey,
    ));
    inv.identities.push(Identity::new(
        "system:serviceaccount:payments:billing-worker",
        IdentityKind::K8sServiceAccount,
        Provider::Kubernetes,
        "billing-worker",
    ));
    inv.identities.push(Identity::new(
        "github:acme/app/deploy-bot",
        IdentityKind::GitHubApp,
        Provider::GitHub,
        "deploy-bot",
    ));
    inv.identities.push(Identity::new(
        "github:acme/pat/8842115",
        IdentityKind::GitHubPat,
        Provider::GitHub,
        "release token",
    ));
    inv.credentials.push(Credential::new(
        "github:pat/8842115",
        "github:acme/pat/8842115",
        CredentialKind::FineGrainedToken,
    ));
    inv
}

#[test]
fn attribution_across_formats() {
    let a = Attributor::new(&inventory());
    let ct = events("cloudtrail-lake.jsonl");
    assert_eq!(
        a.attribute(&ct[0]),
        Attribution::Known("arn:aws:iam::111122223333:role/ci/gha-deploy".into())
    );
    // Unreconciled `user:NAME` key owner resolved to the user's ARN.
    assert_eq!(
        a.attribute(&ct[1]),
        Attribution::Known("arn:aws:iam::111122223333:user/legacy-etl".into())
    );

    let k8s = events("k8s-audit.jsonl");
    assert_eq!(
        a.attribute(&k8s[0]),
        Attribution::Known("system:serviceaccount:payments:billing-worker".into())
    );
    assert_eq!(
        a.attribute(&k8s[1]),
        Attribution::Shadow("system:serviceaccount:ci:deployer".into())
    );
    assert!(matches!(a.attribute(&k8s[3]), Attribution::Outside(_)));

    let gh = events("github-audit.json");
    assert_eq!(
        a.attribute(&gh[0]),
        Attribution::Known("github:acme/app/deploy-bot".into())
    );
    assert_eq!(
        a.attribute(&gh[1]),
        Attribution::Known("github:acme/pat/8842115".into())
    );
    assert!(matches!(a.attribute(&gh[2]), Attribution::Outside(_)));
    assert_eq!(
        a.attribute(&gh[3]),
        Attribution::Shadow("github:acme/actions".into())
    );

    let agents = events("otel-genai.json");
    assert_eq!(
        a.attribute(&agents[0]),
        Attribution::Shadow("agent:support-triage".into())
    );
}

#[test]
fn usage_folds_per_identity_action_and_resource() {
    let a = Attributor::new(&inventory());
    let mut acc = UsageAccumulator::default();
    let k8s = events("k8s-audit.jsonl");
    for e in k8s.iter().chain(k8s.iter()) {
        if let Some(key) = a.attribute(e).usage_key() {
            acc.add(e, &key);
        }
    }
    let rows = acc.into_records();
    let secret = rows
        .iter()
        .find(|r| r.action == "get:secrets")
        .expect("get:secrets usage");
    assert_eq!(
        secret.identity,
        "system:serviceaccount:payments:billing-worker"
    );
    assert_eq!(secret.count, 2);
    assert_eq!(secret.errors, 0);
    assert_eq!(
        secret.resource.as_deref(),
        Some("payments/secrets/stripe-api")
    );
    let denied = rows.iter().find(|r| r.action == "list:secrets").unwrap();
    assert_eq!((denied.count, denied.errors), (2, 2));
    let shadow = rows
        .iter()
        .find(|r| r.action == "create:pods/exec")
        .unwrap();
    assert_eq!(shadow.identity, "shadow:system:serviceaccount:ci:deployer");
    assert!(
        rows.iter().all(|r| !r.identity.contains("alice")),
        "people are not NHI usage"
    );
}

/// A person's `CreateAccessKey` for a service user: the event's subject is the user, whose
/// inventory identity it is attributed to (the caller's own attribution is unchanged), with
/// the new key among its facts; an ordinary call carries neither.
#[test]
fn changes_are_attributed_to_the_identity_they_change() {
    let records = r#"{"Records":[
      {"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:dana@acme.example","arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/dana@acme.example","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE000000001","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef","userName":"AWSReservedSSO_Admin_0123456789abcdef"}}},
       "eventTime":"2026-12-03T16:20:11Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0 (X11; Linux x86_64)",
       "requestParameters":{"userName":"legacy-etl"},"responseElements":{"accessKey":{"accessKeyId":"AKIAEXAMPLENEWKEY001","status":"Active","userName":"legacy-etl","createDate":"Dec 3, 2026 4:20:11 PM"}},
       "eventID":"0d1c2b3a-0000-4000-8000-000000000001","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"},
      {"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/legacy-etl","accountId":"111122223333","accessKeyId":"AKIAEXAMPLEOLDKEY001","userName":"legacy-etl"},
       "eventTime":"2026-12-03T16:21:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.8","userAgent":"aws-cli/2.15.30",
       "requestParameters":{"bucketName":"etl-in","key":"a.csv","versioning":""},"responseElements":null,
       "eventID":"0d1c2b3a-0000-4000-8000-000000000002","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}
    ]}"#;
    let mut events = Vec::new();
    let report = ingest_reader(
        "changes.json",
        records.as_bytes(),
        &IngestOptions::default(),
        &mut |e| events.push(e),
    );
    assert_eq!(report.bad_count, 0, "{:?}", report.bad);
    let [create, read] = events.as_slice() else {
        panic!("{events:?}")
    };
    let subject = create.subject.as_ref().unwrap();
    assert_eq!(
        subject.arn.as_deref(),
        Some("arn:aws:iam::111122223333:user/legacy-etl")
    );
    assert_eq!(create.facts.get("key.id"), Some("AKIAEXAMPLENEWKEY001"));
    assert!(read.subject.is_none() && read.facts.is_empty());
    let attributor = Attributor::new(&inventory());
    assert_eq!(
        attributor.attribute_subject(create),
        Some(Attribution::Known(
            "arn:aws:iam::111122223333:user/legacy-etl".into()
        ))
    );
    // The caller is a person through an IAM Identity Center permission set: outside the
    // machine identities, not a shadow one.
    assert!(matches!(
        attributor.attribute(create),
        Attribution::Outside(_)
    ));
    assert_eq!(attributor.attribute_subject(read), None);
}

/// Changes made *to* machine identities land on those identities (whoever made them), and
/// the caller's attribution stays the caller's.
#[test]
fn changes_to_machine_identities_are_attributed_to_them() {
    let lines = [
        // A person binds cluster-admin to an inventoried service account.
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x1","stage":"ResponseComplete","verb":"create","user":{"username":"ana@corp.test"},"objectRef":{"resource":"clusterrolebindings","name":"b"},"responseStatus":{"code":201},"stageTimestamp":"2026-11-03T14:00:00Z","requestObject":{"kind":"ClusterRoleBinding","roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"billing-worker","namespace":"payments"}]}}"#,
        // A service account does the same: its own call, and a change to the worker.
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x2","stage":"ResponseComplete","verb":"create","user":{"username":"system:serviceaccount:ci:bot"},"objectRef":{"resource":"clusterrolebindings","name":"b"},"responseStatus":{"code":201},"stageTimestamp":"2026-11-03T14:00:00Z","requestObject":{"kind":"ClusterRoleBinding","roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"billing-worker","namespace":"payments"}]}}"#,
        // A person reads a ConfigMap: nobody's NHI.
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x3","stage":"ResponseComplete","verb":"get","user":{"username":"ana@corp.test"},"objectRef":{"resource":"configmaps","name":"c"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-03T14:00:00Z"}"#,
    ];
    let body = lines.join("\n");
    let mut events = Vec::new();
    ingest_reader(
        "k8s",
        body.as_bytes(),
        &IngestOptions::default(),
        &mut |e| events.push(e),
    );
    let a = Attributor::new(&inventory());
    let got: Vec<Attribution> = events.iter().map(|e| a.attribute(e)).collect();
    assert_eq!(
        got,
        [
            Attribution::Outside("k8s-user:ana@corp.test".into()),
            Attribution::Shadow("system:serviceaccount:ci:bot".into()),
            Attribution::Outside("k8s-user:ana@corp.test".into()),
        ]
    );
    let worker = Some(Attribution::Known(
        "system:serviceaccount:payments:billing-worker".into(),
    ));
    assert_eq!(a.attribute_subject(&events[0]), worker);
    assert_eq!(a.attribute_subject(&events[1]), worker);
    assert_eq!(a.attribute_subject(&events[2]), None);
}
