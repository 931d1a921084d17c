-- Schema 10: owner evidence — owners found outside the inventory's own records: the person who
-- created an identity or its key (CloudTrail), and the CODEOWNERS of a repository that uses it.
--
-- Evidence is kept, never overwritten: an identity's owners from it change as evidence is added,
-- and each row says where it came from and when. It changes what an assessment reads (owners),
-- so adding evidence raises the store's revision.

CREATE TABLE owner_evidence (
    identity TEXT COLLATE "C" NOT NULL CHECK (identity <> ''), -- the identity's id, or its ARN as logged when the inventory did not list it yet
    owner    TEXT COLLATE "C" NOT NULL CHECK (owner <> ''),    -- the person (email, login or caller ARN) or team (CODEOWNERS handle)
    source   TEXT COLLATE "C" NOT NULL CHECK (source IN ('creator', 'codeowners')), -- which kind of evidence (warrant_lifecycle::register::OwnerSource)
    detail   TEXT COLLATE "C" NOT NULL CHECK (detail <> ''),   -- where exactly: 'cloudtrail:iam:CreateUser:EVENT-ID' or 'codeowners:FILE:LINE:PATH'
    at       TEXT COLLATE "C" NOT NULL,                        -- when the evidence dates from (the event's time, or when the repository was scanned; RFC 3339, UTC)
    recorded TEXT COLLATE "C" NOT NULL,                        -- when Warrant recorded it (RFC 3339, UTC)
    PRIMARY KEY (identity, source, owner, detail)
);
