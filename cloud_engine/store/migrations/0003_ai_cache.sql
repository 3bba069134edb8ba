-- Advisor response cache: validated model replies keyed by sha256 of (kind, provider, model,
-- prompt version, normalised inputs, retrieved knowledge versions). Guardrails, pricing and
-- citation checks run again on every hit, so a cached reply never bypasses them.
CREATE TABLE ai_cache (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX ai_cache_expires_at ON ai_cache(expires_at);
