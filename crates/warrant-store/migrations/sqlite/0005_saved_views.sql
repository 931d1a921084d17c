-- Schema 5: commands over the store answer from the last saved assessment.
--
-- `inventory`, `findings` and `show` read what `assess` saved instead of assessing again. That
-- is only right while nothing the assessment read has changed since: every transaction that
-- changes an input (an import that changed records, activity, secret findings, a finding's
-- status) raises the store's revision (`meta` key `revision`), and a run records the revision
-- it evaluated. A run whose revision is not the current one is stale, and the commands evaluate
-- afresh. Rows from before this schema have no revision, so they are stale.

ALTER TABLE assessments ADD COLUMN revision INTEGER CHECK (revision >= 0); -- store revision the run evaluated (meta `revision`); NULL before schema 5
ALTER TABLE risks ADD COLUMN summary TEXT CHECK (summary IS NULL OR json_valid(summary)); -- the identity as the run reported it (kind, name, status, owners, …), opaque JSON for listings
CREATE INDEX risks_assessment_score ON risks (assessment, score DESC, identity);
CREATE INDEX findings_status_identity ON findings (status, identity);
