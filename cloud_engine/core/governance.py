"""GovernanceService: a server's quotas, policies and budget alerts.

Why its own room: these are the rules validation and planning judge against, set by
admins and read by everyone. Each write carries its audit row in the same transaction.
Quota *use* is recounted here from the recorded resources after every apply (never a
running sum), so it always equals what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import aiosqlite

from cloud_engine.core import catalog_checks, quotas
from cloud_engine.core.access import SYSTEM_USER, AccessService
from cloud_engine.core.models import Project
from cloud_engine.core.policies import Policy, PolicySpec
from cloud_engine.core.records import BudgetAlert, QuotaUsage
from cloud_engine.data.catalog import Catalog
from cloud_engine.errors import InvalidInput
from cloud_engine.store import policies, projects
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database

__all__ = ["GovernanceService"]


class GovernanceService:
    """Quotas, policies and budget alerts of one engine (every method is scoped by guild)."""

    def __init__(self, db: Database, access: AccessService, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.access = access
        self.catalog = catalog
        self.clock = clock

    # -- quotas ---------------------------------------------------------------------------
    async def set_quota(self, guild_id: int, by_user_id: int, name: str, limit: int) -> None:
        if name not in quotas.DEFAULT_QUOTAS:
            raise InvalidInput(field="quota", rule=f"one of {', '.join(quotas.DEFAULT_QUOTAS)}")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0 or limit > 100000:
            raise InvalidInput(field="limit", rule="an integer from 0 to 100000")
        await self.access.require_admin_or_bootstrap(guild_id, by_user_id)
        async with self.db.transaction() as conn:
            await quotas.set_limit(conn, guild_id, name, limit)
            await write_audit(conn, at=self.clock(), guild_id=guild_id, actor_id=by_user_id, action="set_quota",
                              target_type="quota", target_id=name, detail={"limit": limit})

    async def quota_usage(self, guild_id: int) -> list[QuotaUsage]:
        async with self.db.transaction() as conn:
            return await quotas.usage(conn, guild_id)

    async def recount_quotas(self, conn: aiosqlite.Connection, guild_id: int) -> None:
        """Quota use is what the server's projects hold, counted from the records, never a running sum.

        Why: a running sum drifts the moment one apply is recorded wrongly; a count from the
        records (which follow Terraform's state) is right after any interruption.
        """
        used = dict.fromkeys(quotas.DEFAULT_QUOTAS, 0)
        for provider, spec in await projects.guild_resource_specs(conn, guild_id):
            for name, amount in catalog_checks.quota_usage(self.catalog, provider, spec).items():
                used[name] = used.get(name, 0) + amount
        await quotas.set_used(conn, guild_id, used)

    # -- policies -------------------------------------------------------------------------
    async def add_policy(self, guild_id: int, by_user_id: int, spec: PolicySpec) -> Policy:
        await self.access.require(guild_id, by_user_id, "admin")
        now = self.clock()
        async with self.db.transaction() as conn:
            policy_id = await policies.insert_policy(conn, guild_id, spec, created_by=by_user_id, now=now)
            if policy_id is None:
                raise InvalidInput(field="name", rule=f"a policy named {spec.name} already exists")
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=by_user_id, action="add_policy",
                              target_type="policy", target_id=policy_id, detail=spec.model_dump())
        return Policy(id=policy_id, **spec.model_dump())

    async def list_policies(self, guild_id: int) -> list[Policy]:
        return await policies.list_policies(self.db, guild_id)

    async def remove_policy(self, guild_id: int, by_user_id: int, name: str) -> bool:
        await self.access.require(guild_id, by_user_id, "admin")
        async with self.db.transaction() as conn:
            removed = await policies.delete_policy(conn, guild_id, name)
            await write_audit(conn, at=self.clock(), guild_id=guild_id, actor_id=by_user_id, action="remove_policy",
                              target_type="policy", target_id=name, detail={"removed": removed})
        return removed

    # -- budget alerts --------------------------------------------------------------------
    async def record_budget_alerts(self, conn: aiosqlite.Connection, project: Project, projected: float,
                                   session_id: int, now: datetime) -> list[int]:
        """Record each alert threshold the projected monthly cost crosses, once per project and month."""
        if project.budget_monthly <= 0:
            return []
        pct = projected / project.budget_monthly * 100
        crossed = [t for t in project.alert_thresholds if pct >= t]
        for threshold in crossed:
            if await projects.record_budget_alert(conn, project, period=now.strftime("%Y-%m"), threshold=threshold,
                                                  projected=projected, session_id=session_id, now=now):
                await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=SYSTEM_USER, action="budget_alert",
                                  target_type="project", target_id=project.id,
                                  detail={"threshold_pct": threshold, "projected_monthly": projected})
        return crossed

    async def budget_alerts(self, project_id: int) -> list[BudgetAlert]:
        """The thresholds the project's validations have crossed, oldest first (one per month and threshold)."""
        return await projects.budget_alerts(self.db, project_id)
