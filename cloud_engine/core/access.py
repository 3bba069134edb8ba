"""AccessService: who holds which Cloud role in a server, and how roles are granted (or mapped from Discord roles).

Why its own room: roles, just-in-time grants, the first-admin bootstrap and Discord admin
sync are one concern that every other service asks about ("may this member do X?") but
none should implement. The facade (`CloudOrchestrator`) and the workflow call `role` and
`require`; grants are written here only, each with its audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import aiosqlite

from cloud_engine.core import permissions, role_map
from cloud_engine.core.models import Role
from cloud_engine.core.records import Grant, RoleMap
from cloud_engine.core.role_map import SYSTEM_USER
from cloud_engine.errors import InvalidInput
from cloud_engine.store import grants
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database
from cloud_engine.store.rows import iso

__all__ = ["SYSTEM_USER", "AccessService"]


class AccessService:
    """Roles and grants of members, per Discord server."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self.admin_ids: frozenset[int] = frozenset()  # bot-owner style overrides, CloudAdmin everywhere

    async def role(self, guild_id: int, user_id: int) -> Role:
        return await permissions.role_of(self.db, guild_id, user_id, self.clock(), self.admin_ids)

    async def require(self, guild_id: int, user_id: int, action: str) -> Role:
        """The member's role, or PermissionDenied when it does not allow `action`."""
        role = await self.role(guild_id, user_id)
        permissions.require(role, action)
        return role

    async def require_admin_or_bootstrap(self, guild_id: int, by_user_id: int) -> None:
        """Admin actions need CloudAdmin; a guild that never had one is claimed by its first grant (audited).

        "Never", not "none active now": otherwise, once the last time-limited admin grant
        expired or was revoked, any member could make themselves CloudAdmin. Discord
        administrators still become CloudAdmin through `sync_discord_admin`.
        """
        if await self.role(guild_id, by_user_id) >= Role.ADMIN:
            return
        now = self.clock()
        if await permissions.guild_ever_had_admin(self.db, guild_id):
            permissions.require(await self.role(guild_id, by_user_id), "admin")
        async with self.db.transaction() as conn:
            await grants.make_admin(conn, guild_id, by_user_id, SYSTEM_USER, now)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="bootstrap_admin",
                              target_type="user", target_id=by_user_id, detail={"reason": "guild had no CloudAdmin"})

    async def sync_discord_admin(self, guild_id: int, user_id: int) -> None:
        """Record that Discord says this member administers the guild: they become CloudAdmin (audited once)."""
        if await self.role(guild_id, user_id) >= Role.ADMIN:
            return
        now = self.clock()
        async with self.db.transaction() as conn:
            await grants.make_admin(conn, guild_id, user_id, SYSTEM_USER, now)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=SYSTEM_USER, action="grant",
                              target_type="user", target_id=user_id, detail={"role": "CloudAdmin", "source": "discord_admin"})

    async def grant(self, guild_id: int, by_user_id: int, user_id: int, role: str, *,
                    expires_at: datetime | None = None, duration: timedelta | None = None) -> Grant:
        """Give `user_id` a role, optionally until `expires_at` (or for `duration`): just-in-time access."""
        try:
            role_ = Role(role)
        except ValueError:
            raise InvalidInput(field="role", rule="one of CloudViewer, CloudUser, CloudAdmin") from None
        if role_ is Role.NONE:
            raise InvalidInput(field="role", rule="one of CloudViewer, CloudUser, CloudAdmin")
        await self.require_admin_or_bootstrap(guild_id, by_user_id)
        now = self.clock()
        if duration is not None:
            expires_at = now + duration
        if expires_at is not None and (not isinstance(expires_at, datetime) or expires_at.tzinfo is None):
            raise InvalidInput(field="expires_at", rule="a date and time with a time zone")
        if expires_at is not None and expires_at <= now:
            raise InvalidInput(field="expires_at", rule="must be in the future")
        async with self.db.transaction() as conn:
            # A time-limited grant keeps the role the member holds without an expiry (their
            # standing role), which counts again when it ends; a grant without expiry replaces it.
            standing = await _standing_role(conn, guild_id, user_id, now) if expires_at is not None else None
            await grants.upsert_grant(conn, guild_id, user_id, role_, expires_at=expires_at, granted_by=by_user_id,
                                      now=now, standing_role=standing)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="grant", target_type="user",
                              target_id=user_id, detail={"role": role_.value, "standing_role": standing,
                                                         "expires_at": iso(expires_at) if expires_at else None})
        return Grant(guild_id=guild_id, user_id=user_id, role=role_, expires_at=expires_at, granted_by=by_user_id,
                     granted_at=now, standing_role=Role(standing) if standing else None)

    async def revoke(self, guild_id: int, by_user_id: int, user_id: int) -> bool:
        await self.require(guild_id, by_user_id, "admin")
        now = self.clock()
        async with self.db.transaction() as conn:
            removed = await grants.delete_grant(conn, guild_id, user_id)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="revoke", target_type="user",
                              target_id=user_id, detail={"removed": removed})
        return removed

    async def list_grants(self, guild_id: int, by_user_id: int) -> list[Grant]:
        await self.require(guild_id, by_user_id, "admin")
        return await permissions.list_grants(self.db, guild_id, self.clock())

    # -- Discord role -> Cloud role (see core/role_map.py for the seam and why it is shaped so)
    async def record_member_roles(self, guild_id: int, user_id: int, discord_role_ids: Iterable[int]) -> bool:
        """What Discord says the member holds now: call before each check; the mapped ones count (audited on change)."""
        return await role_map.record_member_roles(self.db, guild_id, user_id, discord_role_ids, self.clock())

    async def map_discord_role(self, guild_id: int, by_user_id: int, discord_role_id: int, cloud_role: str) -> RoleMap:
        """Members holding the Discord role hold at least `cloud_role` (CloudAdmin; audited as `role_map`)."""
        role = role_map.cloud_role(cloud_role)
        await self.require(guild_id, by_user_id, "admin")
        now = self.clock()
        async with self.db.transaction() as conn:
            await role_map.upsert_map(conn, guild_id, by_user_id, discord_role_id, role, now)
        return RoleMap(guild_id, discord_role_id, role, by_user_id, now)

    async def unmap_discord_role(self, guild_id: int, by_user_id: int, discord_role_id: int) -> bool:
        """Stop the Discord role counting, at once for every member (CloudAdmin; audited as `role_unmap`)."""
        await self.require(guild_id, by_user_id, "admin")
        async with self.db.transaction() as conn:
            return await role_map.delete_map(conn, guild_id, by_user_id, discord_role_id, self.clock(),
                                             reason="unmapped")

    async def forget_discord_role(self, guild_id: int, discord_role_id: int) -> bool:
        """The Discord role was deleted in the server: its mapping goes too (audited, by the system)."""
        if not any(m.discord_role_id == discord_role_id for m in await role_map.list_maps(self.db, guild_id)):
            return False
        async with self.db.transaction() as conn:
            return await role_map.delete_map(conn, guild_id, SYSTEM_USER, discord_role_id, self.clock(),
                                             reason="Discord role deleted")

    async def list_role_maps(self, guild_id: int, by_user_id: int) -> list[RoleMap]:
        await self.require(guild_id, by_user_id, "admin")
        return await role_map.list_maps(self.db, guild_id)


async def _standing_role(conn: aiosqlite.Connection, guild_id: int, user_id: int, now: datetime) -> str | None:
    """The role `user_id` holds without an expiry (kept through just-in-time grants), if any."""
    grant = await grants.get_grant(conn, guild_id, user_id, now)
    if grant is None:
        return None
    role = grant.role if grant.expires_at is None else grant.standing_role
    return role.value if role else None
