//! Right-sizing: what an identity is granted against what it used, and a least-privilege AWS
//! policy covering only the observed use.
//!
//! Only actions that were both granted and used successfully go into the generated policy.
//! Calls that were refused, or succeeded without a grant the analysis can see (resource
//! policies, actions missing from the catalogue), are reported beside it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use warrant_aws_policy::{Analyzer, catalog};
use warrant_core::{Attachment, Policy};

use crate::baseline::iam_action;
use crate::detect::rules::thousands;
use crate::event::{Event, LogKind, Outcome};

/// Above this many distinct ARNs for one action, ARNs are widened to their parent path
/// (`bucket/key` → `bucket/*`) so the policy stays readable.
const MAX_ARNS_PER_ACTION: usize = 10;

/// Granted versus used for one identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RightSizeReport {
    pub identity: String,
    /// Number of concrete actions the identity's policies allow.
    pub granted_actions: usize,
    /// Services with at least one allowed action.
    pub granted_services: usize,
    /// Granted actions called successfully, with their call counts.
    pub used: BTreeMap<String, u64>,
    /// Services of `used`.
    pub used_services: BTreeSet<String>,
    /// Granted services the identity never used.
    pub unused_services: Vec<String>,
    /// Granted but unused actions, counted per service.
    pub unused_actions_by_service: BTreeMap<String, usize>,
    pub unused_actions: usize,
    /// Calls refused (denied or failed authentication), per action: used but not granted.
    pub denied: BTreeMap<String, u64>,
    /// Successful calls of actions the analysed policies do not grant (granted elsewhere, e.g.
    /// by a resource policy, or unknown to the catalogue).
    pub used_not_granted: BTreeMap<String, u64>,
    /// The generated least-privilege policy document (serialises in IAM's usual key order).
    pub policy: PolicyDocument,
    /// Caveats of the generated policy (wildcard resources, widened ARNs).
    pub notes: Vec<String>,
    /// One line: "uses 7 of 2,300 granted actions in 3 of 40 services".
    pub summary: String,
}

/// An AWS IAM policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDocument {
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Statement")]
    pub statement: Vec<PolicyStatement>,
}

/// One `Allow` statement of a generated policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyStatement {
    #[serde(rename = "Sid")]
    pub sid: String,
    #[serde(rename = "Effect")]
    pub effect: String,
    /// Sorted.
    #[serde(rename = "Action")]
    pub action: Vec<String>,
    /// One ARN or `*` as a string, several as an array (as IAM writes them).
    #[serde(rename = "Resource")]
    pub resource: OneOrMany,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl PolicyDocument {
    /// Pretty JSON, ready for `aws iam create-policy --policy-document`.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Right-sizes `identity` holding `policies` (as `warrant-posture` passes them to the analyser).
pub fn rightsize_policies(
    identity: &str,
    analyzer: &Analyzer,
    policies: &[(&Attachment, &Policy)],
    events: &[Event],
) -> RightSizeReport {
    rightsize(identity, &analyzer.allowed_actions(policies), events)
}

/// Right-sizes `identity` given its granted concrete actions (`service:Action`) and its events
/// over the right-sizing window. Only CloudTrail events are considered: the generated policy
/// is an AWS policy.
pub fn rightsize(identity: &str, granted: &BTreeSet<String>, events: &[Event]) -> RightSizeReport {
    let calls = events
        .iter()
        .filter(|e| e.log == LogKind::CloudTrail)
        .map(|e| Calls {
            action: &e.action,
            refused: matches!(e.outcome, Outcome::Denied | Outcome::AuthFailed),
            resources: &e.resources,
            n: 1,
        });
    rightsize_calls(identity, granted, calls)
}

/// Right-sizes from the usage aggregates the store keeps (`Store::usage_for`): each record's
/// successful calls count as used, its failed calls as refused. Only AWS actions
/// (`service:Action`) are considered.
pub fn rightsize_usage(
    identity: &str,
    granted: &BTreeSet<String>,
    usage: &[warrant_core::UsageRecord],
) -> RightSizeReport {
    let resources: Vec<Vec<String>> = usage
        .iter()
        .map(|u| u.resource.iter().cloned().collect())
        .collect();
    let mut calls = Vec::new();
    for (record, resources) in usage.iter().zip(&resources) {
        // Kubernetes (`get:secrets`) and agent (`tool:x`) usage has no AWS policy to right-size.
        if record.action.contains('/') || record.action.starts_with("tool:") {
            continue;
        }
        let ok = record.count.saturating_sub(record.errors);
        if ok > 0 {
            calls.push(Calls {
                action: &record.action,
                refused: false,
                resources,
                n: ok,
            });
        }
        if record.errors > 0 {
            calls.push(Calls {
                action: &record.action,
                refused: true,
                resources,
                n: record.errors,
            });
        }
    }
    rightsize_calls(identity, granted, calls.into_iter())
}

/// Calls of one action with one outcome and resource list, `n` times.
struct Calls<'a> {
    action: &'a str,
    refused: bool,
    resources: &'a [String],
    n: u64,
}

fn rightsize_calls<'a>(
    identity: &str,
    granted: &BTreeSet<String>,
    calls: impl Iterator<Item = Calls<'a>>,
) -> RightSizeReport {
    let c = catalog();
    // Lower-case name → granted spelling, so event spellings match whatever the case.
    let granted_lower: BTreeMap<String, &str> = granted
        .iter()
        .map(|a| (a.to_ascii_lowercase(), a.as_str()))
        .collect();
    let mut used: BTreeMap<String, u64> = BTreeMap::new();
    let mut denied: BTreeMap<String, u64> = BTreeMap::new();
    let mut not_granted: BTreeMap<String, u64> = BTreeMap::new();
    // action → resources seen, and whether some call named none
    let mut resources: BTreeMap<String, (BTreeSet<String>, bool)> = BTreeMap::new();
    for call in calls {
        let raw = iam_action(call.action);
        let canonical = c
            .index_of(raw)
            .map(|i| c.name(i).to_string())
            .unwrap_or_else(|| raw.to_string());
        if call.refused {
            *denied.entry(canonical).or_insert(0) += call.n;
            continue;
        }
        // An errored call (throttling, missing resource) was still authorised.
        match granted_lower.get(&canonical.to_ascii_lowercase()) {
            Some(name) => {
                let name = name.to_string();
                *used.entry(name.clone()).or_insert(0) += call.n;
                let slot = resources.entry(name).or_default();
                let arns: Vec<&String> = call
                    .resources
                    .iter()
                    .filter(|r| r.starts_with("arn:"))
                    .collect();
                if arns.is_empty() {
                    slot.1 = true;
                }
                slot.0.extend(arns.into_iter().cloned());
            }
            None => *not_granted.entry(canonical).or_insert(0) += call.n,
        }
    }
    let service_of = |action: &str| action.split(':').next().unwrap_or("").to_ascii_lowercase();
    let granted_by_service: BTreeMap<String, usize> =
        granted.iter().fold(BTreeMap::new(), |mut m, a| {
            *m.entry(service_of(a)).or_insert(0) += 1;
            m
        });
    let used_services: BTreeSet<String> = used.keys().map(|a| service_of(a)).collect();
    let mut unused_actions_by_service = BTreeMap::new();
    for (service, n) in &granted_by_service {
        let used_here = used.keys().filter(|a| service_of(a) == *service).count();
        if n > &used_here {
            unused_actions_by_service.insert(service.clone(), n - used_here);
        }
    }
    let unused_services: Vec<String> = granted_by_service
        .keys()
        .filter(|s| !used_services.contains(*s))
        .cloned()
        .collect();
    let unused_actions = granted.len().saturating_sub(used.len());
    let (policy, notes) = least_privilege_policy(&resources);
    let summary = format!(
        "{identity} uses {} of {} granted actions in {} of {} services",
        thousands(used.len() as u64),
        thousands(granted.len() as u64),
        thousands(used_services.len() as u64),
        thousands(granted_by_service.len() as u64),
    );
    RightSizeReport {
        identity: identity.to_string(),
        granted_actions: granted.len(),
        granted_services: granted_by_service.len(),
        used,
        used_services,
        unused_services,
        unused_actions_by_service,
        unused_actions,
        denied,
        used_not_granted: not_granted,
        policy,
        notes,
        summary,
    }
}

/// `bucket/key/x` → `bucket/key/*`; ARNs without a path stay.
fn widen(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.split_at_checked(5) {
        Some((head, [resource])) if resource.contains('/') => {
            let keep = resource.split('/').next().unwrap_or("");
            format!("{}:{keep}/*", head.join(":"))
        }
        _ => arn.to_string(),
    }
}

fn sid_for(service: &str, n: usize) -> String {
    let mut sid: String = service
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    sid.push_str(&format!("Used{n}"));
    sid
}

/// One statement per service and resource set, actions sorted.
fn least_privilege_policy(
    resources: &BTreeMap<String, (BTreeSet<String>, bool)>,
) -> (PolicyDocument, Vec<String>) {
    let mut notes = Vec::new();
    // service → resource list → actions
    let mut grouped: BTreeMap<String, BTreeMap<Vec<String>, BTreeSet<String>>> = BTreeMap::new();
    let mut wildcard_actions = Vec::new();
    for (action, (arns, some_without)) in resources {
        let service = action.split(':').next().unwrap_or("").to_ascii_lowercase();
        let list: Vec<String> = if *some_without || arns.is_empty() {
            wildcard_actions.push(action.clone());
            vec!["*".to_string()]
        } else if arns.len() > MAX_ARNS_PER_ACTION {
            notes.push(format!(
                "{action} touched {} resources; they are widened to their parent paths.",
                thousands(arns.len() as u64)
            ));
            arns.iter()
                .map(|a| widen(a))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        } else {
            arns.iter().cloned().collect()
        };
        grouped
            .entry(service)
            .or_default()
            .entry(list)
            .or_default()
            .insert(action.clone());
    }
    if !wildcard_actions.is_empty() {
        notes.push(format!(
            "Resource `*` for {} because the logs do not name the resources of all their calls: {}.",
            if wildcard_actions.len() == 1 { "1 action" } else { "these actions" },
            wildcard_actions.join(", ")
        ));
    }
    let mut statement = Vec::new();
    for (service, by_resources) in &grouped {
        for (n, (list, actions)) in by_resources.iter().enumerate() {
            let resource = match list.as_slice() {
                [one] => OneOrMany::One(one.clone()),
                many => OneOrMany::Many(many.to_vec()),
            };
            statement.push(PolicyStatement {
                sid: sid_for(service, n + 1),
                effect: "Allow".to_string(),
                action: actions.iter().cloned().collect(),
                resource,
            });
        }
    }
    (
        PolicyDocument {
            version: "2012-10-17".to_string(),
            statement,
        },
        notes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_paths_only() {
        assert_eq!(
            widen("arn:aws:s3:::bucket/a/b.csv"),
            "arn:aws:s3:::bucket/*"
        );
        assert_eq!(widen("arn:aws:s3:::bucket"), "arn:aws:s3:::bucket");
        assert_eq!(
            widen("arn:aws:dynamodb:eu-west-1:1:table/orders"),
            "arn:aws:dynamodb:eu-west-1:1:table/*"
        );
    }

    #[test]
    fn sids_are_alphanumeric() {
        assert_eq!(sid_for("s3", 1), "S3Used1");
        assert_eq!(
            sid_for("ec2-instance-connect", 2),
            "Ec2InstanceConnectUsed2"
        );
    }
}
