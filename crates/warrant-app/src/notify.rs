//! Notifications: what a plan, an expiring exception or a review item tells its owner, and
//! sending it through the configured webhooks. The front end builds the [`Notifier`] (it owns
//! configuration and environment); this layer says what to send and to whom.

use std::collections::BTreeMap;

use warrant_core::Timestamp;
use warrant_lifecycle::PlanStatus;
use warrant_notify::{Delivery, Event, EventKind, Notifier};
use warrant_store::Store;

use crate::AppError;
use crate::error::StoreContext;
use crate::lifecycle::ExceptionView;
use crate::remediation::PlanView;

/// The identity's owners as the store records them (the first is who is told).
async fn owner_of(store: &Store, identity: &str) -> Result<Option<String>, AppError> {
    let neighbourhood = store
        .load_neighbourhood(identity)
        .await
        .context("loading the identity's owners")?;
    Ok(neighbourhood
        .identities
        .first()
        .and_then(|i| i.owners.iter().find(|o| o.id.contains('@')))
        .map(|o| o.id.clone()))
}

/// The event a plan's state is worth telling its owner about, if any: proposed (awaiting
/// approval), approved, applied, or failed.
pub async fn plan_event(
    store: &Store,
    view: &PlanView,
    at: Timestamp,
) -> Result<Option<Event>, AppError> {
    let kind = match view.status {
        PlanStatus::Proposed => EventKind::PlanProposed,
        PlanStatus::Approved => EventKind::PlanApproved,
        PlanStatus::Applied => EventKind::PlanApplied,
        PlanStatus::Failed => EventKind::PlanFailed,
        _ => return Ok(None),
    };
    let c = &view.plan.content;
    let mut details = BTreeMap::new();
    details.insert("action".to_string(), c.action.to_string());
    details.insert("requested_by".to_string(), c.requested_by.clone());
    details.insert("steps".to_string(), c.steps.len().to_string());
    details.insert("status".to_string(), view.status.to_string());
    details.insert(
        "approvals".to_string(),
        format!("{} of {}", view.approved_by.len(), view.required_approvals),
    );
    let next = match kind {
        EventKind::PlanProposed => format!(
            "Review it with `warrant plan show {}` and approve with `warrant plan approve {} --as EMAIL` (someone other than {}).",
            view.plan.id, view.plan.id, c.requested_by
        ),
        EventKind::PlanApproved => format!("Apply with `warrant plan apply {}`.", view.plan.id),
        EventKind::PlanFailed => format!(
            "See `warrant plan show {}`; roll back with `warrant plan rollback {} --yes`.",
            view.plan.id, view.plan.id
        ),
        _ => String::new(),
    };
    Ok(Some(Event {
        kind,
        subject: view.plan.id.clone(),
        identity: Some(c.identity.clone()),
        owner: owner_of(store, &c.identity).await?,
        title: format!("{} on {}: {}", c.action, c.identity, kind.label()),
        summary: format!("{} {next}", c.reason).trim().to_string(),
        link: None,
        at,
        details,
    }))
}

/// One event per exception expiring soon, told to its owner.
pub fn exception_events(views: &[ExceptionView], at: Timestamp) -> Vec<Event> {
    views
        .iter()
        .map(|v| {
            let e = &v.exception;
            let mut details = BTreeMap::new();
            details.insert("scope".to_string(), v.scope.clone());
            details.insert(
                "expires".to_string(),
                e.expires.format("%Y-%m-%d").to_string(),
            );
            details.insert("granted_by".to_string(), e.created_by.clone());
            Event {
                kind: EventKind::ExceptionExpiring,
                subject: e.id.clone(),
                identity: None,
                owner: Some(e.owner.clone()),
                title: format!(
                    "Exception {} expires on {}",
                    e.id,
                    e.expires.format("%Y-%m-%d")
                ),
                summary: format!(
                    "{} ({}). When it expires the findings it covers are open again; renew it with `warrant exception add` or fix them.",
                    e.reason, v.scope
                ),
                link: None,
                at,
                details,
            }
        })
        .collect()
}

/// Sends every event; one delivery per event and matching target.
pub async fn send(notifier: &Notifier, events: &[Event]) -> Vec<Delivery> {
    let mut out = Vec::new();
    for event in events {
        out.extend(notifier.send(event).await);
    }
    out
}

/// One event per reviewer: the items of a campaign they have to decide (at start), or a
/// reminder of the pending ones with the overdue ones escalated (from `items`).
pub fn review_events(
    campaign: &crate::review::CampaignView,
    items: &[crate::review::ItemView],
    at: Timestamp,
) -> Vec<Event> {
    use warrant_lifecycle::review::ItemState;
    let mut per: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for item in items {
        match item.state {
            ItemState::Pending => *per.entry((item.reviewer_now.clone(), false)).or_default() += 1,
            ItemState::Overdue => *per.entry((item.reviewer_now.clone(), true)).or_default() += 1,
            ItemState::Decided(_) => {}
        }
    }
    per.into_iter()
        .map(|((reviewer, overdue), n)| {
            let mut details = BTreeMap::new();
            details.insert("campaign".to_string(), campaign.name.clone());
            details.insert("items".to_string(), n.to_string());
            details.insert("due".to_string(), campaign.due.format("%Y-%m-%d").to_string());
            Event {
                kind: if overdue {
                    EventKind::ReviewOverdue
                } else {
                    EventKind::ReviewAssigned
                },
                subject: format!("{}/{reviewer}/{}", campaign.name, if overdue { "overdue" } else { "pending" }),
                identity: None,
                owner: Some(reviewer.clone()),
                title: if overdue {
                    format!("Access review {}: {n} item(s) overdue, now yours", campaign.name)
                } else {
                    format!(
                        "Access review {}: {n} item(s) to decide by {}",
                        campaign.name,
                        campaign.due.format("%Y-%m-%d")
                    )
                },
                summary: format!(
                    "See them with `warrant review show {} --reviewer {reviewer} --pending` and decide each with `warrant review decide`.",
                    campaign.name
                ),
                link: None,
                at,
                details,
            }
        })
        .collect()
}
