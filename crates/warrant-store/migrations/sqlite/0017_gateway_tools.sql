-- Schema 17: upstream MCP tools as the gateway saw them and as a person approved (pinned)
-- them. A tool whose definition (name, description, input schema) no longer matches its pin is
-- blocked until approved again; every gateway process behind a load balancer reads the same pins.
--
-- INVARIANT: a definition is what the upstream lists to any client (no secret); the pinned
-- fingerprint changes only by an approval, which adds its audit row in the same transaction.
-- Nothing here raises the store's revision.

CREATE TABLE gateway_tools (
    server              TEXT NOT NULL CHECK (server <> ''), -- the upstream's name in gateway.toml
    tool                TEXT NOT NULL CHECK (tool <> ''),   -- the tool's name on that upstream
    seen_fingerprint    TEXT NOT NULL CHECK (length(seen_fingerprint) = 64), -- SHA-256 of the canonical definition last listed
    seen_definition     TEXT NOT NULL CHECK (json_valid(seen_definition)), -- that definition: name, description, inputSchema
    seen_concerns       TEXT NOT NULL CHECK (json_valid(seen_concerns)), -- signs of poisoning found in it, JSON array
    first_seen_at       TEXT NOT NULL,              -- RFC 3339, UTC
    seen_at             TEXT NOT NULL,              -- the latest listing
    pinned_fingerprint  TEXT CHECK (pinned_fingerprint IS NULL OR length(pinned_fingerprint) = 64), -- as approved; NULL until someone approves
    pinned_definition   TEXT CHECK (pinned_definition IS NULL OR json_valid(pinned_definition)), -- the approved definition, to show what changed
    pinned_by           TEXT,                       -- who approved it
    pinned_at           TEXT,                       -- when
    reported_fingerprint TEXT,                      -- the last definition an alert was raised for (one alert per change)
    PRIMARY KEY (server, tool),
    CHECK ((pinned_fingerprint IS NULL) = (pinned_at IS NULL))
) STRICT;
