"""Discord role maps repository: `discord_role_maps` and the member records joined with them.

Why here: core/role_map.py explains the seam (the bot records which mapped Discord roles a
member holds; a member's mapped role is read through the map as it is now) and audits each
change; this module only holds the SQL, run on the caller's transaction for every write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from cloud_engine.core.models import Role
from cloud_engine.core.records import RoleMap
from cloud_engine.store.database import Source, read_all, read_one, write
from cloud_engine.store.rows import iso, parse_dt

__all__ = ["add_member_roles", "delete_map", "list_maps", "map_of", "mapped_ids", "member_ids", "member_mapped_roles",
           "remove_member_roles", "upsert_map"]


async def member_mapped_roles(src: Source, guild_id: int, user_id: int) -> list[Role]:
    """The Cloud roles the member's recorded Discord roles map to now (one per mapped Discord role held)."""
    rows = await read_all(src, "SELECT m.cloud_role FROM member_discord_roles r JOIN discord_role_maps m"
                               " ON m.guild_id = r.guild_id AND m.discord_role_id = r.discord_role_id"
                               " WHERE r.guild_id = ? AND r.user_id = ?", (guild_id, user_id))
    return [Role(r["cloud_role"]) for r in rows]


async def list_maps(src: Source, guild_id: int) -> list[RoleMap]:
    rows = await read_all(src, "SELECT * FROM discord_role_maps WHERE guild_id = ? ORDER BY discord_role_id",
                          (guild_id,))
    return [RoleMap(int(r["guild_id"]), int(r["discord_role_id"]), Role(r["cloud_role"]), int(r["mapped_by"]),
                    parse_dt(r["mapped_at"]) or datetime.min) for r in rows]


async def map_of(src: Source, guild_id: int, discord_role_id: int) -> Role | None:
    """The Cloud role the Discord role maps to, if it is mapped."""
    row = await read_one(src, "SELECT cloud_role FROM discord_role_maps WHERE guild_id = ? AND discord_role_id = ?",
                         (guild_id, discord_role_id))
    return Role(row["cloud_role"]) if row else None


async def upsert_map(conn: aiosqlite.Connection, guild_id: int, by_user_id: int, discord_role_id: int, role: Role,
                     now: datetime) -> None:
    await conn.execute("INSERT INTO discord_role_maps (guild_id, discord_role_id, cloud_role, mapped_by, mapped_at)"
                       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, discord_role_id) DO UPDATE SET"
                       " cloud_role = excluded.cloud_role, mapped_by = excluded.mapped_by, mapped_at = excluded.mapped_at",
                       (guild_id, discord_role_id, role.value, by_user_id, iso(now)))


async def delete_map(conn: aiosqlite.Connection, guild_id: int, discord_role_id: int) -> bool:
    """Remove the mapping and every member's record of the role, together; False when it was not mapped."""
    removed = await write(conn, "DELETE FROM discord_role_maps WHERE guild_id = ? AND discord_role_id = ?",
                          (guild_id, discord_role_id)) > 0
    await conn.execute("DELETE FROM member_discord_roles WHERE guild_id = ? AND discord_role_id = ?",
                       (guild_id, discord_role_id))
    return removed


async def mapped_ids(src: Source, guild_id: int) -> set[int]:
    """The server's mapped Discord role ids."""
    rows = await read_all(src, "SELECT discord_role_id FROM discord_role_maps WHERE guild_id = ?", (guild_id,))
    return {int(r["discord_role_id"]) for r in rows}


async def member_ids(src: Source, guild_id: int, user_id: int) -> set[int]:
    """The mapped Discord role ids recorded for the member."""
    rows = await read_all(src, "SELECT discord_role_id FROM member_discord_roles WHERE guild_id = ? AND user_id = ?",
                          (guild_id, user_id))
    return {int(r["discord_role_id"]) for r in rows}


async def remove_member_roles(conn: aiosqlite.Connection, guild_id: int, user_id: int, role_ids: Sequence[int]) -> None:
    await conn.executemany("DELETE FROM member_discord_roles WHERE guild_id = ? AND user_id = ? AND"
                           " discord_role_id = ?", [(guild_id, user_id, r) for r in role_ids])


async def add_member_roles(conn: aiosqlite.Connection, guild_id: int, user_id: int, role_ids: Sequence[int],
                           now: datetime) -> None:
    await conn.executemany("INSERT INTO member_discord_roles (guild_id, user_id, discord_role_id, seen_at)"
                           " VALUES (?, ?, ?, ?)", [(guild_id, user_id, r, iso(now)) for r in role_ids])
