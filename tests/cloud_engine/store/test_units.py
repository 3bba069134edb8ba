"""Units: a transaction's (or a read's) statements sent to the database thread together.

What a user would notice: a validation either records its whole verdict (state, quota
reservation, audit row) or none of it; the audit row of a change carries the request id of
the command that made it; a database another process holds is "busy, try again", never a
crash; and a unit interrupted by a cancelled command leaves the next command working.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from cloud_engine.errors import Busy
from cloud_engine.logging_setup import request_id_var
from cloud_engine.store import Database
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import row_of

PROBE = "SELECT name FROM schema_version WHERE version = ?"
ADD = "INSERT INTO schema_version(version, name) VALUES (?, ?)"


@pytest.fixture(params=["file", "memory"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "cloud.db" if request.param == "file" else ":memory:")
    yield database
    await database.close()


async def _add_two(conn: aiosqlite.Connection, first: int, second: int, *, then_fail: bool = False) -> int:
    await conn.execute(ADD, (first, "one"))
    await conn.execute(ADD, (second, "two"))
    if then_fail:
        raise ValueError("refused after writing")
    row = await row_of(conn, "SELECT COUNT(*) AS n FROM schema_version WHERE version IN (?, ?)", (first, second))
    return int(row["n"]) if row else 0


async def test_a_unit_commits_its_statements_together_and_returns_its_result(db: Database) -> None:
    assert await db.atomic(_add_two, 9001, 9002) == 2
    assert await db.fetchone(PROBE, (9002,)) == {"name": "two"}


async def test_a_unit_that_raises_leaves_nothing_written_and_the_next_one_works(db: Database) -> None:
    with pytest.raises(ValueError, match="refused after writing"):
        await db.atomic(_add_two, 9001, 9002, then_fail=True)
    assert await db.fetchone(PROBE, (9001,)) is None
    assert await db.atomic(_add_two, 9001, 9002) == 2


async def test_a_unit_that_awaits_anything_but_its_statements_is_refused_and_writes_nothing(db: Database) -> None:
    async def sleeps(conn: aiosqlite.Connection) -> None:
        await conn.execute(ADD, (9003, "before the sleep"))
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its statements"):
        await db.atomic(sleeps)
    assert await db.fetchone(PROBE, (9003,)) is None


async def test_a_unit_inside_a_transaction_joins_it(db: Database) -> None:
    with pytest.raises(ValueError):
        async with db.transaction() as conn:
            await conn.execute(ADD, (9004, "outer"))
            assert await db.atomic(_add_two, 9005, 9006) == 2
            raise ValueError("the outer transaction fails")
    assert [await db.fetchone(PROBE, (v,)) for v in (9004, 9005, 9006)] == [None, None, None]


async def test_reads_and_nested_transactions_inside_a_unit_see_its_own_writes(db: Database) -> None:
    async def body(conn: aiosqlite.Connection) -> Any:
        await conn.execute(ADD, (9007, "mine"))
        async with db.transaction() as nested:  # a repository that opens its own joins this one
            await nested.execute(ADD, (9008, "nested"))
        return await db.fetchone(PROBE, (9007,)), await db.fetchone(PROBE, (9008,))

    assert await db.atomic(body) == ({"name": "mine"}, {"name": "nested"})


async def test_a_read_unit_reads_through_the_database_and_refuses_a_write(db: Database) -> None:
    await db.atomic(_add_two, 9009, 9010)

    async def both() -> list[Any]:
        return [await db.fetchone(PROBE, (9009,)), await db.fetchall(PROBE, (9010,))]

    assert await db.read(both) == [{"name": "one"}, [{"name": "two"}]]

    async def writes() -> None:
        await db.execute(ADD, (9011, "from a read"))

    with pytest.raises(RuntimeError, match="a write inside a read unit"):
        await db.read(writes)
    assert await db.fetchone(PROBE, (9011,)) is None


async def test_the_audit_row_a_unit_writes_carries_the_commands_request_id(db: Database) -> None:
    async def audited(conn: aiosqlite.Connection) -> None:
        await write_audit(conn, at=datetime(2026, 1, 1, tzinfo=UTC), guild_id=1, actor_id=2, action="probe")

    token = request_id_var.set("req-unit-1")
    try:
        await db.atomic(audited)
    finally:
        request_id_var.reset(token)
    assert await db.fetchone("SELECT request_id FROM audit_log WHERE action = 'probe'") == {"request_id": "req-unit-1"}


async def test_a_unit_whose_command_was_cancelled_still_ends_and_the_next_one_runs(db: Database) -> None:
    task = asyncio.create_task(db.atomic(_add_two, 9012, 9013))
    await asyncio.sleep(0)  # queued on the database thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.atomic(_add_two, 9014, 9015) == 2
    # Once queued it is one item on the thread's queue: it ran whole, before the next unit.
    assert len(await db.fetchall("SELECT 1 FROM schema_version WHERE version IN (9012, 9013)")) == 2


async def test_a_unit_while_another_process_holds_the_write_lock_is_busy_and_can_be_retried(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "cloud.db")
    await db.conn.execute("PRAGMA busy_timeout = 50")  # give up quickly instead of after 5 s
    other = sqlite3.connect(db.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(Busy):
            await db.atomic(_add_two, 9016, 9017)
        assert await db.read(db.fetchone, PROBE, (9016,)) is None  # reads still answer meanwhile
        other.execute("COMMIT")
        assert await db.atomic(_add_two, 9016, 9017) == 2
    finally:
        other.close()
        await db.close()
