//! Live AWS discovery through the official AWS SDK for Rust.
//!
//! The SDK's answers are poured into the same serde models the export parsers read
//! (`warrant_connectors::aws`), so a live discovery and an imported
//! `get-account-authorization-details` file map to the domain through one code path.
//!
//! Only read-only IAM, STS and Organizations calls are made. Endpoint, region and profile follow
//! the SDK's usual resolution (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_PROFILE`, …) unless
//! [`LiveOptions`] overrides them.

#[cfg(any(test, feature = "test-support"))]
pub mod testing;

use std::path::Path;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_smithy_types::DateTime as SmithyDateTime;
use aws_smithy_types::date_time::Format;
use serde_json::Value;
use warrant_connectors::ImportContext;
use warrant_connectors::aws::authorization_details::{
    AttachedPolicy, AuthorizationDetails, GroupDetail, InlinePolicy, ManagedPolicyDetail,
    PermissionsBoundary, PolicyVersion, RoleDetail, RoleLastUsed, Tag, UserDetail,
};
use warrant_core::attribute;
use warrant_core::{Inventory, Provenance};

#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// Overrides the service endpoint (e.g. a local emulator); `AWS_ENDPOINT_URL` also works.
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    /// Named profile from the shared AWS config files.
    pub profile: Option<String>,
}

#[derive(Debug, Default)]
pub struct LiveOutcome {
    pub inventory: Inventory,
    /// Things that could not be read but did not stop discovery (one sentence each).
    pub warnings: Vec<String>,
    /// The account the credentials belong to.
    pub account: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("AWS call {call} failed: {message}")]
    Call { call: &'static str, message: String },
    #[error("the AWS response to {call} could not be mapped: {message}")]
    Mapping { call: &'static str, message: String },
}

fn call_error<E: std::error::Error>(call: &'static str, error: E) -> LiveError {
    // The SDK's Display is terse ("service error"); the source chain says what happened.
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    LiveError::Call { call, message }
}

fn date(t: Option<&SmithyDateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
}

fn opt(text: Option<&str>) -> Option<String> {
    text.map(str::to_string)
}

/// Policy documents come back URL-encoded; the export parser decodes strings.
fn document(text: Option<&str>) -> Option<Box<serde_json::value::RawValue>> {
    text.and_then(warrant_connectors::aws::authorization_details::raw_document)
}

fn attached(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<AttachedPolicy> {
    list.iter()
        .filter_map(|p| {
            Some(AttachedPolicy {
                policy_name: opt(p.policy_name()),
                policy_arn: p.policy_arn()?.to_string(),
            })
        })
        .collect()
}

fn inline(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<InlinePolicy> {
    list.iter()
        .filter_map(|p| {
            Some(InlinePolicy {
                policy_name: p.policy_name()?.to_string(),
                policy_document: document(p.policy_document()),
            })
        })
        .collect()
}

fn tags(list: &[aws_sdk_iam::types::Tag]) -> Vec<Tag> {
    list.iter()
        .map(|t| Tag {
            key: t.key().to_string(),
            value: t.value().to_string(),
        })
        .collect()
}

fn boundary(
    b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>,
) -> Option<PermissionsBoundary> {
    b.and_then(|b| {
        Some(PermissionsBoundary {
            permissions_boundary_type: b
                .permissions_boundary_type()
                .map(|t| t.as_str().to_string()),
            permissions_boundary_arn: b.permissions_boundary_arn()?.to_string(),
        })
    })
}

/// The SDK's configuration loader (default credential chain, profiles, region and endpoint
/// resolution) with Warrant's HTTPS client.
///
/// The SDK crates are built without their default HTTPS client (rustls on aws-lc, a long C
/// build), so every SDK configuration must come from here: one built with
/// `aws_config::defaults` alone has no HTTP client and fails on its first call.
pub fn config_loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    // The SDK's own default client (hyper 1, rustls, proxy settings from the environment,
    // native root certificates), with ring as rustls' cryptography instead of aws-lc.
    let https_client = aws_smithy_http_client::Builder::new().build_with_connector_fn(
        |settings, runtime_components| {
            let mut connector = aws_smithy_http_client::ConnectorBuilder::default()
                .tls_provider(Provider::Rustls(CryptoMode::Ring));
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = runtime_components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        },
    );
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client)
}

async fn sdk_config(options: &LiveOptions) -> aws_config::SdkConfig {
    let mut loader = config_loader();
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = &options.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// Discovers the IAM inventory of the account the credentials belong to.
pub async fn discover(
    options: &LiveOptions,
    ctx: &ImportContext,
) -> Result<LiveOutcome, LiveError> {
    let config = sdk_config(options).await;
    let location = match &options.endpoint_url {
        Some(endpoint) => format!("api:aws:{endpoint}"),
        None => "api:aws".to_string(),
    };
    discover_with_config(&config, &location, ctx).await
}

/// Like [`discover`], with an SDK configuration built by the caller (credentials, retries, …);
/// `location` is recorded as the records' provenance.
pub async fn discover_with_config(
    config: &aws_config::SdkConfig,
    location: &str,
    ctx: &ImportContext,
) -> Result<LiveOutcome, LiveError> {
    let location = location.to_string();
    let origin = Path::new(&location);
    let mut outcome = LiveOutcome::default();

    let sts = aws_sdk_sts::Client::new(config);
    let caller = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| call_error("sts:GetCallerIdentity", e))?;
    outcome.account = opt(caller.account());
    tracing::info!(account = ?outcome.account, "Discovering AWS IAM.");

    let iam = aws_sdk_iam::Client::new(config);
    let details = authorization_details(&iam).await?;
    let mut inventory =
        details
            .to_inventory(origin, &location, ctx)
            .map_err(|e| LiveError::Mapping {
                call: "iam:GetAccountAuthorizationDetails",
                message: e.to_string(),
            })?;

    // Access keys with their last use.
    let provenance = Provenance {
        source: warrant_connectors::aws::access_keys::SOURCE.to_string(),
        location: Some(location.clone()),
    };
    for user in &details.user_detail_list {
        let keys = iam
            .list_access_keys()
            .user_name(&user.user_name)
            .send()
            .await
            .map_err(|e| call_error("iam:ListAccessKeys", e))?;
        for key in keys.access_key_metadata() {
            let Some(id) = key.access_key_id() else {
                continue;
            };
            let metadata = warrant_connectors::aws::access_keys::AccessKeyMetadata {
                user_name: user.user_name.clone(),
                access_key_id: id.to_string(),
                status: key.status().map(|s| s.as_str().to_string()),
                create_date: date(key.create_date()),
            };
            let mut credential =
                warrant_connectors::aws::access_keys::to_credential(&metadata, &provenance);
            credential.identity = user.arn.clone();
            match iam
                .get_access_key_last_used()
                .access_key_id(id)
                .send()
                .await
            {
                Ok(used) => {
                    if let Some(last) = used.access_key_last_used() {
                        credential.last_used = date(last.last_used_date())
                            .as_deref()
                            .and_then(parse_rfc3339);
                        for (field, value) in [
                            (attribute::LAST_USED_SERVICE, last.service_name()),
                            (attribute::LAST_USED_REGION, last.region()),
                        ] {
                            if !value.is_empty() && value != "N/A" {
                                credential
                                    .attributes
                                    .insert(field.into(), Value::String(value.to_string()));
                            }
                        }
                    }
                }
                Err(e) => outcome.warnings.push(format!(
                    "last use of access key {id} unknown: {}",
                    call_error("iam:GetAccessKeyLastUsed", e)
                )),
            }
            inventory.credentials.push(credential);
        }
    }
    // Every user's keys were listed: the keys are a complete snapshot of each account, so a
    // key deleted since the last discovery is recorded as gone.
    let accounts: Vec<String> = inventory
        .scopes
        .iter()
        .filter(|s| s.source == warrant_connectors::aws::authorization_details::SOURCE)
        .map(|s| s.scope.clone())
        .collect();
    for scope in accounts {
        inventory.scopes.push(warrant_core::SourceScope {
            source: warrant_connectors::aws::access_keys::SOURCE.to_string(),
            scope,
        });
    }

    match credential_report(&iam).await {
        Ok(Some(csv)) => match warrant_connectors::aws::credential_report::parse(origin, &csv, ctx)
        {
            Ok(report) => inventory.extend(report),
            Err(e) => outcome
                .warnings
                .push(format!("the credential report could not be read: {e}")),
        },
        Ok(None) => outcome.warnings.push(
            "the credential report was not ready in time; console and key-use facts are missing"
                .into(),
        ),
        Err(e) => outcome.warnings.push(format!("no credential report: {e}")),
    }

    let organizations = aws_sdk_organizations::Client::new(config);
    match list_accounts(&organizations).await {
        Ok(accounts) => {
            let provenance = Provenance {
                source: warrant_connectors::aws::organizations::SOURCE.to_string(),
                location: Some(location.clone()),
            };
            inventory.extend(warrant_connectors::aws::organizations::to_inventory(
                &accounts,
                &provenance,
            ));
            // Service control policies limit every principal of the member accounts.
            match service_control_policies(&organizations, &accounts).await {
                Ok(bundle) => {
                    match warrant_connectors::aws::scps::to_inventory(Path::new(&location), &bundle)
                    {
                        Ok(scps) => inventory.extend(scps),
                        Err(e) => outcome
                            .warnings
                            .push(format!("service control policies not read: {e}")),
                    }
                }
                Err(e) => outcome
                    .warnings
                    .push(format!("service control policies unknown: {e}")),
            }
        }
        Err(e) => outcome.warnings.push(format!(
            "organisation accounts unknown (not a management account?): {e}"
        )),
    }

    inventory.dedup();
    warrant_connectors::aws::reconcile(&mut inventory);
    outcome.inventory = inventory;
    Ok(outcome)
}

fn parse_rfc3339(text: &str) -> Option<warrant_core::Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

async fn authorization_details(
    iam: &aws_sdk_iam::Client,
) -> Result<AuthorizationDetails, LiveError> {
    let mut details = AuthorizationDetails::default();
    let mut pages = iam
        .get_account_authorization_details()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| call_error("iam:GetAccountAuthorizationDetails", e))?;
        for u in page.user_detail_list() {
            let (Some(name), Some(arn)) = (u.user_name(), u.arn()) else {
                continue;
            };
            details.user_detail_list.push(UserDetail {
                path: opt(u.path()),
                user_name: name.to_string(),
                user_id: opt(u.user_id()),
                arn: arn.to_string(),
                create_date: date(u.create_date()),
                group_list: u.group_list().to_vec(),
                attached_managed_policies: attached(u.attached_managed_policies()),
                user_policy_list: inline(u.user_policy_list()),
                tags: tags(u.tags()),
                permissions_boundary: boundary(u.permissions_boundary()),
            });
        }
        for g in page.group_detail_list() {
            let (Some(name), Some(arn)) = (g.group_name(), g.arn()) else {
                continue;
            };
            details.group_detail_list.push(GroupDetail {
                path: opt(g.path()),
                group_name: name.to_string(),
                group_id: opt(g.group_id()),
                arn: arn.to_string(),
                create_date: date(g.create_date()),
                group_policy_list: inline(g.group_policy_list()),
                attached_managed_policies: attached(g.attached_managed_policies()),
            });
        }
        for r in page.role_detail_list() {
            let (Some(name), Some(arn)) = (r.role_name(), r.arn()) else {
                continue;
            };
            details.role_detail_list.push(RoleDetail {
                path: opt(r.path()),
                role_name: name.to_string(),
                role_id: opt(r.role_id()),
                arn: arn.to_string(),
                create_date: date(r.create_date()),
                assume_role_policy_document: document(r.assume_role_policy_document()),
                instance_profile_list: r
                    .instance_profile_list()
                    .iter()
                    .map(|p| serde_json::json!({"InstanceProfileName": p.instance_profile_name(), "Arn": p.arn()}))
                    .collect(),
                role_policy_list: inline(r.role_policy_list()),
                attached_managed_policies: attached(r.attached_managed_policies()),
                tags: tags(r.tags()),
                role_last_used: r.role_last_used().map(|u| RoleLastUsed { last_used_date: date(u.last_used_date()), region: opt(u.region()) }),
                permissions_boundary: boundary(r.permissions_boundary()),
                description: None,
            });
        }
        for p in page.policies() {
            let (Some(name), Some(arn)) = (p.policy_name(), p.arn()) else {
                continue;
            };
            details.policies.push(ManagedPolicyDetail {
                policy_name: name.to_string(),
                policy_id: opt(p.policy_id()),
                arn: arn.to_string(),
                path: opt(p.path()),
                default_version_id: opt(p.default_version_id()),
                create_date: date(p.create_date()),
                update_date: date(p.update_date()),
                description: opt(p.description()),
                policy_version_list: p
                    .policy_version_list()
                    .iter()
                    .map(|v| PolicyVersion {
                        document: document(v.document()),
                        version_id: opt(v.version_id()),
                        is_default_version: v.is_default_version(),
                        create_date: date(v.create_date()),
                    })
                    .collect(),
            });
        }
    }
    fill_missing_documents(iam, &mut details).await?;
    Ok(details)
}

/// Fetches the documents of attached managed policies that the details response lacks (some
/// implementations leave `PolicyVersionList` out, and filtered calls omit policies), so every
/// attachment points at a policy we can analyse. Policies nobody holds are not fetched.
async fn fill_missing_documents(
    iam: &aws_sdk_iam::Client,
    details: &mut AuthorizationDetails,
) -> Result<(), LiveError> {
    let mut attached: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for list in details
        .user_detail_list
        .iter()
        .map(|u| &u.attached_managed_policies)
        .chain(
            details
                .group_detail_list
                .iter()
                .map(|g| &g.attached_managed_policies),
        )
        .chain(
            details
                .role_detail_list
                .iter()
                .map(|r| &r.attached_managed_policies),
        )
    {
        attached.extend(list.iter().map(|a| a.policy_arn.clone()));
    }
    let complete: std::collections::BTreeSet<String> = details
        .policies
        .iter()
        .filter(|p| p.policy_version_list.iter().any(|v| v.document.is_some()))
        .map(|p| p.arn.clone())
        .collect();
    for arn in attached.difference(&complete) {
        let policy = iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| call_error("iam:GetPolicy", e))?;
        let Some(policy) = policy.policy() else {
            continue;
        };
        let Some(version_id) = policy.default_version_id() else {
            continue;
        };
        let version = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| call_error("iam:GetPolicyVersion", e))?;
        let Some(version) = version.policy_version() else {
            continue;
        };
        details.policies.retain(|p| &p.arn != arn);
        details.policies.push(ManagedPolicyDetail {
            policy_name: policy.policy_name().unwrap_or(arn).to_string(),
            policy_id: opt(policy.policy_id()),
            arn: arn.clone(),
            path: opt(policy.path()),
            default_version_id: Some(version_id.to_string()),
            create_date: date(policy.create_date()),
            update_date: date(policy.update_date()),
            description: opt(policy.description()),
            policy_version_list: vec![PolicyVersion {
                document: document(version.document()),
                version_id: Some(version_id.to_string()),
                is_default_version: true,
                create_date: date(version.create_date()),
            }],
        });
    }
    Ok(())
}

/// Generates (if needed) and fetches the credential report; `None` if not ready within ~30 s.
async fn credential_report(iam: &aws_sdk_iam::Client) -> Result<Option<Vec<u8>>, LiveError> {
    for attempt in 0..15 {
        let generated = iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| call_error("iam:GenerateCredentialReport", e))?;
        let complete = generated.state().is_some_and(|s| s.as_str() == "COMPLETE");
        if complete || attempt > 0 {
            match iam.get_credential_report().send().await {
                Ok(report) => return Ok(report.content().map(|c| c.as_ref().to_vec())),
                Err(e) => {
                    tracing::debug!(error = %call_error("iam:GetCredentialReport", e), "Credential report not ready yet.")
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(None)
}

/// The organisation's SCPs with their targets, the tree above each account, and the
/// management account: what `scripts/export-aws-scps.sh` writes, through the SDK.
async fn service_control_policies(
    organizations: &aws_sdk_organizations::Client,
    accounts: &warrant_connectors::aws::organizations::ListAccounts,
) -> Result<warrant_connectors::aws::scps::ScpBundle, LiveError> {
    use aws_sdk_organizations::types::PolicyType;
    use warrant_connectors::aws::scps::{PolicySummary, ScpBundle, ScpEntry, ScpTarget};

    let organization = organizations
        .describe_organization()
        .send()
        .await
        .map_err(|e| call_error("organizations:DescribeOrganization", e))?;
    let management_account_id = organization
        .organization()
        .and_then(|o| o.master_account_id())
        .map(str::to_string);
    let mut policies = Vec::new();
    let mut pages = organizations
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| call_error("organizations:ListPolicies", e))?;
        for summary in page.policies() {
            let Some(id) = summary.id() else { continue };
            let described = organizations
                .describe_policy()
                .policy_id(id)
                .send()
                .await
                .map_err(|e| call_error("organizations:DescribePolicy", e))?;
            let Some(content) = described.policy().and_then(|p| p.content()) else {
                continue;
            };
            let mut targets = Vec::new();
            let mut target_pages = organizations
                .list_targets_for_policy()
                .policy_id(id)
                .into_paginator()
                .send();
            while let Some(page) = target_pages.next().await {
                let page = page.map_err(|e| call_error("organizations:ListTargetsForPolicy", e))?;
                targets.extend(page.targets().iter().filter_map(|t| {
                    Some(ScpTarget {
                        target_id: t.target_id()?.to_string(),
                        r#type: t.r#type().map(|k| k.as_str().to_string()),
                    })
                }));
            }
            policies.push(ScpEntry {
                policy_summary: PolicySummary {
                    id: id.to_string(),
                    arn: opt(summary.arn()),
                    name: opt(summary.name()),
                    r#type: summary.r#type().map(|k| k.as_str().to_string()),
                    aws_managed: summary.aws_managed(),
                },
                content: content.to_string(),
                targets,
            });
        }
    }
    // Walk up from each account; OUs shared by several accounts are asked about once.
    let mut parents = std::collections::BTreeMap::new();
    for account in &accounts.accounts {
        let mut child = account.id.clone();
        while !parents.contains_key(&child) {
            let found = organizations
                .list_parents()
                .child_id(&child)
                .send()
                .await
                .map_err(|e| call_error("organizations:ListParents", e))?;
            let Some(parent) = found.parents().first().and_then(|p| p.id()) else {
                break;
            };
            parents.insert(child.clone(), parent.to_string());
            if parent.starts_with("r-") {
                break;
            }
            child = parent.to_string();
        }
    }
    Ok(ScpBundle {
        management_account_id,
        parents,
        service_control_policies: policies,
    })
}

async fn list_accounts(
    organizations: &aws_sdk_organizations::Client,
) -> Result<warrant_connectors::aws::organizations::ListAccounts, LiveError> {
    let mut accounts = Vec::new();
    let mut pages = organizations.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| call_error("organizations:ListAccounts", e))?;
        for a in page.accounts() {
            let Some(id) = a.id() else { continue };
            accounts.push(warrant_connectors::aws::organizations::OrgAccount {
                id: id.to_string(),
                arn: opt(a.arn()),
                email: opt(a.email()),
                name: opt(a.name()),
                status: a
                    .state()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.status().map(|s| s.as_str().to_string())),
            });
        }
    }
    Ok(warrant_connectors::aws::organizations::ListAccounts { accounts })
}
