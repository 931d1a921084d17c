//! Copying a whole store to another one, on either backend (`warrant store migrate`), and the
//! per-table row counts and content checksums that prove the copy lost nothing.
//!
//! The copy reads the source inside one read transaction (one snapshot, even while other
//! processes write) and writes the target inside one writing transaction, so a failed copy
//! leaves the target as it was. The checksum of each table is a SHA-256 over its rows in primary
//! key order, each value encoded with its type, so it is the same on both backends for the same
//! content (text is ordered bytewise on both, see the migrations).

use futures_util::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::dialect::{Backend, MAX_BIND_PARAMS};
use crate::{Store, StoreError};
use Kind::{Blob, Integer, Real, Text};

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Real,
    Blob,
}

/// A stored value, `None` for SQL NULL.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(Option<String>),
    Integer(Option<i64>),
    Real(Option<f64>),
    Blob(Option<Vec<u8>>),
}

struct TableSpec {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    /// Primary key columns: the order rows are read, checksummed and copied in.
    key: &'static str,
    /// A generated id column whose sequence must follow copied ids (PostgreSQL).
    generated_id: Option<&'static str>,
}

/// Every table of the schema, parents before the tables referring to them. A test checks the
/// list against the migrations, so a new column cannot be left out of copies.
const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "meta",
        columns: &[("key", Text), ("value", Text)],
        key: "key",
        generated_id: None,
    },
    TableSpec {
        name: "identities",
        columns: &[
            ("key", Text),
            ("kind", Text),
            ("provider", Text),
            ("account", Text),
            ("activity_last_used", Text),
            ("source", Text),
            ("scope", Text),
            ("data", Text),
            ("hash", Text),
            ("first_seen", Text),
            ("last_seen", Text),
            ("removed_at", Text),
        ],
        key: "key",
        generated_id: None,
    },
    TableSpec {
        name: "credentials",
        columns: &[
            ("key", Text),
            ("identity", Text),
            ("activity_last_used", Text),
            ("source", Text),
            ("scope", Text),
            ("data", Text),
            ("hash", Text),
            ("first_seen", Text),
            ("last_seen", Text),
            ("removed_at", Text),
        ],
        key: "key",
        generated_id: None,
    },
    plain_inventory_table("policies"),
    identity_inventory_table("attachments"),
    identity_inventory_table("trust_edges"),
    plain_inventory_table("resources"),
    plain_inventory_table("owners"),
    plain_inventory_table("accounts"),
    TableSpec {
        name: "gateway_revocations",
        columns: &[
            ("revocation_id", Text),
            ("revoked_at", Text),
            ("revoked_by", Text),
            ("reason", Text),
        ],
        key: "revocation_id",
        generated_id: None,
    },
    TableSpec {
        name: "gateway_grants",
        columns: &[
            ("id", Text),
            ("agent", Text),
            ("task", Text),
            ("grant_json", Text),
            ("revocation_ids", Text),
            ("issued_at", Text),
            ("expires_at", Text),
            ("issued_by", Text),
            ("uses", Integer),
            ("refused", Integer),
            ("first_used_at", Text),
            ("last_used_at", Text),
        ],
        key: "id",
        generated_id: None,
    },
    TableSpec {
        name: "gateway_taint",
        columns: &[
            ("task_key", Text),
            ("label", Text),
            ("first_at", Text),
            ("tool", Text),
        ],
        key: "task_key, label",
        generated_id: None,
    },
    TableSpec {
        name: "gateway_approvals",
        columns: &[
            ("id", Text),
            ("agent", Text),
            ("task", Text),
            ("tool", Text),
            ("arguments_sha256", Text),
            ("arguments_view", Text),
            ("taint", Text),
            ("reason", Text),
            ("requested_at", Text),
            ("expires_at", Text),
            ("status", Text),
            ("decided_at", Text),
            ("decided_by", Text),
            ("note", Text),
            ("used_at", Text),
        ],
        key: "id",
        generated_id: None,
    },
    TableSpec {
        name: "gateway_tools",
        columns: &[
            ("server", Text),
            ("tool", Text),
            ("seen_fingerprint", Text),
            ("seen_definition", Text),
            ("seen_concerns", Text),
            ("first_seen_at", Text),
            ("seen_at", Text),
            ("pinned_fingerprint", Text),
            ("pinned_definition", Text),
            ("pinned_by", Text),
            ("pinned_at", Text),
            ("reported_fingerprint", Text),
        ],
        key: "server, tool",
        generated_id: None,
    },
    TableSpec {
        name: "assessments",
        columns: &[
            ("id", Integer),
            ("source", Text),
            ("as_of", Text),
            ("n_findings", Integer),
            ("revision", Integer),
            ("aggregates", Text),
        ],
        key: "id",
        generated_id: Some("id"),
    },
    TableSpec {
        name: "findings",
        columns: &[
            ("id", Text),
            ("rule", Text),
            ("identity", Text),
            ("severity", Text),
            ("owasp", Text),
            ("source", Text),
            ("data", Text),
            ("first_seen", Text),
            ("last_seen", Text),
            ("status", Text),
            ("status_note", Text),
            ("resolved_at", Text),
        ],
        key: "id",
        generated_id: None,
    },
    TableSpec {
        name: "risks",
        columns: &[
            ("identity", Text),
            ("assessment", Integer),
            ("score", Real),
            ("blast_radius", Real),
            ("exposure", Real),
            ("data", Text),
            ("summary", Text),
            ("provider", Text),
            ("kind", Text),
            ("environment", Text),
            ("status", Text),
            ("account", Text),
            ("tier", Text),
            ("owned", Integer),
            ("owners", Text),
            ("name", Text),
        ],
        key: "identity",
        generated_id: None,
    },
    TableSpec {
        name: "secret_occurrences",
        columns: &[
            ("fingerprint", Text),
            ("rule", Text),
            ("path", Text),
            ("git_commit", Text),
            ("line", Integer),
            ("col", Integer),
            ("author", Text),
            ("committed", Text),
            ("identity", Text),
            ("credential", Text),
        ],
        key: "fingerprint, path, git_commit, line, col",
        generated_id: None,
    },
    TableSpec {
        name: "usage",
        columns: &[
            ("identity", Text),
            ("credential", Text),
            ("action", Text),
            ("resource", Text),
            ("first_seen", Text),
            ("last_seen", Text),
            ("count", Integer),
            ("errors", Integer),
        ],
        key: "identity, credential, action, resource",
        generated_id: None,
    },
    TableSpec {
        name: "baselines",
        columns: &[("identity", Text), ("data", Blob)],
        key: "identity",
        generated_id: None,
    },
    TableSpec {
        name: "ingested",
        columns: &[
            ("sha256", Text),
            ("path", Text),
            ("events", Integer),
            ("ingested", Text),
            ("size", Integer),
            ("modified", Text),
        ],
        key: "sha256",
        generated_id: None,
    },
    TableSpec {
        name: "exceptions",
        columns: &[
            ("id", Text),
            ("owner", Text),
            ("expires", Text),
            ("created", Text),
            ("data", Text),
            ("removed_at", Text),
            ("removed_by", Text),
        ],
        key: "id",
        generated_id: None,
    },
    TableSpec {
        name: "audit",
        columns: &[
            ("seq", Integer),
            ("at", Text),
            ("actor", Text),
            ("action", Text),
            ("subject", Text),
            ("before", Text),
            ("after", Text),
        ],
        key: "seq",
        generated_id: Some("seq"),
    },
    TableSpec {
        name: "plans",
        columns: &[
            ("id", Text),
            ("identity", Text),
            ("action", Text),
            ("requested_by", Text),
            ("created", Text),
            ("required_approvals", Integer),
            ("data", Text),
        ],
        key: "id",
        generated_id: None,
    },
    TableSpec {
        name: "plan_decisions",
        columns: &[
            ("seq", Integer),
            ("plan", Text),
            ("decided_by", Text),
            ("at", Text),
            ("decision", Text),
            ("reason", Text),
        ],
        key: "seq",
        generated_id: Some("seq"),
    },
    TableSpec {
        name: "plan_journal",
        columns: &[
            ("seq", Integer),
            ("plan", Text),
            ("step", Integer),
            ("direction", Text),
            ("state", Text),
            ("at", Text),
            ("actor", Text),
            ("output", Text),
            ("error", Text),
        ],
        key: "seq",
        generated_id: Some("seq"),
    },
    TableSpec {
        name: "review_campaigns",
        columns: &[
            ("id", Text),
            ("scope", Text),
            ("due", Text),
            ("fallback_reviewer", Text),
            ("usage_since", Text),
            ("basis", Text),
            ("started_by", Text),
            ("started_at", Text),
            ("closed_by", Text),
            ("closed_at", Text),
        ],
        key: "id",
        generated_id: None,
    },
    TableSpec {
        name: "review_items",
        columns: &[
            ("campaign", Text),
            ("item", Integer),
            ("identity", Text),
            ("name", Text),
            ("reviewer", Text),
            ("assigned", Text),
            ("evidence", Text),
        ],
        key: "campaign, item",
        generated_id: None,
    },
    TableSpec {
        name: "review_decisions",
        columns: &[
            ("seq", Integer),
            ("campaign", Text),
            ("item", Integer),
            ("decision", Text),
            ("reason", Text),
            ("decided_by", Text),
            ("authority", Text),
            ("at", Text),
            ("plan", Text),
            ("plan_error", Text),
            ("supersedes", Integer),
        ],
        key: "seq",
        generated_id: Some("seq"),
    },
    TableSpec {
        name: "owner_assignments",
        columns: &[
            ("seq", Integer),
            ("identity", Text),
            ("owner", Text),
            ("assigned_by", Text),
            ("at", Text),
            ("reason", Text),
        ],
        key: "seq",
        generated_id: Some("seq"),
    },
    TableSpec {
        name: "owner_evidence",
        columns: &[
            ("identity", Text),
            ("owner", Text),
            ("source", Text),
            ("detail", Text),
            ("at", Text),
            ("recorded", Text),
        ],
        key: "identity, source, owner, detail",
        generated_id: None,
    },
    TableSpec {
        name: "registrations",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("kind", Text),
            ("owner", Text),
            ("requested_by", Text),
            ("created", Text),
            ("expires", Text),
            ("data", Text),
        ],
        key: "id",
        generated_id: None,
    },
    TableSpec {
        name: "registration_decisions",
        columns: &[
            ("seq", Integer),
            ("registration", Text),
            ("decided_by", Text),
            ("at", Text),
            ("decision", Text),
            ("reason", Text),
        ],
        key: "seq",
        generated_id: Some("seq"),
    },
    TableSpec {
        name: "activity_events_seen",
        columns: &[
            ("log", Text),
            ("event_id", Text),
            ("event_time", Text),
            ("identity", Text),
        ],
        key: "log, event_id",
        generated_id: None,
    },
    TableSpec {
        name: "activity_counts",
        columns: &[
            ("identity", Text),
            ("events", Integer),
            ("first_event", Text),
            ("last_event", Text),
        ],
        key: "identity",
        generated_id: None,
    },
    TableSpec {
        name: "platform_users",
        columns: &[
            ("username", Text),
            ("display_name", Text),
            ("role", Text),
            ("password_hash", Text),
            ("oidc_issuer", Text),
            ("oidc_subject", Text),
            ("created_at", Text),
            ("disabled_at", Text),
            ("failed_logins", Integer),
            ("locked_until", Text),
        ],
        key: "username",
        generated_id: None,
    },
    TableSpec {
        name: "platform_sessions",
        columns: &[
            ("token_hash", Text),
            ("username", Text),
            ("created_at", Text),
            ("last_seen_at", Text),
            ("expires_at", Text),
            ("ended_at", Text),
        ],
        key: "token_hash",
        generated_id: None,
    },
    TableSpec {
        name: "api_tokens",
        columns: &[
            ("id", Text),
            ("token_hash", Text),
            ("username", Text),
            ("name", Text),
            ("role", Text),
            ("created_at", Text),
            ("expires_at", Text),
            ("last_used_at", Text),
            ("revoked_at", Text),
            ("revoked_by", Text),
        ],
        key: "id",
        generated_id: None,
    },
];

/// An inventory table without typed columns.
const fn plain_inventory_table(name: &'static str) -> TableSpec {
    TableSpec {
        name,
        columns: &[
            ("key", Text),
            ("source", Text),
            ("scope", Text),
            ("data", Text),
            ("hash", Text),
            ("first_seen", Text),
            ("last_seen", Text),
            ("removed_at", Text),
        ],
        key: "key",
        generated_id: None,
    }
}

/// An inventory table with an `identity` column.
const fn identity_inventory_table(name: &'static str) -> TableSpec {
    TableSpec {
        name,
        columns: &[
            ("key", Text),
            ("identity", Text),
            ("source", Text),
            ("scope", Text),
            ("data", Text),
            ("hash", Text),
            ("first_seen", Text),
            ("last_seen", Text),
            ("removed_at", Text),
        ],
        key: "key",
        generated_id: None,
    }
}

/// Rows and content checksum of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCopy {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-256 (hex) over the table's rows in primary-key order.
    pub checksum: String,
}

/// What a copy wrote: per table, the rows and checksum read from the source, which the target
/// was verified to hold too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub tables: Vec<TableCopy>,
}

impl CopyReport {
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Running checksum of one table.
struct TableHasher {
    hasher: Sha256,
    rows: u64,
}

impl TableHasher {
    fn new() -> TableHasher {
        TableHasher {
            hasher: Sha256::new(),
            rows: 0,
        }
    }

    /// Feeds one row: each value with a type tag and, for variable-length ones, its length,
    /// so no two different rows encode alike.
    fn row(&mut self, values: &[Value]) {
        self.rows += 1;
        for value in values {
            let (tag, bytes): (u8, Vec<u8>) = match value {
                Value::Text(None)
                | Value::Integer(None)
                | Value::Real(None)
                | Value::Blob(None) => (0, Vec::new()),
                Value::Text(Some(t)) => (1, t.as_bytes().to_vec()),
                Value::Integer(Some(i)) => (2, i.to_be_bytes().to_vec()),
                Value::Real(Some(r)) => (3, r.to_bits().to_be_bytes().to_vec()),
                Value::Blob(Some(b)) => (4, b.clone()),
            };
            self.hasher.update([tag]);
            self.hasher.update((bytes.len() as u64).to_be_bytes());
            self.hasher.update(&bytes);
        }
    }

    fn finish(self, table: &'static str) -> TableCopy {
        TableCopy {
            table,
            rows: self.rows,
            checksum: hex::encode(self.hasher.finalize()),
        }
    }
}

fn read_row(row: &AnyRow, table: &TableSpec) -> Result<Vec<Value>, StoreError> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Text => Value::Text(row.try_get(i)?),
                Integer => Value::Integer(row.try_get(i)?),
                Real => Value::Real(row.try_get(i)?),
                Blob => Value::Blob(row.try_get(i)?),
            })
        })
        .collect()
}

fn select_all(table: &TableSpec) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        table.name,
        table.key
    )
}

/// Writes `rows` into `table` in multi-row statements.
async fn insert_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &TableSpec,
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    for chunk in rows.chunks((MAX_BIND_PARAMS / columns.len()).max(1)) {
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            table.name,
            columns.join(", "),
            crate::dialect::value_rows(chunk.len(), columns.len())
        );
        let mut query = backend.query(&sql);
        for row in chunk {
            for value in row {
                query = match value {
                    Value::Text(v) => query.bind(v.as_deref()),
                    Value::Integer(v) => query.bind(*v),
                    Value::Real(v) => query.bind(*v),
                    Value::Blob(v) => query.bind(v.as_deref()),
                };
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Rows buffered before a multi-row write, bounding memory on large stores.
const COPY_BATCH_ROWS: usize = 5_000;

impl Store {
    /// Row count and content checksum of every table, read in one snapshot.
    pub async fn content_summary(&self) -> Result<Vec<TableCopy>, StoreError> {
        let mut tx = self.backend.begin_read(&self.pool).await?;
        let mut out = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let mut hasher = TableHasher::new();
            let sql = select_all(table);
            let mut rows = self.backend.query(&sql).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                hasher.row(&read_row(&row, table)?);
            }
            drop(rows);
            out.push(hasher.finish(table.name));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Copies every row of this store into `target` (typically a SQLite store into a new
    /// PostgreSQL database), then verifies that the target holds the same row counts and
    /// content checksums, failing with [`StoreError::CopyMismatch`] otherwise. The target must
    /// be empty; the whole copy is one transaction on it.
    pub async fn copy_to(&self, target: &Store) -> Result<CopyReport, StoreError> {
        let mut write = target.begin_write().await?;
        // The copy carries the source's revision (in `meta`), so its saved assessment stays
        // current.
        write.changes_inputs = false;
        for table in TABLES {
            let count_sql = format!("SELECT COUNT(*) FROM {}", table.name);
            let existing: i64 = write
                .query(&count_sql)
                .fetch_one(write.conn())
                .await?
                .try_get(0)?;
            if existing != 0 {
                return Err(StoreError::Unsupported(format!(
                    "the target store is not empty (table {} holds {existing} rows); copy into \
                     a new database",
                    table.name
                )));
            }
        }

        let mut read = self.backend.begin_read(&self.pool).await?;
        let mut copied = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let mut hasher = TableHasher::new();
            let sql = select_all(table);
            let mut rows = self.backend.query(&sql).fetch(&mut *read);
            let mut batch: Vec<Vec<Value>> = Vec::with_capacity(COPY_BATCH_ROWS);
            while let Some(row) = rows.try_next().await? {
                let values = read_row(&row, table)?;
                hasher.row(&values);
                batch.push(values);
                if batch.len() >= COPY_BATCH_ROWS {
                    insert_rows(write.conn(), target.backend, table, &batch).await?;
                    batch.clear();
                }
            }
            drop(rows);
            insert_rows(write.conn(), target.backend, table, &batch).await?;
            if let Some(column) = table.generated_id
                && let Some(sql) = target.backend.after_explicit_ids(table.name, column)
            {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(write.conn())
                    .await?;
            }
            let summary = hasher.finish(table.name);
            tracing::debug!(table = table.name, rows = summary.rows, "Table copied.");
            copied.push(summary);
        }
        read.commit().await?;
        write.commit().await?;

        let written = target.content_summary().await?;
        let differences: Vec<String> = copied
            .iter()
            .zip(&written)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| {
                format!(
                    "{}: {} rows (checksum {}) read, {} rows (checksum {}) in the target",
                    a.table, a.rows, a.checksum, b.rows, b.checksum
                )
            })
            .collect();
        if !differences.is_empty() {
            return Err(StoreError::CopyMismatch(differences.join("; ")));
        }
        Ok(CopyReport { tables: copied })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column of every migrated table is copied: the list above matches the schema.
    #[test]
    fn table_list_matches_the_migrations() {
        let mut schema: Vec<(String, Vec<String>)> = Vec::new();
        let migrations = crate::migrations::Embedded::of(crate::dialect::Backend::Sqlite)
            .migrations()
            .unwrap();
        for migration in &migrations {
            let mut current: Option<usize> = None;
            for line in migration.sql.as_str().lines() {
                let trimmed = line.trim();
                if let Some(rest) = trimmed.strip_prefix("CREATE TABLE ") {
                    let name = rest.split_whitespace().next().unwrap_or("").to_string();
                    schema.push((name, Vec::new()));
                    current = Some(schema.len() - 1);
                } else if trimmed.starts_with(')') {
                    current = None;
                } else if let Some(rest) = trimmed.strip_prefix("ALTER TABLE ") {
                    let mut words = rest.split_whitespace();
                    let table = words.next().unwrap_or("");
                    let column = words.nth(2).unwrap_or("");
                    let entry = schema.iter_mut().find(|(n, _)| n == table);
                    entry.expect("altered table exists").1.push(column.into());
                } else if let Some(i) = current
                    && !trimmed.starts_with("CHECK")
                    && !trimmed.starts_with("PRIMARY KEY")
                    && !trimmed.is_empty()
                {
                    let column = trimmed.split_whitespace().next().unwrap_or("");
                    schema.get_mut(i).unwrap().1.push(column.to_string());
                }
            }
        }
        let mut listed: Vec<(String, Vec<String>)> = TABLES
            .iter()
            .map(|t| {
                (
                    t.name.to_string(),
                    t.columns.iter().map(|(c, _)| c.to_string()).collect(),
                )
            })
            .collect();
        schema.sort();
        listed.sort();
        assert_eq!(listed, schema);
    }

    #[test]
    fn checksums_tell_null_from_empty_and_split_values_apart() {
        let hash = |rows: &[Vec<Value>]| {
            let mut h = TableHasher::new();
            for r in rows {
                h.row(r);
            }
            h.finish("t").checksum
        };
        let a = hash(&[vec![Value::Text(None)]]);
        let b = hash(&[vec![Value::Text(Some(String::new()))]]);
        assert_ne!(a, b);
        let c = hash(&[vec![
            Value::Text(Some("ab".into())),
            Value::Text(Some("c".into())),
        ]]);
        let d = hash(&[vec![
            Value::Text(Some("a".into())),
            Value::Text(Some("bc".into())),
        ]]);
        assert_ne!(c, d);
    }
}
