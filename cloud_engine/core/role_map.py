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
from datetime import datetime

import aiosqlite

from cloud_engine.core.models import Role
from cloud_engine.core.records import RoleMap
from cloud_engine.errors import InvalidInput
from cloud_engine.store import role_maps
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database

__all__ = ["SYSTEM_USER", "RoleMap", "cloud_role", "delete_map", "list_maps", "mapped_role", "record_member_roles", "upsert_map"]

SYSTEM_USER = 0  # as in access.py: the engine itself, acting on what Discord reported


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
    return max(await role_maps.member_mapped_roles(db, guild_id, user_id), key=lambda r: r.level, default=Role.NONE)


async def list_maps(db: Database, guild_id: int) -> list[RoleMap]:
    return await role_maps.list_maps(db, guild_id)


async def upsert_map(conn: aiosqlite.Connection, guild_id: int, by_user_id: int, discord_role_id: int, role: Role,
                     now: datetime) -> Role | None:
    """Map (or re-map) a Discord role, audited as `role_map`; the Cloud role it mapped to before, if any."""
    discord_role_id = _discord_id(discord_role_id)
    previous = await role_maps.map_of(conn, guild_id, discord_role_id)
    await role_maps.upsert_map(conn, guild_id, by_user_id, discord_role_id, role, now)
    await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="role_map", target_type="discord_role",
                      target_id=discord_role_id, detail={"cloud_role": role.value,
                                                         "previous": previous.value if previous else None})
    return previous


async def delete_map(conn: aiosqlite.Connection, guild_id: int, by_user_id: int, discord_role_id: int, now: datetime,
                     *, reason: str) -> bool:
    """Remove a mapping and every record of members holding it (audited as `role_unmap`); False if it was not mapped."""
    discord_role_id = _discord_id(discord_role_id)
    removed = await role_maps.delete_map(conn, guild_id, discord_role_id)
    await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="role_unmap",
                      target_type="discord_role", target_id=discord_role_id,
                      detail={"removed": removed, "reason": reason})
    return removed


async def _held(src: Database | aiosqlite.Connection, guild_id: int, user_id: int) -> tuple[set[int], set[int]]:
    """(the server's mapped Discord role ids, those recorded for the member)."""
    return await role_maps.mapped_ids(src, guild_id), await role_maps.member_ids(src, guild_id, user_id)


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
        await role_maps.remove_member_roles(conn, guild_id, user_id, removed)
        await role_maps.add_member_roles(conn, guild_id, user_id, added, now)
        await write_audit(conn, at=now, guild_id=guild_id, actor_id=SYSTEM_USER, action="discord_roles.sync",
                          target_type="user", target_id=user_id, detail={"added": added, "removed": removed})
    return True
