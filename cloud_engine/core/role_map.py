"""Discord role → Cloud role: a member's role is the highest of their grant and their mapped Discord roles.

The seam, and why it is shaped this way: the engine never imports Discord, and most of its
checks happen deep inside workflow methods (validate, approve, apply) that are also called
from the CLI, with nothing but a user id. So the engine does not take role ids as an argument
of every call; instead the bot *records*, before each command and button check (bot/checks.py
`sync_member`, beside the Discord-administrator sync), which of the server's mapped Discord
roles the member holds right now (`record_member_roles`). `role_of` then reads the mapped roles
through that record, joined with the current map.

Why this cannot outlive a Discord role: an unmap deletes the map row (and the records of it)
in one transaction, so the join finds nothing from the next check on; a member who lost the
role is recorded without it at their next interaction, before anything is decided. Only
mapped roles are recorded (the member's other roles are none of the engine's business), and a
record is written only when it changes (audited as `discord_roles.sync`), so a check costs
two reads. A Discord role deleted in the server is unmapped by the bot's listener
(`forget_discord_role`, audited).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from cloud_engine.core.models import Role
from cloud_engine.errors import InvalidInput
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database, row_of, rows_of
from cloud_engine.store.rows import iso, parse_dt

__all__ = ["SYSTEM_USER", "RoleMap", "cloud_role", "delete_map", "list_maps", "mapped_role", "record_member_roles", "upsert_map"]

SYSTEM_USER = 0  # as in access.py: the engine itself, acting on what Discord reported

_MEMBER_MAPPED_SQL = ("SELECT m.cloud_role FROM member_discord_roles r JOIN discord_role_maps m"
                      " ON m.guild_id = r.guild_id AND m.discord_role_id = r.discord_role_id"
                      " WHERE r.guild_id = ? AND r.user_id = ?")


@dataclass(frozen=True)
class RoleMap:
    """One Discord role of a server and the Cloud role its members hold at least."""

    guild_id: int
    discord_role_id: int
    cloud_role: Role
    mapped_by: int
    mapped_at: datetime


def cloud_role(value: str) -> Role:
    """A Cloud role a Discord role may map to; InvalidInput otherwise."""
    try:
        role = Role(value)
    except ValueError:
        role = Role.NONE
    if role is Role.NONE:
        raise InvalidInput(field="cloud_role", rule="one of CloudViewer, CloudUser, CloudAdmin")
    return role


def _discord_id(value: object, field: str = "discord_role") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise InvalidInput(field=field, rule="a Discord role id")
    return value


async def mapped_role(db: Database, guild_id: int, user_id: int) -> Role:
    """The highest Cloud role the member's recorded Discord roles map to now (Role.NONE without any)."""
    rows = await db.fetchall(_MEMBER_MAPPED_SQL, (guild_id, user_id))
    return max((Role(r["cloud_role"]) for r in rows), key=lambda r: r.level, default=Role.NONE)


async def list_maps(db: Database, guild_id: int) -> list[RoleMap]:
    rows = await db.fetchall("SELECT * FROM discord_role_maps WHERE guild_id = ? ORDER BY discord_role_id",
                             (guild_id,))
    return [RoleMap(int(r["guild_id"]), int(r["discord_role_id"]), Role(r["cloud_role"]), int(r["mapped_by"]),
                    parse_dt(r["mapped_at"]) or datetime.min) for r in rows]


async def upsert_map(conn: aiosqlite.Connection, guild_id: int, by_user_id: int, discord_role_id: int, role: Role,
                     now: datetime) -> Role | None:
    """Map (or re-map) a Discord role, audited as `role_map`; the Cloud role it mapped to before, if any."""
    discord_role_id = _discord_id(discord_role_id)
    before = await row_of(conn, "SELECT cloud_role FROM discord_role_maps WHERE guild_id = ? AND discord_role_id = ?",
                          (guild_id, discord_role_id))
    await conn.execute("INSERT INTO discord_role_maps (guild_id, discord_role_id, cloud_role, mapped_by, mapped_at)"
                       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, discord_role_id) DO UPDATE SET"
                       " cloud_role = excluded.cloud_role, mapped_by = excluded.mapped_by, mapped_at = excluded.mapped_at",
                       (guild_id, discord_role_id, role.value, by_user_id, iso(now)))
    previous = Role(before["cloud_role"]) if before else None
    await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="role_map", target_type="discord_role",
                      target_id=discord_role_id, detail={"cloud_role": role.value,
                                                         "previous": previous.value if previous else None})
    return previous


async def delete_map(conn: aiosqlite.Connection, guild_id: int, by_user_id: int, discord_role_id: int, now: datetime,
                     *, reason: str) -> bool:
    """Remove a mapping and every record of members holding it (audited as `role_unmap`); False if it was not mapped."""
    discord_role_id = _discord_id(discord_role_id)
    async with conn.execute("DELETE FROM discord_role_maps WHERE guild_id = ? AND discord_role_id = ?",
                            (guild_id, discord_role_id)) as cur:
        removed = cur.rowcount > 0
    await conn.execute("DELETE FROM member_discord_roles WHERE guild_id = ? AND discord_role_id = ?",
                       (guild_id, discord_role_id))
    await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="role_unmap",
                      target_type="discord_role", target_id=discord_role_id,
                      detail={"removed": removed, "reason": reason})
    return removed


async def _held(db_or_conn: Database | aiosqlite.Connection, guild_id: int, user_id: int) -> tuple[set[int], set[int]]:
    """(the server's mapped Discord role ids, those recorded for the member)."""
    maps_sql = "SELECT discord_role_id FROM discord_role_maps WHERE guild_id = ?"
    member_sql = "SELECT discord_role_id FROM member_discord_roles WHERE guild_id = ? AND user_id = ?"
    if isinstance(db_or_conn, Database):
        mapped = await db_or_conn.fetchall(maps_sql, (guild_id,))
        recorded = await db_or_conn.fetchall(member_sql, (guild_id, user_id))
    else:
        mapped = await rows_of(db_or_conn, maps_sql, (guild_id,))
        recorded = await rows_of(db_or_conn, member_sql, (guild_id, user_id))
    return {int(r["discord_role_id"]) for r in mapped}, {int(r["discord_role_id"]) for r in recorded}


async def record_member_roles(db: Database, guild_id: int, user_id: int, role_ids: Iterable[int],
                              now: datetime) -> bool:
    """Record which mapped Discord roles the member holds now (what Discord just said); True when it changed.

    Read first without a write lock: the usual answer is "unchanged", and a check must stay
    cheap. A change is written (and audited) in a transaction that reads both sets again.
    """
    current = {int(r) for r in role_ids}
    mapped, recorded = await _held(db, guild_id, user_id)
    if current & mapped == recorded:
        return False
    async with db.transaction() as conn:
        mapped, recorded = await _held(conn, guild_id, user_id)
        held = current & mapped
        if held == recorded:
            return False
        added, removed = sorted(held - recorded), sorted(recorded - held)
        await conn.executemany("DELETE FROM member_discord_roles WHERE guild_id = ? AND user_id = ? AND"
                               " discord_role_id = ?", [(guild_id, user_id, r) for r in removed])
        await conn.executemany("INSERT INTO member_discord_roles (guild_id, user_id, discord_role_id, seen_at)"
                               " VALUES (?, ?, ?, ?)", [(guild_id, user_id, r, iso(now)) for r in added])
        await write_audit(conn, at=now, guild_id=guild_id, actor_id=SYSTEM_USER, action="discord_roles.sync",
                          target_type="user", target_id=user_id, detail={"added": added, "removed": removed})
    return True
