-- Warrant store, schema 1: the inventory graph and its history.
--
-- Every inventory table has the same shape: a key, the connector (`source`) and snapshot scope
-- (`scope`, an account, cluster or file) the record came from, the full record as JSON (`data`,
-- the domain type serialised with serde), a content hash to skip unchanged rows on re-import,
-- and its history. Records are never deleted by an import: a complete snapshot of a scope that
-- no longer lists a record sets `removed_at`.
-- Timestamps are fixed-width RFC 3339 text in UTC (microseconds, `Z`), which sorts chronologically.
-- This file is the PostgreSQL dialect; migrations/sqlite holds the same schema for SQLite.
-- Text is `COLLATE "C"` so ORDER BY and comparisons are bytewise, as in SQLite, whatever the
-- database's locale: output order and timestamp comparisons are the same on both backends.

CREATE TABLE identities (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- external id: ARN, system:serviceaccount:NS:NAME, …
    kind       TEXT COLLATE "C" NOT NULL,                -- warrant_core::IdentityKind, for filtering without JSON
    provider   TEXT COLLATE "C" NOT NULL,                -- warrant_core::Provider
    account    TEXT COLLATE "C",                         -- account / cluster / organisation / config file
    activity_last_used TEXT COLLATE "C",                 -- latest use seen in activity logs; raised only, never lowered
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::Identity)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX identities_scope ON identities (source, scope);
CREATE TABLE credentials (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- provider key id, or fp:<fingerprint>
    identity   TEXT COLLATE "C" NOT NULL,                -- identities.key it authenticates as (may arrive in a later import)
    activity_last_used TEXT COLLATE "C",                 -- latest use seen in activity logs; raised only, never lowered
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::Credential, never a raw secret)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX credentials_scope ON credentials (source, scope);
CREATE INDEX credentials_identity ON credentials (identity);
CREATE TABLE policies (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- policy ARN, k8s:CLUSTER/…, IDENTITY#inline/NAME
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::Policy with its statements)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX policies_scope ON policies (source, scope);
CREATE TABLE attachments (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- identity, policy, via, scope joined by U+001F
    identity   TEXT COLLATE "C" NOT NULL,                -- identities.key holding the policy
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::Attachment)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX attachments_scope ON attachments (source, scope);
CREATE INDEX attachments_identity ON attachments (identity);
CREATE TABLE trust_edges (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- from, to, kind joined by U+001F
    identity   TEXT COLLATE "C" NOT NULL,                -- identities.key that can be assumed (`to`)
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::TrustEdge)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX trust_edges_scope ON trust_edges (source, scope);
CREATE INDEX trust_edges_identity ON trust_edges (identity);
CREATE TABLE resources (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- ARN, k8s:CLUSTER/NS, github:ORG/REPO, or a pattern
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::Resource)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX resources_scope ON resources (source, scope);
CREATE TABLE owners (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- lower-cased email or login
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::Owner)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX owners_scope ON owners (source, scope);
CREATE TABLE accounts (
    key        TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- provider and account id joined by U+001F
    source     TEXT COLLATE "C" NOT NULL CHECK (source <> ''), -- connector that produced the record (Provenance::source)
    scope      TEXT COLLATE "C" NOT NULL,                -- snapshot scope it belongs to (see crate docs: record scopes)
    data       TEXT COLLATE "C" NOT NULL CHECK (data::json IS NOT NULL), -- the domain record as JSON (warrant_core::Account)
    hash       TEXT COLLATE "C" NOT NULL,                -- SHA-256 (128-bit prefix) of `data`, to skip unchanged rows
    first_seen TEXT COLLATE "C" NOT NULL,                -- first import that contained it
    last_seen  TEXT COLLATE "C" NOT NULL CHECK (last_seen >= first_seen), -- latest import that contained it
    removed_at TEXT COLLATE "C"                          -- set when a complete snapshot of its scope no longer lists it
);
CREATE INDEX accounts_scope ON accounts (source, scope);

CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY CHECK (key <> ''), -- setting name, e.g. installation_id
    value TEXT COLLATE "C" NOT NULL                      -- setting value
);
