"""Sessions repository: `deployment_sessions` and `session_resources`, and the row → model mapping.

Why here: SQL lives in the store; the workflow asks for rows by meaning (a session, its
project, its state, whether one more change fits, a state change guarded by the state it
expects) inside the transaction it holds. Writes take that transaction's connection; the few
one-statement writes nothing else commits with (lobby message, heartbeat) take the Database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core.models import ResourceSpec, Session, SessionResource, State
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.store.database import (
    Database,
    Source,
    insert,
    one_row,
    read_all,
    read_one,
    row_of,
    rows_of,
    write,
)
from cloud_engine.store.rows import dumps, iso, loads, parse_dt

__all__ = ["MAX_SESSION_CHANGES", "authors_of", "beat", "cancel_request_of", "change_rows", "check_session_cap",
           "clear_reservations", "drop_change", "find_session", "idle_sessions", "insert_session",
           "interrupted_sessions", "list_sessions", "load_session", "project_row", "raw_session", "request_cancel",
           "session_from_row", "session_row", "set_lobby_message", "set_reservations", "set_target_commit", "start_run_clock",
           "state_of", "touch_edited",
           "upsert_change", "write_state"]


async def session_row(conn: aiosqlite.Connection, session_id: int) -> dict[str, Any]:
    row = await row_of(conn, "SELECT * FROM deployment_sessions WHERE id = ?", (session_id,))
    if row is None:
        raise NotFound(what="session", key=session_id)
    return row


async def project_row(conn: aiosqlite.Connection, project_id: int) -> dict[str, Any]:
    row = await row_of(conn, "SELECT * FROM projects WHERE id = ?", (project_id,))
    if row is None:
        raise NotFound(what="project", key=project_id)
    return row


MAX_SESSION_CHANGES = 50


async def check_session_cap(conn: aiosqlite.Connection, session_id: int, key: tuple[str, str]) -> None:
    """InvalidInput when adding `key` would take the session past MAX_SESSION_CHANGES (an edit of one it holds is fine)."""
    row = await one_row(conn, "SELECT COUNT(*) AS n, SUM(kind = ? AND name = ?) AS same FROM session_resources"
                        " WHERE session_id = ?", (*key, session_id))
    if row["n"] >= MAX_SESSION_CHANGES and not row["same"]:
        raise InvalidInput(field="resources", rule=f"a session holds at most {MAX_SESSION_CHANGES} resource changes")


async def state_of(conn: aiosqlite.Connection, session_id: int) -> State:
    return State((await session_row(conn, session_id))["state"])


def session_from_row(row: dict[str, Any], resources: list[dict[str, Any]]) -> Session:
    return Session(
        **{**row, "reservations": loads(row["reservations"], {}), "violations": loads(row["violations"], []),
           "needs_approval": bool(row["needs_approval"]), "plan_summary": loads(row["plan_summary"]),
           "plan_created_at": parse_dt(row["plan_created_at"])},
        resources=[SessionResource(kind=r["kind"], name=r["name"], action=r["action"], spec=ResourceSpec(**loads(r["spec"])),
                                   cost_monthly=r["cost_monthly"]) for r in resources])



async def find_session(src: Source, session_id: int) -> Session | None:
    """The session's row as a Session without its resources, or None (a reader outside the workflow's transactions)."""
    row = await read_one(src, "SELECT * FROM deployment_sessions WHERE id = ?", (session_id,))
    return None if row is None else session_from_row(row, [])


async def authors_of(src: Source, project_id: int, session_ids: list[int]) -> dict[int, int]:
    """Session id → its user, for those of `session_ids` that are the project's sessions."""
    rows = await read_all(src, "SELECT id, user_id FROM deployment_sessions WHERE project_id = ?"
                               " AND id IN (SELECT value FROM json_each(?))", (project_id, dumps(session_ids)))
    return {int(r["id"]): int(r["user_id"]) for r in rows}


async def insert_session(conn: aiosqlite.Connection, *, project_id: int, guild_id: int, user_id: int, purpose: str,
                         now: datetime) -> int:
    """A new DRAFT session's id, in the caller's transaction (with its audit row)."""
    return await insert(
        conn, "INSERT INTO deployment_sessions (project_id, guild_id, user_id, purpose, state, created_at, updated_at,"
        " last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (project_id, guild_id, user_id, purpose, State.DRAFT.value, iso(now), iso(now), iso(now)))


async def load_session(src: Source, session_id: int) -> Session | None:
    """The session with its resource changes (in the order they were first made), or None."""
    row = await read_one(src, "SELECT * FROM deployment_sessions WHERE id = ?", (session_id,))
    if row is None:
        return None
    res = await read_all(src, "SELECT * FROM session_resources WHERE session_id = ? ORDER BY id", (session_id,))
    return session_from_row(row, res)


async def list_sessions(src: Source, guild_id: int, *, user_id: int | None, states: Sequence[State],
                        project_id: int | None, limit: int) -> list[Session]:
    """The guild's sessions in `states`, newest first, without their resources."""
    wanted = [s.value for s in states]
    marks = ",".join("?" for _ in wanted)
    rows = await read_all(
        src,
        f"SELECT * FROM deployment_sessions WHERE guild_id = ? AND (? IS NULL OR user_id = ?)"  # noqa: S608 - marks only
        f" AND (? IS NULL OR project_id = ?) AND state IN ({marks}) ORDER BY id DESC LIMIT ?",
        (guild_id, user_id, user_id, project_id, project_id, *wanted, limit))
    return [session_from_row(r, []) for r in rows]


async def set_lobby_message(db: Database, session_id: int, *, channel_id: int, message_id: int | None,
                            thread_id: int | None) -> None:
    """Where the session's lobby lives (one statement, its own transaction: nothing else changes with it)."""
    await db.execute("UPDATE deployment_sessions SET channel_id = ?, message_id = COALESCE(?, message_id),"
                     " thread_id = COALESCE(?, thread_id) WHERE id = ?", (channel_id, message_id, thread_id, session_id))


async def set_target_commit(db: Database, session_id: int, commit_sha: str) -> None:
    """The applied commit a rollback session returns to."""
    await db.execute("UPDATE deployment_sessions SET target_commit = ? WHERE id = ?", (commit_sha, session_id))


async def upsert_change(conn: aiosqlite.Connection, session_id: int, spec: ResourceSpec, *, action: str, cost: float,
                        now: datetime) -> None:
    """Add or replace the session's change of `spec.key` (create/edit as `upsert`, or `delete`)."""
    await conn.execute(
        "INSERT INTO session_resources (session_id, kind, name, action, spec, cost_monthly, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, kind, name) DO UPDATE SET"
        " action = excluded.action, spec = excluded.spec, cost_monthly = excluded.cost_monthly",
        (session_id, spec.kind, spec.name, action, dumps(spec.to_json()), cost, iso(now)))


async def drop_change(conn: aiosqlite.Connection, session_id: int, key: tuple[str, str]) -> None:
    await conn.execute("DELETE FROM session_resources WHERE session_id = ? AND kind = ? AND name = ?", (session_id, *key))


async def touch_edited(conn: aiosqlite.Connection, session_id: int, now: datetime) -> None:
    """An edit happened: the session is active now, and its old findings no longer hold."""
    await conn.execute("UPDATE deployment_sessions SET last_activity_at = ?, updated_at = ?, violations = '[]'"
                       " WHERE id = ?", (iso(now), iso(now), session_id))


async def change_rows(conn: aiosqlite.Connection, session_id: int) -> list[dict[str, Any]]:
    """The session's changes as stored (spec JSON text included), for recording an apply."""
    return await rows_of(conn, "SELECT * FROM session_resources WHERE session_id = ?", (session_id,))


async def request_cancel(conn: aiosqlite.Connection, session_id: int, reason: str) -> None:
    """Ask the process running the session's apply to stop (read at its next heartbeat); a no-op unless APPLYING."""
    await conn.execute("UPDATE deployment_sessions SET cancel_request = ? WHERE id = ? AND state = ?",
                       (reason, session_id, State.APPLYING.value))


async def cancel_request_of(db: Database, session_id: int) -> str | None:
    row = await db.fetchone("SELECT cancel_request FROM deployment_sessions WHERE id = ?", (session_id,))
    return row["cancel_request"] if row else None


async def beat(db: Database, session_id: int, at: datetime) -> None:
    """A running apply says it is alive (one statement, its own transaction)."""
    await db.execute("UPDATE deployment_sessions SET run_heartbeat_at = ? WHERE id = ?", (iso(at), session_id))


async def raw_session(src: Source, session_id: int) -> dict[str, Any] | None:
    """The session's row as stored (approval rules, rejection, plan fingerprint), or None."""
    return await read_one(src, "SELECT * FROM deployment_sessions WHERE id = ?", (session_id,))


async def start_run_clock(conn: aiosqlite.Connection, session_id: int, now: datetime) -> None:
    """A run starts: the session was active now, and its heartbeat starts now."""
    await conn.execute("UPDATE deployment_sessions SET last_activity_at = ?, run_heartbeat_at = ? WHERE id = ?",
                       (iso(now), iso(now), session_id))


async def set_reservations(conn: aiosqlite.Connection, session_id: int, reservations: dict[str, int]) -> None:
    await conn.execute("UPDATE deployment_sessions SET reservations = ? WHERE id = ?", (dumps(reservations), session_id))


async def clear_reservations(conn: aiosqlite.Connection, session_id: int) -> None:
    await conn.execute("UPDATE deployment_sessions SET reservations = '{}' WHERE id = ?", (session_id,))


async def idle_sessions(src: Source, states: Sequence[State], before: datetime) -> list[tuple[int, int]]:
    """(session id, project id) of sessions in `states` nobody acted on since `before`."""
    marks = ",".join("?" for _ in states)
    rows = await read_all(src, f"SELECT id, project_id FROM deployment_sessions WHERE state IN ({marks})"  # noqa: S608 - marks only
                               " AND last_activity_at < ?", (*[s.value for s in states], iso(before)))
    return [(int(r["id"]), int(r["project_id"])) for r in rows]


async def interrupted_sessions(src: Source) -> list[Session]:
    """Sessions a restart cut off: applying, validating, or planning while holding their project's lock."""
    rows = await read_all(src, "SELECT s.* FROM deployment_sessions s LEFT JOIN project_locks l ON l.session_id = s.id"
                               " WHERE s.state IN (?, ?) OR (s.state = ? AND l.session_id IS NOT NULL)",
                          (State.APPLYING.value, State.VALIDATING.value, State.PLANNING.value))
    return [session_from_row(r, []) for r in rows]


async def write_state(conn: aiosqlite.Connection, session_id: int, expected: State, fields: dict[str, Any]) -> bool:
    """Update the session's columns (`state` among them) only if it is still in `expected`; False if it moved on.

    Why `WHERE state = ?`: a transition checked against a state another writer has already left
    must not slip through (WorkflowBase._transition is the only caller). Column names are the
    engine's own, checked to be identifiers before they reach the statement.
    """
    if any(not name.isidentifier() for name in fields):
        raise ValueError("bad column name")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    return await write(
        conn, f"UPDATE deployment_sessions SET {assignments} WHERE id = ? AND state = ?",  # noqa: S608 - fixed column names
        (*fields.values(), session_id, expected.value)) == 1
