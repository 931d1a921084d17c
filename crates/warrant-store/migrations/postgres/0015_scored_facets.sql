-- Schema 15: a saved run keeps, beside each identity's summary, the facets inventory listings
-- filter and sort by (provider, kind, environment, status, account, tier, owners, name), so a
-- filtered or searched listing of 100k identities reads an index instead of every summary.
-- Rows saved before schema 15 take them from their summary here; a NULL tier is the defaults.

ALTER TABLE risks ADD COLUMN provider TEXT COLLATE "C";    -- aws, kubernetes, github, …
ALTER TABLE risks ADD COLUMN kind TEXT COLLATE "C";        -- aws_role, k8s_service_account, …
ALTER TABLE risks ADD COLUMN environment TEXT COLLATE "C"; -- production, staging, …
ALTER TABLE risks ADD COLUMN status TEXT COLLATE "C";      -- active, inactive, …
ALTER TABLE risks ADD COLUMN account TEXT COLLATE "C";     -- account, cluster or organisation
ALTER TABLE risks ADD COLUMN tier TEXT COLLATE "C";        -- governance policy tier it was judged by; NULL: defaults
ALTER TABLE risks ADD COLUMN owned BIGINT CHECK (owned IN (0, 1)); -- 1 when it has an owner
ALTER TABLE risks ADD COLUMN owners TEXT COLLATE "C";      -- its owner references, ASCII-lowercased, one per line (substring search)
ALTER TABLE risks ADD COLUMN name TEXT COLLATE "C";        -- its name, ASCII-lowercased (search and sort)

UPDATE risks SET
    provider = summary::json ->> 'provider',
    kind = summary::json ->> 'kind',
    environment = summary::json ->> 'environment',
    status = summary::json ->> 'status',
    account = summary::json ->> 'account',
    tier = summary::json ->> 'tier',
    owned = CASE WHEN json_array_length(COALESCE(summary::json -> 'owners', '[]'::json)) > 0 THEN 1 ELSE 0 END,
    owners = (SELECT string_agg(LOWER(o), E'\n') FROM json_array_elements_text(COALESCE(summary::json -> 'owners', '[]'::json)) AS o),
    name = LOWER(summary::json ->> 'name')
WHERE summary IS NOT NULL;

CREATE INDEX risks_assessment_provider_kind ON risks (assessment, provider, kind, score DESC, identity);
CREATE INDEX risks_assessment_kind ON risks (assessment, kind, score DESC, identity);
CREATE INDEX risks_assessment_environment_status ON risks (assessment, environment, status);
CREATE INDEX risks_assessment_name ON risks (assessment, name, identity);
-- Identities with an open finding of one OWASP risk, from the index alone.
CREATE INDEX findings_status_owasp_identity ON findings (status, owasp, identity);
