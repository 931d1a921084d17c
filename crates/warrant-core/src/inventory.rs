//! An inventory: every record of one organisation (or one import batch), with look-ups.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    Account, Attachment, Credential, Identity, Owner, Policy, Provider, Resource, TrustEdge,
};

/// "This batch is the complete current picture of this source": records the store holds from the
/// same scope that are missing from the batch are marked as gone (not deleted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceScope {
    /// Connector name, as in [`crate::Provenance::source`].
    pub source: String,
    /// The account, cluster, organisation or file the snapshot covers.
    pub scope: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub identities: Vec<Identity>,
    pub credentials: Vec<Credential>,
    pub policies: Vec<Policy>,
    pub attachments: Vec<Attachment>,
    pub trust_edges: Vec<TrustEdge>,
    pub resources: Vec<Resource>,
    pub owners: Vec<Owner>,
    pub accounts: Vec<Account>,
    /// Complete snapshots contained in this batch (empty for partial imports).
    #[serde(default)]
    pub scopes: Vec<SourceScope>,
}

impl Inventory {
    pub fn is_empty(&self) -> bool {
        self.n_records() == 0
    }

    /// Records of every kind (scopes are not records).
    pub fn n_records(&self) -> usize {
        self.identities.len()
            + self.credentials.len()
            + self.policies.len()
            + self.attachments.len()
            + self.trust_edges.len()
            + self.resources.len()
            + self.owners.len()
            + self.accounts.len()
    }

    /// Appends another batch. Later records win over earlier ones with the same key when the
    /// result is [`Inventory::dedup`]ed.
    pub fn extend(&mut self, other: Inventory) {
        self.identities.extend(other.identities);
        self.credentials.extend(other.credentials);
        self.policies.extend(other.policies);
        self.attachments.extend(other.attachments);
        self.trust_edges.extend(other.trust_edges);
        self.resources.extend(other.resources);
        self.owners.extend(other.owners);
        self.accounts.extend(other.accounts);
        self.scopes.extend(other.scopes);
    }

    /// Keeps the last record for each key (credential id, policy id, …), preserving first
    /// appearance order; identities with the same id are merged field by field.
    pub fn dedup(&mut self) {
        fn last_wins<T, K: std::hash::Hash + Eq>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
            let mut position: HashMap<K, usize> = HashMap::with_capacity(items.len());
            let mut out: Vec<T> = Vec::with_capacity(items.len());
            for item in items.drain(..) {
                match position.get(&key(&item)) {
                    Some(&at) => {
                        if let Some(slot) = out.get_mut(at) {
                            *slot = item;
                        }
                    }
                    None => {
                        position.insert(key(&item), out.len());
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        merge_identities(&mut self.identities);
        last_wins(&mut self.credentials, |c| c.id.clone());
        last_wins(&mut self.policies, |p| p.id.clone());
        last_wins(&mut self.attachments, |a| a.clone());
        last_wins(&mut self.trust_edges, |t| {
            (t.from.clone(), t.to.clone(), t.kind)
        });
        last_wins(&mut self.resources, |r| r.id.clone());
        last_wins(&mut self.owners, |o| o.id.clone());
        last_wins(&mut self.accounts, |a| (a.provider, a.id.clone()));
        self.scopes.sort();
        self.scopes.dedup();
    }

    /// Accounts of a provider the organisation declares as its own.
    pub fn our_accounts(&self, provider: Provider) -> impl Iterator<Item = &Account> {
        self.accounts.iter().filter(move |a| a.provider == provider)
    }

    /// Builds an index for graph walks and look-ups.
    pub fn index(&self) -> InventoryIndex<'_> {
        InventoryIndex::new(self)
    }
}

/// Folds records with the same id into the first one (see [`Identity::merge_from`]).
fn merge_identities(identities: &mut Vec<Identity>) {
    let mut position: HashMap<String, usize> = HashMap::with_capacity(identities.len());
    let mut out: Vec<Identity> = Vec::with_capacity(identities.len());
    for identity in identities.drain(..) {
        match position.get(&identity.id) {
            Some(&at) => {
                if let Some(slot) = out.get_mut(at) {
                    slot.merge_from(identity);
                }
            }
            None => {
                position.insert(identity.id.clone(), out.len());
                out.push(identity);
            }
        }
    }
    *identities = out;
}

/// Borrowed look-ups over an [`Inventory`].
pub struct InventoryIndex<'a> {
    pub inventory: &'a Inventory,
    pub identity_by_id: HashMap<&'a str, &'a Identity>,
    pub policy_by_id: HashMap<&'a str, &'a Policy>,
    pub owner_by_id: HashMap<String, &'a Owner>,
    pub credentials_by_identity: HashMap<&'a str, Vec<&'a Credential>>,
    pub attachments_by_identity: HashMap<&'a str, Vec<&'a Attachment>>,
    /// Edges grouped by the identity they lead to.
    pub trust_into: HashMap<&'a str, Vec<&'a TrustEdge>>,
    /// Edges grouped by the principal they start from.
    pub trust_from: HashMap<&'a str, Vec<&'a TrustEdge>>,
}

impl<'a> InventoryIndex<'a> {
    fn new(inventory: &'a Inventory) -> Self {
        let mut index = InventoryIndex {
            inventory,
            identity_by_id: inventory
                .identities
                .iter()
                .map(|i| (i.id.as_str(), i))
                .collect(),
            policy_by_id: inventory
                .policies
                .iter()
                .map(|p| (p.id.as_str(), p))
                .collect(),
            owner_by_id: HashMap::new(),
            credentials_by_identity: HashMap::new(),
            attachments_by_identity: HashMap::new(),
            trust_into: HashMap::new(),
            trust_from: HashMap::new(),
        };
        for owner in &inventory.owners {
            index
                .owner_by_id
                .insert(owner.id.to_ascii_lowercase(), owner);
            for alias in [&owner.email, &owner.login].into_iter().flatten() {
                index
                    .owner_by_id
                    .entry(alias.to_ascii_lowercase())
                    .or_insert(owner);
            }
        }
        for credential in &inventory.credentials {
            index
                .credentials_by_identity
                .entry(credential.identity.as_str())
                .or_default()
                .push(credential);
        }
        for attachment in &inventory.attachments {
            index
                .attachments_by_identity
                .entry(attachment.identity.as_str())
                .or_default()
                .push(attachment);
        }
        for edge in &inventory.trust_edges {
            index
                .trust_into
                .entry(edge.to.as_str())
                .or_default()
                .push(edge);
            index
                .trust_from
                .entry(edge.from.as_str())
                .or_default()
                .push(edge);
        }
        index
    }

    /// The owner record an owner reference points at, matched case-insensitively on id, email
    /// or login.
    pub fn owner(&self, id: &str) -> Option<&'a Owner> {
        self.owner_by_id.get(&id.to_ascii_lowercase()).copied()
    }

    /// Policies held by an identity, with the attachment that grants each.
    pub fn policies_of(&self, identity: &str) -> Vec<(&'a Attachment, &'a Policy)> {
        self.attachments_by_identity
            .get(identity)
            .into_iter()
            .flatten()
            .filter_map(|a| self.policy_by_id.get(a.policy.as_str()).map(|p| (*a, *p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IdentityKind, Provider};

    #[test]
    fn dedup_merges_partial_identity_records_in_first_position() {
        let mut inv = Inventory::default();
        let mut first = Identity::new("a", IdentityKind::AwsUser, Provider::Aws, "first");
        first.purpose = Some("nightly export".into());
        inv.identities.push(first);
        inv.identities.push(Identity::new(
            "b",
            IdentityKind::AwsUser,
            Provider::Aws,
            "b",
        ));
        let mut partial = Identity::new("a", IdentityKind::Other, Provider::Aws, "second");
        partial.login = Some(crate::InteractiveLogin {
            password_enabled: true,
            ..Default::default()
        });
        inv.identities.push(partial);
        inv.dedup();
        let names: Vec<_> = inv.identities.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["second", "b"]);
        let a = &inv.identities[0];
        assert_eq!(
            a.kind,
            IdentityKind::AwsUser,
            "a partial record's unknown kind does not win"
        );
        assert_eq!(
            a.purpose.as_deref(),
            Some("nightly export"),
            "known values are kept"
        );
        assert!(a.login.as_ref().is_some_and(|l| l.password_enabled));
    }
}
