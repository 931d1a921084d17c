-- Schema 7: remediation plans, the decisions people make on them, and the journal of applying
-- and undoing them.
--
-- A plan is kept as the lifecycle engine's JSON (content-addressed: its id is the hash of its
-- content, so it never changes once stored). Decisions and journal records are append-only:
-- a plan's state is derived from them, so an apply killed part-way is known from what was
-- recorded, and nothing is overwritten. Every write also adds its audit row.

CREATE TABLE plans (
    id                 TEXT PRIMARY KEY CHECK (id <> ''), -- plan-… (warrant_lifecycle::Plan::id)
    identity           TEXT NOT NULL,          -- the identity it acts on
    action             TEXT NOT NULL,          -- rotate-key, quarantine, …
    requested_by       TEXT NOT NULL CHECK (requested_by <> ''), -- who asked (email)
    created            TEXT NOT NULL,          -- when it was written (RFC 3339, UTC)
    required_approvals INTEGER NOT NULL CHECK (required_approvals >= 0), -- from the identity's tier
    data               TEXT NOT NULL CHECK (json_valid(data)) -- the plan as JSON (warrant_lifecycle::Plan)
) STRICT;
CREATE INDEX plans_identity ON plans (identity);

CREATE TABLE plan_decisions (
    seq      INTEGER PRIMARY KEY,              -- order of the decision
    plan     TEXT NOT NULL,                    -- plans.id
    decided_by TEXT NOT NULL CHECK (decided_by <> ''), -- who decided (email)
    at       TEXT NOT NULL,                    -- when (RFC 3339, UTC)
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'waive')), -- waive: approval waived by policy (break-glass)
    reason   TEXT                              -- why, in the decider's words
) STRICT;
CREATE INDEX plan_decisions_plan ON plan_decisions (plan, seq);

CREATE TABLE plan_journal (
    seq       INTEGER PRIMARY KEY,             -- order of the record
    plan      TEXT NOT NULL,                   -- plans.id
    step      INTEGER NOT NULL CHECK (step >= 0), -- 0-based step index
    direction TEXT NOT NULL CHECK (direction IN ('apply', 'undo')), -- applying the step or undoing it
    state     TEXT NOT NULL CHECK (state IN ('started', 'done', 'waiting', 'failed')), -- started: the call is about to be made
    at        TEXT NOT NULL,                   -- when (RFC 3339, UTC)
    actor     TEXT NOT NULL,                   -- who ran the apply or rollback
    output    TEXT CHECK (output IS NULL OR json_valid(output)), -- what the step produced (never a secret)
    error     TEXT                             -- why it failed or is waiting
) STRICT;
CREATE INDEX plan_journal_plan ON plan_journal (plan, seq);
