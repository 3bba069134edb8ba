"""Migrations are numbered, idempotent and recorded; the schema has WAL and foreign keys on."""

from __future__ import annotations

import sqlite3

import pytest

from cloud_engine.store import Database
from cloud_engine.store.database import MIGRATIONS_DIR


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


async def test_the_operations_category_keeps_the_entries_loaded_before_it(tmp_path) -> None:
    """0009 rebuilds kb_entries for the new category: earlier rows and their search index survive."""
    path = tmp_path / "kb.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at TEXT NOT NULL DEFAULT (datetime('now')))")
    for file in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if int(file.name[:4]) < 9:
            conn.executescript(file.read_text())
            conn.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", (int(file.name[:4]), file.stem))
    conn.execute("INSERT INTO kb_entries (doc, id, path, sha256, title, provider, category, body)"
                 " VALUES (7, 'aws-rel-x', 'aws/reliability/aws-rel-x.md', 'h', 'Backups', 'aws', 'reliability', 'b')")
    conn.execute("INSERT INTO kb_fts (rowid, title, services, tags, body, provider_terms)"
                 " VALUES (7, 'Backups', '', '', 'snapshots every night', 'aws')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO kb_entries (id, path, sha256, title, provider, category, body)"
                     " VALUES ('o', 'o.md', 'h', 'Runbooks', 'aws', 'operations', 'b')")
    conn.commit()
    conn.close()

    db = await Database.open(path)
    try:
        kept = await db.fetchone("SELECT e.id FROM kb_fts JOIN kb_entries e ON e.doc = kb_fts.rowid"
                                 " WHERE kb_fts MATCH 'snapshots'")
        assert kept is not None and kept["id"] == "aws-rel-x"
        await db.execute("INSERT INTO kb_entries (id, path, sha256, title, provider, category, body)"
                         " VALUES ('aws-ops-x', 'aws/operations/aws-ops-x.md', 'h', 'Runbooks', 'aws', 'operations', 'b')")
    finally:
        await db.close()
