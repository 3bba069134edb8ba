-- The ingestion log also counts the stored charges an import removed: an import with
-- replace_window deletes charges a re-issued export no longer lists (0 for every other import).
ALTER TABLE finops_ingest_runs ADD COLUMN rows_removed INTEGER;
