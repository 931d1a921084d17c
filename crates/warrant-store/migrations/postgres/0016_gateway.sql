-- Schema 16: the MCP gateway's shared state, so that several gateway processes behind a load
-- balancer agree: revoked task tokens, the task tokens minted and how they were used, the taint
-- labels each task has gathered, and calls held for a person's approval.
--
-- INVARIANT: no token and no raw argument is stored. A grant is kept by its revocation ids and
-- what it allows; a held call by the SHA-256 of its canonical arguments and a redacted view.
-- Nothing here raises the store's revision (none of it is an input of an assessment).

CREATE TABLE gateway_revocations (
    revocation_id TEXT COLLATE "C" PRIMARY KEY CHECK (revocation_id <> ''), -- hex revocation id of a task token's block
    revoked_at    TEXT COLLATE "C" NOT NULL,                -- when (RFC 3339, UTC)
    revoked_by    TEXT COLLATE "C" NOT NULL CHECK (revoked_by <> ''), -- who revoked it
    reason        TEXT COLLATE "C" NOT NULL                 -- why, in their words
);

CREATE TABLE gateway_grants (
    id             TEXT COLLATE "C" PRIMARY KEY CHECK (id <> ''), -- the first (authority) revocation id of the token
    agent          TEXT COLLATE "C" NOT NULL CHECK (agent <> ''), -- the agent identity it was minted for
    task           TEXT COLLATE "C" NOT NULL,               -- the task it is for
    grant_json     TEXT COLLATE "C" NOT NULL CHECK (grant_json::json IS NOT NULL), -- tools and argument constraints (never the token)
    revocation_ids TEXT COLLATE "C" NOT NULL CHECK (revocation_ids::json IS NOT NULL), -- every block's revocation id, JSON array
    issued_at      TEXT COLLATE "C" NOT NULL,               -- RFC 3339, UTC
    expires_at     TEXT COLLATE "C" NOT NULL,               -- RFC 3339, UTC
    issued_by      TEXT COLLATE "C" NOT NULL,               -- who minted it
    uses           BIGINT NOT NULL DEFAULT 0 CHECK (uses >= 0), -- calls allowed under it
    refused        BIGINT NOT NULL DEFAULT 0 CHECK (refused >= 0), -- calls it did not allow (outside its task)
    first_used_at  TEXT COLLATE "C",                        -- the first call under it
    last_used_at   TEXT COLLATE "C",                        -- the latest call under it
    CHECK (expires_at > issued_at)
);
CREATE INDEX gateway_grants_expires ON gateway_grants (expires_at);

CREATE TABLE gateway_taint (
    task_key TEXT COLLATE "C" NOT NULL CHECK (task_key <> ''), -- the task (token or explicit task id) the label belongs to
    label    TEXT COLLATE "C" NOT NULL CHECK (label <> ''), -- untrusted_input, sensitive_data or external_action
    first_at TEXT COLLATE "C" NOT NULL,                      -- when the task first gathered it
    tool     TEXT COLLATE "C" NOT NULL,                      -- the call (server::tool) that brought it
    PRIMARY KEY (task_key, label)
);

CREATE TABLE gateway_approvals (
    id               TEXT COLLATE "C" PRIMARY KEY CHECK (id <> ''), -- hash of agent, task, tool and arguments
    agent            TEXT COLLATE "C" NOT NULL,             -- the agent identity that made the call
    task             TEXT COLLATE "C",                      -- its task, when it has one
    tool             TEXT COLLATE "C" NOT NULL CHECK (tool <> ''), -- server::tool
    arguments_sha256 TEXT COLLATE "C" NOT NULL CHECK (length(arguments_sha256) = 64), -- of the canonical arguments
    arguments_view   TEXT COLLATE "C" NOT NULL CHECK (arguments_view::json IS NOT NULL), -- the arguments, secrets redacted
    taint            TEXT COLLATE "C" NOT NULL CHECK (taint::json IS NOT NULL), -- the task's labels when it was held, JSON array
    reason           TEXT COLLATE "C" NOT NULL,             -- why it needs approval (policy or Rule of Two)
    requested_at     TEXT COLLATE "C" NOT NULL,             -- when the call was held (RFC 3339, UTC)
    expires_at       TEXT COLLATE "C" NOT NULL,             -- a pending request is denied after this
    status           TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'approved', 'denied')), -- as decided; pending past expires_at counts as expired
    decided_at       TEXT COLLATE "C",                      -- when it was approved or denied
    decided_by       TEXT COLLATE "C",                      -- who decided
    note             TEXT COLLATE "C",                      -- their reason, if they gave one
    used_at          TEXT COLLATE "C",                      -- when the gateway forwarded the approved call: an approval is used once
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (used_at IS NULL OR status = 'approved')
);
CREATE INDEX gateway_approvals_status ON gateway_approvals (status, requested_at);
