"""Runs repository: what an apply leaves behind, written in the transaction that records its outcome.

Why here, and on the caller's connection: an apply's recorded resources, its history row and
its state snapshot must commit together with the session's final state (WorkflowBase._finish
in core/workflow/applying.py), or a crash between them would leave records that no longer
follow Terraform's state. This module holds those statements and begins nothing itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core.models import Session
from cloud_engine.store.database import rows_of
from cloud_engine.store.rows import dumps, iso, loads

__all__ = ["forget_resource", "record_history", "record_resource", "recorded_specs", "snapshot_state"]


async def record_resource(conn: aiosqlite.Connection, project_id: int, change: dict[str, Any], *, session_id: int,
                          now: datetime) -> None:
    """Record a made create or edit (`change` a session_resources row, its spec as stored) as the project's resource."""
    await conn.execute(
        "INSERT INTO project_resources (project_id, kind, name, spec, cost_monthly, session_id, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, kind, name) DO UPDATE SET spec = excluded.spec,"
        " cost_monthly = excluded.cost_monthly, session_id = excluded.session_id, updated_at = excluded.updated_at",
        (project_id, change["kind"], change["name"], change["spec"], change["cost_monthly"], session_id, iso(now)))


async def forget_resource(conn: aiosqlite.Connection, project_id: int, key: tuple[str, str]) -> None:
    """A made delete: the project no longer holds the resource."""
    await conn.execute("DELETE FROM project_resources WHERE project_id = ? AND kind = ? AND name = ?", (project_id, *key))


async def recorded_specs(conn: aiosqlite.Connection, project_id: int) -> list[dict[str, Any]]:
    """The project's recorded resources as spec dicts, by kind and name (what a rollback returns to)."""
    rows = await rows_of(conn, "SELECT spec FROM project_resources WHERE project_id = ? ORDER BY kind, name",
                         (project_id,))
    return [loads(r["spec"]) for r in rows]


async def snapshot_state(conn: aiosqlite.Connection, project_id: int, session_id: int, *, commit_sha: str | None,
                         state_json: str, now: datetime) -> None:
    await conn.execute("INSERT INTO state_snapshots (project_id, session_id, commit_sha, state_json, created_at)"
                       " VALUES (?, ?, ?, ?, ?)", (project_id, session_id, commit_sha, state_json, iso(now)))


async def record_history(conn: aiosqlite.Connection, session: Session, *, project_id: int, outcome: str | None,
                         summary: dict[str, Any], commit_sha: str | None, started_at: datetime,
                         finished_at: datetime) -> None:
    """The apply's row in `deployment_history` (APPLIED or FAILED), with what it planned, its error and the resources after."""
    await conn.execute(
        "INSERT INTO deployment_history (session_id, project_id, user_id, outcome, summary, commit_sha,"
        " cost_monthly, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (session.id, project_id, session.user_id, outcome, dumps(summary), commit_sha, session.cost_monthly,
         iso(started_at), iso(finished_at)))
