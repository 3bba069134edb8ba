"""Session rows: the SQL the workflow reads inside its transactions, and the row → model mapping.

Why here: SQL lives in the store; the workflow asks for rows by meaning (a session, its
project, its state, whether one more change fits) inside the transaction it holds.
"""

from __future__ import annotations

from typing import Any

import aiosqlite

from cloud_engine.core.models import ResourceSpec, Session, SessionResource, State
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.store.database import one_row, row_of
from cloud_engine.store.rows import loads, parse_dt

__all__ = ["MAX_SESSION_CHANGES", "check_session_cap", "project_row", "session_from_row", "session_row", "state_of"]


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

