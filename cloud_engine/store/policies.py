"""Policies repository: the `policies` rows of each server, as `Policy` models.

Why here: core/policies.py says what a policy means and how validation applies it;
GovernanceService writes them (each with its audit row, in the same transaction). Only this
module holds their SQL.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from cloud_engine.core.policies import Policy, PolicySpec
from cloud_engine.store.database import Source, insert, read_all, write
from cloud_engine.store.rows import dumps, iso, loads

__all__ = ["delete_policy", "insert_policy", "list_policies"]


async def insert_policy(conn: aiosqlite.Connection, guild_id: int, spec: PolicySpec, *, created_by: int,
                        now: datetime) -> int | None:
    """The new policy's id, or None when the server already has a policy of that name."""
    try:
        return await insert(
            conn, "INSERT INTO policies (guild_id, name, type, pattern, priority, action, params, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, spec.name, spec.type, spec.pattern, spec.priority, spec.action, dumps(spec.params),
             created_by, iso(now)))
    except aiosqlite.IntegrityError:
        return None


async def list_policies(src: Source, guild_id: int) -> list[Policy]:
    """The server's policies, enabled or not, in the order validation reads them (priority, then age)."""
    rows = await read_all(src, "SELECT * FROM policies WHERE guild_id = ? ORDER BY priority, id", (guild_id,))
    return [Policy(id=r["id"], name=r["name"], type=r["type"], pattern=r["pattern"], priority=r["priority"],
                   action=r["action"], params=loads(r["params"], {}), enabled=bool(r["enabled"])) for r in rows]


async def delete_policy(conn: aiosqlite.Connection, guild_id: int, name: str) -> bool:
    return await write(conn, "DELETE FROM policies WHERE guild_id = ? AND name = ?", (guild_id, name)) > 0
