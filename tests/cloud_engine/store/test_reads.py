"""Reads outside a transaction go to a read-only connection and never wait for a writer.

What a user would notice: with a deployment applying (a write transaction open), /cloud-status
and the lobby still answer at once, with the last committed state, never a half-written one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_engine.store import Database
from cloud_engine.store.quotas import ensure_rows, reserve, usage

PROBE = "SELECT name FROM schema_version WHERE version = 9999"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "cloud.db")
    yield database
    await database.close()


async def test_a_read_does_not_wait_for_an_open_write_and_sees_only_what_is_committed(db: Database) -> None:
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO schema_version(version, name) VALUES (9999, 'half-written')")
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    # The writer holds its transaction open; the read answers at once, without the uncommitted row.
    assert await asyncio.wait_for(db.fetchone(PROBE), timeout=2) is None
    release.set()
    await task
    assert await db.fetchone(PROBE) == {"name": "half-written"}


async def test_a_read_inside_a_transaction_sees_that_transactions_own_writes(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO schema_version(version, name) VALUES (9999, 'mine')")
        assert await db.fetchone(PROBE) == {"name": "mine"}


async def test_the_read_connection_refuses_a_write(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly|read-only"):
        await db.fetchall("INSERT INTO schema_version(version, name) VALUES (9998, 'sneaky') RETURNING version")
    assert await db.fetchone("SELECT 1 AS one FROM schema_version WHERE version = 9998") is None


async def test_an_in_memory_database_reads_and_writes_on_its_one_connection() -> None:
    database = await Database.open(":memory:")
    try:
        await database.execute("INSERT INTO schema_version(version, name) VALUES (9999, 'memory')")
        assert await database.fetchone(PROBE) == {"name": "memory"}
    finally:
        await database.close()


async def test_a_reservation_that_does_not_fit_reserves_nothing_and_names_the_quota(db: Database) -> None:
    async with db.transaction() as conn:
        await ensure_rows(conn, 1, {"compute.cpus": 4, "compute.instances": 10})
    with pytest.raises(Exception, match="compute.cpus") as refused:
        async with db.transaction() as conn:
            await reserve(conn, 1, {"compute.instances": 1, "compute.cpus": 8})
    assert type(refused.value).__name__ == "QuotaExceeded"
    async with db.transaction() as conn:
        assert {q.name: q.reserved for q in await usage(conn, 1)} == {"compute.cpus": 0, "compute.instances": 0}
        assert await reserve(conn, 1, {"compute.instances": 1, "compute.cpus": 4, "compute.ram_gb": 0}) == {
            "compute.cpus": 4, "compute.instances": 1}
        assert {q.name: q.reserved for q in await usage(conn, 1)} == {"compute.cpus": 4, "compute.instances": 1}


async def test_a_reservation_of_a_quota_without_a_row_changes_nothing(db: Database) -> None:
    async with db.transaction() as conn:
        await ensure_rows(conn, 1, {"compute.instances": 10})
        with pytest.raises(LookupError, match="compute.cpus"):
            await reserve(conn, 1, {"compute.instances": 1, "compute.cpus": 1})
        assert [q.reserved for q in await usage(conn, 1)] == [0]
