"""Scan findings of each plan and the server's suppressions: the SQL, in one place (migration 0015).

Why a repository: planning writes a plan's findings and reads the last applied plan's in
its own transactions, and the suppression service adds and removes rows with their audit
rows; both speak parameters only, through these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.store.database import insert, row_of, rows_of, write
from cloud_engine.store.rows import iso

__all__ = ["active_suppressions", "delete_suppression", "insert_suppression", "last_applied_session",
           "list_suppressions", "replace_findings", "session_findings", "suppression"]

_FINDINGS_SQL = ("SELECT check_id, resource, severity, name, file, line, guideline, suppression_id FROM scan_findings"
                 " WHERE session_id = ? ORDER BY file, line, check_id, id")


async def replace_findings(conn: aiosqlite.Connection, *, session_id: int, project_id: int,
                           findings: Iterable[Mapping[str, Any]], now: datetime) -> int:
    """The session's findings become these (a new plan replaces the last one's); how many were stored."""
    await conn.execute("DELETE FROM scan_findings WHERE session_id = ?", (session_id,))
    rows = [(session_id, project_id, str(f["check_id"]), str(f.get("resource") or ""), f.get("severity"),
             str(f.get("name") or ""), str(f.get("file") or ""), int(f.get("line") or 0), f.get("guideline"),
             f.get("suppression_id"), iso(now)) for f in findings]
    await conn.executemany(
        "INSERT INTO scan_findings (session_id, project_id, check_id, resource, severity, name, file, line, guideline,"
        " suppression_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


async def session_findings(conn: aiosqlite.Connection, session_id: int) -> list[dict[str, Any]]:
    """The findings stored for one session's last plan, in file order."""
    return await rows_of(conn, _FINDINGS_SQL, (session_id,))


async def last_applied_session(conn: aiosqlite.Connection, project_id: int,
                               before_session: int) -> dict[str, Any] | None:
    """The project's most recent applied session other than `before_session`: its id and plan summary."""
    return await row_of(conn, "SELECT h.session_id AS id, s.plan_summary FROM deployment_history h"
                              " JOIN deployment_sessions s ON s.id = h.session_id"
                              " WHERE h.project_id = ? AND h.outcome = 'APPLIED' AND h.session_id != ?"
                              " ORDER BY h.id DESC LIMIT 1", (project_id, before_session))


async def insert_suppression(conn: aiosqlite.Connection, *, guild_id: int, check_id: str, resource_glob: str,
                             reason: str, created_by: int, now: datetime, expires_at: datetime | None) -> int:
    return await insert(
        conn, "INSERT INTO scan_suppressions (guild_id, check_id, resource_glob, reason, created_by, created_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (guild_id, check_id, resource_glob, reason, created_by, iso(now), iso(expires_at) if expires_at else None))


async def suppression(conn: aiosqlite.Connection, guild_id: int, suppression_id: int) -> dict[str, Any] | None:
    return await row_of(conn, "SELECT * FROM scan_suppressions WHERE guild_id = ? AND id = ?",
                        (guild_id, suppression_id))


async def delete_suppression(conn: aiosqlite.Connection, guild_id: int, suppression_id: int) -> bool:
    return await write(conn, "DELETE FROM scan_suppressions WHERE guild_id = ? AND id = ?",
                       (guild_id, suppression_id)) > 0


async def list_suppressions(conn: aiosqlite.Connection, guild_id: int) -> list[dict[str, Any]]:
    """Every suppression of the server, expired ones included (the caller says which still apply)."""
    return await rows_of(conn, "SELECT * FROM scan_suppressions WHERE guild_id = ? ORDER BY id", (guild_id,))


async def active_suppressions(conn: aiosqlite.Connection, guild_id: int, now: datetime) -> list[dict[str, Any]]:
    """The suppressions that still apply at `now` (no expiry, or an expiry after it)."""
    return await rows_of(conn, "SELECT * FROM scan_suppressions WHERE guild_id = ?"
                               " AND (expires_at IS NULL OR expires_at > ?) ORDER BY id", (guild_id, iso(now)))
