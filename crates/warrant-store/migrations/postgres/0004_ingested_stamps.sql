-- Schema 4: a re-run recognises an unchanged log file without reading it.
--
-- A log file's content hash is known only once the file has been read. The size and
-- modification time recorded beside it let the next run skip the same file at the same path
-- before opening it; a file whose stamp differs is read, and its hash still decides whether its
-- events count. Rows from before this schema have no stamp, so their files are read once more.

ALTER TABLE ingested ADD COLUMN size BIGINT CHECK (size >= 0); -- bytes of the file when it was read; NULL when unknown
ALTER TABLE ingested ADD COLUMN modified TEXT COLLATE "C";                  -- its modification time then (RFC 3339, UTC); NULL when unknown
CREATE INDEX ingested_path ON ingested (path);
