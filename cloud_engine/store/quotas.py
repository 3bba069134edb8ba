"""Quotas repository: the `quotas` rows, each reserved by one conditional UPDATE.

Why here, and why every function takes a connection: reservation is only atomic because it
runs inside the caller's transaction (validation, planning), next to the session's own
writes; a repository that opened its own transaction would split them. So this module never
begins or commits anything, it only runs its statements on the connection it is given.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiosqlite

from cloud_engine.core.records import QuotaUsage
from cloud_engine.errors import QuotaExceeded
from cloud_engine.store.database import one_row, rows_of

__all__ = ["ensure_rows", "release", "reserve", "set_limit", "set_used", "usage"]


async def ensure_rows(conn: aiosqlite.Connection, guild_id: int, defaults: Mapping[str, int]) -> None:
    """Give the guild a row for every quota it has none of yet, at its default limit."""
    await conn.executemany("INSERT OR IGNORE INTO quotas (guild_id, name, limit_value) VALUES (?, ?, ?)",
                           [(guild_id, name, limit) for name, limit in defaults.items()])


async def reserve(conn: aiosqlite.Connection, guild_id: int, needs: Mapping[str, int]) -> dict[str, int]:
    """Reserve every positive need or none: a savepoint undoes partial reservations on QuotaExceeded,
    so the caller may record the refusal in the same transaction."""
    await conn.execute("SAVEPOINT quota_reserve")
    try:
        taken = await _reserve_each(conn, guild_id, needs)
    except BaseException:
        await conn.execute("ROLLBACK TO quota_reserve")
        raise
    finally:
        await conn.execute("RELEASE quota_reserve")
    return taken


async def _reserve_each(conn: aiosqlite.Connection, guild_id: int, needs: Mapping[str, int]) -> dict[str, int]:
    taken: dict[str, int] = {}
    for name, amount in sorted(needs.items()):
        if amount <= 0:
            continue
        async with conn.execute(
            "UPDATE quotas SET reserved = reserved + ? WHERE guild_id = ? AND name = ? AND used + reserved + ? <= limit_value",
            (amount, guild_id, name, amount),
        ) as cur:
            if cur.rowcount != 1:
                row = await one_row(conn, "SELECT * FROM quotas WHERE guild_id = ? AND name = ?", (guild_id, name))
                raise QuotaExceeded(quota=name, used=row["used"], reserved=row["reserved"], requested=amount,
                                    limit=row["limit_value"])
        taken[name] = amount
    return taken


async def release(conn: aiosqlite.Connection, guild_id: int, reservations: Mapping[str, int]) -> None:
    for name, amount in reservations.items():
        await conn.execute("UPDATE quotas SET reserved = MAX(reserved - ?, 0) WHERE guild_id = ? AND name = ?",
                           (amount, guild_id, name))


async def set_used(conn: aiosqlite.Connection, guild_id: int, used: Mapping[str, int]) -> None:
    await conn.executemany("UPDATE quotas SET used = ? WHERE guild_id = ? AND name = ?",
                           [(max(amount, 0), guild_id, name) for name, amount in used.items()])


async def set_limit(conn: aiosqlite.Connection, guild_id: int, name: str, limit: int) -> None:
    await conn.execute(
        "INSERT INTO quotas (guild_id, name, limit_value) VALUES (?, ?, ?)"
        " ON CONFLICT (guild_id, name) DO UPDATE SET limit_value = excluded.limit_value",
        (guild_id, name, limit),
    )


async def usage(conn: aiosqlite.Connection, guild_id: int) -> list[QuotaUsage]:
    rows = await rows_of(conn, "SELECT name, limit_value, used, reserved FROM quotas WHERE guild_id = ? ORDER BY name",
                         (guild_id,))
    return [QuotaUsage(name=str(r["name"]), limit_value=int(r["limit_value"]), used=int(r["used"]),
                       reserved=int(r["reserved"])) for r in rows]
