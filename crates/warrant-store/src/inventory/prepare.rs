//! A batch turned into rows: keys, snapshot scopes (see the crate docs), JSON and hashes.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use warrant_core::{
    Account, Attachment, Credential, Identity, Inventory, Owner, Policy, Resource, TrustEdge,
};

use super::{
    ACCOUNTS, ATTACHMENTS, CREDENTIALS, IDENTITIES, OWNERS, POLICIES, RESOURCES, TRUST_EDGES, Table,
};
use crate::StoreError;

/// Joins the parts of a composite key; U+001F (unit separator) never occurs in ids.
pub(super) const KEY_SEP: char = '\u{1f}';

/// One record ready to be written.
pub(super) struct Prepared {
    pub(super) key: String,
    pub(super) extra: Vec<Option<String>>,
    pub(super) source: String,
    pub(super) scope: String,
    pub(super) data: String,
    pub(super) hash: String,
}

fn prepare<T: Serialize>(
    table: &'static str,
    key: String,
    extra: Vec<Option<String>>,
    source: &str,
    scope: String,
    record: &T,
) -> Result<Prepared, StoreError> {
    let data = serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
        table,
        key: key.clone(),
        message: format!("cannot serialise: {e}"),
    })?;
    // A fixed-size array: slicing it by constants is checked at compile time.
    let digest: [u8; 32] = Sha256::digest(data.as_bytes()).into();
    // 128 bits is plenty to detect a change; the hash is not a security boundary.
    let hash = hex::encode(&digest[..16]);
    let source = if source.is_empty() { "unknown" } else { source };
    Ok(Prepared {
        key,
        extra,
        source: source.to_string(),
        scope,
        data,
        hash,
    })
}

/// Scope of policies every AWS account shares; no snapshot declares it.
const AWS_MANAGED_SCOPE: &str = "aws-managed";

/// The account or cluster named inside an id, for records whose batch gives no better scope.
fn scope_from_id(id: &str) -> Option<String> {
    if let Some((identity, _)) = id.split_once("#inline/") {
        return scope_from_id(identity);
    }
    if let Some(rest) = id.strip_prefix("arn:") {
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        let account = rest.split(':').nth(3)?;
        return (!account.is_empty() && account != "aws").then(|| account.to_string());
    }
    if let Some(rest) = id.strip_prefix("k8s:") {
        return rest.split('/').next().map(str::to_string);
    }
    None
}

fn identity_scope(identity: &Identity) -> String {
    identity
        .account
        .clone()
        .or_else(|| identity.provenance.location.clone())
        .unwrap_or_default()
}

fn opt_key(part: &Option<String>) -> &str {
    part.as_deref().unwrap_or("")
}

/// Scopes and sources derived once per batch (see the module docs). Owned, so the batch's
/// records can be consumed table by table while it is in use.
pub(super) struct BatchScopes {
    identity: HashMap<String, String>,
    policy: HashMap<String, String>,
    /// Attachments have no provenance of their own: they belong to the snapshot of the
    /// identity holding them, and so take that identity's source.
    source: HashMap<String, String>,
}

impl BatchScopes {
    pub(super) fn new(batch: &Inventory) -> BatchScopes {
        let mut scopes = BatchScopes {
            identity: batch
                .identities
                .iter()
                .map(|i| (i.id.clone(), identity_scope(i)))
                .collect(),
            policy: HashMap::new(),
            source: batch
                .identities
                .iter()
                .map(|i| (i.id.clone(), i.provenance.source.clone()))
                .collect(),
        };
        for a in &batch.attachments {
            if !scopes.policy.contains_key(a.policy.as_str()) {
                let scope = scopes.of_identity(&a.identity);
                scopes.policy.insert(a.policy.clone(), scope);
            }
        }
        scopes
    }

    fn of_identity(&self, id: &str) -> String {
        self.identity
            .get(id)
            .cloned()
            .or_else(|| scope_from_id(id))
            .unwrap_or_default()
    }
}

/// Serialises the batch's records of one table, deriving keys and scopes, and takes them out of
/// the batch: each record is dropped once serialised, so a large table's records and its JSON
/// are never both whole in memory. Done one table at a time so only one table's JSON is in
/// memory at once.
pub(super) fn prepare_table(
    batch: &mut Inventory,
    scopes: &BatchScopes,
    table: &Table,
) -> Result<Vec<Prepared>, StoreError> {
    let rows = match table.name {
        "identities" => std::mem::take(&mut batch.identities)
            .into_iter()
            .map(|owned: Identity| {
                let i = &owned;
                prepare(
                    IDENTITIES.name,
                    i.id.clone(),
                    vec![
                        Some(i.kind.as_str().to_string()),
                        Some(i.provider.as_str().to_string()),
                        i.account.clone(),
                    ],
                    &i.provenance.source,
                    identity_scope(i),
                    i,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "credentials" => std::mem::take(&mut batch.credentials)
            .into_iter()
            .map(|owned: Credential| {
                let c = &owned;
                prepare(
                    CREDENTIALS.name,
                    c.id.clone(),
                    vec![Some(c.identity.clone())],
                    &c.provenance.source,
                    scopes.of_identity(&c.identity),
                    c,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "policies" => std::mem::take(&mut batch.policies)
            .into_iter()
            .map(|owned: Policy| {
                let p = &owned;
                // AWS managed policies are shared by every account: they belong to no account's
                // snapshot, so one account dropping them never marks them removed for the others.
                let scope = if p.id.starts_with("arn:aws:iam::aws:policy/") {
                    AWS_MANAGED_SCOPE.to_string()
                } else {
                    scopes
                        .policy
                        .get(p.id.as_str())
                        .cloned()
                        .or_else(|| scope_from_id(&p.id))
                        .or_else(|| p.provenance.location.clone())
                        .unwrap_or_default()
                };
                prepare(
                    POLICIES.name,
                    p.id.clone(),
                    vec![],
                    &p.provenance.source,
                    scope,
                    p,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "attachments" => std::mem::take(&mut batch.attachments)
            .into_iter()
            .map(|owned: Attachment| {
                let a = &owned;
                let key = [
                    a.identity.as_str(),
                    a.policy.as_str(),
                    opt_key(&a.via),
                    opt_key(&a.scope),
                ]
                .join(&KEY_SEP.to_string());
                let source = scopes
                    .source
                    .get(a.identity.as_str())
                    .map(String::as_str)
                    .unwrap_or("");
                prepare(
                    ATTACHMENTS.name,
                    key,
                    vec![Some(a.identity.clone())],
                    source,
                    scopes.of_identity(&a.identity),
                    a,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "trust_edges" => std::mem::take(&mut batch.trust_edges)
            .into_iter()
            .map(|owned: TrustEdge| {
                let t = &owned;
                let key =
                    [t.from.as_str(), t.to.as_str(), t.kind.as_str()].join(&KEY_SEP.to_string());
                prepare(
                    TRUST_EDGES.name,
                    key,
                    vec![Some(t.to.clone())],
                    &t.provenance.source,
                    scopes.of_identity(&t.to),
                    t,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "resources" => std::mem::take(&mut batch.resources)
            .into_iter()
            .map(|owned: Resource| {
                let r = &owned;
                let scope = r
                    .account
                    .clone()
                    .or_else(|| r.provenance.location.clone())
                    .unwrap_or_default();
                prepare(
                    RESOURCES.name,
                    r.id.clone(),
                    vec![],
                    &r.provenance.source,
                    scope,
                    r,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "owners" => std::mem::take(&mut batch.owners)
            .into_iter()
            .map(|owned: Owner| {
                let o = &owned;
                prepare(
                    OWNERS.name,
                    o.id.clone(),
                    vec![],
                    &o.provenance.source,
                    o.provenance.location.clone().unwrap_or_default(),
                    o,
                )
            })
            .collect::<Result<Vec<_>, _>>(),
        "accounts" => std::mem::take(&mut batch.accounts)
            .into_iter()
            .map(|owned: Account| {
                let a = &owned;
                let key = format!("{}{KEY_SEP}{}", a.provider.as_str(), a.id);
                prepare(
                    ACCOUNTS.name,
                    key,
                    vec![],
                    &a.provenance.source,
                    a.id.clone(),
                    a,
                )
            })
            .collect::<Result<Vec<_>, _>>(),

        _ => Ok(Vec::new()),
    }?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_come_from_ids_when_the_batch_has_none() {
        assert_eq!(
            scope_from_id("arn:aws:iam::123456789012:role/x").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            scope_from_id("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            None
        );
        assert_eq!(
            scope_from_id("k8s:prod/clusterrole/admin").as_deref(),
            Some("prod")
        );
        assert_eq!(
            scope_from_id("arn:aws:iam::1:user/u#inline/p").as_deref(),
            Some("1")
        );
        assert_eq!(scope_from_id("github:acme/app/x"), None);
    }
}
