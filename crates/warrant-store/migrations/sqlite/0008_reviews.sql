-- Schema 8: access-review campaigns — which identities a campaign covers, who reviews each and
-- the evidence they were shown, and the decisions reviewers record.
--
-- A campaign's items are written once, with their evidence, when it opens. Decisions are
-- append-only: a correction is a new row that names the one it supersedes, so the latest row
-- of an item is its decision and nothing is overwritten. Closing marks the campaign (never
-- deletes it). Every write also adds its audit row; none raises the store's revision.

CREATE TABLE review_campaigns (
    id                TEXT PRIMARY KEY CHECK (id <> ''), -- the campaign's name as given at start (e.g. 2026-Q4)
    scope             TEXT NOT NULL CHECK (scope <> ''), -- which identities it covers (warrant_lifecycle::review::Scope, as text)
    due               TEXT NOT NULL,          -- last day to decide (YYYY-MM-DD); pending items are overdue after it
    fallback_reviewer TEXT,                   -- who reviews unowned items and gets overdue ones (the policy's, at start)
    usage_since       TEXT NOT NULL,          -- start of the window observed use was read from (RFC 3339, UTC)
    basis             TEXT NOT NULL,          -- what the evidence was read from (the saved assessment, or evaluated)
    started_by        TEXT NOT NULL CHECK (started_by <> ''), -- who opened it (email)
    started_at        TEXT NOT NULL,          -- when (RFC 3339, UTC; the injected clock)
    closed_by         TEXT,                   -- who closed it; NULL while open
    closed_at         TEXT,                   -- when it was closed
    CHECK ((closed_at IS NULL) = (closed_by IS NULL))
) STRICT;

CREATE TABLE review_items (
    campaign  TEXT NOT NULL,                  -- review_campaigns.id
    item      INTEGER NOT NULL CHECK (item >= 1), -- the item's number in its campaign
    identity  TEXT NOT NULL,                  -- the identity reviewed (its external id)
    name      TEXT NOT NULL,                  -- the identity's name when the campaign opened
    reviewer  TEXT NOT NULL CHECK (reviewer <> ''), -- who it was assigned to (email)
    assigned  TEXT NOT NULL,                  -- why them: owner (tag:owner), or why the fallback reviewer
    evidence  TEXT NOT NULL CHECK (json_valid(evidence)), -- what the reviewer is shown (warrant_lifecycle::review::Evidence)
    PRIMARY KEY (campaign, item)
) STRICT;
CREATE INDEX review_items_reviewer ON review_items (campaign, reviewer);

CREATE TABLE review_decisions (
    seq        INTEGER PRIMARY KEY,           -- order of the decision
    campaign   TEXT NOT NULL,                 -- review_campaigns.id
    item       INTEGER NOT NULL,              -- review_items.item
    decision   TEXT NOT NULL CHECK (decision IN ('keep', 'rightsize', 'rotate', 'disable', 'decommission', 'expired')), -- expired: still pending when the campaign closed
    reason     TEXT,                          -- why, in the decider's words
    decided_by TEXT NOT NULL CHECK (decided_by <> ''), -- who decided (email)
    authority  TEXT NOT NULL CHECK (authority IN ('assigned', 'escalated', 'close')), -- as the assigned reviewer, the fallback reviewer of an overdue item, or closing
    at         TEXT NOT NULL,                 -- when (RFC 3339, UTC)
    plan       TEXT,                          -- plans.id of the remediation plan written for it
    plan_error TEXT,                          -- why no plan could be written, when one was called for
    supersedes INTEGER                        -- review_decisions.seq this one corrects
) STRICT;
CREATE INDEX review_decisions_item ON review_decisions (campaign, item, seq);
