//! AWS exports: `get-account-authorization-details` ([`authorization_details::parse`]),
//! `get-credential-report` CSV ([`credential_report::parse`]), `list-access-keys`
//! ([`access_keys::parse`]), `organizations list-accounts` ([`organizations::parse`]) and the
//! service control policies bundle ([`scps::parse`]), the compute listings whose resources run as
//! roles ([`compute::parse`]: Lambda, CloudFormation, EC2, CodeBuild, Glue), plus
//! [`reconcile`], which joins what these files say about the same users and keys.

pub mod access_keys;
pub mod authorization_details;
pub mod compute;
pub mod credential_report;
pub mod organizations;
pub mod scps;

use std::collections::HashMap;

use warrant_core::{Credential, Inventory, Timestamp};

/// Joins records that several AWS exports give about the same thing, after all files of an
/// import are parsed:
/// - `list-access-keys` credentials name users (`user:NAME`): resolve them to the user's ARN;
/// - credential-report key slots (`ARN#access_key_N`) fold into the access key with the same
///   creation time (AWS reports `last_rotated` = the key's creation), giving one credential per
///   key with its last-used data; unmatched slots stay as they are;
/// - identities without an environment take their account's (from Organizations).
pub fn reconcile(inventory: &mut Inventory) {
    let user_arns: HashMap<String, Vec<String>> = inventory
        .identities
        .iter()
        .filter(|i| i.kind == warrant_core::IdentityKind::AwsUser)
        .fold(HashMap::new(), |mut map, i| {
            map.entry(i.name.clone()).or_default().push(i.id.clone());
            map
        });
    for credential in &mut inventory.credentials {
        if let Some(name) = credential.identity.strip_prefix("user:")
            && let Some(arns) = user_arns.get(name)
            && arns.len() == 1
            && let Some(arn) = arns.first()
        {
            credential.identity = arn.clone();
        }
    }

    // Fold report slots into keys.
    let mut slots: Vec<Credential> = Vec::new();
    let mut keys: Vec<Credential> = Vec::new();
    for credential in inventory.credentials.drain(..) {
        if credential.id.contains("#access_key_") {
            slots.push(credential);
        } else {
            keys.push(credential);
        }
    }
    let same_second = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
        (Some(a), Some(b)) => (a - b).num_seconds().abs() <= 1,
        _ => false,
    };
    // Keys by holder and kind: a linear search per slot was quadratic (tens of thousands of
    // users make it seconds).
    let mut by_holder: HashMap<(String, warrant_core::CredentialKind), Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_holder
            .entry((k.identity.clone(), k.kind))
            .or_default()
            .push(i);
    }
    for slot in slots {
        let holder = (slot.identity.clone(), slot.kind);
        let matching = by_holder.get(&holder).and_then(|candidates| {
            candidates.iter().copied().find(|&i| {
                keys.get(i)
                    .is_some_and(|k| same_second(k.created, slot.created))
            })
        });
        match matching.and_then(|i| keys.get_mut(i)) {
            Some(key) => {
                key.last_used = key.last_used.max(slot.last_used);
                key.active = key.active && slot.active;
                for (k, v) in slot.attributes {
                    key.attributes.entry(k).or_insert(v);
                }
            }
            None => {
                by_holder.entry(holder).or_default().push(keys.len());
                keys.push(slot);
            }
        }
    }
    inventory.credentials = keys;
    authorization_details::apply_account_environments(inventory);
}
