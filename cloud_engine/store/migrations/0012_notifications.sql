-- Notifications: channels and outbound webhooks subscribed to a server's events.
--
-- The audit log is the outbox's source: every state change already writes an audit row in
-- its own transaction, so an event can never be lost between a commit and a notification.
-- `notify_cursor` remembers the last audit row fanned out; each subscriber gets one
-- `notify_outbox` row per event (UNIQUE), delivered with retries and kept as a dead letter
-- after the last failed attempt.
CREATE TABLE notify_subscriptions (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('channel', 'webhook')),
    target TEXT NOT NULL,                -- a channel id, or the webhook URL
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,  -- NULL: every project
    events TEXT NOT NULL,                -- JSON list of event names
    format TEXT NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack', 'discord')),
    secret TEXT,                         -- HMAC-SHA256 key of a webhook
    after_audit_id INTEGER NOT NULL DEFAULT 0,  -- events before the subscription are not sent
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notify_subscriptions_guild ON notify_subscriptions(guild_id);

CREATE TABLE notify_outbox (
    id INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES notify_subscriptions(id) ON DELETE CASCADE,
    audit_id INTEGER NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,               -- the notice as JSON, rendered per format at delivery
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    dead_at TEXT,
    last_error TEXT,
    UNIQUE (subscription_id, audit_id, event)
);
CREATE INDEX notify_outbox_due ON notify_outbox(delivered_at, dead_at, next_attempt_at);

CREATE TABLE notify_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_audit_id INTEGER NOT NULL
);
INSERT INTO notify_cursor (id, last_audit_id) SELECT 1, COALESCE(MAX(id), 0) FROM audit_log;
