//! Who can become whom, a few hops from one identity: a bounded breadth-first walk of trust
//! edges that reads only the edges at each step's frontier, never the whole graph.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use sqlx::{AnyConnection, Row};
use warrant_core::{PrincipalKind, TrustEdge};

use super::TRUST_EDGES;
use super::load::decode;
use crate::dialect;
use crate::{Store, StoreError};

/// Which way a walk follows trust edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustDirection {
    /// Whom the identity can become: edges out of it, then out of those, ….
    Outward,
    /// Who can become the identity: edges into it, then into those, ….
    Inward,
}

/// What a bounded walk reached.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustWalk {
    /// For each principal reached, its distance in hops (1 = a direct edge) and the edge that
    /// first reached it; nearest first, then in key order. Each principal appears once, by
    /// one of its shortest chains, so cycles end where they close.
    pub reached: Vec<(usize, TrustEdge)>,
    /// Whether a bound (depth, principals, or edges read per step) stopped the walk while
    /// edges to principals it had not reached remained.
    pub truncated: bool,
}

/// Key ranges joined by OR in one query: SQLite nests one expression level per term, up to a
/// depth of 1000.
const RANGES_PER_QUERY: usize = 250;

impl Store {
    /// Walks trust edges from identity `id` in `direction`, breadth first, up to `max_depth`
    /// hops and `max_reached` principals: one query per hop (per chunk of ids), all in one
    /// read snapshot. Only identities are walked through; accounts, federated providers,
    /// services and `*` end an inward chain.
    pub async fn trust_walk(
        &self,
        id: &str,
        direction: TrustDirection,
        max_depth: usize,
        max_reached: usize,
    ) -> Result<TrustWalk, StoreError> {
        let mut tx = self.backend.begin_read(&self.pool).await?;
        let mut walk = TrustWalk::default();
        let mut seen: HashSet<String> = HashSet::from([id.to_string()]);
        let mut frontier = vec![id.to_string()];
        // A hub's thousands of edges are not read to find a few dozen principals: a step reads
        // at most this many, and a full step counts as cut short.
        let per_step = max_reached.saturating_mul(8).max(64);
        // One step past the depth bound only looks: whether anything new lay beyond it.
        for depth in 1..=max_depth.saturating_add(1) {
            if frontier.is_empty() {
                break;
            }
            let edges = edges_touching(&mut tx, self, &frontier, direction, per_step).await?;
            let full = edges.len() >= per_step;
            let mut next = Vec::new();
            for edge in edges {
                let other = match direction {
                    TrustDirection::Outward => &edge.to,
                    TrustDirection::Inward => &edge.from,
                };
                if seen.contains(other) {
                    continue;
                }
                if depth > max_depth || walk.reached.len() >= max_reached {
                    walk.truncated = true;
                    break;
                }
                seen.insert(other.clone());
                let onward = direction == TrustDirection::Outward
                    || edge.from_kind == PrincipalKind::Identity;
                if onward {
                    next.push(other.clone());
                }
                walk.reached.push((depth, edge));
            }
            walk.truncated |= full;
            frontier = next;
        }
        tx.commit().await?;
        Ok(walk)
    }
}

/// Current edges out of (`Outward`) or into (`Inward`) any of `ids`, in key order, at most
/// `limit`.
async fn edges_touching(
    conn: &mut AnyConnection,
    store: &Store,
    ids: &[String],
    direction: TrustDirection,
    limit: usize,
) -> Result<Vec<TrustEdge>, StoreError> {
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let per_query = match direction {
        TrustDirection::Inward => dialect::MAX_BIND_PARAMS - 1,
        TrustDirection::Outward => RANGES_PER_QUERY,
    };
    let mut edges = Vec::new();
    for chunk in ids.chunks(per_query) {
        let left = limit.saturating_sub(edges.len());
        if left == 0 {
            break;
        }
        let (filter, binds): (String, Vec<String>) = match direction {
            // Edges into an identity carry its key in `identity` (indexed).
            TrustDirection::Inward => (
                format!("identity IN ({})", dialect::placeholders(chunk.len())),
                chunk.iter().map(|id| id.to_string()).collect(),
            ),
            // Edges out of an identity are one range of the key index: keys start with its
            // id and the separator, and the next character up ends the range. Both backends
            // compare keys byte by byte (PostgreSQL's are `COLLATE "C"`).
            TrustDirection::Outward => (
                vec!["(key >= ? AND key < ?)"; chunk.len()].join(" OR "),
                chunk
                    .iter()
                    .flat_map(|id| {
                        [
                            format!("{id}{}", super::prepare::KEY_SEP),
                            format!("{id}{}", '\u{20}'),
                        ]
                    })
                    .collect(),
            ),
        };
        let sql = format!(
            "SELECT key, data FROM {} WHERE removed_at IS NULL AND ({filter}) ORDER BY key LIMIT ?",
            TRUST_EDGES.name
        );
        let mut query = store.query(&sql);
        for b in &binds {
            query = query.bind(b.as_str());
        }
        let mut rows = query
            .bind(i64::try_from(left).unwrap_or(i64::MAX))
            .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            let key: String = row.try_get(0)?;
            let data: String = row.try_get(1)?;
            edges.push(decode(TRUST_EDGES.name, &key, &data)?);
        }
    }
    Ok(edges)
}
