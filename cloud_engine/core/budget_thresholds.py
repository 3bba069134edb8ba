"""A project's budget alert thresholds, set by admins beside the 50/80/100 % defaults.

Why apart from validation: validation only reads a project's `alert_thresholds`
(GovernanceService.record_budget_alerts records each one crossed, once per month); this is
the one place that adds to them, read and written in one transaction so two admins adding
thresholds at once both count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cloud_engine.core.access import AccessService
from cloud_engine.core.projects import ProjectService
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.store import projects as store
from cloud_engine.store.audit import write_audit

__all__ = ["MAX_PERCENT", "MIN_PERCENT", "BudgetAlertSet", "BudgetThresholds"]

MIN_PERCENT, MAX_PERCENT = 1, 1000


@dataclass(frozen=True)
class BudgetAlertSet:
    project: str
    percent: int
    thresholds: list[int]  # every threshold of the project now, ascending
    added: bool  # False: the project already had it


class BudgetThresholds:
    def __init__(self, access: AccessService, projects: ProjectService, clock: Callable[[], datetime]) -> None:
        self.access = access
        self.projects = projects
        self.clock = clock

    async def add(self, guild_id: int, admin_id: int, project: str, percent: int) -> BudgetAlertSet:
        """Add `percent` (1–1000) to the project's alert thresholds; CloudAdmin, audited (`budget_alert.set`)."""
        if not isinstance(percent, int) or isinstance(percent, bool) or not MIN_PERCENT <= percent <= MAX_PERCENT:
            raise InvalidInput(field="percent", rule=f"a whole percentage from {MIN_PERCENT} to {MAX_PERCENT}")
        await self.access.require(guild_id, admin_id, "admin")
        found = await self.projects.find_project(guild_id, project)
        now = self.clock()
        async with self.projects.db.transaction() as conn:
            before, archived = await store.alert_thresholds(conn, found.id)
            if archived:
                raise NotFound(what="project", key=project)
            after = sorted({*before, percent})
            if after != before:
                await store.set_alert_thresholds(conn, found.id, after)
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=admin_id, action="budget_alert.set",
                              target_type="project", target_id=found.id,
                              detail={"project": found.name, "percent": percent, "thresholds": after,
                                      "added": after != before})
        return BudgetAlertSet(project=found.name, percent=percent, thresholds=after, added=after != before)
