-- Schema 9: ownership and registration — explicit owner assignments (a history, never
-- overwritten) and registrations of intended identities with the decisions on them.
--
-- Both change what an assessment reads (owners, sanctioned or shadow), so their writes raise
-- the store's revision; each also adds its audit row in the same transaction.

CREATE TABLE owner_assignments (
    seq         INTEGER PRIMARY KEY,             -- order of the assignment
    identity    TEXT NOT NULL CHECK (identity <> ''), -- the identity's id
    owner       TEXT NOT NULL,                   -- the owner's email; '' withdraws the explicit assignment
    assigned_by TEXT NOT NULL CHECK (assigned_by <> ''), -- who assigned it (email)
    at          TEXT NOT NULL,                   -- when (RFC 3339, UTC)
    reason      TEXT                             -- why, in the assigner's words
) STRICT;
CREATE INDEX owner_assignments_identity ON owner_assignments (identity, seq);

CREATE TABLE registrations (
    id           TEXT PRIMARY KEY CHECK (id <> ''), -- reg-… (warrant_lifecycle::Registration::id)
    name         TEXT NOT NULL,                  -- the identity's name at its provider
    kind         TEXT NOT NULL,                  -- identity kind (aws_user, …)
    owner        TEXT NOT NULL,                  -- who answers for it (email)
    requested_by TEXT NOT NULL CHECK (requested_by <> ''), -- who registered it (email)
    created      TEXT NOT NULL,                  -- when it was requested (RFC 3339, UTC)
    expires      TEXT,                           -- when it is to be decommissioned; NULL: no expiry
    data         TEXT NOT NULL CHECK (json_valid(data)) -- the registration as JSON (warrant_lifecycle::Registration)
) STRICT;

CREATE TABLE registration_decisions (
    seq          INTEGER PRIMARY KEY,            -- order of the decision
    registration TEXT NOT NULL,                  -- registrations.id
    decided_by   TEXT NOT NULL CHECK (decided_by <> ''), -- who decided (email)
    at           TEXT NOT NULL,                  -- when (RFC 3339, UTC)
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'withdraw')), -- withdraw: no longer wanted
    reason       TEXT                            -- why, in the decider's words
) STRICT;
CREATE INDEX registration_decisions_registration ON registration_decisions (registration, seq);
