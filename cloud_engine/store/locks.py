"""Project locks repository: the durable `project_locks` rows (one per project, held by one session).

Why here: core/locks.py says what the lock means (taken from plan to the end of apply,
re-entrant for its holder) and lock_admin.py judges when one may be released; this module
holds the statements, run on the caller's transaction for every write so a lock changes
hands together with the session's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core.models import FINAL_STATES, State
from cloud_engine.store.database import Source, one_row, read_all, read_one
from cloud_engine.store.rows import iso, parse_dt

__all__ = ["LockRecord", "guild_locks", "insert_or_holder", "is_locked", "lock_of", "release", "release_finished"]


@dataclass(frozen=True)
class LockRecord:
    """A held lock with what the holding session is doing (state None: the session no longer exists)."""

    project_id: int
    project: str | None
    session_id: int
    user_id: int
    acquired_at: datetime | None
    state: State | None
    heartbeat: datetime | None  # the session's run_heartbeat_at


async def insert_or_holder(conn: aiosqlite.Connection, *, project_id: int, session_id: int, user_id: int,
                           now: datetime) -> tuple[int, int]:
    """Take the lock unless someone holds it; (holder session, holder user) afterwards, in the caller's transaction."""
    await conn.execute(
        "INSERT OR IGNORE INTO project_locks (project_id, session_id, user_id, acquired_at) VALUES (?, ?, ?, ?)",
        (project_id, session_id, user_id, iso(now)),
    )
    row = await one_row(conn, "SELECT session_id, user_id FROM project_locks WHERE project_id = ?", (project_id,))
    return int(row["session_id"]), int(row["user_id"])


async def release(conn: aiosqlite.Connection, *, project_id: int, session_id: int) -> None:
    """Delete the lock if `session_id` holds it (no-op otherwise)."""
    await conn.execute("DELETE FROM project_locks WHERE project_id = ? AND session_id = ?", (project_id, session_id))


async def is_locked(src: Source, project_id: int) -> bool:
    return await read_one(src, "SELECT 1 FROM project_locks WHERE project_id = ?", (project_id,)) is not None


def _record(row: dict[str, Any]) -> LockRecord:
    return LockRecord(project_id=int(row["project_id"]), project=row.get("name"), session_id=int(row["session_id"]),
                      user_id=int(row["user_id"]), acquired_at=parse_dt(row["acquired_at"]),
                      state=State(row["state"]) if row["state"] else None, heartbeat=parse_dt(row["run_heartbeat_at"]))


async def guild_locks(src: Source, guild_id: int) -> list[LockRecord]:
    """The guild's held locks, oldest first."""
    rows = await read_all(
        src,
        "SELECT l.project_id, p.name, l.session_id, l.user_id, l.acquired_at, s.state, s.run_heartbeat_at"
        " FROM project_locks l JOIN projects p ON p.id = l.project_id"
        " LEFT JOIN deployment_sessions s ON s.id = l.session_id WHERE p.guild_id = ? ORDER BY l.acquired_at, p.name",
        (guild_id,))
    return [_record(row) for row in rows]


async def lock_of(src: Source, project_id: int) -> LockRecord | None:
    """The project's lock and its holder's state, or None when nobody holds it."""
    row = await read_one(
        src,
        "SELECT l.project_id, l.session_id, l.user_id, l.acquired_at, s.state, s.run_heartbeat_at"
        " FROM project_locks l LEFT JOIN deployment_sessions s ON s.id = l.session_id WHERE l.project_id = ?",
        (project_id,))
    return None if row is None else _record(row)


async def release_finished(conn: aiosqlite.Connection) -> None:
    """Delete every lock whose session has reached a final state (restart recovery's last sweep)."""
    finals = tuple(s.value for s in FINAL_STATES)
    await conn.execute("DELETE FROM project_locks WHERE session_id IN"
                       " (SELECT id FROM deployment_sessions WHERE state IN (?, ?, ?, ?))", finals)
