//! AWS Organizations service control policies, with where they are attached: the bundle
//! `scripts/export-aws-scps.sh` writes from the Organizations API's own outputs.
//!
//! ```json
//! {
//!   "ManagementAccountId": "333333333333",
//!   "Parents": { "111111111111": "ou-ab12-prod", "ou-ab12-prod": "r-ab12" },
//!   "ServiceControlPolicies": [
//!     { "PolicySummary": { "Id": "p-…", "Arn": "arn:aws:organizations::…", "Name": "…" },
//!       "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[…]}",
//!       "Targets": [ { "TargetId": "r-ab12", "Type": "ROOT" } ] }
//!   ]
//! }
//! ```
//!
//! - `ManagementAccountId`: `describe-organization` (`.Organization.MasterAccountId`). SCPs do
//!   not limit the management account.
//! - `Parents`: for each account and OU, its parent (`list-parents`, `.Parents[0].Id`).
//! - each policy: `describe-policy` (`.Policy`) plus its `list-targets-for-policy` targets.
//!
//! Every account the bundle places in the tree gets one attachment per SCP on its path from
//! the root (see [`warrant_core::scp_via`]); the analysis requires every level to allow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use warrant_core::{Attachment, Inventory, Policy, PolicyKind, Provenance, Provider};

use crate::error::Location;
use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "aws-organizations-scps";

/// Trees are shallow (AWS allows five OU levels below the root); a longer chain is a cycle.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScpBundle {
    #[serde(default)]
    pub management_account_id: Option<String>,
    #[serde(default)]
    pub parents: BTreeMap<String, String>,
    pub service_control_policies: Vec<ScpEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScpEntry {
    pub policy_summary: PolicySummary,
    /// The policy document, as the API returns it: JSON text.
    pub content: String,
    #[serde(default)]
    pub targets: Vec<ScpTarget>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicySummary {
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub r#type: Option<String>,
    #[serde(default)]
    pub aws_managed: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScpTarget {
    pub target_id: String,
    #[serde(default)]
    pub r#type: Option<String>,
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

pub fn parse(
    origin: &Path,
    bytes: &[u8],
    _ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let bundle: ScpBundle = crate::common::decode_json(origin, bytes)?;
    to_inventory(origin, &bundle)
}

pub fn to_inventory(origin: &Path, bundle: &ScpBundle) -> Result<Inventory, ConnectorError> {
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let mut inventory = Inventory::default();
    // Policy id → its ARN (the inventory's policy id), and target → policies attached there.
    let mut attached_at: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, entry) in bundle.service_control_policies.iter().enumerate() {
        let at = |field: &str| Location::JsonPath(format!("ServiceControlPolicies[{i}]{field}"));
        if let Some(kind) = entry.policy_summary.r#type.as_deref()
            && kind != "SERVICE_CONTROL_POLICY"
        {
            // Tag, backup and AI opt-out policies grant and limit nothing in IAM.
            continue;
        }
        let statements =
            warrant_aws_policy::parse_policy_document_str(&entry.content).map_err(|e| {
                ConnectorError::new(
                    origin,
                    at(".Content"),
                    format!("not a policy document: {e}"),
                )
            })?;
        let id = entry
            .policy_summary
            .arn
            .clone()
            .unwrap_or_else(|| format!("scp:{}", entry.policy_summary.id));
        if id.trim().is_empty() || entry.policy_summary.id.trim().is_empty() {
            return Err(ConnectorError::new(
                origin,
                at(".PolicySummary.Id"),
                "a policy without an id",
            ));
        }
        for target in &entry.targets {
            attached_at
                .entry(target.target_id.as_str())
                .or_default()
                .push(id.clone());
        }
        inventory.policies.push(Policy {
            id,
            name: entry
                .policy_summary
                .name
                .clone()
                .unwrap_or_else(|| entry.policy_summary.id.clone()),
            provider: Provider::Aws,
            kind: PolicyKind::ServiceControl,
            statements,
            provenance: provenance.clone(),
        });
    }

    // Every account the bundle knows: children in the tree, and accounts targeted directly.
    let accounts: BTreeSet<&str> = bundle
        .parents
        .keys()
        .map(String::as_str)
        .chain(attached_at.keys().copied())
        .filter(|id| is_account_id(id))
        .collect();
    for account in accounts {
        if bundle.management_account_id.as_deref() == Some(account) {
            continue;
        }
        // The path from the account up to the root, then read root first.
        let mut chain = vec![account];
        while let Some(parent) = chain.last().and_then(|c| bundle.parents.get(*c)) {
            if chain.len() > MAX_DEPTH || chain.contains(&parent.as_str()) {
                return Err(ConnectorError::new(
                    origin,
                    Location::JsonPath(format!("Parents.{account}")),
                    "the organisation tree above this account loops or is deeper than AWS allows",
                ));
            }
            chain.push(parent);
        }
        chain.reverse();
        for (level, node) in chain.iter().enumerate() {
            for policy in attached_at.get(node).into_iter().flatten() {
                inventory.attachments.push(Attachment {
                    identity: warrant_core::scp_holder(account),
                    policy: policy.clone(),
                    via: Some(warrant_core::scp_via(level, node)),
                    scope: None,
                });
            }
        }
    }
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(json: &str) -> Result<Inventory, ConnectorError> {
        let ctx = ImportContext::new(warrant_core::Fingerprinter::new(b"t"));
        parse(Path::new("scps.json"), json.as_bytes(), &ctx)
    }

    const FULL: &str = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"#;

    #[test]
    fn accounts_get_every_policy_on_their_path_from_the_root() {
        let json = format!(
            r#"{{
              "ManagementAccountId": "333333333333",
              "Parents": {{"111111111111": "ou-ab12-prod", "ou-ab12-prod": "r-ab12",
                           "222222222222": "r-ab12", "333333333333": "r-ab12"}},
              "ServiceControlPolicies": [
                {{"PolicySummary": {{"Id": "p-FullAWSAccess", "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": true}},
                  "Content": "{FULL}",
                  "Targets": [{{"TargetId": "r-ab12", "Type": "ROOT"}}, {{"TargetId": "ou-ab12-prod", "Type": "ORGANIZATIONAL_UNIT"}}, {{"TargetId": "111111111111", "Type": "ACCOUNT"}}, {{"TargetId": "222222222222", "Type": "ACCOUNT"}}]}},
                {{"PolicySummary": {{"Id": "p-denyiam", "Name": "deny-iam"}},
                  "Content": "{{\"Statement\":{{\"Effect\":\"Deny\",\"Action\":\"iam:*\",\"Resource\":\"*\"}}}}",
                  "Targets": [{{"TargetId": "ou-ab12-prod"}}]}}
              ]
            }}"#
        );
        let inv = bundle(&json).unwrap();
        assert_eq!(inv.policies.len(), 2);
        assert!(
            inv.policies
                .iter()
                .all(|p| p.kind == PolicyKind::ServiceControl)
        );
        let of = |account: &str| -> Vec<(String, String)> {
            inv.attachments
                .iter()
                .filter(|a| a.identity == warrant_core::scp_holder(account))
                .map(|a| (a.via.clone().unwrap_or_default(), a.policy.clone()))
                .collect()
        };
        let prod = of("111111111111");
        assert_eq!(prod.len(), 4, "{prod:?}");
        assert!(prod.contains(&("scp:1:ou-ab12-prod".into(), "scp:p-denyiam".into())));
        assert!(prod.iter().any(|(via, _)| via == "scp:0:r-ab12"));
        assert!(prod.iter().any(|(via, _)| via == "scp:2:111111111111"));
        assert_eq!(of("222222222222").len(), 2);
        // The management account is not limited.
        assert!(of("333333333333").is_empty());
    }

    #[test]
    fn a_broken_document_or_a_looping_tree_names_the_place() {
        let bad = r#"{"ServiceControlPolicies": [{"PolicySummary": {"Id": "p-1"}, "Content": "{not json"}]}"#;
        let e = bundle(bad).unwrap_err().to_string();
        assert!(
            e.contains("scps.json") && e.contains("ServiceControlPolicies[0].Content"),
            "{e}"
        );
        let looping = r#"{"Parents": {"111111111111": "ou-a", "ou-a": "ou-b", "ou-b": "ou-a"},
            "ServiceControlPolicies": []}"#;
        let e = bundle(looping).unwrap_err().to_string();
        assert!(
            e.contains("Parents.111111111111") && e.contains("loops"),
            "{e}"
        );
    }
}
