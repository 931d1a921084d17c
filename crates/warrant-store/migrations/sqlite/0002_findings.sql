-- Schema 2: findings with a lifecycle across runs, risk per identity, leak locations, activity.

CREATE TABLE assessments (
    id         INTEGER PRIMARY KEY,          -- run number, increasing
    source     TEXT NOT NULL CHECK (source IN ('posture', 'secret', 'activity')), -- engine that ran
    as_of      TEXT NOT NULL,                -- instant assessed (RFC 3339, UTC)
    n_findings INTEGER NOT NULL CHECK (n_findings >= 0) -- findings raised by the run
) STRICT;

CREATE TABLE findings (
    id          TEXT PRIMARY KEY CHECK (id <> ''), -- warrant_core::Finding::id, stable across runs
    rule        TEXT NOT NULL,               -- rule id that raised it
    identity    TEXT NOT NULL,               -- identities.key concerned
    severity    TEXT NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')), -- latest severity
    owasp       TEXT NOT NULL,               -- OWASP NHI risk, NHI1 … NHI10
    source      TEXT NOT NULL CHECK (source IN ('posture', 'secret', 'activity')), -- engine; a run resolves only its own
    data        TEXT NOT NULL CHECK (json_valid(data)), -- latest warrant_core::Finding as JSON
    first_seen  TEXT NOT NULL,               -- first run that raised it
    last_seen   TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest run that raised it
    status      TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'accepted')), -- lifecycle state
    status_note TEXT,                        -- why it was accepted (or reopened), by whom
    resolved_at TEXT,                        -- first run of its source that no longer raised it
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
) STRICT;
CREATE INDEX findings_identity ON findings (identity);
CREATE INDEX findings_source_status ON findings (source, status);

CREATE TABLE risks (
    identity     TEXT PRIMARY KEY,           -- identities.key
    assessment   INTEGER NOT NULL REFERENCES assessments (id), -- run that scored it last
    score        REAL NOT NULL CHECK (score BETWEEN 0 AND 100), -- overall risk
    blast_radius REAL NOT NULL CHECK (blast_radius BETWEEN 0 AND 100), -- damage it could do
    exposure     REAL NOT NULL CHECK (exposure BETWEEN 0 AND 100), -- likelihood of abuse
    data         TEXT NOT NULL CHECK (json_valid(data)) -- warrant_core::RiskScore with its components
) STRICT;

CREATE TABLE secret_occurrences (
    fingerprint TEXT NOT NULL CHECK (fingerprint <> ''), -- keyed fingerprint of the leaked secret, never the value
    rule        TEXT NOT NULL,               -- scanner rule that matched
    path        TEXT NOT NULL,               -- file (or archive member) where it was found
    git_commit  TEXT NOT NULL DEFAULT '',    -- commit id for history findings, '' for the working tree
    line        INTEGER NOT NULL CHECK (line >= 0), -- 1-based line, 0 when unknown
    col         INTEGER NOT NULL CHECK (col >= 0),  -- 1-based column, 0 when unknown
    author      TEXT,                        -- commit author, for history findings
    committed   TEXT,                        -- commit date (RFC 3339), for history findings
    identity    TEXT,                        -- identities.key the secret unlocks, when linked
    PRIMARY KEY (fingerprint, path, git_commit, line, col)
) STRICT;
CREATE INDEX secret_occurrences_identity ON secret_occurrences (identity);

CREATE TABLE usage (
    identity   TEXT NOT NULL,                -- identities.key (or shadow:… for unknown principals)
    credential TEXT NOT NULL DEFAULT '',     -- credential used, '' when the log does not say
    action     TEXT NOT NULL,                -- permission exercised, e.g. s3:GetObject
    resource   TEXT NOT NULL DEFAULT '',     -- resource acted on, '' when not named
    first_seen TEXT NOT NULL,                -- earliest event aggregated
    last_seen  TEXT NOT NULL CHECK (last_seen >= first_seen), -- latest event aggregated
    count      INTEGER NOT NULL CHECK (count >= 0),  -- events aggregated
    errors     INTEGER NOT NULL CHECK (errors >= 0 AND errors <= count), -- failed calls among them
    PRIMARY KEY (identity, credential, action, resource)
) STRICT;

CREATE TABLE baselines (
    identity TEXT PRIMARY KEY,               -- identities.key
    data     BLOB NOT NULL                   -- opaque behaviour baseline, owned by warrant-activity
) STRICT;

CREATE TABLE ingested (
    sha256    TEXT PRIMARY KEY CHECK (length(sha256) = 64), -- content hash of an ingested log file
    path      TEXT NOT NULL,                 -- where it was read from
    events    INTEGER NOT NULL CHECK (events >= 0), -- events it contained
    ingested  TEXT NOT NULL                  -- when it was ingested
) STRICT;
