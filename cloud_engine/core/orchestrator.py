"""CloudOrchestrator: the engine's one entry point, and the only way a deployment session changes state.

Every public method checks who is asking (roles, just-in-time grants, authorship), then
performs at most one state transition through `_transition` (core/workflow/_base.py),
which checks the table, writes the new state and an audit row in the same transaction,
and publishes an event once the transaction has committed. Terraform work happens
through a `Deployer` outside any transaction; its outcome is recorded by a second
transition. Rooms: access.py, governance.py, projects.py, reports.py (services) and
workflow/ (the session's parts); this module wires them and keeps the documented names.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cloud_engine.core.access import AccessService
from cloud_engine.core.audit_export import AuditExport, ExportFormat
from cloud_engine.core.budget_thresholds import BudgetAlertSet, BudgetThresholds
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.deployer import Deployer
from cloud_engine.core.drift import DriftService
from cloud_engine.core.events import EventBus
from cloud_engine.core.governance import GovernanceService
from cloud_engine.core.history import ProjectHistory, ProjectLog
from cloud_engine.core.lock_admin import HeldLock, LockAdmin, UnlockResult
from cloud_engine.core.models import Project, Session
from cloud_engine.core.policies import Policy, PolicySpec
from cloud_engine.core.project_costs import ProjectCosts, project_costs
from cloud_engine.core.projects import ProjectService
from cloud_engine.core.ratelimit import RateLimiter
from cloud_engine.core.records import (
    AuditEntry,
    BudgetAlert,
    DeploymentRecord,
    Grant,
    GuildStats,
    QuotaUsage,
    RoleMap,
)
from cloud_engine.core.reports import Reports
from cloud_engine.core.suppressions import SuppressionService
from cloud_engine.core.workflow import DeploymentWorkflow
from cloud_engine.data.catalog import Catalog, load_catalog
from cloud_engine.settings import Settings
from cloud_engine.store.database import Database

_COMMIT_PREFIX = re.compile(r"[0-9a-f]{7,40}")
_HEARTBEAT_S = 2.0  # how often a running apply says it is alive and reads cancel requests
_HEARTBEAT_STALE_S = 15.0  # no heartbeat for this long: no process runs the apply any more


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CloudOrchestrator(DeploymentWorkflow):
    """The engine's facade: the deployment workflow, plus the services it is built from.

    Cogs, the CLI and tests call this. The session workflow (editing, validating, planning,
    applying, ending, rollback) is composed in `cloud_engine/core/workflow/`; access,
    governance, projects and reports are services of their own, reached here under the
    names docs/api.md documents.
    """

    def __init__(self, db: Database, settings: Settings | None = None, *, deployer: Deployer | None = None,
                 catalog: Catalog | None = None, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.settings = settings or Settings()
        self.catalog = catalog or load_catalog()
        self.costs = CostEstimator(self.catalog)
        self.events = EventBus()
        self.clock = clock
        self.rate_limiter = RateLimiter(self.settings.user_actions_per_minute, clock=clock)
        self._deployer = deployer
        self.access = AccessService(db, clock)
        self.governance = GovernanceService(db, self.access, self.catalog, clock)
        self.reports = Reports(db, self.access, clock)
        self.projects = ProjectService(db, self.settings, self.catalog, self.access, clock)
        self.locks = LockAdmin(self)
        self.drift = DriftService(self)
        self.git_history = ProjectHistory(self)  # /cloud-history, and the notes of each apply's tag
        self.budget_thresholds = BudgetThresholds(self.access, self.projects, clock)
        self.suppressions = SuppressionService(db, self.access, clock)  # scan findings an admin accepts
        self._tasks: dict[int, asyncio.Task[Session]] = {}
        self._stop_reasons: dict[int, str] = {}  # why a running apply was interrupted, for its FAILED reason
        self._applying: set[int] = set()  # sessions whose apply runs in this process

    @property
    def deployer(self) -> Deployer:
        """The workflow's deployer, given the notes each apply's tag carries (core/history.py)."""
        deployer = super().deployer
        self.git_history.attach(deployer)
        return deployer

    @property
    def admin_ids(self) -> frozenset[int]:
        return self.access.admin_ids

    @admin_ids.setter
    def admin_ids(self, ids: frozenset[int]) -> None:
        self.access.admin_ids = ids

    async def sync_discord_admin(self, guild_id: int, user_id: int) -> None:
        await self.access.sync_discord_admin(guild_id, user_id)

    async def grant(self, guild_id: int, by_user_id: int, user_id: int, role: str, *,
                    expires_at: datetime | None = None, duration: timedelta | None = None) -> Grant:
        return await self.access.grant(guild_id, by_user_id, user_id, role, expires_at=expires_at, duration=duration)

    async def revoke(self, guild_id: int, by_user_id: int, user_id: int) -> bool:
        return await self.access.revoke(guild_id, by_user_id, user_id)

    async def list_grants(self, guild_id: int, by_user_id: int) -> list[Grant]:
        return await self.access.list_grants(guild_id, by_user_id)

    async def record_member_roles(self, guild_id: int, user_id: int, discord_role_ids: Iterable[int]) -> bool:
        return await self.access.record_member_roles(guild_id, user_id, discord_role_ids)

    async def map_discord_role(self, guild_id: int, by_user_id: int, discord_role_id: int, cloud_role: str) -> RoleMap:
        return await self.access.map_discord_role(guild_id, by_user_id, discord_role_id, cloud_role)

    async def unmap_discord_role(self, guild_id: int, by_user_id: int, discord_role_id: int) -> bool:
        return await self.access.unmap_discord_role(guild_id, by_user_id, discord_role_id)

    async def list_role_maps(self, guild_id: int, by_user_id: int) -> list[RoleMap]:
        return await self.access.list_role_maps(guild_id, by_user_id)

    async def set_quota(self, guild_id: int, by_user_id: int, name: str, limit: int) -> None:
        await self.governance.set_quota(guild_id, by_user_id, name, limit)

    async def quota_usage(self, guild_id: int) -> list[QuotaUsage]:
        return await self.governance.quota_usage(guild_id)

    async def add_policy(self, guild_id: int, by_user_id: int, spec: PolicySpec) -> Policy:
        return await self.governance.add_policy(guild_id, by_user_id, spec)

    async def remove_policy(self, guild_id: int, by_user_id: int, name: str) -> bool:
        return await self.governance.remove_policy(guild_id, by_user_id, name)

    async def budget_alerts(self, project_id: int) -> list[BudgetAlert]:
        return await self.governance.budget_alerts(project_id)

    async def stats(self, guild_id: int) -> GuildStats:
        return await self.reports.stats(guild_id)

    async def audit(self, guild_id: int, by_user_id: int, *, limit: int = 20, actor_id: int | None = None,
                    action: str | None = None) -> list[AuditEntry]:
        return await self.reports.audit(guild_id, by_user_id, limit=limit, actor_id=actor_id, action=action)

    async def export_audit(self, guild_id: int, by_user_id: int, fmt: ExportFormat, *, since: datetime | None = None,
                           max_bytes: int | None = None) -> AuditExport:
        return await self.reports.export_audit(guild_id, by_user_id, fmt, since=since, max_bytes=max_bytes)

    async def record_refusal(self, guild_id: int, user_id: int, action: str, reason: str,
                             session_id: int | None = None) -> None:
        await self.reports.record_refusal(guild_id, user_id, action, reason, session_id)

    async def list_locks(self, guild_id: int, by_user_id: int) -> list[HeldLock]:
        return await self.locks.list_locks(guild_id, by_user_id)

    async def unlock(self, guild_id: int, admin_id: int, project: str, reason: str) -> UnlockResult:
        return await self.locks.unlock(guild_id, admin_id, project, reason)

    async def create_project(self, guild_id: int, user_id: int, *, name: str, provider: str, region: str,
                             budget_monthly: float = 0.0, target: str | None = None,
                             approver_must_differ: bool | None = None, alert_thresholds: Sequence[int] = (50, 80, 100),
                             backend: dict[str, Any] | None = None) -> Project:
        """Create a project: one Terraform root whose resources outlive sessions."""
        return await self.projects.create_project(
            guild_id, user_id, name=name, provider=provider, region=region, budget_monthly=budget_monthly,
            target=target, approver_must_differ=approver_must_differ, alert_thresholds=alert_thresholds,
            backend=backend)

    async def find_project(self, guild_id: int, name: str) -> Project:
        return await self.projects.find_project(guild_id, name)

    async def list_projects(self, guild_id: int, *, include_archived: bool = False) -> list[Project]:
        return await self.projects.list_projects(guild_id, include_archived=include_archived)

    async def archive_project(self, project_id: int, user_id: int) -> Project:
        return await self.projects.archive_project(project_id, user_id)

    async def history(self, project_id: int, *, limit: int = 20) -> list[DeploymentRecord]:
        return await self.projects.history(project_id, limit=limit)

    async def project_costs(self, project: Project) -> ProjectCosts:
        """The project's applied resources and the network plumbing they need, priced as validation counts them."""
        return await project_costs(project, await self.project_resources(project.id))

    async def git_log(self, guild_id: int, user_id: int, project: str, *, limit: int = 10) -> ProjectLog:
        return await self.git_history.log(guild_id, user_id, project, limit=limit)

    async def set_budget_alert(self, guild_id: int, admin_id: int, project: str, percent: int) -> BudgetAlertSet:
        return await self.budget_thresholds.add(guild_id, admin_id, project, percent)
