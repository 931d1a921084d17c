//! Upstream MCP tools as gateways saw them and as people approved (pinned) them (schema 17).
//!
//! INVARIANT: the pinned fingerprint changes only through [`Store::approve_tool`] (a person) or
//! [`Store::observe_tools`] with `pin_new` for a tool never pinned (trust on first use, when the
//! gateway is configured so); both add an audit row in the same transaction. A definition is what
//! the upstream lists to any client, never a secret. Nothing here raises the store's revision.

use sqlx::Row;
use sqlx::any::AnyRow;
use warrant_core::Timestamp;

use crate::dialect;
use crate::governance::audit;
use crate::{Store, StoreError, WriteTx};

/// A tool as a gateway listed it just now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenTool {
    /// The upstream's name in gateway.toml.
    pub server: String,
    pub tool: String,
    /// SHA-256 (hex) of the canonical definition.
    pub fingerprint: String,
    /// The definition (name, description, inputSchema), JSON.
    pub definition: String,
    /// Signs of poisoning found in it, a JSON array.
    pub concerns: String,
}

/// Where a tool stands against its pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolPinStatus {
    /// As approved.
    Pinned,
    /// Nobody approved it yet.
    Unapproved,
    /// Its definition changed since it was approved: blocked until approved again.
    Changed,
}

impl ToolPinStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolPinStatus::Pinned => "pinned",
            ToolPinStatus::Unapproved => "unapproved",
            ToolPinStatus::Changed => "changed",
        }
    }
}

/// A recorded tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolRow {
    pub server: String,
    pub tool: String,
    pub seen_fingerprint: String,
    pub seen_definition: String,
    pub seen_concerns: String,
    pub first_seen_at: Timestamp,
    pub seen_at: Timestamp,
    pub pinned_fingerprint: Option<String>,
    pub pinned_definition: Option<String>,
    pub pinned_by: Option<String>,
    pub pinned_at: Option<Timestamp>,
    /// The last definition an alert was raised for.
    pub reported_fingerprint: Option<String>,
}

impl ToolRow {
    pub fn status(&self) -> ToolPinStatus {
        match &self.pinned_fingerprint {
            None => ToolPinStatus::Unapproved,
            Some(pinned) if *pinned == self.seen_fingerprint => ToolPinStatus::Pinned,
            Some(_) => ToolPinStatus::Changed,
        }
    }

    /// `server::tool`.
    pub fn qualified(&self) -> String {
        format!("{}::{}", self.server, self.tool)
    }

    fn has_concerns(&self) -> bool {
        !matches!(self.seen_concerns.trim(), "" | "[]")
    }
}

/// One tool of [`Store::observe_tools`]: where it stands, and whether this definition is news
/// (changed from its pin, or carrying signs of poisoning) that no alert reported yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedTool {
    pub row: ToolRow,
    pub report: bool,
}

const COLUMNS: &str = "server, tool, seen_fingerprint, seen_definition, seen_concerns, \
     first_seen_at, seen_at, pinned_fingerprint, pinned_definition, pinned_by, pinned_at, \
     reported_fingerprint";

fn tool_row(r: &AnyRow) -> Result<ToolRow, StoreError> {
    let t = "gateway_tools";
    let server: String = r.try_get(0)?;
    let tool: String = r.try_get(1)?;
    let key = format!("{server}::{tool}");
    Ok(ToolRow {
        seen_fingerprint: r.try_get(2)?,
        seen_definition: r.try_get(3)?,
        seen_concerns: r.try_get(4)?,
        first_seen_at: dialect::parse_timestamp(t, &key, &r.try_get::<String, _>(5)?)?,
        seen_at: dialect::parse_timestamp(t, &key, &r.try_get::<String, _>(6)?)?,
        pinned_fingerprint: r.try_get(7)?,
        pinned_definition: r.try_get(8)?,
        pinned_by: r.try_get(9)?,
        pinned_at: dialect::parse_opt_timestamp(t, &key, r.try_get(10)?)?,
        reported_fingerprint: r.try_get(11)?,
        server,
        tool,
    })
}

async fn load(tx: &mut WriteTx, server: &str, tool: &str) -> Result<Option<ToolRow>, StoreError> {
    let row = tx
        .query(&format!(
            "SELECT {COLUMNS} FROM gateway_tools WHERE server = ? AND tool = ?"
        ))
        .bind(server)
        .bind(tool)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(tool_row).transpose()
}

impl Store {
    /// Records the tools a gateway listed from one upstream and returns, in the same order,
    /// where each stands. With `pin_new`, a tool never pinned is pinned as seen (by `by`).
    /// A definition is reported (`report`) once: the first time it is seen differing from its
    /// pin, or carrying concerns.
    pub async fn observe_tools(
        &self,
        seen: &[SeenTool],
        pin_new: bool,
        by: &str,
        at: Timestamp,
    ) -> Result<Vec<ObservedTool>, StoreError> {
        let when = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        tx.changes_inputs = false;
        let mut out = Vec::with_capacity(seen.len());
        for tool in seen {
            let before = load(&mut tx, &tool.server, &tool.tool).await?;
            match &before {
                None => {
                    tx.query(&format!(
                        "INSERT INTO gateway_tools ({COLUMNS}) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL)"
                    ))
                    .bind(tool.server.as_str())
                    .bind(tool.tool.as_str())
                    .bind(tool.fingerprint.as_str())
                    .bind(tool.definition.as_str())
                    .bind(tool.concerns.as_str())
                    .bind(when.as_str())
                    .bind(when.as_str())
                    .execute(tx.conn())
                    .await?;
                }
                Some(_) => {
                    tx.query(
                        "UPDATE gateway_tools SET seen_fingerprint = ?, seen_definition = ?, \
                         seen_concerns = ?, seen_at = ? WHERE server = ? AND tool = ?",
                    )
                    .bind(tool.fingerprint.as_str())
                    .bind(tool.definition.as_str())
                    .bind(tool.concerns.as_str())
                    .bind(when.as_str())
                    .bind(tool.server.as_str())
                    .bind(tool.tool.as_str())
                    .execute(tx.conn())
                    .await?;
                }
            }
            let never_pinned = before
                .as_ref()
                .is_none_or(|row| row.pinned_fingerprint.is_none());
            if pin_new && never_pinned {
                pin(&mut tx, tool, by, &when, "gateway.tool.pin-first-seen").await?;
            }
            let mut row = load(&mut tx, &tool.server, &tool.tool)
                .await?
                .ok_or_else(|| {
                    StoreError::Conflict(format!("{}::{} vanished", tool.server, tool.tool))
                })?;
            let newsworthy = row.status() == ToolPinStatus::Changed || row.has_concerns();
            let report =
                newsworthy && row.reported_fingerprint.as_deref() != Some(&row.seen_fingerprint);
            if report {
                tx.query(
                    "UPDATE gateway_tools SET reported_fingerprint = ? WHERE server = ? AND tool = ?",
                )
                .bind(row.seen_fingerprint.as_str())
                .bind(tool.server.as_str())
                .bind(tool.tool.as_str())
                .execute(tx.conn())
                .await?;
                row.reported_fingerprint = Some(row.seen_fingerprint.clone());
            }
            out.push(ObservedTool { row, report });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Every recorded tool (of one upstream), by server and name.
    pub async fn gateway_tools(&self, server: Option<&str>) -> Result<Vec<ToolRow>, StoreError> {
        let rows = match server {
            Some(server) => {
                self.query(&format!(
                    "SELECT {COLUMNS} FROM gateway_tools WHERE server = ? ORDER BY server, tool"
                ))
                .bind(server)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                self.query(&format!(
                    "SELECT {COLUMNS} FROM gateway_tools ORDER BY server, tool"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(tool_row).collect()
    }

    /// A person approves a tool as last seen: its definition becomes the pin. With
    /// `fingerprint`, only if the gateway still sees that definition (what the person read),
    /// else a [`StoreError::Conflict`]. `None` for a tool never seen.
    pub async fn approve_tool(
        &self,
        server: &str,
        tool: &str,
        fingerprint: Option<&str>,
        by: &str,
        at: Timestamp,
    ) -> Result<Option<ToolRow>, StoreError> {
        let when = dialect::timestamp(&at);
        let mut tx = self.begin_write().await?;
        tx.changes_inputs = false;
        let Some(row) = load(&mut tx, server, tool).await? else {
            return Ok(None);
        };
        if let Some(expected) = fingerprint
            && expected != row.seen_fingerprint
        {
            return Err(StoreError::Conflict(format!(
                "{server}::{tool} changed again: the gateway now sees definition {}, not {expected}; review it again",
                row.seen_fingerprint
            )));
        }
        let seen = SeenTool {
            server: row.server.clone(),
            tool: row.tool.clone(),
            fingerprint: row.seen_fingerprint.clone(),
            definition: row.seen_definition.clone(),
            concerns: row.seen_concerns.clone(),
        };
        pin(&mut tx, &seen, by, &when, "gateway.tool.approve").await?;
        let row = load(&mut tx, server, tool)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("{server}::{tool} vanished")))?;
        tx.commit().await?;
        Ok(Some(row))
    }
}

/// Pins `tool` as seen, with its audit row.
async fn pin(
    tx: &mut WriteTx,
    tool: &SeenTool,
    by: &str,
    when: &str,
    action: &str,
) -> Result<(), StoreError> {
    let before = load(tx, &tool.server, &tool.tool)
        .await?
        .and_then(|row| row.pinned_fingerprint);
    tx.query(
        "UPDATE gateway_tools SET pinned_fingerprint = ?, pinned_definition = ?, pinned_by = ?, \
         pinned_at = ? WHERE server = ? AND tool = ?",
    )
    .bind(tool.fingerprint.as_str())
    .bind(tool.definition.as_str())
    .bind(by)
    .bind(when)
    .bind(tool.server.as_str())
    .bind(tool.tool.as_str())
    .execute(tx.conn())
    .await?;
    let subject = format!("{}::{}", tool.server, tool.tool);
    let after = serde_json::json!({ "fingerprint": tool.fingerprint }).to_string();
    let before = before.map(|f| serde_json::json!({ "fingerprint": f }).to_string());
    audit(
        tx,
        when,
        by,
        action,
        &subject,
        before.as_deref(),
        Some(&after),
    )
    .await
}
