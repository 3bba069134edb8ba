"""ProjectService: projects (one Terraform root each), their recorded resources and history.

Why its own room: a project outlives its sessions. Creating, finding and archiving
projects, the resources the last applies left, and the apply history are read by every
session and written only by the workflow's recorded applies (and archive, here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from cloud_engine.core.access import AccessService
from cloud_engine.core.models import Project, SessionResource
from cloud_engine.core.records import DeploymentRecord
from cloud_engine.core.validation import cloud_name
from cloud_engine.data.catalog import CLOUDS, SANDBOX, Catalog
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.settings import Settings
from cloud_engine.store import projects as store
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database
from cloud_engine.store.projects import project_from_row
from cloud_engine.store.rows import check_id

__all__ = ["PROVIDERS", "ProjectService", "number", "project_from_row", "validate_backend"]

PROVIDERS = (*CLOUDS, SANDBOX)


class ProjectService:
    """Projects of a server and what they hold."""

    def __init__(self, db: Database, settings: Settings, catalog: Catalog, access: AccessService,
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.settings = settings
        self.catalog = catalog
        self.access = access
        self.clock = clock

    async def create_project(self, guild_id: int, user_id: int, *, name: str, provider: str, region: str,
                             budget_monthly: float = 0.0, target: str | None = None,
                             approver_must_differ: bool | None = None, alert_thresholds: Sequence[int] = (50, 80, 100),
                             backend: dict[str, Any] | None = None) -> Project:
        """Create a project: one Terraform root whose resources outlive sessions."""
        try:
            cloud_name(name)
        except ValueError as exc:
            raise InvalidInput(field="name", rule=str(exc)) from None
        if provider not in PROVIDERS:
            raise InvalidInput(field="provider", rule=f"one of {', '.join(PROVIDERS)}")
        if region not in self.catalog.regions(provider):
            raise InvalidInput(field="region", rule=f"{region!r} is not a {provider} region; valid: "
                                                    f"{', '.join(self.catalog.regions(provider))}")
        budget_monthly = number(budget_monthly, "budget_monthly")
        if not 0 <= budget_monthly <= 10_000_000:
            raise InvalidInput(field="budget_monthly", rule="a number from 0 to 10,000,000")
        target = "sandbox" if provider == "sandbox" else (target or self.settings.terraform_target)
        if target not in ("sandbox", "cloud"):
            raise InvalidInput(field="target", rule="sandbox or cloud")
        thresholds = sorted({int(number(t, "alert_thresholds")) for t in alert_thresholds})
        if any(not 1 <= t <= 1000 for t in thresholds):
            raise InvalidInput(field="alert_thresholds", rule="percentages from 1 to 1000")
        backend = validate_backend(backend)
        await self.access.require(guild_id, user_id, "create_project")
        differ = self.settings.approver_must_differ_default if approver_must_differ is None else approver_must_differ
        now = self.clock()
        async with self.db.transaction() as conn:
            project_id = await store.insert_project(
                conn, guild_id=guild_id, name=name, provider=provider, region=region, target=target,
                budget_monthly=budget_monthly, alert_thresholds=thresholds, approver_must_differ=differ, backend=backend,
                created_by=user_id, now=now)
            if project_id is None:
                raise InvalidInput(field="name", rule=f"a project named {name} already exists in this server")
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=user_id, action="create_project",
                              target_type="project", target_id=project_id,
                              detail={"name": name, "provider": provider, "region": region, "target": target})
        return await self.get_project(project_id)

    async def get_project(self, project_id: int) -> Project:
        project = await store.get_project(self.db, check_id(project_id, "project"))
        if project is None:
            raise NotFound(what="project", key=project_id)
        return project

    async def find_project(self, guild_id: int, name: str) -> Project:
        project = await store.find_project(self.db, guild_id, name)
        if project is None:
            raise NotFound(what="project", key=name)
        return project

    async def list_projects(self, guild_id: int, *, include_archived: bool = False) -> list[Project]:
        return await store.list_projects(self.db, guild_id, include_archived=include_archived)

    async def archive_project(self, project_id: int, user_id: int) -> Project:
        project = await self.get_project(project_id)
        await self.access.require(project.guild_id, user_id, "archive_project")
        active = await store.open_session_count(self.db, project_id)
        if active:
            raise InvalidInput(field="project", rule=f"{project.name} has {active} open session(s); cancel them first")
        now = self.clock()
        async with self.db.transaction() as conn:
            await store.archive(conn, project_id, now)
            await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action="archive_project",
                              target_type="project", target_id=project_id)
        return await self.get_project(project_id)

    async def project_resources(self, project_id: int) -> list[SessionResource]:
        """The project's applied resources (its desired configuration after the last apply)."""
        return await store.resources(self.db, project_id)

    async def history(self, project_id: int, *, limit: int = 20) -> list[DeploymentRecord]:
        """The project's recorded applies (and failed ones), newest first."""
        return await store.history(self.db, project_id, limit=limit)


def number(value: Any, field: str) -> float:
    """A finite number from API input (int, float or numeric text), else InvalidInput naming `field`."""
    if isinstance(value, bool):  # True is an int to Python, never a budget or a threshold to a user
        raise InvalidInput(field=field, rule="a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(field=field, rule="a number") from None
    if not math.isfinite(number):
        raise InvalidInput(field=field, rule="a finite number")
    return number


def validate_backend(backend: dict[str, Any] | None) -> dict[str, Any]:
    """Remote state backends: gcs, s3, azurerm with their required keys; local is the default."""
    backend = dict(backend or {"type": "local"})
    required = {"local": set(), "gcs": {"bucket"}, "s3": {"bucket", "key", "region"},
                "azurerm": {"resource_group_name", "storage_account_name", "container_name", "key"}}

    kind = backend.get("type")
    if kind not in required:
        raise InvalidInput(field="backend.type", rule=f"one of {', '.join(required)}")
    missing = required[kind] - backend.keys()
    if missing:
        raise InvalidInput(field="backend", rule=f"{kind} needs {', '.join(sorted(missing))}")
    for key, value in backend.items():
        if not isinstance(value, str) or len(value) > 200 or not all(c.isalnum() or c in "-_./" for c in value):
            raise InvalidInput(field=f"backend.{key}", rule="letters, digits and -_./ only, at most 200 characters")
    return backend
