"""`main.py audit export|verify` as a user runs them: the chain checked, the first broken row named, exit 1."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from cloud_engine.store import Database
from cloud_engine.store.audit import write_audit
from tests.cli.conftest import CliRunner, one_line_error


async def _log(workdir: Path) -> list[int]:
    db = await Database.open(workdir / "data" / "cloud.db")
    try:
        for guild, day in ((1, 1), (2, 1), (1, 2), (1, 3)):
            async with db.transaction() as conn:
                await write_audit(conn, at=datetime(2026, 11, day, tzinfo=UTC), guild_id=guild, actor_id=7,
                                  action=f"grant-{guild}-{day}", detail={"day": day})
        return [r["id"] for r in await db.fetchall("SELECT id FROM audit_log WHERE guild_id = 1 ORDER BY id")]
    finally:
        await db.close()


async def _sql(workdir: Path, sql: str, params: tuple = ()) -> None:
    db = await Database.open(workdir / "data" / "cloud.db")
    try:
        await db.execute(sql, params)
    finally:
        await db.close()


async def test_verify_then_an_edit_is_named_with_exit_one(cli: CliRunner, workdir: Path) -> None:
    ids = await _log(workdir)
    ok = cli("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "server 1: 3 row(s), chain intact; head row" in ok.stdout and "server 2: 1 row(s)" in ok.stdout
    await _sql(workdir, "UPDATE audit_log SET actor_id = 8 WHERE id = ?", (ids[1],))
    broken = cli("audit", "verify", "--guild", "1")
    assert broken.returncode == 1
    assert f"server 1: chain broken at row {ids[1]}: its content does not match its hash" in broken.stdout
    assert f"first at row {ids[1]}" in one_line_error(broken)


async def test_export_jsonl_to_a_private_file_and_csv_from_a_date(cli: CliRunner, workdir: Path) -> None:
    await _log(workdir)
    out = workdir / "audit.jsonl"
    result = cli("audit", "export", "--guild", "1", "--format", "jsonl", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "exported 3 audit row(s)" in result.stdout and os.stat(out).st_mode & 0o077 == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["detail"]["day"] for r in rows] == [1, 2, 3] and rows[1]["prev_hash"] == rows[0]["row_hash"]
    csv = cli("audit", "export", "--format", "csv", "--since", "2026-11-02")
    assert csv.returncode == 0, csv.stderr
    lines = csv.stdout.splitlines()
    assert lines[0].startswith("id,ts,guild_id") and len(lines) == 3
    bad = cli("audit", "export", "--format", "csv", "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr
