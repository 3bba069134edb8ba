-- FinOps operational state: feedback on recommendations, suppressions, and ingestion runs.
CREATE TABLE recommendation_feedback (
    id INTEGER PRIMARY KEY,
    recommendation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('helpful', 'noisy', 'risky')),
    created_at TEXT NOT NULL,
    UNIQUE (recommendation_id, user_id)
);
CREATE INDEX recommendation_feedback_rec ON recommendation_feedback(recommendation_id);

CREATE TABLE recommendation_suppressions (
    recommendation_id TEXT PRIMARY KEY,
    suppressed_until TEXT NOT NULL,
    suppressed_by TEXT NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE finops_ingest_runs (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL CHECK (target IN ('costs', 'metrics')),
    source_kind TEXT NOT NULL,
    source_name TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    rows_read INTEGER,
    rows_added INTEGER,
    rows_skipped INTEGER,
    error TEXT
);
CREATE INDEX finops_ingest_runs_started ON finops_ingest_runs(started_at);
