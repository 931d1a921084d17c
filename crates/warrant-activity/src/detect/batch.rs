//! One batch of events judged the way the product judges it, without a store: events are
//! attributed to identities, grouped per identity, and each group runs through the
//! [`Detector`]. The application layer adds what needs the store (stored baselines, last use,
//! shadow-identity findings); tests and offline tools call this directly.

use std::collections::BTreeMap;

use warrant_core::Finding;

use super::{Detector, IdentityContext};
use crate::attribution::{Attribution, Attributor};
use crate::event::Event;

/// The events of one batch grouped by the identity they concern, keyed by usage key (the
/// identity id, or `shadow:KEY` for principals the inventory does not list). Events of
/// principals outside the organisation's machine identities are left out.
pub fn group_by_identity<'a>(
    attributor: &Attributor,
    events: &'a [Event],
) -> BTreeMap<String, (Attribution, Vec<&'a Event>)> {
    let mut groups: BTreeMap<String, (Attribution, Vec<&Event>)> = BTreeMap::new();
    for event in events {
        let attribution = attributor.attribute(event);
        if let Some(key) = attribution.usage_key() {
            groups
                .entry(key)
                .or_insert_with(|| (attribution, Vec::new()))
                .1
                .push(event);
        }
    }
    groups
}

/// Findings for one batch with no baseline and nothing known about the identities beyond
/// their ids: what a first run over these logs raises. Sorted by identity, then rule order.
pub fn detect_batch(
    detector: &Detector,
    attributor: &Attributor,
    events: &[Event],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (key, (_, group)) in group_by_identity(attributor, events) {
        let owned: Vec<Event> = group.into_iter().cloned().collect();
        findings.extend(detector.detect(&IdentityContext::unknown(&key), None, &owned));
    }
    findings
}
