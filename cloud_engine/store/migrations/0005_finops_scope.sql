-- FinOps state belongs to one Discord server (guild_id), like the ledger rows it refers to:
-- feedback and "noisy" suppressions given in one server never hide anything in another, and
-- the ingestion log lists a server's own imports. Rows written before scoping go to scope 0
-- (the CLI's default scope when DEV_GUILD_ID is unset).
-- The ingestion log also counts restated, unchanged and merged rows separately; the old
-- "skipped" count (already present or repeated in the file) becomes rows_unchanged.
CREATE TABLE recommendation_feedback_scoped (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    recommendation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('helpful', 'noisy', 'risky')),
    created_at TEXT NOT NULL,
    UNIQUE (guild_id, recommendation_id, user_id)
);
INSERT INTO recommendation_feedback_scoped (id, guild_id, recommendation_id, user_id, verdict, created_at)
    SELECT id, 0, recommendation_id, user_id, verdict, created_at FROM recommendation_feedback;
DROP TABLE recommendation_feedback;
ALTER TABLE recommendation_feedback_scoped RENAME TO recommendation_feedback;
CREATE INDEX recommendation_feedback_rec ON recommendation_feedback(guild_id, recommendation_id);

CREATE TABLE recommendation_suppressions_scoped (
    guild_id INTEGER NOT NULL,
    recommendation_id TEXT NOT NULL,
    suppressed_until TEXT NOT NULL,
    suppressed_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (guild_id, recommendation_id)
);
INSERT INTO recommendation_suppressions_scoped (guild_id, recommendation_id, suppressed_until, suppressed_by, reason)
    SELECT 0, recommendation_id, suppressed_until, suppressed_by, reason FROM recommendation_suppressions;
DROP TABLE recommendation_suppressions;
ALTER TABLE recommendation_suppressions_scoped RENAME TO recommendation_suppressions;

ALTER TABLE finops_ingest_runs ADD COLUMN guild_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE finops_ingest_runs RENAME COLUMN rows_skipped TO rows_unchanged;
ALTER TABLE finops_ingest_runs ADD COLUMN rows_restated INTEGER;
ALTER TABLE finops_ingest_runs ADD COLUMN rows_merged INTEGER;
CREATE INDEX finops_ingest_runs_guild ON finops_ingest_runs(guild_id, id);
