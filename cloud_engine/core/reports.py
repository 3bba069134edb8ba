"""Reports: what admins read about a server (stats, the audit log) and refusals they should see.

Why its own room: read-only views over sessions, resources and the audit table, kept
apart from the services that change them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cloud_engine.core.access import AccessService
from cloud_engine.core.audit_export import AuditExport, ExportFormat, export_audit
from cloud_engine.core.records import AuditEntry, GuildStats
from cloud_engine.store import projects
from cloud_engine.store.audit import recent_audit, write_audit
from cloud_engine.store.database import Database

__all__ = ["Reports"]


class Reports:
    def __init__(self, db: Database, access: AccessService, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.access = access
        self.clock = clock

    async def stats(self, guild_id: int) -> GuildStats:
        return await projects.guild_stats(self.db, guild_id)

    async def audit(self, guild_id: int, by_user_id: int, *, limit: int = 20, actor_id: int | None = None,
                    action: str | None = None) -> list[AuditEntry]:
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
