//! Facts from CloudTrail request and response bodies, and the identity a call changes.
//!
//! Read only for the actions listed in [`needs_facts`] (decided once per distinct
//! `eventSource`/`eventName` pair and cached), so ordinary events cost nothing more than the
//! field names the record parser recognises. Keys are lowercase and dotted:
//!
//! | key | value | from |
//! |---|---|---|
//! | `call` | the CloudTrail event name, when the IAM action has another name | every gated action |
//! | `share.add`, `share.remove` | `all` or an account id | EC2 `createVolumePermission`/`launchPermission`, RDS `restore` attribute |
//! | `policy.arn` | the managed policy attached | IAM attach calls, `CreatePolicyVersion` |
//! | `policy.admin`, `policy.escalation` | `true`/`false`, from the policy analyser | inline policy documents |
//! | `trust.principal` | an AWS principal trusted (`*`, an account id or ARN) | `UpdateAssumeRolePolicy` |
//! | `trust.read` | `true` once the trust policy was read |  `UpdateAssumeRolePolicy` |
//! | `trust.unconditioned` | `true` when an `Allow` statement trusting principals has no condition | `UpdateAssumeRolePolicy` |
//! | `key.id`, `key.status` | the access key created or updated, its new status | `CreateAccessKey`, `UpdateAccessKey` |
//! | `versioning.status` | `Enabled`/`Suspended` | `PutBucketVersioning` |
//! | `logging.enabled` | `true`/`false` | `PutBucketLogging` |
//! | `public_access_block.off` | each setting turned off, or `all` when the block is deleted | `Put`/`DeleteBucketPublicAccessBlock` |
//! | `encryption` | `removed` | `DeleteBucketEncryption` |
//! | `lifecycle.expire_all_days` | fewest days after which a rule covering the whole bucket expires objects | `PutBucketLifecycle(Configuration)` |
//! | `trail.management_events`, `trail.read_write`, `trail.multi_region`, `trail.global_events` | what a trail still records | `PutEventSelectors`, `UpdateTrail` |
//! | `detector.enable` | `false` when GuardDuty is turned off | `UpdateDetector` |
//! | `filter.action` | `ARCHIVE` for auto-archiving filters | GuardDuty `CreateFilter`/`UpdateFilter` |
//! | `workflow.status` | e.g. `SUPPRESSED` | Security Hub `BatchUpdateFindings` |
//! | `macie.status` | e.g. `PAUSED` | `UpdateMacieSession` |
//! | `rds.skip_final_snapshot`, `rds.delete_automated_backups`, `rds.deletion_protection`, `rds.backup_retention`, `rds.publicly_accessible` | the request's values | RDS delete, modify and restore calls |
//! | `session.ec2_role_delivery` | `1.0`/`2.0`, for instance-profile credentials whose session is not named `i-…` | `userIdentity.sessionContext.ec2RoleDelivery` |
//! | `kms.pending_days` | days before the key is deleted | `ScheduleKeyDeletion` |
//! | `object.version_deleted` | `true` when one version was deleted (no delete marker left to undo) | S3 `DeleteObject` with a `versionId` |

use std::collections::HashMap;
use std::hash::BuildHasher;

use serde_json::Value;
use serde_json::value::RawValue;

use super::cloudtrail::{FactFields, RequestParameters, ResponseElements};
use crate::event::{Facts, Principal, PrincipalKind};

/// Nested bodies larger than this are not parsed for facts (CloudTrail records are at most a
/// few hundred KB; a policy document is at most 10 KB).
const MAX_BODY: usize = 64 * 1024;

/// Actions whose bodies carry facts a detection reads, or that change another identity.
const GATED: &[&str] = &[
    "ec2:ModifySnapshotAttribute",
    "ec2:ModifyImageAttribute",
    "rds:ModifyDBSnapshotAttribute",
    "rds:ModifyDBClusterSnapshotAttribute",
    "rds:DeleteDBInstance",
    "rds:DeleteDBCluster",
    "rds:ModifyDBInstance",
    "rds:ModifyDBCluster",
    "rds:RestoreDBInstanceFromDBSnapshot",
    "rds:RestoreDBClusterFromSnapshot",
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutGroupPolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AddUserToGroup",
    "iam:UploadSSHPublicKey",
    "iam:DeactivateMFADevice",
    "iam:CreateServiceSpecificCredential",
    "iam:UploadSigningCertificate",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "s3:PutBucketVersioning",
    "s3:PutBucketLogging",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:UpdateTrail",
    "guardduty:UpdateDetector",
    "guardduty:CreateFilter",
    "guardduty:UpdateFilter",
    "securityhub:BatchUpdateFindings",
    "macie2:UpdateMacieSession",
    "kms:ScheduleKeyDeletion",
    "s3:DeleteObject",
];

/// Whether the action's request and response are read for facts (case-insensitive: the
/// action carries the catalogue's spelling).
pub(crate) fn needs_facts(action: &str) -> bool {
    GATED.iter().any(|a| a.eq_ignore_ascii_case(action))
}

fn parse(raw: Option<&RawValue>) -> Option<Value> {
    let raw = raw?;
    if raw.get().len() > MAX_BODY {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// A JSON boolean or its string spelling.
fn truthy(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// An object or an array of them (XML-derived bodies give one object when there is one).
fn each(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(facts: &mut Facts, key: &str, value: Option<bool>) {
    if let Some(v) = value {
        facts.push(key, if v { "true" } else { "false" });
    }
}

/// Verdicts of the policy analyser on documents seen in one file, by the document's hash:
/// the analysis costs tens of microseconds and the same document recurs (every apply of the
/// same infrastructure code writes it again). At most [`PolicyVerdicts::MAX`] entries.
#[derive(Default)]
pub(crate) struct PolicyVerdicts {
    seen: HashMap<u64, Option<(bool, bool)>>,
    hasher: foldhash::fast::RandomState,
}

impl PolicyVerdicts {
    const MAX: usize = 1024;

    /// `(administrator-equivalent, escalation path)`, `None` when the document does not parse.
    fn of(&mut self, document: &str) -> Option<(bool, bool)> {
        let key = self.hasher.hash_one(document);
        if let Some(found) = self.seen.get(&key) {
            return *found;
        }
        let verdict = analyse_policy(document);
        if self.seen.len() < Self::MAX {
            self.seen.insert(key, verdict);
        }
        verdict
    }
}

/// Facts of one gated call.
pub(crate) fn extract(
    event_name: &str,
    action: &str,
    request: Option<&RequestParameters<'_>>,
    response: Option<&ResponseElements<'_>>,
    verdicts: &mut PolicyVerdicts,
    facts: &mut Facts,
) {
    let short = action.split_once(':').map_or(action, |(_, name)| name);
    if !short.eq_ignore_ascii_case(event_name) {
        facts.push("call", event_name);
    }
    let Some(request) = request else {
        return;
    };
    let none = FactFields::default();
    let p = request.facts.as_deref().unwrap_or(&none);
    match short {
        "ModifySnapshotAttribute" | "ModifyImageAttribute" => {
            let permission =
                parse(p.create_volume_permission).or_else(|| parse(p.launch_permission));
            if let Some(permission) = permission {
                for (verb, key) in [("add", "share.add"), ("remove", "share.remove")] {
                    let items = permission.get(verb).and_then(|v| v.get("items"));
                    for item in each(items) {
                        if let Some(who) =
                            text(item.get("group")).or_else(|| text(item.get("userId")))
                        {
                            facts.push(key, &who);
                        }
                    }
                }
            }
        }
        "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute"
            if p.attribute_name
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("restore")) =>
        {
            for (raw, key) in [
                (p.values_to_add, "share.add"),
                (p.values_to_remove, "share.remove"),
            ] {
                if let Some(Value::Array(values)) = parse(raw) {
                    for v in values.iter().filter_map(|v| v.as_str()) {
                        facts.push(key, v);
                    }
                }
            }
        }
        "DeleteDBInstance" | "DeleteDBCluster" => {
            flag(facts, "rds.skip_final_snapshot", p.skip_final_snapshot);
            flag(
                facts,
                "rds.delete_automated_backups",
                p.delete_automated_backups,
            );
        }
        "ModifyDBInstance" | "ModifyDBCluster" => {
            flag(facts, "rds.deletion_protection", p.deletion_protection);
            if let Some(days) = p.backup_retention.as_deref() {
                facts.push("rds.backup_retention", days);
            }
            flag(facts, "rds.publicly_accessible", p.publicly_accessible);
        }
        "RestoreDBInstanceFromDBSnapshot" | "RestoreDBClusterFromSnapshot" => {
            flag(facts, "rds.publicly_accessible", p.publicly_accessible);
        }
        "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" => {
            if let Some(arn) = request.policy_arn.as_deref() {
                facts.push("policy.arn", arn);
            }
        }
        "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" | "CreatePolicyVersion" => {
            if let Some(arn) = request.policy_arn.as_deref() {
                facts.push("policy.arn", arn);
            }
            if let Some((admin, escalation)) =
                p.policy_document.as_deref().and_then(|d| verdicts.of(d))
            {
                flag(facts, "policy.admin", Some(admin));
                flag(facts, "policy.escalation", Some(escalation));
            }
        }
        "UpdateAssumeRolePolicy" => {
            if let Some(document) = p.policy_document.as_deref() {
                trust_facts(document, facts);
            }
        }
        "CreateAccessKey" => {
            let created = response.and_then(|r| parse(r.access_key));
            if let Some(key) = created {
                if let Some(id) = text(key.get("accessKeyId")) {
                    facts.push("key.id", &id);
                }
                if let Some(status) = text(key.get("status")) {
                    facts.push("key.status", &status);
                }
            }
        }
        "UpdateAccessKey" => {
            if let Some(id) = p.access_key_id.as_deref() {
                facts.push("key.id", id);
            }
            if let Some(status) = p.status.as_deref() {
                facts.push("key.status", status);
            }
        }
        "PutBucketVersioning" => {
            if let Some(config) = parse(p.versioning) {
                if let Some(status) = text(config.get("Status")) {
                    facts.push("versioning.status", &status);
                }
                if let Some(mfa) = text(config.get("MfaDelete")) {
                    facts.push("versioning.mfa_delete", &mfa);
                }
            }
        }
        "PutBucketLogging" => {
            if let Some(status) = parse(p.logging) {
                let enabled = status.get("LoggingEnabled").is_some_and(|v| !v.is_null());
                flag(facts, "logging.enabled", Some(enabled));
            }
        }
        "PutBucketPublicAccessBlock" => {
            if event_name == "DeleteBucketPublicAccessBlock" {
                facts.push("public_access_block.off", "all");
            } else if let Some(config) = parse(p.public_access_block) {
                for setting in [
                    "BlockPublicAcls",
                    "IgnorePublicAcls",
                    "BlockPublicPolicy",
                    "RestrictPublicBuckets",
                ] {
                    if truthy(config.get(setting)) == Some(false) {
                        facts.push("public_access_block.off", setting);
                    }
                }
            }
        }
        "PutEncryptionConfiguration" if event_name == "DeleteBucketEncryption" => {
            facts.push("encryption", "removed");
        }
        "PutLifecycleConfiguration" => {
            if let Some(config) = parse(p.lifecycle)
                && let Some(days) = expire_all_days(&config)
            {
                facts.push("lifecycle.expire_all_days", &days.to_string());
            }
        }
        "PutEventSelectors" => selector_facts(p, facts),
        "UpdateTrail" => {
            flag(facts, "trail.multi_region", p.multi_region);
            flag(facts, "trail.global_events", p.global_events);
        }
        "UpdateDetector" => flag(facts, "detector.enable", p.enable),
        "CreateFilter" | "UpdateFilter" => {
            if let Some(action) = p.action.as_deref() {
                facts.push("filter.action", action);
            }
        }
        "BatchUpdateFindings" => {
            let workflow = parse(p.workflow).or_else(|| parse(p.workflow_capitalised));
            if let Some(status) = workflow
                .as_ref()
                .and_then(|w| text(w.get("Status")).or_else(|| text(w.get("status"))))
            {
                facts.push("workflow.status", &status);
            }
        }
        "UpdateMacieSession" => {
            if let Some(status) = p.status.as_deref() {
                facts.push("macie.status", status);
            }
        }
        "ScheduleKeyDeletion" => {
            if let Some(days) = p.pending_window_days.as_deref() {
                facts.push("kms.pending_days", days);
            }
        }
        "DeleteObject" if p.version_id.as_deref().is_some_and(|v| !v.is_empty()) => {
            facts.push("object.version_deleted", "true");
        }
        _ => {}
    }
}

/// Whether an inline policy is administrator-equivalent or opens a privilege-escalation path,
/// judged by the same analyser posture uses.
fn analyse_policy(document: &str) -> Option<(bool, bool)> {
    if document.len() > MAX_BODY {
        return None;
    }
    let statements = warrant_aws_policy::parse_policy_document_str(document).ok()?;
    let policy = warrant_core::Policy {
        id: "request#inline".to_string(),
        name: "request".to_string(),
        provider: warrant_core::Provider::Aws,
        kind: warrant_core::PolicyKind::Inline,
        statements,
        provenance: warrant_core::Provenance::default(),
    };
    let attachment = warrant_core::Attachment {
        identity: "request".to_string(),
        policy: policy.id.clone(),
        via: None,
        scope: None,
    };
    let summary = warrant_aws_policy::summarize(&[(&attachment, &policy)], None);
    Some((summary.admin_equivalent, !summary.escalations.is_empty()))
}

/// Who a trust policy lets assume the role.
fn trust_facts(document: &str, facts: &mut Facts) {
    if document.len() > MAX_BODY {
        return;
    }
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return;
    };
    let mut unconditioned = false;
    facts.push("trust.read", "true");
    for statement in each(doc.get("Statement")) {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let principal = statement.get("Principal");
        let mut aws = Vec::new();
        match principal {
            Some(Value::String(s)) => aws.push(s.clone()),
            Some(Value::Object(map)) => match map.get("AWS") {
                Some(Value::String(s)) => aws.push(s.clone()),
                Some(Value::Array(items)) => {
                    aws.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)));
                }
                _ => {}
            },
            _ => {}
        }
        if !aws.is_empty() && statement.get("Condition").is_none() {
            unconditioned = true;
        }
        for who in aws {
            facts.push("trust.principal", &who);
        }
    }
    if unconditioned {
        facts.push("trust.unconditioned", "true");
    }
}

/// The fewest days after which an enabled rule covering the whole bucket (no prefix, tag or
/// size filter) expires current objects.
fn expire_all_days(config: &Value) -> Option<u64> {
    let rules = config.get("Rule").or_else(|| config.get("Rules"));
    each(rules)
        .into_iter()
        .filter(|rule| text(rule.get("Status")).as_deref() == Some("Enabled"))
        .filter(|rule| whole_bucket(rule))
        .filter_map(|rule| {
            let days = rule.get("Expiration").and_then(|e| e.get("Days"))?;
            text(Some(days))?.parse::<u64>().ok()
        })
        .min()
}

fn whole_bucket(rule: &Value) -> bool {
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Object(map)) => map
            .iter()
            .all(|(k, v)| k == "Prefix" && v.as_str().is_some_and(str::is_empty) || v.is_null()),
        _ => false,
    };
    empty(rule.get("Prefix")) && empty(rule.get("Filter"))
}

/// What a trail records after `PutEventSelectors`: management events at all, and which of
/// reads and writes.
fn selector_facts(p: &FactFields<'_>, facts: &mut Facts) {
    if let Some(Value::Array(selectors)) = parse(p.event_selectors) {
        let management: Vec<&Value> = selectors
            .iter()
            .filter(|s| truthy(s.get("includeManagementEvents")) != Some(false))
            .collect();
        flag(
            facts,
            "trail.management_events",
            Some(!management.is_empty()),
        );
        let modes: Vec<String> = management
            .iter()
            .filter_map(|s| text(s.get("readWriteType")))
            .collect();
        if !modes.is_empty() && modes.iter().all(|m| m == "ReadOnly") {
            facts.push("trail.read_write", "ReadOnly");
        }
        for selector in &selectors {
            if let Some(Value::Array(sources)) = selector.get("excludeManagementEventSources") {
                for source in sources.iter().filter_map(Value::as_str) {
                    facts.push("trail.excluded_source", source);
                }
            }
        }
    } else if let Some(Value::Array(selectors)) = parse(p.advanced_event_selectors) {
        // Advanced selectors record management events only through a selector whose
        // `eventCategory` field equals `Management`.
        let management = selectors.iter().any(|s| {
            each(s.get("fieldSelectors")).iter().any(|f| {
                f.get("field").and_then(Value::as_str) == Some("eventCategory")
                    && each_str(f.get("equals")).any(|v| v == "Management")
            })
        });
        flag(facts, "trail.management_events", Some(management));
    }
}

fn each_str(value: Option<&Value>) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    };
    items.into_iter()
}

/// IAM calls that change a user (first) or a role (second) named in the request.
const CHANGES_USER: &[&str] = &[
    "CreateAccessKey",
    "UpdateAccessKey",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "AttachUserPolicy",
    "PutUserPolicy",
    "AddUserToGroup",
    "UploadSSHPublicKey",
    "DeactivateMFADevice",
    "CreateServiceSpecificCredential",
    "UploadSigningCertificate",
    "PutUserPermissionsBoundary",
    "DeleteUserPermissionsBoundary",
];
const CHANGES_ROLE: &[&str] = &[
    "AttachRolePolicy",
    "PutRolePolicy",
    "UpdateAssumeRolePolicy",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
];

/// The IAM user or role a call changes, when that is not the caller itself: an access key
/// created for another user, a policy attached to a role. `None` for self-service calls
/// (`CreateAccessKey` without a user name creates the caller's own key).
pub(crate) fn subject(
    action: &str,
    request: Option<&RequestParameters<'_>>,
    facts: &Facts,
    actor: &Principal,
) -> Option<Principal> {
    let (service, name) = action.split_once(':')?;
    if service != "iam" {
        return None;
    }
    let p = request?;
    let account = actor.account.clone();
    let acct = account.as_deref().unwrap_or("");
    let (kind, arn, target) = if CHANGES_USER.contains(&name) {
        let user = p.user_name.as_deref().filter(|u| !u.is_empty())?;
        let arn = if user.starts_with("arn:") {
            user.to_string()
        } else {
            format!("arn:aws:iam::{acct}:user/{user}")
        };
        (PrincipalKind::AwsUser, arn, user)
    } else if CHANGES_ROLE.contains(&name) {
        let role = p.role_name.as_deref().filter(|r| !r.is_empty())?;
        let arn = if role.starts_with("arn:") {
            role.to_string()
        } else {
            format!("arn:aws:iam::{acct}:role/{role}")
        };
        (PrincipalKind::AwsAssumedRole, arn, role)
    } else {
        return None;
    };
    let same_kind = actor.kind == Some(kind);
    let target_name = target.rsplit('/').next().unwrap_or(target);
    if same_kind && actor.name.as_deref() == Some(target_name) {
        return None;
    }
    Some(Principal {
        kind: Some(kind),
        arn: Some(arn),
        credential: facts.get("key.id").map(str::to_string),
        account,
        name: Some(target_name.to_string()),
        session: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_scope() {
        let all: Value = serde_json::from_str(
            r#"{"Rule":{"ID":"x","Status":"Enabled","Filter":{"Prefix":""},"Expiration":{"Days":1}}}"#,
        )
        .unwrap();
        assert_eq!(expire_all_days(&all), Some(1));
        let logs: Value = serde_json::from_str(
            r#"{"Rule":[{"ID":"x","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":1}}]}"#,
        )
        .unwrap();
        assert_eq!(expire_all_days(&logs), None);
    }

    #[test]
    fn inline_policies_are_analysed() {
        let mut verdicts = PolicyVerdicts::default();
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        // `*` on `*` is administrator access, and every escalation path too.
        assert_eq!(verdicts.of(admin), Some((true, true)));
        assert_eq!(verdicts.of(admin), Some((true, true)));
        let narrow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert_eq!(verdicts.of(narrow), Some((false, false)));
        assert_eq!(verdicts.of("not json"), None);
        assert_eq!(verdicts.seen.len(), 3);
    }
}
