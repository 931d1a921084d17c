//! `aws iam get-account-authorization-details`: users, groups, roles, policies and trust.
//!
//! The serde model is public so live discovery (`warrant-aws-live`) fills the same structs from
//! SDK responses and maps them to the domain through [`AuthorizationDetails::to_inventory`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use warrant_core::attribute;
use warrant_core::{
    ActorKind, Attachment, Environment, Identity, IdentityKind, Inventory, Policy, PolicyKind,
    PrincipalKind, Provenance, Provider, SourceScope, Statement, TrustEdge, TrustKind,
};

use crate::common::{environment_from, owners_from, parse_date, purpose_from, status_from};
use crate::error::Location;
use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "aws-authorization-details";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthorizationDetails {
    #[serde(default)]
    pub user_detail_list: Vec<UserDetail>,
    #[serde(default)]
    pub group_detail_list: Vec<GroupDetail>,
    #[serde(default)]
    pub role_detail_list: Vec<RoleDetail>,
    #[serde(default)]
    pub policies: Vec<ManagedPolicyDetail>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDetail {
    #[serde(default)]
    pub path: Option<String>,
    pub user_name: String,
    #[serde(default)]
    pub user_id: Option<String>,
    pub arn: String,
    #[serde(default)]
    pub create_date: Option<String>,
    #[serde(default)]
    pub group_list: Vec<String>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub user_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundary>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDetail {
    #[serde(default)]
    pub path: Option<String>,
    pub group_name: String,
    #[serde(default)]
    pub group_id: Option<String>,
    pub arn: String,
    #[serde(default)]
    pub create_date: Option<String>,
    #[serde(default)]
    pub group_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleDetail {
    #[serde(default)]
    pub path: Option<String>,
    pub role_name: String,
    #[serde(default)]
    pub role_id: Option<String>,
    pub arn: String,
    #[serde(default)]
    pub create_date: Option<String>,
    /// Kept as raw JSON text until parsed: a `Value` tree per document costs several times the
    /// text, and exports hold hundreds of thousands of documents.
    #[serde(default)]
    pub assume_role_policy_document: Option<Box<RawValue>>,
    #[serde(default)]
    pub instance_profile_list: Vec<Value>,
    #[serde(default)]
    pub role_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub role_last_used: Option<RoleLastUsed>,
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundary>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleLastUsed {
    #[serde(default)]
    pub last_used_date: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicyDetail {
    pub policy_name: String,
    #[serde(default)]
    pub policy_id: Option<String>,
    pub arn: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub default_version_id: Option<String>,
    #[serde(default)]
    pub create_date: Option<String>,
    #[serde(default)]
    pub update_date: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub policy_version_list: Vec<PolicyVersion>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    #[serde(default)]
    pub document: Option<Box<RawValue>>,
    #[serde(default)]
    pub version_id: Option<String>,
    #[serde(default)]
    pub is_default_version: bool,
    #[serde(default)]
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    #[serde(default)]
    pub policy_name: Option<String>,
    pub policy_arn: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    #[serde(default)]
    pub policy_document: Option<Box<RawValue>>,
}

/// A raw document as the live path receives it: URL-encoded text.
pub fn raw_document(text: &str) -> Option<Box<RawValue>> {
    serde_json::to_string(text)
        .ok()
        .and_then(|json| RawValue::from_string(json).ok())
}

/// Parses a document held as raw JSON (an object, or a string holding JSON or URL-encoded JSON).
fn parse_raw(
    raw: Option<&RawValue>,
) -> Result<Vec<Statement>, warrant_aws_policy::PolicyParseError> {
    match raw {
        None => Ok(Vec::new()),
        // A JSON string holds the document as text (URL-encoded, as the IAM API returns it).
        Some(raw) if raw.get().trim_start().starts_with('"') => {
            match serde_json::from_str::<String>(raw.get()) {
                Ok(text) => warrant_aws_policy::parse_policy_document_str(&text),
                Err(e) => Err(warrant_aws_policy::PolicyParseError::Json {
                    line: e.line(),
                    column: e.column(),
                    message: e.to_string(),
                }),
            }
        }
        Some(raw) => warrant_aws_policy::parse_policy_document_str(raw.get()),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionsBoundary {
    #[serde(default)]
    pub permissions_boundary_type: Option<String>,
    pub permissions_boundary_arn: String,
}

/// Parses the file and maps it to the domain.
pub fn parse(
    origin: &Path,
    bytes: &[u8],
    ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let details: AuthorizationDetails = crate::common::decode_json(origin, bytes)?;
    details.into_inventory(origin, &origin.display().to_string(), ctx)
}

/// [`parse`], freeing the file's text once it is decoded: a 200 MB single-line export would
/// otherwise stay in memory beside its decoded form and the inventory built from it.
pub fn parse_owned(
    origin: &Path,
    bytes: Vec<u8>,
    ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let details: AuthorizationDetails = crate::common::decode_json(origin, &bytes)?;
    drop(bytes);
    details.into_inventory(origin, &origin.display().to_string(), ctx)
}

/// `arn:aws:iam::123456789012:user/x` → `123456789012`.
pub fn account_of(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

fn tags_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

/// Whether a user name reads like a program rather than a person.
pub fn machine_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    const MARKERS: &[&str] = &[
        "svc",
        "service",
        "bot",
        "ci",
        "cd",
        "deploy",
        "automation",
        "terraform",
        "jenkins",
        "github",
        "gitlab",
        "circleci",
        "pipeline",
        "backup",
        "sync",
        "etl",
        "app",
        "api",
        "integration",
        "monitor",
        "agent",
        "lambda",
        "batch",
        "cron",
        "job",
        "system",
        "sa",
        "robot",
        "runner",
        "build",
        "export",
        "import",
    ];
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| MARKERS.contains(&word))
}

/// Whether a user name reads like a person (an email address, or `first.last`).
pub fn person_like(name: &str) -> bool {
    name.contains('@')
        || (name.contains('.')
            && !machine_like(name)
            && name
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '.' || c == '-'))
}

/// AWS managed policies commonly attached but not always present in an export (exports filtered
/// to local policies omit them); their meaning is public and stable.
fn well_known_managed_policy(arn: &str) -> Option<Vec<Statement>> {
    let name = arn.strip_prefix("arn:aws:iam::aws:policy/")?;
    let allow = |actions: &[&str], not_actions: &[&str]| Statement {
        sid: None,
        effect: warrant_core::Effect::Allow,
        actions: actions.iter().map(|s| s.to_string()).collect(),
        not_actions: not_actions.iter().map(|s| s.to_string()).collect(),
        resources: vec!["*".into()],
        not_resources: vec![],
        conditions: None,
    };
    match name {
        "AdministratorAccess" => Some(vec![allow(&["*"], &[])]),
        "PowerUserAccess" => Some(vec![
            allow(&[], &["iam:*", "organizations:*", "account:*"]),
            allow(
                &[
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:ListRegions",
                ],
                &[],
            ),
        ]),
        "IAMFullAccess" => Some(vec![allow(
            &[
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit",
                "organizations:DescribePolicy",
                "organizations:ListChildren",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:ListRoots",
                "organizations:ListPolicies",
                "organizations:ListTargetsForPolicy",
            ],
            &[],
        )]),
        "AmazonS3FullAccess" => Some(vec![allow(&["s3:*", "s3-object-lambda:*"], &[])]),
        "AmazonS3ReadOnlyAccess" => Some(vec![allow(
            &[
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*",
            ],
            &[],
        )]),
        "SecretsManagerReadWrite" => Some(vec![allow(
            &[
                "secretsmanager:*",
                "kms:DescribeKey",
                "kms:ListAliases",
                "kms:ListKeys",
            ],
            &[],
        )]),
        "ReadOnlyAccess" | "ViewOnlyAccess" | "SecurityAudit" => {
            Some(vec![allow(&["*:Describe*", "*:List*", "*:Get*"], &[])])
        }
        _ => None,
    }
}

impl AuthorizationDetails {
    /// Maps the export to the domain. `location` is recorded as provenance (a path or `api:…`).
    pub fn to_inventory(
        &self,
        origin: &Path,
        location: &str,
        ctx: &ImportContext,
    ) -> Result<Inventory, ConnectorError> {
        self.clone().into_inventory(origin, location, ctx)
    }

    /// [`AuthorizationDetails::to_inventory`], freeing each policy document's text as soon as
    /// it is parsed: the documents are most of a large export, and the statements built from
    /// them would otherwise sit beside them.
    pub fn into_inventory(
        mut self,
        origin: &Path,
        location: &str,
        ctx: &ImportContext,
    ) -> Result<Inventory, ConnectorError> {
        let _ = ctx;
        let provenance = Provenance {
            source: SOURCE.to_string(),
            location: Some(location.to_string()),
        };
        let mut inventory = Inventory::default();
        let mut accounts = std::collections::BTreeSet::new();
        let policy_error = |path: String, e: warrant_aws_policy::PolicyParseError| {
            let (inner, message) = match e {
                warrant_aws_policy::PolicyParseError::Shape { path, message } => {
                    (path.trim_start_matches('$').to_string(), message)
                }
                other => (String::new(), other.to_string()),
            };
            ConnectorError::new(
                origin,
                Location::JsonPath(format!("{path}{inner}")),
                message,
            )
        };

        // Managed policies: the default version's document.
        for (i, p) in self.policies.iter_mut().enumerate() {
            let Some(vi) = p
                .policy_version_list
                .iter()
                .position(|v| v.is_default_version)
                .or_else(|| (!p.policy_version_list.is_empty()).then_some(0))
            else {
                continue;
            };
            let document = p
                .policy_version_list
                .get_mut(vi)
                .and_then(|v| v.document.take());
            // Only the default version is read: the others' text goes too.
            for version in &mut p.policy_version_list {
                version.document = None;
            }
            let statements = parse_raw(document.as_deref()).map_err(|e| {
                policy_error(
                    format!("$.Policies[{i}].PolicyVersionList[{vi}].Document"),
                    e,
                )
            })?;
            inventory.policies.push(Policy {
                id: p.arn.clone(),
                name: p.policy_name.clone(),
                provider: Provider::Aws,
                kind: if p.arn.starts_with("arn:aws:iam::aws:") {
                    PolicyKind::AwsManaged
                } else {
                    PolicyKind::CustomerManaged
                },
                statements,
                provenance: provenance.clone(),
            });
        }
        let known_policies: std::collections::HashSet<String> =
            self.policies.iter().map(|p| p.arn.clone()).collect();
        let ensure_managed = |arn: &str, name: Option<&str>, inventory: &mut Inventory| {
            if known_policies.contains(arn) {
                return;
            }
            if let Some(statements) = well_known_managed_policy(arn)
                && !inventory.policies.iter().any(|p| p.id == arn)
            {
                inventory.policies.push(Policy {
                    id: arn.to_string(),
                    name: name
                        .map(str::to_string)
                        .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn).to_string()),
                    provider: Provider::Aws,
                    kind: PolicyKind::AwsManaged,
                    statements,
                    provenance: Provenance {
                        source: "warrant-builtin".into(),
                        location: None,
                    },
                });
            }
        };

        // Groups: their policies reach members through `group:ARN`.
        let mut group_policies: HashMap<&str, (String, Vec<String>)> = HashMap::new();
        for (gi, g) in self.group_detail_list.iter_mut().enumerate() {
            let mut ids = Vec::new();
            for a in &g.attached_managed_policies {
                ensure_managed(&a.policy_arn, a.policy_name.as_deref(), &mut inventory);
                ids.push(a.policy_arn.clone());
            }
            for (pi, p) in g.group_policy_list.iter_mut().enumerate() {
                let document = p.policy_document.take();
                let statements = parse_raw(document.as_deref()).map_err(|e| {
                    policy_error(
                        format!("$.GroupDetailList[{gi}].GroupPolicyList[{pi}].PolicyDocument"),
                        e,
                    )
                })?;
                let id = format!("{}#inline/{}", g.arn, p.policy_name);
                inventory.policies.push(Policy {
                    id: id.clone(),
                    name: p.policy_name.clone(),
                    provider: Provider::Aws,
                    kind: PolicyKind::Inline,
                    statements,
                    provenance: provenance.clone(),
                });
                ids.push(id);
            }
            group_policies.insert(g.group_name.as_str(), (g.arn.clone(), ids));
        }

        for (ui, u) in self.user_detail_list.iter_mut().enumerate() {
            let account = account_of(&u.arn);
            if let Some(a) = &account {
                accounts.insert(a.clone());
            }
            let tags = tags_map(&u.tags);
            let mut identity = Identity::new(
                u.arn.clone(),
                IdentityKind::AwsUser,
                Provider::Aws,
                u.user_name.clone(),
            );
            identity.account = account;
            identity.namespace = u.path.clone().filter(|p| p != "/");
            identity.created = u.create_date.as_deref().and_then(parse_date);
            identity.owners = owners_from(&tags, "tag", &ctx.owner_keys);
            identity.purpose = purpose_from(&tags);
            identity.environment = environment_from(&tags);
            if let Some(status) = status_from(&tags) {
                identity.status = status;
            }
            identity.actor = if person_like(&u.user_name) {
                ActorKind::Human
            } else if machine_like(&u.user_name) {
                ActorKind::Machine
            } else {
                ActorKind::Unknown
            };
            if let Some(user_id) = &u.user_id {
                identity
                    .attributes
                    .insert("user_id".into(), Value::String(user_id.clone()));
            }
            if !u.group_list.is_empty() {
                identity
                    .attributes
                    .insert("groups".into(), Value::from(u.group_list.clone()));
            }
            if let Some(b) = &u.permissions_boundary {
                identity.attributes.insert(
                    attribute::PERMISSIONS_BOUNDARY.into(),
                    Value::String(b.permissions_boundary_arn.clone()),
                );
                ensure_managed(&b.permissions_boundary_arn, None, &mut inventory);
            }
            identity.tags = tags;
            identity.provenance = provenance.clone();
            attach_direct(
                &mut inventory,
                &u.arn,
                &u.attached_managed_policies,
                &mut u.user_policy_list,
                &format!("$.UserDetailList[{ui}].UserPolicyList"),
                &provenance,
                &ensure_managed,
                &policy_error,
            )?;
            for group in &u.group_list {
                if let Some((group_arn, ids)) = group_policies.get(group.as_str()) {
                    for id in ids {
                        inventory.attachments.push(Attachment {
                            identity: u.arn.clone(),
                            policy: id.clone(),
                            via: Some(format!("group:{group_arn}")),
                            scope: None,
                        });
                    }
                }
            }
            inventory.identities.push(identity);
        }

        for (ri, r) in self.role_detail_list.iter_mut().enumerate() {
            let account = account_of(&r.arn);
            if let Some(a) = &account {
                accounts.insert(a.clone());
            }
            let tags = tags_map(&r.tags);
            let mut identity = Identity::new(
                r.arn.clone(),
                IdentityKind::AwsRole,
                Provider::Aws,
                r.role_name.clone(),
            );
            identity.account = account.clone();
            identity.namespace = r.path.clone().filter(|p| p != "/");
            identity.created = r.create_date.as_deref().and_then(parse_date);
            identity.last_used = r
                .role_last_used
                .as_ref()
                .and_then(|u| u.last_used_date.as_deref())
                .and_then(parse_date);
            identity.owners = owners_from(&tags, "tag", &ctx.owner_keys);
            identity.purpose = purpose_from(&tags)
                .or_else(|| r.description.clone().filter(|d| !d.trim().is_empty()));
            identity.environment = environment_from(&tags);
            if let Some(status) = status_from(&tags) {
                identity.status = status;
            }
            if let Some(region) = r.role_last_used.as_ref().and_then(|u| u.region.clone()) {
                identity
                    .attributes
                    .insert(attribute::LAST_USED_REGION.into(), Value::String(region));
            }
            if r.path
                .as_deref()
                .is_some_and(|p| p.starts_with("/aws-service-role/"))
            {
                identity
                    .attributes
                    .insert(attribute::SERVICE_LINKED.into(), Value::Bool(true));
            }
            if !r.instance_profile_list.is_empty() {
                let names: Vec<Value> = r
                    .instance_profile_list
                    .iter()
                    .filter_map(|p| p.get("InstanceProfileName").cloned())
                    .collect();
                identity
                    .attributes
                    .insert("instance_profiles".into(), Value::Array(names));
            }
            if let Some(b) = &r.permissions_boundary {
                identity.attributes.insert(
                    attribute::PERMISSIONS_BOUNDARY.into(),
                    Value::String(b.permissions_boundary_arn.clone()),
                );
                ensure_managed(&b.permissions_boundary_arn, None, &mut inventory);
            }
            identity.tags = tags;
            identity.provenance = provenance.clone();
            attach_direct(
                &mut inventory,
                &r.arn,
                &r.attached_managed_policies,
                &mut r.role_policy_list,
                &format!("$.RoleDetailList[{ri}].RolePolicyList"),
                &provenance,
                &ensure_managed,
                &policy_error,
            )?;
            if let Some(trust) = r.assume_role_policy_document.take().as_deref() {
                let statements = parse_raw(Some(trust)).map_err(|e| {
                    policy_error(
                        format!("$.RoleDetailList[{ri}].AssumeRolePolicyDocument"),
                        e,
                    )
                })?;
                let principals =
                    trust_principals(&serde_json::from_str(trust.get()).unwrap_or(Value::Null));
                for (si, statement) in statements.iter().enumerate() {
                    if statement.effect != warrant_core::Effect::Allow {
                        continue;
                    }
                    let kind = trust_kind(&statement.actions);
                    for (from, from_kind) in principals.get(si).into_iter().flatten() {
                        inventory.trust_edges.push(TrustEdge {
                            from: from.clone(),
                            from_kind: *from_kind,
                            to: r.arn.clone(),
                            kind,
                            conditions: statement.conditions.clone(),
                            provenance: provenance.clone(),
                        });
                    }
                }
            }
            inventory.identities.push(identity);
        }

        for account in accounts {
            inventory.scopes.push(SourceScope {
                source: SOURCE.to_string(),
                scope: account,
            });
        }
        Ok(inventory)
    }
}

/// Attaches a user's or role's managed policies and records and attaches its inline policies.
/// `inline_path` is the JSON path of the inline list, for errors.
#[allow(clippy::too_many_arguments)]
fn attach_direct(
    inventory: &mut Inventory,
    holder: &str,
    attached: &[AttachedPolicy],
    inline: &mut [InlinePolicy],
    inline_path: &str,
    provenance: &Provenance,
    ensure_managed: &dyn Fn(&str, Option<&str>, &mut Inventory),
    policy_error: &dyn Fn(String, warrant_aws_policy::PolicyParseError) -> ConnectorError,
) -> Result<(), ConnectorError> {
    for a in attached {
        ensure_managed(&a.policy_arn, a.policy_name.as_deref(), inventory);
        inventory.attachments.push(Attachment {
            identity: holder.to_string(),
            policy: a.policy_arn.clone(),
            via: None,
            scope: None,
        });
    }
    for (pi, p) in inline.iter_mut().enumerate() {
        let document = p.policy_document.take();
        let statements = parse_raw(document.as_deref())
            .map_err(|e| policy_error(format!("{inline_path}[{pi}].PolicyDocument"), e))?;
        let id = format!("{holder}#inline/{}", p.policy_name);
        inventory.policies.push(Policy {
            id: id.clone(),
            name: p.policy_name.clone(),
            provider: Provider::Aws,
            kind: PolicyKind::Inline,
            statements,
            provenance: provenance.clone(),
        });
        inventory.attachments.push(Attachment {
            identity: holder.to_string(),
            policy: id,
            via: None,
            scope: None,
        });
    }
    Ok(())
}

fn trust_kind(actions: &[String]) -> TrustKind {
    let has = |name: &str| actions.iter().any(|a| a.eq_ignore_ascii_case(name));
    if has("sts:AssumeRoleWithWebIdentity") {
        TrustKind::AssumeRoleWithWebIdentity
    } else if has("sts:AssumeRoleWithSAML") {
        TrustKind::AssumeRoleWithSaml
    } else {
        TrustKind::AssumeRole
    }
}

/// Principals per statement of a trust policy (the core `Statement` has no principal field).
fn trust_principals(document: &Value) -> Vec<Vec<(String, PrincipalKind)>> {
    let document = match document {
        Value::String(text) => {
            let decoded = percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned();
            serde_json::from_str(&decoded).unwrap_or(Value::Null)
        }
        other => other.clone(),
    };
    let statements: Vec<Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            match s.get("Principal") {
                Some(Value::String(star)) if star == "*" => {
                    out.push(("*".to_string(), PrincipalKind::Anyone))
                }
                Some(Value::Object(map)) => {
                    for (key, value) in map {
                        let values: Vec<String> = match value {
                            Value::String(v) => vec![v.clone()],
                            Value::Array(items) => items
                                .iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect(),
                            _ => Vec::new(),
                        };
                        for v in values {
                            let kind = match key.as_str() {
                                "AWS" => aws_principal_kind(&v),
                                "Federated" => PrincipalKind::Federated,
                                "Service" => PrincipalKind::Service,
                                "CanonicalUser" => PrincipalKind::Account,
                                _ => PrincipalKind::Identity,
                            };
                            let from = match kind {
                                // Account principals are recorded as the bare account id.
                                PrincipalKind::Account => account_of(&v).unwrap_or(v),
                                _ => v,
                            };
                            out.push((from, kind));
                        }
                    }
                }
                _ => {}
            }
            out
        })
        .collect()
}

fn aws_principal_kind(value: &str) -> PrincipalKind {
    if value == "*" {
        PrincipalKind::Anyone
    } else if value.chars().all(|c| c.is_ascii_digit()) || value.ends_with(":root") {
        PrincipalKind::Account
    } else {
        PrincipalKind::Identity
    }
}

/// The environment of identities that their own tags do not tell, from their account.
pub fn apply_account_environments(inventory: &mut Inventory) {
    let by_account: HashMap<String, Environment> = inventory
        .accounts
        .iter()
        .filter(|a| a.environment != Environment::Unknown)
        .map(|a| (a.id.clone(), a.environment))
        .collect();
    for identity in &mut inventory.identities {
        if identity.environment == Environment::Unknown
            && let Some(env) = identity.account.as_ref().and_then(|a| by_account.get(a))
        {
            identity.environment = *env;
        }
    }
}
