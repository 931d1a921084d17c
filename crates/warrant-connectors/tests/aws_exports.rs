#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::disallowed_methods, reason = "tests read their own fixtures")]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! AWS exports: the real authorization-details sample, malformed input, joins across files.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use warrant_connectors::{ImportContext, aws, import_path};
use warrant_core::{Fingerprinter, IdentityKind, PrincipalKind};

fn ctx() -> ImportContext {
    ImportContext::new(Fingerprinter::new(b"test-key"))
}

fn shared(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/aws")
        .join(file);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent", path.display());
        None
    }
}

#[test]
fn the_real_cloudsplaining_sample_parses_completely() {
    let Some(path) = shared("authorization-details-example.json") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let inv = aws::authorization_details::parse(&path, &bytes, &ctx()).unwrap();
    let users = inv
        .identities
        .iter()
        .filter(|i| i.kind == IdentityKind::AwsUser)
        .count();
    let roles = inv
        .identities
        .iter()
        .filter(|i| i.kind == IdentityKind::AwsRole)
        .count();
    assert_eq!((users, roles), (44, 78));
    assert!(inv.policies.len() >= 84, "{} policies", inv.policies.len());
    assert!(
        inv.attachments
            .iter()
            .any(|a| a.via.as_deref().is_some_and(|v| v.starts_with("group:"))),
        "group policies reach members"
    );
    assert!(
        inv.trust_edges
            .iter()
            .any(|t| t.from_kind == PrincipalKind::Service)
    );
    assert!(
        inv.identities
            .iter()
            .all(|i| matches!(i.account.as_deref(), Some("200611803367" | "012345678901")))
    );
    // Every attachment points at a policy we have (AWS managed ones are synthesised when known).
    let known: std::collections::HashSet<_> = inv.policies.iter().map(|p| p.id.as_str()).collect();
    let dangling: Vec<_> = inv
        .attachments
        .iter()
        .filter(|a| !known.contains(a.policy.as_str()))
        .map(|a| a.policy.as_str())
        .collect();
    eprintln!(
        "attachments to policies absent from the export: {}",
        dangling.len()
    );
}

#[test]
fn a_bad_policy_document_names_the_file_and_json_path() {
    let json = br#"{"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::1:role/r","RolePolicyList":[{"PolicyName":"p","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":[1]}]}}]}]}"#;
    let err = aws::authorization_details::parse(Path::new("prod/auth.json"), json, &ctx())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "prod/auth.json: at $.RoleDetailList[0].RolePolicyList[0].PolicyDocument.Statement[0].Action[0]: expected a string, found a number"
    );
}

#[test]
fn a_wrong_shape_names_the_json_path_and_syntax_errors_the_line() {
    let err = aws::authorization_details::parse(
        Path::new("a.json"),
        br#"{"UserDetailList":[{"UserName":5}]}"#,
        &ctx(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("a.json: at $.UserDetailList[0].UserName"),
        "{err}"
    );
    let err = aws::authorization_details::parse(
        Path::new("a.json"),
        b"{\n\"UserDetailList\": [\n",
        &ctx(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("a.json: at line 3"), "{err}");
}

#[test]
fn credential_report_rows_name_their_line() {
    let csv = "user,arn,user_creation_time,password_enabled\nci,arn:aws:iam::1:user/ci,2024-01-01T00:00:00+00:00,false\nbad,not-an-arn,x,false\n";
    let err = aws::credential_report::parse(Path::new("report.csv"), csv.as_bytes(), &ctx())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "report.csv: at line 3: `not-an-arn` is not an ARN");
}

#[test]
fn keys_reports_and_details_join_into_one_credential_per_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("auth.json"), br#"{"UserDetailList":[{"UserName":"ci-deployer","Arn":"arn:aws:iam::111111111111:user/ci-deployer","CreateDate":"2023-01-01T00:00:00Z"}]}"#).unwrap();
    std::fs::write(dir.path().join("keys-ci.json"), br#"{"AccessKeyMetadata":[{"UserName":"ci-deployer","AccessKeyId":"AKIAEXAMPLEEXAMPLE01","Status":"Active","CreateDate":"2023-02-01T10:00:00Z"}]}"#).unwrap();
    std::fs::write(
        dir.path().join("credential-report.csv"),
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
ci-deployer,arn:aws:iam::111111111111:user/ci-deployer,2023-01-01T00:00:00+00:00,true,2026-10-20T09:00:00+00:00,N/A,N/A,false,true,2023-02-01T10:00:00+00:00,2026-10-30T12:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("picture.png"), [0u8, 1, 2, 3]).unwrap();
    std::fs::write(dir.path().join("broken.json"), b"{\"UserDetailList\": [").unwrap();
    let outcome = import_path(dir.path(), &ctx());
    let inv = &outcome.inventory;
    assert_eq!(inv.identities.len(), 1);
    let user = &inv.identities[0];
    assert_eq!(
        user.kind,
        IdentityKind::AwsUser,
        "the partial report record merged into the full one"
    );
    assert!(user.login.as_ref().unwrap().password_enabled);
    assert_eq!(inv.credentials.len(), 1, "{:#?}", inv.credentials);
    let key = &inv.credentials[0];
    assert_eq!(key.id, "AKIAEXAMPLEEXAMPLE01");
    assert_eq!(key.identity, user.id);
    assert_eq!(
        key.last_used.unwrap().to_rfc3339(),
        "2026-10-30T12:00:00+00:00"
    );
    let broken = outcome
        .files
        .iter()
        .find(|f| f.path.ends_with("broken.json"))
        .unwrap();
    assert!(
        broken
            .error
            .as_ref()
            .unwrap()
            .to_string()
            .contains("broken.json")
    );
    assert_eq!(
        outcome.errors().count(),
        1,
        "the binary file is skipped, not an error"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let c = ctx();
        let p = Path::new("fuzz");
        let _ = aws::authorization_details::parse(p, &bytes, &c);
        let _ = aws::credential_report::parse(p, &bytes, &c);
        let _ = aws::access_keys::parse(p, &bytes, &c);
        let _ = aws::organizations::parse(p, &bytes, &c);
        let _ = aws::scps::parse(p, &bytes, &c);
        let _ = warrant_connectors::k8s::parse(p, &bytes, &c);
        let _ = warrant_connectors::mcp::parse(p, &bytes, &c);
        let _ = warrant_connectors::directory::parse_okta(p, &bytes, &c);
        let _ = warrant_connectors::directory::parse_csv(p, &bytes, &c);
        let _ = warrant_connectors::github::parse(Path::new("orgs_x_installations.json"), &bytes, &c);
        let _ = warrant_connectors::sniff(p, &bytes);
    }

    #[test]
    fn json_shaped_noise_never_panics(text in r#"\{("[A-Za-z]{1,12}":(\[|\{|"[a-z]*"|[0-9]|null),?){0,6}"#) {
        let c = ctx();
        let _ = aws::authorization_details::parse(Path::new("x"), text.as_bytes(), &c);
        let _ = warrant_connectors::mcp::parse(Path::new("x"), text.as_bytes(), &c);
        let _ = warrant_connectors::k8s::parse(Path::new("x"), text.as_bytes(), &c);
        let _ = aws::scps::parse(Path::new("x"), text.as_bytes(), &c);
    }
}

#[test]
fn a_service_control_policies_bundle_is_recognised_by_its_keys() {
    let json = br#"{"ManagementAccountId": "333333333333", "Parents": {},
        "ServiceControlPolicies": []}"#;
    assert_eq!(
        warrant_connectors::sniff(Path::new("anything.json"), json).map(|f| f.name()),
        Some("aws-organizations-scps")
    );
}

#[test]
fn url_encoded_and_string_documents_parse_like_objects() {
    let json = br#"{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam::1:user/u","UserPolicyList":[
        {"PolicyName":"encoded","PolicyDocument":"%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"},
        {"PolicyName":"text","PolicyDocument":"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sqs:SendMessage\",\"Resource\":\"*\"}}"},
        {"PolicyName":"object","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}}]}]}"#;
    let inv = aws::authorization_details::parse(Path::new("a.json"), json, &ctx()).unwrap();
    let actions: Vec<&str> = inv
        .policies
        .iter()
        .map(|p| p.statements[0].actions[0].as_str())
        .collect();
    assert_eq!(actions, ["s3:GetObject", "sqs:SendMessage", "sns:Publish"]);
}
