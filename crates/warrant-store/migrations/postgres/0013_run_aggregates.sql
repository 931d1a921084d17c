-- Schema 13: a saved posture run keeps the aggregates an overview shows (identities by kind and
-- risk band, admin-equivalent and unowned counts, owners by risk) as JSON, written once when the
-- run is saved, so the overview of 100k identities reads one row instead of every summary.
-- NULL for runs saved before schema 13 (the overview then counts from the summaries).

ALTER TABLE assessments ADD COLUMN aggregates TEXT; -- warrant_app's overview aggregates of the run (JSON)
