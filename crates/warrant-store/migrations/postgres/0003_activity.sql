-- Schema 3: activity applied exactly once although it is delivered at least once.
--
-- A stream (NATS JetStream) redelivers an event whose acknowledgement was lost, and a log file
-- can be published twice; `activity_events_seen` is the ledger that makes applying an event
-- idempotent: its usage and last-used updates are written in the same transaction that inserts
-- its key here, and only when that insert is new. The ledger is pruned by event time; the cut-off
-- is kept in meta (`activity_seen_pruned_before`) and events older than it are refused, so a
-- pruned id can never be applied twice.

CREATE TABLE activity_events_seen (
    log        TEXT COLLATE "C" NOT NULL CHECK (log <> ''),      -- log kind the event came from (warrant_activity::LogKind, snake_case)
    event_id   TEXT COLLATE "C" NOT NULL CHECK (event_id <> ''), -- provider's event id, unique within its log kind
    event_time TEXT COLLATE "C" NOT NULL,                        -- when the event happened (RFC 3339, UTC); retention prunes by it
    identity   TEXT COLLATE "C" NOT NULL DEFAULT '',             -- identities.key it was attributed to, '' when none
    PRIMARY KEY (log, event_id)
);
CREATE INDEX activity_events_seen_time ON activity_events_seen (event_time);

CREATE TABLE activity_counts (
    identity    TEXT COLLATE "C" PRIMARY KEY,                    -- identities.key (or shadow:…), '' for events attributed to none
    events      BIGINT NOT NULL CHECK (events >= 0), -- distinct events applied; survives pruning of the ledger
    first_event TEXT COLLATE "C" NOT NULL,                       -- earliest event time applied (RFC 3339, UTC)
    last_event  TEXT COLLATE "C" NOT NULL CHECK (last_event >= first_event) -- latest event time applied
);
