-- Closing the FinOps loop: a recommendation acted on through the lobby ("Act") is kept with
-- the saving it promised and the session that carries it out, so later imports can show the
-- saving the bill actually realised beside the promised one (cloud_engine/finops/outcomes.py).
CREATE TABLE finops_actions (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    recommendation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    action TEXT NOT NULL,
    promised_monthly REAL NOT NULL,
    currency TEXT,
    session_id INTEGER NOT NULL UNIQUE REFERENCES deployment_sessions(id),
    acted_by INTEGER NOT NULL,
    acted_at TEXT NOT NULL
);
CREATE INDEX finops_actions_guild ON finops_actions(guild_id, acted_at);
