-- Drift: what a plan of a project's applied configuration found changed in the real world.
-- One open report per project at a time; it ends dismissed (audited, with a reason) or
-- reconciled (the session that re-applies the desired configuration), or resolved when a
-- later check finds nothing.
CREATE TABLE drift_reports (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    found_at TEXT NOT NULL,
    changes TEXT NOT NULL,             -- JSON: per drifted resource, its address, action and attributes
    fingerprint TEXT NOT NULL,         -- sha256 of the changes: the same drift is reported once
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'reconciling', 'resolved')),
    closed_by INTEGER,
    closed_reason TEXT,
    session_id INTEGER,                -- the reconciling session
    closed_at TEXT
);
CREATE INDEX drift_reports_project ON drift_reports(project_id, status);
