-- Warrant store, schema 1: the inventory graph and its history.
--
-- Every inventory table has the same shape: a key, the connector (`source`) and snapshot scope
-- (`scope`, an account, cluster or file) the record came from, the full record as JSON (`data`,
-- the domain type serialised with serde), a content hash to skip unchanged rows on re-import,
-- and its history. Records are never deleted by an import: a complete snapshot of a scope that
-- no longer lists a record sets `removed_at`.
-- Timestamps are fixed-width RFC 3339 text in UTC (microseconds, `Z`), which sorts chronologically.
-- This file is the SQLite dialect (STRICT, json_valid); a PostgreSQL schema would mirror it.

CREATE TABLE identities (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- external id: ARN, system:serviceaccount:NS:NAME, …
    kind       TEXT NOT NULL,                -- warrant_core::IdentityKind, for filtering without JSON
    provider   TEXT NOT NULL,                -- warrant_core::Provider
    account    TEXT,                         -- account / cluster / organisation / config file
    activity_last_used TEXT,                 -- latest use seen in activity logs; raised only, never lowered
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::Identity)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX identities_scope ON identities (source, scope);
CREATE TABLE credentials (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- provider key id, or fp:<fingerprint>
    identity   TEXT NOT NULL,                -- identities.key it authenticates as (may arrive in a later import)
    activity_last_used TEXT,                 -- latest use seen in activity logs; raised only, never lowered
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::Credential, never a raw secret)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX credentials_scope ON credentials (source, scope);
CREATE INDEX credentials_identity ON credentials (identity);
CREATE TABLE policies (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- policy ARN, k8s:CLUSTER/…, IDENTITY#inline/NAME
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::Policy with its statements)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX policies_scope ON policies (source, scope);
CREATE TABLE attachments (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- identity, policy, via, scope joined by U+001F
    identity   TEXT NOT NULL,                -- identities.key holding the policy
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::Attachment)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX attachments_scope ON attachments (source, scope);
CREATE INDEX attachments_identity ON attachments (identity);
CREATE TABLE trust_edges (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- from, to, kind joined by U+001F
    identity   TEXT NOT NULL,                -- identities.key that can be assumed (`to`)
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::TrustEdge)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX trust_edges_scope ON trust_edges (source, scope);
CREATE INDEX trust_edges_identity ON trust_edges (identity);
CREATE TABLE resources (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- ARN, k8s:CLUSTER/NS, github:ORG/REPO, or a pattern
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::Resource)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX resources_scope ON resources (source, scope);
CREATE TABLE owners (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- lower-cased email or login
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::Owner)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX owners_scope ON owners (source, scope);
CREATE TABLE accounts (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- provider and account id joined by U+001F
    source     TEXT NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the domain record as JSON (warrant_core::Account)
    hash       TEXT NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT NOT NULL,                -- first import that contained it
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT                          -- set when a complete snapshot of its scope no longer lists it
) STRICT;
CREATE INDEX accounts_scope ON accounts (source, scope);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY CHECK (key <> ''), -- setting name, e.g. installation_id
    value TEXT NOT NULL                      -- setting value
) STRICT;
