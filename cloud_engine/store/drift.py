"""Drift reports repository: the `drift_reports` rows, one open (or reconciling) report per project at most.

Why here: core/drift.py decides what counts as drift, when a report is new, and audits each
step; this module holds the statements, each run on the caller's transaction when it writes,
so a report changes status together with its audit row. Rows come back as stored; drift.py
turns them into `DriftReport`s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.store.database import Source, read_one, row_of, write
from cloud_engine.store.database import insert as insert_row
from cloud_engine.store.rows import dumps, iso

__all__ = ["close", "current_row", "insert", "report_row", "start_reconciling"]


async def current_row(conn: aiosqlite.Connection, project_id: int) -> dict[str, Any] | None:
    """The project's current report: open, or being reconciled by a session that has not applied yet."""
    return await row_of(conn, "SELECT * FROM drift_reports WHERE project_id = ? AND status IN ('open', 'reconciling')"
                              " ORDER BY id DESC LIMIT 1", (project_id,))


async def report_row(src: Source, guild_id: int, report_id: int) -> dict[str, Any] | None:
    """One of the guild's reports with its project's name (`project`), or None."""
    return await read_one(src, "SELECT d.*, p.name AS project FROM drift_reports d JOIN projects p"
                               " ON p.id = d.project_id WHERE d.id = ? AND p.guild_id = ?", (report_id, guild_id))


async def insert(conn: aiosqlite.Connection, project_id: int, *, found_at: datetime, changes: list[dict[str, Any]],
                 fingerprint: str) -> int:
    return await insert_row(conn, "INSERT INTO drift_reports (project_id, found_at, changes, fingerprint)"
                            " VALUES (?, ?, ?, ?)", (project_id, iso(found_at), dumps(changes), fingerprint))


async def close(conn: aiosqlite.Connection, report_id: int, *, status: str, user_id: int, reason: str,
                now: datetime) -> None:
    await conn.execute("UPDATE drift_reports SET status = ?, closed_by = ?, closed_reason = ?, closed_at = ?"
                       " WHERE id = ?", (status, user_id, reason, iso(now), report_id))


async def start_reconciling(conn: aiosqlite.Connection, report_id: int, *, session_id: int, user_id: int,
                            now: datetime) -> bool:
    """Mark an open report as being reconciled by `session_id`; False when it was no longer open."""
    return await write(conn, "UPDATE drift_reports SET status = 'reconciling', session_id = ?, closed_by = ?,"
                             " closed_at = ? WHERE id = ? AND status = 'open'", (session_id, user_id, iso(now), report_id)) == 1
