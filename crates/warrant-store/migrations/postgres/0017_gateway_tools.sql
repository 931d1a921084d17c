-- Schema 17: upstream MCP tools as the gateway saw them and as a person approved (pinned)
-- them. A tool whose definition (name, description, input schema) no longer matches its pin is
-- blocked until approved again; every gateway process behind a load balancer reads the same pins.
--
-- INVARIANT: a definition is what the upstream lists to any client (no secret); the pinned
-- fingerprint changes only by an approval, which adds its audit row in the same transaction.
-- Nothing here raises the store's revision.

CREATE TABLE gateway_tools (
    server              TEXT COLLATE "C" NOT NULL CHECK (server <> ''), -- the upstream's name in gateway.toml
    tool                TEXT COLLATE "C" NOT NULL CHECK (tool <> ''),   -- the tool's name on that upstream
    seen_fingerprint    TEXT COLLATE "C" NOT NULL CHECK (length(seen_fingerprint) = 64), -- SHA-256 of the canonical definition last listed
    seen_definition     TEXT COLLATE "C" NOT NULL CHECK (seen_definition::json IS NOT NULL), -- that definition: name, description, inputSchema
    seen_concerns       TEXT COLLATE "C" NOT NULL CHECK (seen_concerns::json IS NOT NULL), -- signs of poisoning found in it, JSON array
    first_seen_at       TEXT COLLATE "C" NOT NULL,              -- RFC 3339, UTC
    seen_at             TEXT COLLATE "C" NOT NULL,              -- the latest listing
    pinned_fingerprint  TEXT COLLATE "C" CHECK (pinned_fingerprint IS NULL OR length(pinned_fingerprint) = 64), -- as approved; NULL until someone approves
    pinned_definition   TEXT COLLATE "C" CHECK (pinned_definition IS NULL OR pinned_definition::json IS NOT NULL), -- the approved definition, to show what changed
    pinned_by           TEXT COLLATE "C",                       -- who approved it
    pinned_at           TEXT COLLATE "C",                       -- when
    reported_fingerprint TEXT COLLATE "C",                      -- the last definition an alert was raised for (one alert per change)
    PRIMARY KEY (server, tool),
    CHECK ((pinned_fingerprint IS NULL) = (pinned_at IS NULL))
);
