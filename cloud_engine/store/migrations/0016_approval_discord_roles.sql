-- Approval rules may name a Discord role ("someone from @finops"): each approval keeps which of
-- the rules' Discord roles its approver held when pressing Approve (cloud_engine/core/approvals.py).
ALTER TABLE plan_approvals ADD COLUMN discord_roles TEXT NOT NULL DEFAULT '[]';
