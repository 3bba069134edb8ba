"""SQLite migration 0005: FinOps state written before scoping keeps working, in scope 0."""

from __future__ import annotations

from pathlib import Path

from cloud_engine.store import Database
from cloud_engine.store.database import MIGRATIONS_DIR


async def test_feedback_suppressions_and_runs_move_to_scope_0(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = await Database.open(path, migrate=False)
    await db.conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                          "applied_at TEXT NOT NULL DEFAULT (datetime('now')))")
    for file in sorted(MIGRATIONS_DIR.glob("000[1-4]_*.sql")):  # the schema as the previous release left it
        await db.conn.executescript(file.read_text("utf-8"))
        await db.conn.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", (int(file.name[:4]), file.stem))
    await db.conn.executescript(
        "INSERT INTO recommendation_feedback (recommendation_id, user_id, verdict, created_at) "
        "VALUES ('r1', 'u1', 'noisy', '2026-11-01T00:00:00');"
        "INSERT INTO recommendation_suppressions VALUES ('r1', '2099-01-01T00:00:00', 'u1', 'noisy');"
        "INSERT INTO finops_ingest_runs (target, source_kind, source_name, started_at, status, rows_read, rows_added, "
        "rows_skipped) VALUES ('costs', 'focus_file', 'oct.csv', '2026-11-01T00:00:00', 'ok', 10, 4, 6);")
    await db.close()

    db = await Database.open(path)
    try:
        assert 5 in {r["version"] for r in await db.fetchall("SELECT version FROM schema_version")}
        feedback = await db.fetchall("SELECT guild_id, recommendation_id, verdict FROM recommendation_feedback")
        assert feedback == [{"guild_id": 0, "recommendation_id": "r1", "verdict": "noisy"}]
        hidden = await db.fetchall("SELECT guild_id, recommendation_id FROM recommendation_suppressions")
        assert hidden == [{"guild_id": 0, "recommendation_id": "r1"}]
        run = await db.fetchone("SELECT guild_id, rows_added, rows_unchanged, rows_restated FROM finops_ingest_runs")
        assert run == {"guild_id": 0, "rows_added": 4, "rows_unchanged": 6, "rows_restated": None}
        # the same recommendation may now be suppressed separately in another server
        await db.execute("INSERT INTO recommendation_suppressions VALUES (7, 'r1', '2099-01-01T00:00:00', 'u2', 'noisy')")
    finally:
        await db.close()
