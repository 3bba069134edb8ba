-- Approval rules: each approval of a plan is one row, keyed by the session, the plan it
-- approves (its fingerprint) and the approver, so a person counts once and a new plan starts
-- from none. The rules a session's plan must meet (from its require_approval findings) are
-- kept on the session as JSON; NULL on sessions validated before rules existed.
CREATE TABLE plan_approvals (
    session_id INTEGER NOT NULL REFERENCES deployment_sessions(id) ON DELETE CASCADE,
    plan_fingerprint TEXT NOT NULL,
    approver_id INTEGER NOT NULL,
    approver_role TEXT NOT NULL CHECK (approver_role IN ('CloudViewer', 'CloudUser', 'CloudAdmin')),
    approved_at TEXT NOT NULL,
    PRIMARY KEY (session_id, plan_fingerprint, approver_id)
);
ALTER TABLE deployment_sessions ADD COLUMN approval_rules TEXT;

-- Discord role -> Cloud role: a member's role is the highest of their grant and the Cloud
-- roles their Discord roles map to. The bot records, at each interaction, which mapped
-- Discord roles the member holds (member_discord_roles), so the engine never asks Discord.
CREATE TABLE discord_role_maps (
    guild_id INTEGER NOT NULL,
    discord_role_id INTEGER NOT NULL,
    cloud_role TEXT NOT NULL CHECK (cloud_role IN ('CloudViewer', 'CloudUser', 'CloudAdmin')),
    mapped_by INTEGER NOT NULL,
    mapped_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, discord_role_id)
);
CREATE TABLE member_discord_roles (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    discord_role_id INTEGER NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, discord_role_id)
);
