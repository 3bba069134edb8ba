"""Guild quotas: reserved atomically at validation, recounted from the records on apply, released otherwise.

Reservation is one conditional UPDATE of every quota it needs, inside one transaction
(`used + reserved + n <= limit` for all of them, or no row changes), never check-then-act, so concurrent validations can
never overshoot a limit: with a limit of 10, exactly 10 of 50 racing reservations succeed.
The statements live in store/quotas.py and run on the caller's connection, inside the
transaction it holds; this module owns the defaults every guild starts with.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiosqlite

from cloud_engine.core.records import QuotaUsage
from cloud_engine.store import quotas as store

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
    await store.ensure_rows(conn, guild_id, DEFAULT_QUOTAS)


async def reserve(conn: aiosqlite.Connection, guild_id: int, needs: Mapping[str, int]) -> dict[str, int]:
    """Reserve every positive need or none; a refusal changes nothing, so the caller may record it in the same
    transaction. A guild's first reservation creates its rows at the defaults first."""
    try:
        return await store.reserve(conn, guild_id, needs)
    except LookupError:
        await ensure_rows(conn, guild_id)
        return await store.reserve(conn, guild_id, needs)


async def release(conn: aiosqlite.Connection, guild_id: int, reservations: Mapping[str, int]) -> None:
    await store.release(conn, guild_id, reservations)


async def set_used(conn: aiosqlite.Connection, guild_id: int, used: Mapping[str, int]) -> None:
    """Set each quota's use to what the server's recorded resources hold (see the recount in the orchestrator)."""
    await ensure_rows(conn, guild_id)
    await store.set_used(conn, guild_id, used)


async def set_limit(conn: aiosqlite.Connection, guild_id: int, name: str, limit: int) -> None:
    await ensure_rows(conn, guild_id)
    await store.set_limit(conn, guild_id, name, limit)


async def usage(conn: aiosqlite.Connection, guild_id: int) -> list[QuotaUsage]:
    await ensure_rows(conn, guild_id)
    return await store.usage(conn, guild_id)
