-- A rejected plan: who sent the session back to DRAFT and why, shown in its lobby until it is
-- planned again (the rejection itself stays in the audit log as `session.reject`).
ALTER TABLE deployment_sessions ADD COLUMN rejected_by INTEGER;
ALTER TABLE deployment_sessions ADD COLUMN rejected_reason TEXT;
