"""Who may do what: ordered roles, just-in-time grants, and role limits on resources.

Decided here (not in Discord checks) because the CLI and outside callers never pass
through Discord; the bot's checks are a convenience on top of these.
"""

from __future__ import annotations

from datetime import datetime

from cloud_engine.core import role_map
from cloud_engine.core.models import Role
from cloud_engine.core.records import Grant
from cloud_engine.errors import PermissionDenied
from cloud_engine.store import grants
from cloud_engine.store.database import Database

# The minimum role for each engine action.
ACTION_ROLES: dict[str, Role] = {
    "view": Role.VIEWER,
    "create_project": Role.USER,
    "deploy": Role.USER,
    "approve": Role.USER,
    "apply": Role.USER,
    "destroy": Role.ADMIN,
    "archive_project": Role.ADMIN,
    "admin": Role.ADMIN,
}

# What a CloudUser may not do on its own (CloudAdmin may).
USER_MAX_SIZE = "medium"
USER_FORBIDDEN_KINDS = frozenset({"k8s_cluster"})
SIZE_RANK = {"small": 0, "medium": 1, "large": 2}


async def role_of(db: Database, guild_id: int, user_id: int, now: datetime,
                  admin_ids: frozenset[int] = frozenset()) -> Role:
    """The user's effective role now: the highest of a grant still valid, their standing role and their mapped Discord roles.

    An expired just-in-time grant counts as none; the role held before it (without an
    expiry) is kept as `standing_role` and counts throughout. Mapped Discord roles count as
    the bot last recorded them (core/role_map.py), through the server's map as it is now.
    """
    if user_id in admin_ids:
        return Role.ADMIN
    mapped = await role_map.mapped_role(db, guild_id, user_id)
    grant = await grants.get_grant(db, guild_id, user_id, now)
    if grant is None:
        return mapped
    granted = grant.role if grant.active else Role.NONE
    standing = grant.standing_role or Role.NONE
    return max(granted, standing, mapped, key=lambda r: r.level)


def require(role: Role, action: str) -> None:
    """Raise PermissionDenied unless `role` reaches the level `action` needs."""
    needed = ACTION_ROLES[action]
    if not role >= needed:
        raise PermissionDenied(action=action, required=needed.value, role=role.value)


def may_change_session(role: Role, *, author_id: int, user_id: int) -> bool:
    """Whether `user_id` (holding `role`) may change a session `author_id` started: its author, or a CloudAdmin.

    The one place authorship is decided: the engine enforces it, the lobby asks it to
    explain a refusal before the engine would raise.
    """
    return user_id == author_id or role >= Role.ADMIN


def resource_limits(role: Role, kind: str, size: str | None, deleting: bool = False) -> list[str]:
    """Reasons the role may not request this resource change (empty = allowed)."""
    if role >= Role.ADMIN:
        return []
    reasons = []
    if deleting:
        reasons.append("destroying resources needs CloudAdmin")
    if kind in USER_FORBIDDEN_KINDS:
        reasons.append(f"{kind} needs CloudAdmin (CloudUser may not create Kubernetes clusters)")
    if size is not None and SIZE_RANK[size] > SIZE_RANK[USER_MAX_SIZE]:
        reasons.append(f"size {size} exceeds the CloudUser maximum ({USER_MAX_SIZE})")
    return reasons


async def guild_ever_had_admin(db: Database, guild_id: int) -> bool:
    """True once the guild has had a CloudAdmin: a grant row (even expired) or one in the audit log."""
    return await grants.guild_ever_had_admin(db, guild_id)


async def list_grants(db: Database, guild_id: int, now: datetime) -> list[Grant]:
    """Every grant of the guild, each `active` unless its expiry has passed by `now`."""
    return await grants.list_grants(db, guild_id, now)
