-- Security scan findings of each plan, and the suppressions admins give them.
-- A plan's findings are kept per session (replaced when it is planned again), so a plan is
-- compared with the findings of the project's last applied session: the lobby says which
-- are new. Suppressions are per server, by check id (exact or glob) and resource glob, with
-- an audited reason and an optional expiry; removing one deletes the row (audited).
CREATE TABLE scan_findings (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    check_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    severity TEXT,
    name TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL DEFAULT '',
    line INTEGER NOT NULL DEFAULT 0,
    guideline TEXT,
    suppression_id INTEGER,            -- the suppression that applied when the plan was judged
    created_at TEXT NOT NULL
);
CREATE INDEX scan_findings_session ON scan_findings(session_id);
CREATE INDEX scan_findings_project ON scan_findings(project_id, session_id);

CREATE TABLE scan_suppressions (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    check_id TEXT NOT NULL,            -- exact id or glob, e.g. CKV_AWS_144 or CKV2_AWS_*
    resource_glob TEXT NOT NULL,       -- glob on the Terraform address, e.g. aws_s3_bucket.logs*
    reason TEXT NOT NULL,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT                    -- NULL: until removed
);
CREATE INDEX scan_suppressions_guild ON scan_suppressions(guild_id);

-- A `scanner` policy type (core/scanner_policy.py): the policies table is rebuilt with the
-- wider CHECK (SQLite cannot alter a CHECK constraint); ids, names and every column are kept.
CREATE TABLE policies_new (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('permission', 'quota', 'region', 'cost', 'security', 'scanner')),
    pattern TEXT NOT NULL DEFAULT '*',
    priority INTEGER NOT NULL DEFAULT 100,
    action TEXT NOT NULL CHECK (action IN ('deny', 'warn', 'require_approval')),
    params TEXT NOT NULL DEFAULT '{}',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (guild_id, name)
);
INSERT INTO policies_new (id, guild_id, name, type, pattern, priority, action, params, enabled, created_by, created_at)
    SELECT id, guild_id, name, type, pattern, priority, action, params, enabled, created_by, created_at FROM policies;
DROP TABLE policies;
ALTER TABLE policies_new RENAME TO policies;
