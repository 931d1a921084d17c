-- Schema 6: governance records — exceptions granted to findings, and the audit trail of every
-- governance change.
--
-- An exception is kept as the lifecycle engine's JSON (its scope, reason, owner, expiry); the
-- columns beside it are what listings filter on. Withdrawing one early marks it, never deletes
-- it. The audit table is append-only: every governance write adds its row in the same
-- transaction, with the actor, the instant (the injected clock) and the state before and after.

CREATE TABLE exceptions (
    id         TEXT PRIMARY KEY CHECK (id <> ''), -- content hash (warrant_lifecycle::Exception::id)
    owner      TEXT NOT NULL,                -- who answers for it (email)
    expires    TEXT NOT NULL,                -- instant it stops applying (RFC 3339, UTC)
    created    TEXT NOT NULL,                -- when it was granted
    data       TEXT NOT NULL CHECK (json_valid(data)), -- the exception as JSON (warrant_lifecycle::Exception)
    removed_at TEXT,                         -- when it was withdrawn before expiring; NULL otherwise
    removed_by TEXT,                         -- who withdrew it
    CHECK ((removed_at IS NULL) = (removed_by IS NULL))
) STRICT;
CREATE INDEX exceptions_expires ON exceptions (expires);

CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY,             -- order of the change, increasing
    at      TEXT NOT NULL,                   -- when it happened (RFC 3339, UTC; the injected clock)
    actor   TEXT NOT NULL CHECK (actor <> ''), -- who acted (email)
    action  TEXT NOT NULL CHECK (action <> ''), -- what was done, e.g. exception.grant
    subject TEXT NOT NULL,                   -- what it was done to (an id)
    before  TEXT CHECK (before IS NULL OR json_valid(before)), -- the subject's state before, as JSON
    after   TEXT CHECK (after IS NULL OR json_valid(after))    -- the subject's state after, as JSON
) STRICT;
