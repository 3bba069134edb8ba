"""Guild quotas: reserved atomically at validation, recounted from the records on apply, released otherwise.

Reservation is one conditional UPDATE per quota inside one transaction
(`used + reserved + n <= limit`), never check-then-act, so concurrent validations can
never overshoot a limit: with a limit of 10, exactly 10 of 50 racing reservations succeed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiosqlite

from cloud_engine.errors import QuotaExceeded
from cloud_engine.store.database import one_row, rows_of

DEFAULT_QUOTAS: dict[str, int] = {
    "compute.instances": 10,
    "compute.cpus": 24,
    "compute.ram_gb": 64,
    "database.instances": 5,
    "storage.buckets": 20,
    "network.vpcs": 5,
    "network.load_balancers": 5,
}


async def ensure_rows(conn: aiosqlite.Connection, guild_id: int) -> None:
    await conn.executemany(
        "INSERT OR IGNORE INTO quotas (guild_id, name, limit_value) VALUES (?, ?, ?)",
        [(guild_id, name, limit) for name, limit in DEFAULT_QUOTAS.items()],
    )


async def reserve(conn: aiosqlite.Connection, guild_id: int, needs: Mapping[str, int]) -> dict[str, int]:
    """Reserve every positive need or none: a savepoint undoes partial reservations on QuotaExceeded,
    so the caller may record the refusal in the same transaction."""
    await ensure_rows(conn, guild_id)
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
    """Set each quota's use to what the server's recorded resources hold (see the recount in the orchestrator)."""
    await ensure_rows(conn, guild_id)
    await conn.executemany("UPDATE quotas SET used = ? WHERE guild_id = ? AND name = ?",
                           [(max(amount, 0), guild_id, name) for name, amount in used.items()])


async def set_limit(conn: aiosqlite.Connection, guild_id: int, name: str, limit: int) -> None:
    await ensure_rows(conn, guild_id)
    await conn.execute(
        "INSERT INTO quotas (guild_id, name, limit_value) VALUES (?, ?, ?)"
        " ON CONFLICT (guild_id, name) DO UPDATE SET limit_value = excluded.limit_value",
        (guild_id, name, limit),
    )


async def usage(conn: aiosqlite.Connection, guild_id: int) -> list[dict[str, Any]]:
    await ensure_rows(conn, guild_id)
    return await rows_of(conn, "SELECT name, limit_value, used, reserved FROM quotas WHERE guild_id = ? ORDER BY name",
                         (guild_id,))
