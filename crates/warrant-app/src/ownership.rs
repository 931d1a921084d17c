//! Ownership and registration use cases: assign owners (a history, each owner with where it
//! came from), register intended identities (approved by a second person), and tell sanctioned
//! identities from shadow ones.

use std::collections::HashMap;

use serde::Serialize;
use warrant_core::arn::IamPrincipal;
use warrant_core::{Inventory, OwnerRef, Timestamp};
use warrant_lifecycle::register::{
    self, Assignment, NewRegistration, Registration, Sanction, effective_owners,
};
use warrant_store::{AssignmentRow, AuditEntry, OwnerEvidence, RegistrationRow, Store, StoreError};

use crate::AppError;
use crate::error::StoreContext;
use crate::query::resolve_in;

/// Assigns `owner` to the identity `wanted` (an id, name or id suffix) as `by`; an empty owner
/// withdraws the explicit assignment. Returns the identity's id.
pub async fn set_owner(
    store: &Store,
    wanted: &str,
    owner: &str,
    by: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<String, AppError> {
    let id = resolve_in(store, wanted).await?;
    let assignment = Assignment {
        identity: id.clone(),
        owner: owner.trim().to_string(),
        assigned_by: by.trim().to_ascii_lowercase(),
        at: now,
        reason: reason.map(str::to_string),
    };
    assignment
        .validate()
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    store
        .assign_owner(&id, &assignment.owner, &assignment.assigned_by, now, reason)
        .await
        .context("recording the owner")?;
    Ok(id)
}

/// An identity's owners in force (each with its source), the history of explicit
/// assignments, and the evidence of creators and CODEOWNERS.
#[derive(Debug, Clone, Serialize)]
pub struct OwnersView {
    pub identity: String,
    pub owners: Vec<OwnerRef>,
    pub history: Vec<AssignmentRow>,
    /// Changes of the owners the provider records (tags, labels), seen between imports.
    pub provider_changes: Vec<AuditEntry>,
    pub evidence: Vec<OwnerEvidence>,
}

fn as_assignment(row: &AssignmentRow) -> Assignment {
    Assignment {
        identity: row.identity.clone(),
        owner: row.owner.clone(),
        assigned_by: row.assigned_by.clone(),
        at: row.at,
        reason: row.reason.clone(),
    }
}

/// How evidence finds its identity: by id, and an IAM user or role also by account, kind and
/// name, since a logged ARN may leave out the IAM path the inventory's id has.
fn evidence_key(id: &str) -> String {
    match IamPrincipal::of(id) {
        Some(p) => format!("iam:{}:{}:{}", p.account, p.kind, p.name),
        None => id.to_string(),
    }
}

fn evidence_owner(e: &OwnerEvidence) -> OwnerRef {
    OwnerRef {
        id: e.owner.clone(),
        source: format!("{}:{}", e.source, e.detail),
    }
}

/// All owner evidence, by [`evidence_key`], oldest first.
async fn evidence_by_key(store: &Store) -> Result<HashMap<String, Vec<OwnerEvidence>>, AppError> {
    let mut out: HashMap<String, Vec<OwnerEvidence>> = HashMap::new();
    for e in store
        .owner_evidence(None)
        .await
        .context("loading owner evidence")?
    {
        out.entry(evidence_key(&e.identity)).or_default().push(e);
    }
    for rows in out.values_mut() {
        rows.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.detail.cmp(&b.detail)));
    }
    Ok(out)
}

/// What the provider records, then the evidence, each owner once, ranked by trust.
fn with_evidence(
    latest: Option<&Assignment>,
    discovered: &[OwnerRef],
    evidence: &[OwnerEvidence],
) -> Vec<OwnerRef> {
    let mut all = discovered.to_vec();
    all.extend(evidence.iter().map(evidence_owner));
    effective_owners(latest, &all)
}

pub async fn owners(store: &Store, wanted: &str) -> Result<OwnersView, AppError> {
    let id = resolve_in(store, wanted).await?;
    let neighbourhood = store
        .load_neighbourhood(&id)
        .await
        .context("loading the identity")?;
    let discovered = neighbourhood
        .identities
        .first()
        .map(|i| i.owners.clone())
        .unwrap_or_default();
    let history = store
        .owner_history(&id)
        .await
        .context("loading owner history")?;
    let latest = history.last().map(as_assignment);
    let evidence = evidence_by_key(store)
        .await?
        .remove(&evidence_key(&id))
        .unwrap_or_default();
    let provider_changes = store
        .audit_of(&id, "owner.provider")
        .await
        .context("loading owner changes")?;
    Ok(OwnersView {
        owners: with_evidence(latest.as_ref(), &discovered, &evidence),
        identity: id,
        history,
        provider_changes,
        evidence,
    })
}

/// Puts the owners in force on a loaded inventory (before posture judges it, or `show` shows
/// it): an explicit assignment first, then what the provider records, then the people who
/// created the identity or its keys, then the CODEOWNERS of repositories that use it.
pub async fn apply_owners(store: &Store, inventory: &mut Inventory) -> Result<(), AppError> {
    let latest: HashMap<String, Assignment> = store
        .latest_owner_assignments()
        .await
        .context("loading owner assignments")?
        .iter()
        .map(|r| (r.identity.clone(), as_assignment(r)))
        .collect();
    let evidence = evidence_by_key(store).await?;
    if latest.is_empty() && evidence.is_empty() {
        return Ok(());
    }
    for identity in &mut inventory.identities {
        let assigned = latest.get(&identity.id);
        let found = evidence
            .get(&evidence_key(&identity.id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        if assigned.is_some() || !found.is_empty() {
            identity.owners = with_evidence(assigned, &identity.owners, found);
        }
    }
    Ok(())
}

/// A registration with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationView {
    #[serde(flatten)]
    pub registration: Registration,
    /// requested, approved, rejected or withdrawn.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

fn parse(row: &RegistrationRow) -> Result<Registration, AppError> {
    serde_json::from_str(&row.data).map_err(|e| AppError::Store {
        context: "loading registrations",
        source: StoreError::Corrupt {
            table: "registrations",
            key: row.id.clone(),
            message: e.to_string(),
        },
    })
}

/// Records a registration request as `by`.
pub async fn register(
    store: &Store,
    request: NewRegistration,
    by: &str,
    now: Timestamp,
) -> Result<Registration, AppError> {
    let registration = request
        .submit(&by.trim().to_ascii_lowercase(), now)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let row = RegistrationRow {
        id: registration.id.clone(),
        name: registration.request.name.clone(),
        kind: registration.request.kind.as_str().to_string(),
        owner: registration.request.owner.clone(),
        requested_by: registration.requested_by.clone(),
        created: now,
        expires: registration.request.expires,
        data: serde_json::to_string(&registration)
            .map_err(|e| AppError::Invalid(format!("cannot record the registration: {e}")))?,
        decision: None,
    };
    store
        .register(&row)
        .await
        .context("recording the registration")?;
    Ok(registration)
}

/// Every registration, oldest first, with its status.
pub async fn registrations(store: &Store) -> Result<Vec<RegistrationView>, AppError> {
    store
        .registrations()
        .await
        .context("loading registrations")?
        .iter()
        .map(|row| {
            Ok(RegistrationView {
                registration: parse(row)?,
                status: match row.decision.as_ref().map(|(d, _)| d.as_str()) {
                    None => "requested".to_string(),
                    Some("approve") => "approved".to_string(),
                    Some("reject") => "rejected".to_string(),
                    Some(_) => "withdrawn".to_string(),
                },
                decided_by: row.decision.as_ref().map(|(_, by)| by.clone()),
            })
        })
        .collect()
}

/// The approved registrations (what sanctions identities).
pub async fn approved(store: &Store) -> Result<Vec<Registration>, AppError> {
    Ok(registrations(store)
        .await?
        .into_iter()
        .filter(|v| v.status == "approved")
        .map(|v| v.registration)
        .collect())
}

/// Approves or rejects a requested registration (never the requester's own), or withdraws an
/// approved one.
pub async fn decide_registration(
    store: &Store,
    id: &str,
    by: &str,
    decision: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<RegistrationView, AppError> {
    let by = by.trim().to_ascii_lowercase();
    if !by.contains('@') {
        return Err(AppError::Invalid(
            "the person deciding is not named (--as EMAIL or WARRANT_USER)".into(),
        ));
    }
    let current = registrations(store)
        .await?
        .into_iter()
        .find(|v| v.registration.id == id)
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "no registration `{id}` (see `warrant register list`)"
            ))
        })?;
    match (decision, current.status.as_str()) {
        ("approve" | "reject", "requested") => {
            if by.eq_ignore_ascii_case(&current.registration.requested_by) {
                return Err(AppError::Invalid(format!(
                    "{by} requested this registration and cannot decide on it too: it needs another person (four eyes)"
                )));
            }
        }
        ("withdraw", "approved" | "requested") => {}
        (_, status) => {
            return Err(AppError::Invalid(format!(
                "registration {id} is {status}: it cannot be {decision}d now"
            )));
        }
    }
    store
        .decide_registration(id, &by, now, decision, reason)
        .await
        .context("recording the decision")?;
    registrations(store)
        .await?
        .into_iter()
        .find(|v| v.registration.id == id)
        .ok_or_else(|| AppError::Invalid(format!("registration {id} vanished")))
}

/// One identity as registration sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SanctionView {
    pub identity: String,
    pub kind: warrant_core::IdentityKind,
    pub name: String,
    #[serde(flatten)]
    pub sanction: Sanction,
    pub blast_radius: f64,
    /// What registration asks for it now (suspend a powerful shadow, decommission an expired
    /// registration), with why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed: Option<(warrant_lifecycle::Action, String)>,
}

/// Every identity, sanctioned or shadow, with what registration asks for it (blast radius
/// from the saved assessment).
pub async fn sanctions(store: &Store, now: Timestamp) -> Result<Vec<SanctionView>, AppError> {
    let approved = approved(store).await?;
    let blast: HashMap<String, f64> = store
        .latest_risks()
        .await
        .context("reading risks")?
        .into_iter()
        .map(|(id, r)| (id, r.blast_radius))
        .collect();
    let inventory = store
        .load_inventory_with_policies_of(warrant_core::PolicyKind::McpTools)
        .await
        .context("loading the inventory")?;
    Ok(inventory
        .identities
        .iter()
        .map(|identity| {
            let (sanction, registration) = register::sanction(identity, &approved);
            let blast_radius = blast.get(&identity.id).copied().unwrap_or(0.0);
            SanctionView {
                identity: identity.id.clone(),
                kind: identity.kind,
                name: identity.name.clone(),
                proposed: register::registration_action(&sanction, registration, blast_radius, now),
                sanction,
                blast_radius,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::evidence_key;

    #[test]
    fn evidence_finds_iam_identities_with_or_without_their_path() {
        assert_eq!(
            evidence_key("arn:aws:iam::111111111111:role/service/etl"),
            evidence_key("arn:aws:iam::111111111111:role/etl")
        );
        assert_ne!(
            evidence_key("arn:aws:iam::111111111111:role/etl"),
            evidence_key("arn:aws:iam::111111111111:user/etl")
        );
        assert_ne!(
            evidence_key("arn:aws:iam::111111111111:role/etl"),
            evidence_key("arn:aws:iam::222222222222:role/etl")
        );
        assert_eq!(
            evidence_key("system:serviceaccount:ns:etl"),
            "system:serviceaccount:ns:etl"
        );
    }
}
