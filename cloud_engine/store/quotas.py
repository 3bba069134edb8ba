"""Quotas repository: the `quotas` rows, reserved together by one conditional UPDATE.

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
from cloud_engine.store.database import rows_of

__all__ = ["ensure_rows", "release", "reserve", "set_limit", "set_used", "usage"]


async def ensure_rows(conn: aiosqlite.Connection, guild_id: int, defaults: Mapping[str, int]) -> None:
    """Give the guild a row for every quota it has none of yet, at its default limit."""
    await conn.executemany("INSERT OR IGNORE INTO quotas (guild_id, name, limit_value) VALUES (?, ?, ?)",
                           [(guild_id, name, limit) for name, limit in defaults.items()])


async def reserve(conn: aiosqlite.Connection, guild_id: int, needs: Mapping[str, int]) -> dict[str, int]:
    """Reserve every positive need or none, in one conditional UPDATE.

    Why one statement: it changes the rows only when every quota is there and every need fits
    (`used + reserved + n <= limit`), so concurrent validations never overshoot a limit, a
    refusal leaves nothing half-reserved (the caller may record it in the same transaction),
    and a reservation costs one round trip, not one per quota. Raises QuotaExceeded naming
    the first quota (by name) that does not fit, or LookupError when a quota has no row yet.
    """
    wanted = {name: amount for name, amount in sorted(needs.items()) if amount > 0}
    if not wanted:
        return {}
    values = ", ".join("(?, ?)" for _ in wanted)
    pairs = [value for item in wanted.items() for value in item]
    # RETURNING counts the rows: sqlite3 reports no rowcount for a statement that starts with WITH.
    changed = len(await rows_of(
        conn, f"WITH needs(name, amount) AS (VALUES {values})"  # noqa: S608 - placeholders only
        " UPDATE quotas SET reserved = reserved + (SELECT amount FROM needs WHERE needs.name = quotas.name)"
        " WHERE guild_id = ? AND name IN (SELECT name FROM needs)"
        " AND (SELECT COUNT(*) FROM quotas q JOIN needs n ON n.name = q.name WHERE q.guild_id = ?) = ?"
        " AND NOT EXISTS (SELECT 1 FROM quotas q JOIN needs n ON n.name = q.name"
        "                 WHERE q.guild_id = ? AND q.used + q.reserved + n.amount > q.limit_value)"
        " RETURNING name", (*pairs, guild_id, guild_id, len(wanted), guild_id)))
    if changed == len(wanted):
        return wanted
    marks = ", ".join("?" for _ in wanted)
    rows = {str(r["name"]): r for r in await rows_of(
        conn, f"SELECT * FROM quotas WHERE guild_id = ? AND name IN ({marks})",  # noqa: S608 - placeholders only
        (guild_id, *wanted))}
    if missing := [name for name in wanted if name not in rows]:
        raise LookupError(f"no quota rows for {', '.join(missing)}")
    for name, amount in wanted.items():
        row = rows[name]
        if row["used"] + row["reserved"] + amount > row["limit_value"]:
            raise QuotaExceeded(quota=name, used=row["used"], reserved=row["reserved"], requested=amount,
                                limit=row["limit_value"])
    raise LookupError(f"quota reservation changed {changed} of {len(wanted)} rows")  # the statement's own guard failed


async def release(conn: aiosqlite.Connection, guild_id: int, reservations: Mapping[str, int]) -> None:
    if not reservations:
        return
    await conn.executemany("UPDATE quotas SET reserved = MAX(reserved - ?, 0) WHERE guild_id = ? AND name = ?",
                           [(amount, guild_id, name) for name, amount in reservations.items()])


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
