-- Schema 12: Warrant's own users — the people who sign in to the server — their sessions, and
-- the API tokens they create for scripts.
--
-- INVARIANT: no raw secret is stored. A user's password is kept only as the argon2id PHC string
-- the application computed (with its own random salt); a session or API token only as the
-- SHA-256 (hex) of the whole raw token, which is shown once to its holder and never again.
--
-- A role is kept as its text (warrant_core::access::Role) and checked when read, so adding a
-- role needs no table rebuild. Users are disabled, sessions ended and tokens revoked by marking
-- them, never by deleting. Every change of a user or token and every sign-in or sign-out adds
-- its audit row; none raises the store's revision (these are not inputs of an assessment).

CREATE TABLE platform_users (
    username      TEXT COLLATE "C" PRIMARY KEY CHECK (username <> ''), -- how the user signs in (a short name or an email)
    display_name  TEXT COLLATE "C",                         -- the name shown for them; NULL: the username
    role          TEXT COLLATE "C" NOT NULL CHECK (role <> ''), -- viewer, owner, reviewer, approver or admin
    password_hash TEXT COLLATE "C",                         -- argon2id PHC string; NULL: no password (single sign-on only)
    oidc_issuer   TEXT COLLATE "C",                         -- the OpenID Connect issuer their single sign-on comes from
    oidc_subject  TEXT COLLATE "C",                         -- their subject (`sub`) at that issuer
    created_at    TEXT COLLATE "C" NOT NULL,                -- when the user was added (RFC 3339, UTC)
    disabled_at   TEXT COLLATE "C",                         -- when the user was disabled; NULL while active
    failed_logins BIGINT NOT NULL DEFAULT 0 CHECK (failed_logins >= 0), -- wrong passwords since the last sign-in (or since a lock ran out)
    locked_until  TEXT COLLATE "C",                         -- sign-in with a password refused until then (RFC 3339, UTC)
    CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))
);
CREATE UNIQUE INDEX platform_users_oidc ON platform_users (oidc_issuer, oidc_subject)
    WHERE oidc_issuer IS NOT NULL;

CREATE TABLE platform_sessions (
    token_hash   TEXT COLLATE "C" PRIMARY KEY CHECK (length(token_hash) = 64), -- SHA-256 (hex) of the session token
    username     TEXT COLLATE "C" NOT NULL REFERENCES platform_users (username), -- whose session
    created_at   TEXT COLLATE "C" NOT NULL,                 -- when they signed in (RFC 3339, UTC)
    last_seen_at TEXT COLLATE "C" NOT NULL,                 -- the last request made with it (idle timeout)
    expires_at   TEXT COLLATE "C" NOT NULL,                 -- its absolute end, whatever its use
    ended_at     TEXT COLLATE "C",                          -- when it was ended (sign-out, user disabled); NULL while open
    CHECK (expires_at > created_at)
);
CREATE INDEX platform_sessions_username ON platform_sessions (username);

CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY CHECK (id <> ''), -- public id, also the visible part of the raw token
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE CHECK (length(token_hash) = 64), -- SHA-256 (hex) of the whole raw token
    username     TEXT COLLATE "C" NOT NULL REFERENCES platform_users (username), -- whose token: it acts for them
    name         TEXT COLLATE "C" NOT NULL CHECK (name <> ''), -- what it is for, in its creator's words
    role         TEXT COLLATE "C" NOT NULL CHECK (role <> ''), -- the role it acts with, never more than its user's
    created_at   TEXT COLLATE "C" NOT NULL,                 -- when it was created (RFC 3339, UTC)
    expires_at   TEXT COLLATE "C" NOT NULL,                 -- when it stops working; every token expires
    last_used_at TEXT COLLATE "C",                          -- the last request made with it
    revoked_at   TEXT COLLATE "C",                          -- when it was revoked; NULL while valid
    revoked_by   TEXT COLLATE "C",                          -- who revoked it
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CHECK (expires_at > created_at)
);
CREATE INDEX api_tokens_username ON api_tokens (username, created_at);
