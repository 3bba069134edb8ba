"""Projects repository: projects, the resources their applies recorded, their history and stats.

Why here: a project outlives its sessions, and several services read it (projects, reports,
governance's quota recount, budget thresholds, drift); the SQL over `projects`,
`project_resources` and `deployment_history` lives in this one module, and writes run on the
connection of the caller's transaction so each commits with its audit row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core.models import FINAL_STATES, Project, ResourceSpec, SessionResource
from cloud_engine.core.records import BudgetAlert, DeploymentRecord, GuildStats, UserActivity
from cloud_engine.store.database import Database, Source, one_row, read_all, read_one, rows_of
from cloud_engine.store.rows import dumps, iso, loads, parse_dt

__all__ = ["alert_thresholds", "applied_commit", "archive", "budget_alerts", "find_project", "get_project", "guild_resource_specs", "guild_stats",
           "history", "insert_project", "list_projects", "live_projects_with_resources", "open_session_count",
           "project_from_row", "record_budget_alert", "resources", "set_alert_thresholds"]


def project_from_row(row: dict[str, Any]) -> Project:
    return Project(**{**row, "alert_thresholds": loads(row["alert_thresholds"], []), "backend": loads(row["backend"], {}),
                      "approver_must_differ": bool(row["approver_must_differ"])})


async def insert_project(conn: aiosqlite.Connection, *, guild_id: int, name: str, provider: str, region: str,
                         target: str, budget_monthly: float, alert_thresholds: Sequence[int], approver_must_differ: bool,
                         backend: dict[str, Any], created_by: int, now: datetime) -> int | None:
    """The new project's id, or None when the server already has a project of that name."""
    try:
        async with conn.execute(
            "INSERT INTO projects (guild_id, name, provider, region, target, budget_monthly, alert_thresholds,"
            " approver_must_differ, backend, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, name, provider, region, target, float(budget_monthly), dumps(list(alert_thresholds)),
             int(approver_must_differ), dumps(backend), created_by, iso(now))) as cur:
            return int(cur.lastrowid or 0)  # always set after an INSERT
    except aiosqlite.IntegrityError:
        return None


async def get_project(src: Source, project_id: int) -> Project | None:
    row = await read_one(src, "SELECT * FROM projects WHERE id = ?", (project_id,))
    return None if row is None else project_from_row(row)


async def find_project(src: Source, guild_id: int, name: str) -> Project | None:
    """The server's live (not archived) project of that name."""
    row = await read_one(src, "SELECT * FROM projects WHERE guild_id = ? AND name = ? AND archived_at IS NULL",
                         (guild_id, name))
    return None if row is None else project_from_row(row)


async def list_projects(src: Source, guild_id: int, *, include_archived: bool) -> list[Project]:
    rows = await read_all(src, "SELECT * FROM projects WHERE guild_id = ? AND (? OR archived_at IS NULL) ORDER BY name",
                          (guild_id, int(include_archived)))
    return [project_from_row(r) for r in rows]


async def open_session_count(src: Source, project_id: int) -> int:
    """How many of the project's sessions have not reached a final state."""
    row = await read_one(src, "SELECT COUNT(*) AS n FROM deployment_sessions WHERE project_id = ? AND state NOT IN"
                              " (?, ?, ?, ?)", (project_id, *[s.value for s in FINAL_STATES]))
    return int(row["n"]) if row else 0


async def archive(conn: aiosqlite.Connection, project_id: int, now: datetime) -> None:
    await conn.execute("UPDATE projects SET archived_at = ? WHERE id = ?", (iso(now), project_id))


async def alert_thresholds(conn: aiosqlite.Connection, project_id: int) -> tuple[list[int], bool]:
    """(the project's alert thresholds, ascending and distinct; whether it is archived), read in the caller's transaction."""
    row = await one_row(conn, "SELECT alert_thresholds, archived_at FROM projects WHERE id = ?", (project_id,))
    return sorted({int(t) for t in loads(row["alert_thresholds"], [])}), row["archived_at"] is not None


async def set_alert_thresholds(conn: aiosqlite.Connection, project_id: int, thresholds: Sequence[int]) -> None:
    await conn.execute("UPDATE projects SET alert_thresholds = ? WHERE id = ?", (dumps(list(thresholds)), project_id))


async def resources(src: Source, project_id: int) -> list[SessionResource]:
    """The project's applied resources (its desired configuration after the last apply)."""
    rows = await read_all(src, "SELECT * FROM project_resources WHERE project_id = ? ORDER BY kind, name", (project_id,))
    return [SessionResource(kind=r["kind"], name=r["name"], action="upsert", spec=ResourceSpec(**loads(r["spec"])),
                            cost_monthly=r["cost_monthly"]) for r in rows]


async def guild_resource_specs(conn: aiosqlite.Connection, guild_id: int) -> list[tuple[str, ResourceSpec]]:
    """(provider, spec) of every resource the server's projects recorded, archived projects included."""
    rows = await rows_of(conn, "SELECT p.provider, r.spec FROM project_resources r JOIN projects p ON p.id = r.project_id"
                               " WHERE p.guild_id = ?", (guild_id,))
    return [(str(r["provider"]), ResourceSpec(**loads(r["spec"]))) for r in rows]


async def live_projects_with_resources(src: Source) -> list[int]:
    """Ids of every live project that has applied something, ascending."""
    rows = await read_all(src, "SELECT DISTINCT p.id FROM projects p JOIN project_resources r"
                               " ON r.project_id = p.id WHERE p.archived_at IS NULL ORDER BY p.id")
    return [int(r["id"]) for r in rows]


def _record(row: dict[str, Any]) -> DeploymentRecord:
    return DeploymentRecord(id=int(row["id"]), session_id=int(row["session_id"]), project_id=int(row["project_id"]),
                            user_id=int(row["user_id"]), outcome=str(row["outcome"]), summary=loads(row["summary"], {}),
                            commit_sha=row["commit_sha"], cost_monthly=float(row["cost_monthly"]),
                            started_at=parse_dt(row["started_at"]) or datetime.min,
                            finished_at=parse_dt(row["finished_at"]) or datetime.min)


async def history(src: Source, project_id: int, *, limit: int) -> list[DeploymentRecord]:
    """The project's recorded applies, newest first."""
    rows = await read_all(src, "SELECT * FROM deployment_history WHERE project_id = ? ORDER BY id DESC LIMIT ?",
                          (project_id, limit))
    return [_record(row) for row in rows]


async def guild_stats(db: Database, guild_id: int) -> GuildStats:
    """Sessions by state, the ten busiest members, and the live projects' resources and monthly cost."""
    by_state = await db.fetchall(
        "SELECT state, COUNT(*) AS n FROM deployment_sessions WHERE guild_id = ? GROUP BY state ORDER BY state", (guild_id,))
    by_user = await db.fetchall(
        "SELECT user_id, COUNT(*) AS sessions, SUM(state = 'APPLIED') AS applied FROM deployment_sessions"
        " WHERE guild_id = ? GROUP BY user_id ORDER BY sessions DESC LIMIT 10", (guild_id,))
    cost = await db.fetchone(
        "SELECT COALESCE(SUM(r.cost_monthly), 0) AS monthly, COUNT(*) AS resources FROM project_resources r"
        " JOIN projects p ON p.id = r.project_id WHERE p.guild_id = ? AND p.archived_at IS NULL", (guild_id,))
    projects = await db.fetchone("SELECT COUNT(*) AS n FROM projects WHERE guild_id = ? AND archived_at IS NULL",
                                 (guild_id,))
    return GuildStats(by_state={r["state"]: r["n"] for r in by_state},
                      by_user=[UserActivity(int(u["user_id"]), int(u["sessions"]), int(u["applied"] or 0)) for u in by_user],
                      monthly_cost=round(cost["monthly"], 2) if cost else 0.0, resources=cost["resources"] if cost else 0,
                      projects=projects["n"] if projects else 0)


async def record_budget_alert(conn: aiosqlite.Connection, project: Project, *, period: str, threshold: int,
                              projected: float, session_id: int, now: datetime) -> bool:
    """Record that the project's projected cost crossed `threshold` in `period`; False when already recorded then."""
    async with conn.execute(
        "INSERT OR IGNORE INTO budget_alerts (project_id, period, threshold_pct, projected_monthly, budget_monthly,"
        " session_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (project.id, period, threshold, projected, project.budget_monthly, session_id, iso(now))) as cur:
        return bool(cur.rowcount)


def _alert(row: dict[str, Any]) -> BudgetAlert:
    return BudgetAlert(id=int(row["id"]), project_id=int(row["project_id"]), period=str(row["period"]),
                       threshold_pct=int(row["threshold_pct"]), projected_monthly=float(row["projected_monthly"]),
                       budget_monthly=float(row["budget_monthly"]),
                       session_id=None if row["session_id"] is None else int(row["session_id"]),
                       created_at=parse_dt(row["created_at"]) or datetime.min)


async def budget_alerts(src: Source, project_id: int) -> list[BudgetAlert]:
    """The project's recorded budget alerts, oldest first."""
    rows = await read_all(src, "SELECT * FROM budget_alerts WHERE project_id = ? ORDER BY id", (project_id,))
    return [_alert(row) for row in rows]


async def applied_commit(src: Source, project_id: int, prefix: str) -> DeploymentRecord | None:
    """The newest successful apply whose commit starts with `prefix` (lowercase hex), or None."""
    row = await read_one(src, "SELECT * FROM deployment_history WHERE project_id = ? AND outcome = 'APPLIED'"
                              " AND substr(commit_sha, 1, ?) = ? ORDER BY id DESC LIMIT 1", (project_id, len(prefix), prefix))
    return None if row is None else _record(row)
