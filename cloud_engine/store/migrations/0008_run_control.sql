-- Run control through the database, so any process can reach the one that runs Terraform.
-- cancel_request: why someone asked a running apply to stop (read by the running process).
-- run_heartbeat_at: refreshed by the process running a plan or apply; a stale one means
-- nobody runs it any more, and the session must be reconciled with Terraform's state.
ALTER TABLE deployment_sessions ADD COLUMN cancel_request TEXT;
ALTER TABLE deployment_sessions ADD COLUMN run_heartbeat_at TEXT;
