"""Grants repository: the `user_permissions` rows behind every "may this member do X?".

Why here: AccessService and core/permissions.py decide who may do what; this module only
reads and writes the rows, on the connection of the caller's open transaction when a write
is involved (so a grant and its audit row commit together), and hands back `Grant`s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core.models import Role
from cloud_engine.core.records import Grant
from cloud_engine.store.database import Source, read_all, read_one, write
from cloud_engine.store.rows import iso, parse_dt

__all__ = ["delete_grant", "get_grant", "guild_ever_had_admin", "list_grants", "make_admin", "upsert_grant"]


def _grant(row: dict[str, Any], now: datetime) -> Grant:
    expires = parse_dt(row["expires_at"])
    return Grant(guild_id=int(row["guild_id"]), user_id=int(row["user_id"]), role=Role(row["role"]), expires_at=expires,
                 granted_by=int(row["granted_by"]), granted_at=parse_dt(row["granted_at"]) or datetime.min,
                 standing_role=Role(row["standing_role"]) if row["standing_role"] else None,
                 active=expires is None or expires > now)


async def get_grant(src: Source, guild_id: int, user_id: int, now: datetime) -> Grant | None:
    """The member's grant in the guild (active or not as of `now`), or None."""
    row = await read_one(src, "SELECT * FROM user_permissions WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    return None if row is None else _grant(row, now)


async def list_grants(src: Source, guild_id: int, now: datetime) -> list[Grant]:
    """Every grant of the guild, highest role first (expired ones too, with `active` False)."""
    rows = await read_all(src, "SELECT * FROM user_permissions WHERE guild_id = ? ORDER BY role DESC, user_id",
                          (guild_id,))
    return [_grant(row, now) for row in rows]


async def upsert_grant(conn: aiosqlite.Connection, guild_id: int, user_id: int, role: Role, *,
                       expires_at: datetime | None, granted_by: int, now: datetime, standing_role: str | None) -> None:
    """Give (or replace) the member's grant, keeping `standing_role` for a time-limited one."""
    await conn.execute(
        "INSERT INTO user_permissions (guild_id, user_id, role, expires_at, granted_by, granted_at, standing_role)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET role = excluded.role,"
        " expires_at = excluded.expires_at, granted_by = excluded.granted_by, granted_at = excluded.granted_at,"
        " standing_role = excluded.standing_role",
        (guild_id, user_id, role.value, iso(expires_at) if expires_at else None, granted_by, iso(now), standing_role))


async def make_admin(conn: aiosqlite.Connection, guild_id: int, user_id: int, granted_by: int, now: datetime) -> None:
    """The member becomes CloudAdmin without an expiry (bootstrap, Discord administrators)."""
    await conn.execute(
        "INSERT OR REPLACE INTO user_permissions (guild_id, user_id, role, expires_at, granted_by, granted_at)"
        " VALUES (?, ?, 'CloudAdmin', NULL, ?, ?)", (guild_id, user_id, granted_by, iso(now)))


async def delete_grant(conn: aiosqlite.Connection, guild_id: int, user_id: int) -> bool:
    """Remove the member's grant; False when there was none."""
    return await write(conn, "DELETE FROM user_permissions WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)) > 0


async def guild_ever_had_admin(src: Source, guild_id: int) -> bool:
    """True once the guild has had a CloudAdmin: a grant row (even expired) or one in the audit log."""
    row = await read_one(
        src,
        "SELECT 1 AS x FROM user_permissions WHERE guild_id = ? AND role = 'CloudAdmin'"
        " UNION ALL SELECT 1 FROM audit_log WHERE guild_id = ? AND (action = 'bootstrap_admin'"
        " OR (action = 'grant' AND json_extract(detail, '$.role') = 'CloudAdmin')) LIMIT 1", (guild_id, guild_id))
    return row is not None
