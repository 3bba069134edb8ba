"""Reports: what admins read about a server (stats, the audit log) and refusals they should see.

Why its own room: read-only views over sessions, resources and the audit table, kept
apart from the services that change them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cloud_engine.core.access import AccessService
from cloud_engine.core.audit_export import AuditExport, ExportFormat, export_audit
from cloud_engine.store.audit import recent_audit, write_audit
from cloud_engine.store.database import Database

__all__ = ["Reports"]


class Reports:
    def __init__(self, db: Database, access: AccessService, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.access = access
        self.clock = clock

    async def stats(self, guild_id: int) -> dict[str, Any]:
        by_state = await self.db.fetchall(
            "SELECT state, COUNT(*) AS n FROM deployment_sessions WHERE guild_id = ? GROUP BY state ORDER BY state", (guild_id,))
        by_user = await self.db.fetchall(
            "SELECT user_id, COUNT(*) AS sessions, SUM(state = 'APPLIED') AS applied FROM deployment_sessions"
            " WHERE guild_id = ? GROUP BY user_id ORDER BY sessions DESC LIMIT 10", (guild_id,))
        cost = await self.db.fetchone(
            "SELECT COALESCE(SUM(r.cost_monthly), 0) AS monthly, COUNT(*) AS resources FROM project_resources r"
            " JOIN projects p ON p.id = r.project_id WHERE p.guild_id = ? AND p.archived_at IS NULL", (guild_id,))
        projects = await self.db.fetchone("SELECT COUNT(*) AS n FROM projects WHERE guild_id = ? AND archived_at IS NULL",
                                          (guild_id,))
        return {"by_state": {r["state"]: r["n"] for r in by_state}, "by_user": by_user,
                "monthly_cost": round(cost["monthly"], 2) if cost else 0.0, "resources": cost["resources"] if cost else 0,
                "projects": projects["n"] if projects else 0}

    async def audit(self, guild_id: int, by_user_id: int, *, limit: int = 20, actor_id: int | None = None,
                    action: str | None = None) -> list[dict[str, Any]]:
        await self.access.require(guild_id, by_user_id, "admin")
        return await recent_audit(self.db, guild_id, limit=min(max(limit, 1), 200), actor_id=actor_id, action=action)

    async def export_audit(self, guild_id: int, by_user_id: int, fmt: ExportFormat, *, since: datetime | None = None,
                           max_bytes: int | None = None) -> AuditExport:
        """The guild's chained audit log from `since` on as a file (CloudAdmin); the export is audited too."""
        await self.access.require(guild_id, by_user_id, "admin")
        export = await export_audit(self.db, fmt, guild_id=guild_id, since=since, max_bytes=max_bytes)
        async with self.db.transaction() as conn:
            await write_audit(conn, at=self.clock(), guild_id=guild_id, actor_id=by_user_id, action="audit_export",
                              detail={"format": fmt, "since": since.isoformat() if since else None, "rows": export.rows,
                                      "total": export.total, "first_id": export.first_id, "last_id": export.last_id})
        return export

    async def record_refusal(self, guild_id: int, user_id: int, action: str, reason: str,
                             session_id: int | None = None) -> None:
        """Audit a refused attempt (e.g. a viewer pressing Apply) so admins can see it."""
        async with self.db.transaction() as conn:
            await write_audit(conn, at=self.clock(), guild_id=guild_id, actor_id=user_id, action="refused",
                              target_type="session" if session_id else None, target_id=session_id,
                              detail={"attempted": action, "reason": reason})
