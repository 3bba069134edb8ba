"""Failures users can meet are EngineErrors: a busy database, ids out of range, a bad resource field."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import describe
from cloud_engine.core import ResourceSpec
from cloud_engine.core.models import FirewallRule, from_user
from cloud_engine.errors import Busy, EngineError, InvalidInput, NotFound
from cloud_engine.store import Database
from cloud_engine.store.rows import check_id

PROBE = "INSERT INTO schema_version(version, name) VALUES (?, 'probe')"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "cloud.db")
    await database.conn.execute("PRAGMA busy_timeout = 50")  # give up quickly instead of after 5 s
    yield database
    await database.close()


@pytest.fixture
def other_writer(db: Database) -> sqlite3.Connection:
    """Another process's connection holding the write lock."""
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


async def test_a_write_while_another_writer_holds_the_lock_is_busy(db: Database, other_writer) -> None:
    with pytest.raises(Busy) as err:
        await db.execute(PROBE, (9001,))
    assert isinstance(err.value, EngineError) and err.value.retryable
    assert str(err.value) == "The database is busy; try again in a moment."


async def test_a_transaction_while_another_writer_holds_the_lock_is_busy_and_can_be_retried(
        db: Database, other_writer) -> None:
    with pytest.raises(Busy):
        async with db.transaction() as conn:
            await conn.execute(PROBE, (9002,))
    other_writer.execute("COMMIT")
    await db.execute(PROBE, (9002,))
    assert await db.fetchone("SELECT name FROM schema_version WHERE version = 9002") == {"name": "probe"}


async def test_other_sqlite_errors_are_not_busy(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.execute("INSERT INTO no_such_table VALUES (1)")


def test_the_bot_tells_a_busy_database_in_words() -> None:
    assert describe(Busy()) == "The database is busy; try again in a moment."


@pytest.mark.parametrize("value", [2**70, -(2**63) - 1, True, False, "7", 1.0])
def test_an_id_no_row_can_have_is_not_found(value: object) -> None:
    with pytest.raises(NotFound) as err:
        check_id(value, "session")
    assert err.value.what == "session"


@pytest.mark.parametrize("value", [1, 2**63 - 1, -(2**63)])
def test_an_id_in_range_passes(value: int) -> None:
    assert check_id(value, "session") == value


async def test_a_checked_huge_id_never_reaches_sqlite(db: Database) -> None:
    with pytest.raises(OverflowError):
        await db.fetchone("SELECT 1 FROM schema_version WHERE version = ?", (2**70,))
    with pytest.raises(NotFound):
        await db.fetchone("SELECT 1 FROM schema_version WHERE version = ?", (check_id(2**70, "session"),))


@pytest.mark.parametrize(("data", "field", "rule"), [
    ({"kind": "vm", "name": "Web"}, "name", "must match"),
    ({"kind": "bucket", "name": "b1", "machine_type": "e2-small"}, "resource", "do not apply to a bucket"),
    ({"kind": "firewall", "name": "fw", "rules": [{"ports": [70000]}]}, "rules.0.ports", "1-65535"),
    ({"kind": "vm", "name": "web", "disk_gb": 5}, "disk_gb", "greater than or equal to 10"),
    ({"kind": "vm", "name": "web", "colour": "red"}, "colour", "Extra inputs are not permitted"),
])
def test_a_resource_from_user_input_names_the_bad_field_and_rule(data: dict, field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        ResourceSpec.from_user(data)
    assert err.value.field == field and rule in err.value.rule
    assert describe(err.value).startswith("Invalid **") and rule in describe(err.value)


def test_from_user_builds_other_models_and_valid_input_unchanged() -> None:
    assert ResourceSpec.from_user({"kind": "bucket", "name": "logs"}) == ResourceSpec(kind="bucket", name="logs")
    with pytest.raises(InvalidInput, match="sources"):
        from_user(FirewallRule, {"ports": [22], "sources": ["not-a-cidr"]})
