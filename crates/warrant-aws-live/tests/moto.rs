#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! Live discovery against moto server, a real AWS API emulator on loopback, through the official
//! SDK: users, roles with trust, policies and keys are created, used, then discovered.

use aws_sdk_iam::types::Tag;
use warrant_aws_live::discover_with_config;
use warrant_aws_live::testing::MotoServer;
use warrant_connectors::ImportContext;
use warrant_core::{Fingerprinter, IdentityKind, PrincipalKind};

async fn client_config(endpoint: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    warrant_aws_live::config_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .load()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn discovers_users_roles_policies_keys_and_their_last_use() {
    let moto = MotoServer::start().expect("moto server (pip install 'moto[server]')");
    moto.reset().unwrap();
    let endpoint = moto.endpoint();
    let admin = client_config(&endpoint, "testing", "testing").await;
    let iam = aws_sdk_iam::Client::new(&admin);

    iam.create_user()
        .user_name("ci-deployer")
        .tags(
            Tag::builder()
                .key("owner")
                .value("dana@acme.example")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.create_user()
        .user_name("svc-idle")
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("deploy")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","sts:AssumeRole"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_string();
    iam.attach_user_policy()
        .user_name("ci-deployer")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("svc-idle")
        .policy_name("read")
        .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::x/*"}}"#)
        .send()
        .await
        .unwrap();
    let role = iam
        .create_role()
        .role_name("vendor-audit")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    let key = iam
        .create_access_key()
        .user_name("ci-deployer")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let (key_id, secret) = (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    );
    iam.create_access_key()
        .user_name("svc-idle")
        .send()
        .await
        .unwrap();

    // Use the deployer's key so the emulator records its last use, then assume the role with it.
    let deployer = client_config(&endpoint, &key_id, &secret).await;
    aws_sdk_sts::Client::new(&deployer)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let assumed = aws_sdk_sts::Client::new(&deployer)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("audit")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    let as_role = warrant_aws_live::config_loader()
        .endpoint_url(&endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            None,
            "role",
        ))
        .load()
        .await;
    aws_sdk_iam::Client::new(&as_role)
        .list_users()
        .send()
        .await
        .unwrap();

    let ctx = ImportContext::new(Fingerprinter::new(b"test"));
    let outcome = discover_with_config(&admin, &format!("api:aws:{endpoint}"), &ctx)
        .await
        .unwrap();
    let inv = &outcome.inventory;
    assert_eq!(outcome.account.as_deref(), Some("123456789012"));

    let deployer = inv
        .identities
        .iter()
        .find(|i| i.name == "ci-deployer")
        .expect("the deployer user");
    assert_eq!(deployer.kind, IdentityKind::AwsUser);
    assert_eq!(deployer.owners[0].id, "dana@acme.example");
    assert!(inv.identities.iter().any(|i| i.name == "svc-idle"));
    let audit = inv
        .identities
        .iter()
        .find(|i| i.id == role_arn)
        .expect("the role");
    assert_eq!(audit.kind, IdentityKind::AwsRole);
    assert!(
        audit.last_used.is_some(),
        "moto records the role's use through its session credentials"
    );
    let edge = inv
        .trust_edges
        .iter()
        .find(|t| t.to == role_arn)
        .expect("the role's trust");
    assert_eq!(
        (edge.from.as_str(), edge.from_kind),
        ("999988887777", PrincipalKind::Account)
    );
    assert!(
        inv.attachments
            .iter()
            .any(|a| a.identity == deployer.id && a.policy == policy_arn)
    );
    assert!(
        inv.policies
            .iter()
            .any(|p| p.id == policy_arn && !p.statements.is_empty()),
        "URL-encoded documents decode: {:#?}",
        inv.policies
    );
    assert!(
        inv.policies
            .iter()
            .any(|p| p.id.ends_with("user/svc-idle#inline/read"))
    );

    let key = inv
        .credentials
        .iter()
        .find(|c| c.id == key_id)
        .expect("the deployer's key by id");
    assert_eq!(key.identity, deployer.id);
    assert!(key.active);
    assert!(
        key.last_used.is_some(),
        "the key's use is discovered: {key:#?}"
    );
    let idle_key = inv
        .credentials
        .iter()
        .find(|c| c.identity.ends_with("user/svc-idle"))
        .expect("the idle key");
    assert!(
        idle_key.last_used.is_none(),
        "an unused key has no last use"
    );
    assert!(
        deployer.login.is_some(),
        "the credential report was read: {:?}",
        outcome.warnings
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn discovers_service_control_policies_and_where_they_apply() {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
    let moto = MotoServer::start().expect("moto server (pip install 'moto[server]')");
    moto.reset().unwrap();
    let endpoint = moto.endpoint();
    let admin = client_config(&endpoint, "testing", "testing").await;
    let org = aws_sdk_organizations::Client::new(&admin);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("prod")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let member = org
        .create_account()
        .email("prod@acme.example")
        .account_name("acme-prod")
        .send()
        .await
        .unwrap()
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();
    org.move_account()
        .account_id(&member)
        .source_parent_id(&root)
        .destination_parent_id(&ou)
        .send()
        .await
        .unwrap();
    let policy = org
        .create_policy()
        .name("no-keys")
        .description("guardrail")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.attach_policy()
        .policy_id(&policy)
        .target_id(&ou)
        .send()
        .await
        .unwrap();

    let ctx = ImportContext::new(Fingerprinter::new(b"test"));
    let outcome = discover_with_config(&admin, &format!("api:aws:{endpoint}"), &ctx)
        .await
        .unwrap();
    let inv = &outcome.inventory;
    assert!(
        !outcome
            .warnings
            .iter()
            .any(|w| w.contains("service control")),
        "{:?}",
        outcome.warnings
    );
    let guardrail = inv
        .policies
        .iter()
        .find(|p| p.name == "no-keys")
        .expect("the SCP is discovered");
    assert_eq!(guardrail.kind, warrant_core::PolicyKind::ServiceControl);
    assert_eq!(guardrail.statements[0].actions, ["iam:CreateAccessKey"]);
    let on_member: Vec<(&str, Option<&str>)> = inv
        .attachments
        .iter()
        .filter(|a| a.identity == warrant_core::scp_holder(&member))
        .map(|a| (a.policy.as_str(), a.via.as_deref()))
        .collect();
    let at_ou = warrant_core::scp_via(1, &ou);
    assert!(
        on_member
            .iter()
            .any(|(p, via)| *p == guardrail.id && *via == Some(at_ou.as_str())),
        "{on_member:?}"
    );
    // The management account is not limited.
    let management = outcome.account.as_deref().unwrap();
    assert!(
        !inv.attachments
            .iter()
            .any(|a| a.identity == warrant_core::scp_holder(management))
    );
}
