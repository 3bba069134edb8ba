-- Core operational schema: projects, access, quotas, policies, sessions, history, audit.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    provider TEXT NOT NULL CHECK (provider IN ('gcp', 'aws', 'azure', 'sandbox')),
    region TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT 'sandbox' CHECK (target IN ('sandbox', 'cloud')),
    budget_monthly REAL NOT NULL DEFAULT 0,
    alert_thresholds TEXT NOT NULL DEFAULT '[50, 80, 100]',
    approver_must_differ INTEGER NOT NULL DEFAULT 0,
    backend TEXT NOT NULL DEFAULT '{"type": "local"}',
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    archived_at TEXT
);
CREATE UNIQUE INDEX projects_guild_name ON projects(guild_id, name) WHERE archived_at IS NULL;

CREATE TABLE quotas (
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    limit_value INTEGER NOT NULL CHECK (limit_value >= 0),
    used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (guild_id, name)
);

CREATE TABLE user_permissions (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('CloudViewer', 'CloudUser', 'CloudAdmin')),
    expires_at TEXT,
    granted_by INTEGER NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE policies (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('permission', 'quota', 'region', 'cost', 'security')),
    pattern TEXT NOT NULL DEFAULT '*',
    priority INTEGER NOT NULL DEFAULT 100,
    action TEXT NOT NULL CHECK (action IN ('deny', 'warn', 'require_approval')),
    params TEXT NOT NULL DEFAULT '{}',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (guild_id, name)
);

CREATE TABLE deployment_sessions (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    purpose TEXT NOT NULL DEFAULT 'deploy',
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_activity_at TEXT NOT NULL,
    reservations TEXT NOT NULL DEFAULT '{}',
    cost_monthly REAL NOT NULL DEFAULT 0,
    violations TEXT NOT NULL DEFAULT '[]',
    needs_approval INTEGER NOT NULL DEFAULT 0,
    plan_summary TEXT,
    plan_fingerprint TEXT,
    plan_created_at TEXT,
    approved_by INTEGER,
    error TEXT,
    target_commit TEXT,
    channel_id INTEGER,
    message_id INTEGER,
    thread_id INTEGER
);
CREATE INDEX sessions_state ON deployment_sessions(state);
CREATE INDEX sessions_project ON deployment_sessions(project_id);

-- What a session changes: create/update a resource, or delete one the project has.
CREATE TABLE session_resources (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES deployment_sessions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    action TEXT NOT NULL DEFAULT 'upsert' CHECK (action IN ('upsert', 'delete')),
    spec TEXT NOT NULL,
    cost_monthly REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (session_id, kind, name)
);

-- The project's applied desired configuration: what its Terraform root holds after the last apply.
CREATE TABLE project_resources (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    cost_monthly REAL NOT NULL DEFAULT 0,
    session_id INTEGER,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, kind, name)
);

CREATE TABLE project_locks (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id),
    session_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    acquired_at TEXT NOT NULL
);

CREATE TABLE deployment_history (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    commit_sha TEXT,
    cost_monthly REAL NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
);

CREATE TABLE state_snapshots (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    session_id INTEGER,
    commit_sha TEXT,
    state_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    guild_id INTEGER,
    actor_id INTEGER,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    from_state TEXT,
    to_state TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    request_id TEXT
);
CREATE INDEX audit_guild_ts ON audit_log(guild_id, ts);

CREATE TABLE budget_alerts (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    period TEXT NOT NULL,
    threshold_pct INTEGER NOT NULL,
    projected_monthly REAL NOT NULL,
    budget_monthly REAL NOT NULL,
    session_id INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (project_id, period, threshold_pct)
);
