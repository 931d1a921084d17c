//! Importing and loading the inventory graph.
//!
//! How records get their snapshot scope is documented on the crate ("Record scopes").
//!
//! Split by stage: `prepare` turns a batch into rows (keys, scopes, JSON, hashes), `write`
//! imports them and raises last use, `load` reads the graph back, `walk` follows trust edges a
//! few hops from one identity.

mod load;
mod prepare;
mod walk;
mod write;

use std::fmt;

use serde::Serialize;
use warrant_core::{Credential, Identity, Timestamp};

pub use walk::{TrustDirection, TrustWalk};
pub(crate) use write::raise_last_used;

/// Per-kind outcome of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindStats {
    /// Records the store did not hold before.
    pub new: u64,
    /// Records whose content changed, or that came back after being marked removed.
    pub changed: u64,
    /// Records identical to what the store held (only `last_seen` moved).
    pub unchanged: u64,
    /// Records of a complete scope in the batch that the batch no longer lists.
    pub removed: u64,
}

impl KindStats {
    fn add(&mut self, other: KindStats) {
        self.new += other.new;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
    }
}

/// What an import did, per kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    pub identities: KindStats,
    pub credentials: KindStats,
    pub policies: KindStats,
    pub attachments: KindStats,
    pub trust_edges: KindStats,
    pub resources: KindStats,
    pub owners: KindStats,
    pub accounts: KindStats,
}

impl ImportStats {
    /// All kinds summed.
    pub fn total(&self) -> KindStats {
        let mut sum = KindStats::default();
        for k in [
            self.identities,
            self.credentials,
            self.policies,
            self.attachments,
            self.trust_edges,
            self.resources,
            self.owners,
            self.accounts,
        ] {
            sum.add(k);
        }
        sum
    }
}

impl fmt::Display for ImportStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.total();
        write!(
            f,
            "{} new, {} changed, {} unchanged, {} removed records",
            t.new, t.changed, t.unchanged, t.removed
        )
    }
}

/// A stored record with its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRecord<T> {
    pub record: T,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub removed_at: Option<Timestamp>,
}

/// An identity with its history and its credentials (removed ones included, with `removed_at`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredIdentity {
    pub identity: Identity,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub removed_at: Option<Timestamp>,
    pub credentials: Vec<StoredRecord<Credential>>,
}

/// Table layout shared by the eight inventory tables.
pub(crate) struct Table {
    pub(crate) name: &'static str,
    /// Typed columns between `key` and `source`, filled by `prepare::Prepared::extra`.
    pub(crate) extra: &'static [&'static str],
    /// Whether the table has `activity_last_used` (merged into `last_used` on load).
    pub(crate) activity: bool,
}

pub(crate) const IDENTITIES: Table = Table {
    name: "identities",
    extra: &["kind", "provider", "account"],
    activity: true,
};
pub(crate) const CREDENTIALS: Table = Table {
    name: "credentials",
    extra: &["identity"],
    activity: true,
};
pub(crate) const POLICIES: Table = Table {
    name: "policies",
    extra: &[],
    activity: false,
};
pub(crate) const ATTACHMENTS: Table = Table {
    name: "attachments",
    extra: &["identity"],
    activity: false,
};
pub(crate) const TRUST_EDGES: Table = Table {
    name: "trust_edges",
    extra: &["identity"],
    activity: false,
};
pub(crate) const RESOURCES: Table = Table {
    name: "resources",
    extra: &[],
    activity: false,
};
pub(crate) const OWNERS: Table = Table {
    name: "owners",
    extra: &[],
    activity: false,
};
pub(crate) const ACCOUNTS: Table = Table {
    name: "accounts",
    extra: &[],
    activity: false,
};

/// Every inventory table, in import order.
pub(crate) const TABLES: [&Table; 8] = [
    &IDENTITIES,
    &CREDENTIALS,
    &POLICIES,
    &ATTACHMENTS,
    &TRUST_EDGES,
    &RESOURCES,
    &OWNERS,
    &ACCOUNTS,
];
