"""Migrations are numbered, idempotent and recorded; the schema has WAL and foreign keys on."""

from __future__ import annotations

from cloud_engine.store import Database


async def test_migrations_are_idempotent(tmp_path) -> None:
    path = tmp_path / "m.db"
    db = await Database.open(path)
    first = await db.schema_version()
    assert first >= 1
    assert await db.migrate() == []
    await db.close()
    db = await Database.open(path)
    assert await db.schema_version() == first
    rows = await db.fetchall("SELECT version FROM schema_version ORDER BY version")
    assert len(rows) == len({r["version"] for r in rows})
    mode = await db.fetchone("PRAGMA journal_mode")
    fk = await db.fetchone("PRAGMA foreign_keys")
    assert list(mode.values())[0] == "wal" and list(fk.values())[0] == 1
    tables = {r["name"] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"projects", "quotas", "user_permissions", "policies", "deployment_sessions", "session_resources",
            "deployment_history", "audit_log", "budget_alerts", "project_locks"} <= tables
    await db.close()


async def test_failed_transaction_rolls_back(tmp_path) -> None:
    db = await Database.open(tmp_path / "r.db")
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO quotas (guild_id, name, limit_value) VALUES (1, 'x', 1)")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert await db.fetchone("SELECT * FROM quotas WHERE name = 'x'") is None
    await db.close()
