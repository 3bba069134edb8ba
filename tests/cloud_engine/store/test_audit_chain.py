"""The audit log is a hash chain per server: edits, deletions and insertions are found; writers never fork it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_engine.core.audit_export import export_audit, render_export
from cloud_engine.secret_text import register_known_secrets
from cloud_engine.store import Database
from cloud_engine.store.audit import write_audit
from cloud_engine.store.audit_chain import GENESIS, row_digest, verify_chain
from cloud_engine.store.database import MIGRATIONS_DIR

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def _write(db: Database, guild_id: int | None, action: str, **detail: object) -> None:
    async with db.transaction() as conn:
        await write_audit(conn, at=AT, guild_id=guild_id, actor_id=7, action=action, detail=dict(detail))


async def _rows(db: Database, guild_id: int) -> list[dict]:
    return await db.fetchall("SELECT * FROM audit_log WHERE guild_id = ? ORDER BY id", (guild_id,))


async def _verify(db: Database, guild_id: int):
    [report] = await verify_chain(db, guild_id)
    return report


async def test_each_row_follows_the_one_before_it_in_its_own_server(db) -> None:
    for i in range(3):
        await _write(db, 1, "grant", n=i)
        await _write(db, 2, "grant", n=i)
    rows = await _rows(db, 1)
    assert rows[0]["prev_hash"] == GENESIS
    assert [r["prev_hash"] for r in rows[1:]] == [r["row_hash"] for r in rows[:-1]]
    assert all(r["row_hash"] == row_digest(r, r["prev_hash"]) for r in rows)
    report = await _verify(db, 1)
    assert report.ok and report.rows == 3 and report.head_id == rows[-1]["id"]
    assert report.head_hash == rows[-1]["row_hash"]
    assert (await _rows(db, 2))[0]["prev_hash"] == GENESIS, "another server's chain starts on its own"


async def test_an_edited_row_is_reported(db) -> None:
    for i in range(4):
        await _write(db, 1, "set_quota", limit=i)
    edited = (await _rows(db, 1))[2]
    await db.execute("UPDATE audit_log SET detail = ? WHERE id = ?", ('{"limit": 1000}', edited["id"]))
    report = await _verify(db, 1)
    assert not report.ok
    assert report.first_break.row_id == edited["id"] and "edited" in report.first_break.reason


async def test_a_deleted_row_is_reported_at_the_row_after_it(db) -> None:
    for i in range(4):
        await _write(db, 1, "grant", n=i)
    rows = await _rows(db, 1)
    await db.execute("DELETE FROM audit_log WHERE id = ?", (rows[1]["id"],))
    report = await _verify(db, 1)
    assert report.first_break.row_id == rows[2]["id"]
    assert f"does not follow row {rows[0]['id']}" in report.first_break.reason and "deleted" in report.first_break.reason


async def test_an_inserted_row_is_reported(db) -> None:
    await _write(db, 1, "grant", n=0)
    await _write(db, 2, "grant", n=0)  # its id sits between server 1's rows
    await _write(db, 1, "grant", n=1)
    first, last = await _rows(db, 1)
    [other] = await _rows(db, 2)
    forged = {**other, "guild_id": 1, "action": "revoke", "detail": "{}"}
    # Following the first row, as a real row would, is refused outright: that would fork the chain.
    await db.execute("DELETE FROM audit_log WHERE id = ?", (other["id"],))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO audit_log (id, ts, guild_id, actor_id, action, detail, prev_hash, row_hash)"
                         " VALUES (?, ?, 1, 7, 'revoke', '{}', ?, ?)",
                         (other["id"], other["ts"], first["row_hash"], row_digest(forged, first["row_hash"])))
    # Slipped in with a self-consistent hash of its own, it does not follow the row before it.
    await db.execute("INSERT INTO audit_log (id, ts, guild_id, actor_id, action, detail, prev_hash, row_hash)"
                     " VALUES (?, ?, 1, 7, 'revoke', '{}', ?, ?)",
                     (other["id"], other["ts"], "f" * 64, row_digest(forged, "f" * 64)))
    report = await _verify(db, 1)
    assert report.first_break.row_id == other["id"] and "inserted" in report.first_break.reason
    # Appended without any hash (plain SQL, not the engine), it is reported too.
    await db.execute("DELETE FROM audit_log WHERE id = ?", (other["id"],))
    await db.execute("INSERT INTO audit_log (ts, guild_id, actor_id, action) VALUES (?, 1, 7, 'grant')", (other["ts"],))
    report = await _verify(db, 1)
    assert report.first_break.row_id > last["id"] and "not chained" in report.first_break.reason


async def test_two_processes_writing_at_once_never_fork_a_chain(db, settings) -> None:
    other = await Database.open(settings.database_path)  # a second process: its own connection
    try:
        await asyncio.gather(*(_write(db if i % 2 else other, 1, "grant", n=i) for i in range(40)))
    finally:
        await other.close()
    report = await _verify(db, 1)
    assert report.ok and report.rows == 40
    links = [r["prev_hash"] for r in await _rows(db, 1)]
    assert len(set(links)) == 40


def _old_database(path: Path) -> None:
    """A database as it was before migration 0010, holding audit rows of two servers."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at TEXT NOT NULL DEFAULT (datetime('now')))")
    for file in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if int(file.name[:4]) < 10:
            conn.executescript(file.read_text())
            conn.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", (int(file.name[:4]), file.stem))
    for guild, action in ((1, "grant"), (2, "grant"), (1, "set_quota"), (None, "system")):
        conn.execute("INSERT INTO audit_log (ts, guild_id, actor_id, action, detail) VALUES (?, ?, 7, ?, '{}')",
                     (AT.isoformat(), guild, action))
    conn.commit()
    conn.close()


async def test_rows_from_before_the_chain_are_backfilled_on_first_use(tmp_path) -> None:
    path = tmp_path / "old.db"
    _old_database(path)
    db = await Database.open(path)
    try:
        assert await db.fetchone("SELECT 1 FROM audit_log WHERE row_hash IS NOT NULL") is None
        await _write(db, 1, "revoke")  # server 1's first write after the upgrade chains its old rows first
        rows = await _rows(db, 1)
        assert [r["action"] for r in rows] == ["grant", "set_quota", "revoke"]
        assert rows[0]["prev_hash"] == GENESIS and rows[2]["prev_hash"] == rows[1]["row_hash"]
        assert (await _rows(db, 2))[0]["row_hash"] is None, "server 2 is chained when someone looks"
        reports = await verify_chain(db, all_guilds=True)
        assert [(r.guild_id, r.rows, r.ok) for r in reports] == [(None, 1, True), (1, 3, True), (2, 1, True)]
        # After the upgrade, an unchained row is not "old": it is reported, never chained.
        await db.execute("INSERT INTO audit_log (ts, guild_id, actor_id, action) VALUES (?, 2, 7, 'grant')",
                         (AT.isoformat(),))
        [report] = await verify_chain(db, 2)
        assert "not chained" in report.first_break.reason
    finally:
        await db.close()


async def test_export_carries_the_hashes_and_keeps_secrets_masked(db) -> None:
    secret = "sk-live-0123456789abcdefABCDEF"
    register_known_secrets([secret])
    await _write(db, 1, "grant", note="first")
    # A row written by hand with a secret in it (before masking existed): masked on the way out.
    await db.execute("INSERT INTO audit_log (ts, guild_id, actor_id, action, detail) VALUES (?, 3, 7, 'x', ?)",
                     ("2026-11-01T00:00:00+00:00", json.dumps({"token": secret})))
    await _write(db, 1, "revoke", note="second")
    export = await export_audit(db, "jsonl", guild_id=1)
    lines = [json.loads(line) for line in export.data.decode().splitlines()]
    assert [row["action"] for row in lines] == ["grant", "revoke"] and export.rows == export.total == 2
    assert lines[1]["prev_hash"] == lines[0]["row_hash"] and lines[1]["detail"] == {"note": "second"}
    leaked = await export_audit(db, "csv", all_guilds=True)
    text = leaked.data.decode()
    assert text.splitlines()[0].startswith("id,ts,guild_id") and "row_hash" in text.splitlines()[0]
    assert secret not in text and len(text.splitlines()) == 4


async def test_export_from_a_date_and_within_a_byte_budget(db) -> None:
    for day in (1, 2, 3, 4):
        async with db.transaction() as conn:
            await write_audit(conn, at=datetime(2026, 11, day, tzinfo=UTC), guild_id=1, actor_id=7, action=f"day{day}")
    since = await export_audit(db, "jsonl", guild_id=1, since=datetime(2026, 11, 3, tzinfo=UTC))
    assert [json.loads(line)["action"] for line in since.data.decode().splitlines()] == ["day3", "day4"]
    rows = await db.fetchall("SELECT * FROM audit_log ORDER BY id")
    one = len(render_export(rows[:1], "jsonl").data)
    cut = render_export(rows, "jsonl", max_bytes=one * 2 + 10)
    assert (cut.rows, cut.total, cut.truncated) == (2, 4, True)
    assert len(cut.data) <= one * 2 + 10 and cut.next_since == rows[2]["ts"]
