//! What a sensitive call's facts (request and response contents) say about it: the same API
//! is harmless or critical depending on what it asked for. A snapshot shared with `all` is
//! public; suspending versioning is not enabling it; attaching `AdministratorAccess` is not
//! attaching `ReadOnlyAccess`.

use warrant_core::Severity;

use super::catalog::SensitiveAction;
use crate::event::Event;

/// The verdict on one call of a catalogued action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judgement {
    pub severity: Severity,
    /// Raise even when the identity has made the call before.
    pub always: bool,
    /// What the facts showed, as an evidence sentence.
    pub note: Option<String>,
}

/// AWS managed policies that grant administrator access or a path to it.
const ADMIN_MANAGED_POLICIES: &[&str] = &[
    "AdministratorAccess",
    "IAMFullAccess",
    "AWSOrganizationsFullAccess",
    "PowerUserAccess",
];

/// Actions whose risk lies wholly in their parameters: without a fact showing harm, the call
/// is routine (versioning enabled, logging configured, a filter that only notifies).
const NEEDS_HARMFUL_FACT: &[&str] = &[
    "s3:PutBucketVersioning",
    "s3:PutBucketLogging",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "guardduty:UpdateDetector",
    "guardduty:CreateFilter",
    "guardduty:UpdateFilter",
    "securityhub:BatchUpdateFindings",
    "macie2:UpdateMacieSession",
    "rds:ModifyDBInstance",
    "rds:ModifyDBCluster",
    "rds:RestoreDBInstanceFromDBSnapshot",
    "rds:DeleteDBInstance",
    "rds:DeleteDBCluster",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:UpdateTrail",
    "iam:UpdateAccessKey",
];

fn listed(entry: &SensitiveAction) -> Judgement {
    Judgement {
        severity: entry.severity,
        always: entry.always,
        note: None,
    }
}

fn raised(severity: Severity, note: String) -> Option<Judgement> {
    Some(Judgement {
        severity,
        always: true,
        note: Some(note),
    })
}

/// The verdict on `event`, a call of `entry`'s action; `None` when its facts show it harmless.
pub(crate) fn judge(entry: &SensitiveAction, event: &Event) -> Option<Judgement> {
    let f = &event.facts;
    let action = entry.action;
    let harmful = match action {
        "ec2:ModifySnapshotAttribute"
        | "ec2:ModifyImageAttribute"
        | "rds:ModifyDBSnapshotAttribute"
        | "rds:ModifyDBClusterSnapshotAttribute" => {
            let added: Vec<&str> = f.all("share.add").collect();
            if added.iter().any(|who| who.eq_ignore_ascii_case("all")) {
                return raised(
                    Severity::Critical,
                    "The resource was made public: shared with `all`, every AWS account may copy it."
                        .to_string(),
                );
            }
            if !added.is_empty() {
                let own = event.principal.account.as_deref();
                let outside: Vec<&str> = added.into_iter().filter(|a| Some(*a) != own).collect();
                if outside.is_empty() {
                    return None;
                }
                return Some(Judgement {
                    note: Some(format!("Shared with account {}.", outside.join(", "))),
                    ..listed(entry)
                });
            }
            // Only sharing taken away is not exfiltration; with nothing readable, the call
            // is judged as listed.
            f.get("share.remove").is_none()
        }
        "iam:AttachUserPolicy" | "iam:AttachRolePolicy" | "iam:AttachGroupPolicy" => {
            let arn = f.get("policy.arn").unwrap_or("");
            let name = arn.rsplit('/').next().unwrap_or("");
            let aws_managed = arn.contains(":iam::aws:policy/");
            if aws_managed && ADMIN_MANAGED_POLICIES.contains(&name) {
                return raised(
                    Severity::Critical,
                    format!("The policy attached, {name}, is administrator-equivalent."),
                );
            }
            // AWS's read-only managed policies change nothing and grant no path to more.
            if aws_managed
                && (name.ends_with("ReadOnlyAccess")
                    || name.ends_with("ReadOnly")
                    || name == "ViewOnlyAccess"
                    || name == "SecurityAudit")
            {
                return None;
            }
            true
        }
        "iam:PutUserPolicy"
        | "iam:PutRolePolicy"
        | "iam:PutGroupPolicy"
        | "iam:CreatePolicyVersion" => {
            if f.get("policy.admin") == Some("true") {
                return raised(
                    Severity::Critical,
                    "The policy written is administrator-equivalent (it allows every action on every resource, or as good as)."
                        .to_string(),
                );
            }
            if f.get("policy.escalation") == Some("true") {
                return raised(
                    Severity::High,
                    "The policy written opens a privilege-escalation path.".to_string(),
                );
            }
            if f.get("policy.admin") == Some("false") {
                // Read and found narrow: neither administrator nor an escalation path.
                return None;
            }
            true
        }
        "iam:UpdateAssumeRolePolicy" => {
            let own = event.principal.account.as_deref().unwrap_or("");
            let trusted: Vec<&str> = f.all("trust.principal").collect();
            if trusted.contains(&"*") && f.get("trust.unconditioned") == Some("true") {
                return raised(
                    Severity::Critical,
                    "The role now trusts every AWS principal (`*`) without a condition."
                        .to_string(),
                );
            }
            let foreign: Vec<&str> = trusted
                .iter()
                .copied()
                .filter(|p| *p != "*" && !own.is_empty() && !p.contains(own))
                .collect();
            if !foreign.is_empty() {
                return raised(
                    Severity::High,
                    format!(
                        "The role now trusts another account: {}.",
                        foreign.join(", ")
                    ),
                );
            }
            // Read, and trusting only this account's principals or services: routine.
            f.get("trust.read").is_none()
        }
        "iam:UpdateAccessKey" => f
            .get("key.status")
            .is_some_and(|s| s.eq_ignore_ascii_case("Active")),
        "s3:PutBucketVersioning" => f
            .get("versioning.status")
            .is_some_and(|s| s.eq_ignore_ascii_case("Suspended")),
        "s3:PutBucketLogging" => f.get("logging.enabled") == Some("false"),
        "s3:PutBucketPublicAccessBlock" => {
            let off: Vec<&str> = f.all("public_access_block.off").collect();
            if off.is_empty() {
                return None;
            }
            let note = if off.contains(&"all") {
                "The bucket's public access block was deleted.".to_string()
            } else {
                format!(
                    "Public access block settings turned off: {}.",
                    off.join(", ")
                )
            };
            return Some(Judgement {
                note: Some(note),
                ..listed(entry)
            });
        }
        "s3:PutEncryptionConfiguration" => f.get("encryption") == Some("removed"),
        "s3:PutLifecycleConfiguration" => {
            let days = f
                .get("lifecycle.expire_all_days")
                .and_then(|d| d.parse::<u64>().ok())?;
            // A retention rule keeps data for weeks or more; expiring a whole bucket within a
            // week is how a bucket is emptied without a single DeleteObject call.
            if days > 7 {
                return None;
            }
            return raised(
                Severity::High,
                format!("Every object of the bucket expires after {days} day(s)."),
            );
        }
        "guardduty:UpdateDetector" => {
            if f.get("detector.enable") == Some("false") {
                return raised(
                    Severity::Critical,
                    "GuardDuty was turned off (`enable: false`).".to_string(),
                );
            }
            false
        }
        "guardduty:CreateFilter" | "guardduty:UpdateFilter" => f
            .get("filter.action")
            .is_some_and(|a| a.eq_ignore_ascii_case("ARCHIVE")),
        "securityhub:BatchUpdateFindings" => f
            .get("workflow.status")
            .is_some_and(|s| s.eq_ignore_ascii_case("SUPPRESSED")),
        "macie2:UpdateMacieSession" => f
            .get("macie.status")
            .is_some_and(|s| s.eq_ignore_ascii_case("PAUSED")),
        "rds:DeleteDBInstance" | "rds:DeleteDBCluster" => {
            if f.get("rds.skip_final_snapshot") == Some("true") {
                let backups = if f.get("rds.delete_automated_backups") == Some("false") {
                    ""
                } else {
                    " and its automated backups deleted with it"
                };
                return raised(
                    Severity::Critical,
                    format!("The database was deleted without a final snapshot{backups}."),
                );
            }
            false
        }
        "rds:ModifyDBInstance" | "rds:ModifyDBCluster" => {
            let mut notes = Vec::new();
            if f.get("rds.deletion_protection") == Some("false") {
                notes.push("deletion protection turned off");
            }
            if f.get("rds.backup_retention") == Some("0") {
                notes.push("automated backups turned off (retention 0 days)");
            }
            if f.get("rds.publicly_accessible") == Some("true") {
                notes.push("made publicly accessible");
            }
            if notes.is_empty() {
                return None;
            }
            return raised(
                Severity::High,
                format!("The database was changed: {}.", notes.join(", ")),
            );
        }
        "rds:RestoreDBInstanceFromDBSnapshot" => {
            if f.get("rds.publicly_accessible") == Some("true") {
                return raised(
                    Severity::High,
                    "The snapshot was restored as a publicly accessible database.".to_string(),
                );
            }
            false
        }
        "cloudtrail:PutEventSelectors" => {
            let mut notes = Vec::new();
            if f.get("trail.management_events") == Some("false") {
                notes.push("management events are no longer recorded".to_string());
            }
            if f.get("trail.read_write") == Some("ReadOnly") {
                notes.push("only read calls are recorded, writes are not".to_string());
            }
            let excluded: Vec<&str> = f.all("trail.excluded_source").collect();
            if !excluded.is_empty() {
                notes.push(format!("events of {} are excluded", excluded.join(", ")));
            }
            if notes.is_empty() {
                return None;
            }
            return raised(
                Severity::Critical,
                format!("The trail's event selectors changed: {}.", notes.join("; ")),
            );
        }
        "cloudtrail:UpdateTrail" => {
            let mut notes = Vec::new();
            if f.get("trail.multi_region") == Some("false") {
                notes.push("it now records one region only");
            }
            if f.get("trail.global_events") == Some("false") {
                notes.push("it no longer records global services such as IAM and STS");
            }
            if notes.is_empty() {
                return None;
            }
            return raised(
                Severity::High,
                format!("The trail was narrowed: {}.", notes.join("; ")),
            );
        }
        "kms:ScheduleKeyDeletion" => {
            if let Some(days) = f.get("kms.pending_days") {
                return Some(Judgement {
                    note: Some(format!(
                        "The key and everything encrypted with it becomes unreadable in {days} days."
                    )),
                    ..listed(entry)
                });
            }
            true
        }
        _ => true,
    };
    if !harmful {
        return None;
    }
    if NEEDS_HARMFUL_FACT.contains(&action) {
        // The catalogue's effect sentence states the harm the fact showed.
        return raised(entry.severity, format!("The request {}.", entry.effect));
    }
    Some(listed(entry))
}
