-- The audit log as a hash chain, one chain per server (guild; rows without a guild form
-- their own): each row keeps the hash of the row before it in its chain and its own hash,
-- computed over its content and that link (cloud_engine/store/audit_chain.py).
-- Rows written before this migration are chained by a first-run backfill in Python (SQLite has no SHA-256):
-- a guild's existing rows at its first audit write afterwards, and every guild's at
-- `audit verify` / `audit export` (store/audit_chain.py, `backfill`).
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN row_hash TEXT;
-- Two rows can never follow the same row of a chain: concurrent writers cannot fork it.
CREATE UNIQUE INDEX audit_chain_link ON audit_log(COALESCE(guild_id, -1), prev_hash);
CREATE INDEX audit_guild_id ON audit_log(guild_id, id);
-- Where the log stood when chaining began: rows up to here may be chained by the backfill;
-- an unchained row after it was written outside the engine.
CREATE TABLE audit_chain_legacy (last_id INTEGER NOT NULL);
INSERT INTO audit_chain_legacy (last_id) SELECT COALESCE(MAX(id), 0) FROM audit_log;
