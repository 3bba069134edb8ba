"""The one transition function, and what every part of the workflow shares.

Why: `_transition` is the only writer of `deployment_sessions.state`. It checks the table,
updates the row with `WHERE state = <expected>`, writes the audit row in the caller's
transaction; `_publish` sends the event once that transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from cloud_engine.core.access import AccessService
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.deployer import Deployer
from cloud_engine.core.events import EventBus, SessionEvent
from cloud_engine.core.governance import GovernanceService
from cloud_engine.core.models import (
    Project,
    ResourceSpec,
    Role,
    Session,
    SessionResource,
    State,
    ValidationResult,
)
from cloud_engine.core.policies import Policy
from cloud_engine.core.projects import ProjectService
from cloud_engine.core.state_machine import Event, next_state
from cloud_engine.data.catalog import Catalog
from cloud_engine.errors import IllegalTransition
from cloud_engine.secret_text import mask_secrets
from cloud_engine.settings import Settings
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database
from cloud_engine.store.rows import iso
from cloud_engine.store.sessions import session_row, write_state

log = logging.getLogger(__name__)


class WorkflowBase:
    """Shared attributes of the workflow's parts (set by CloudOrchestrator.__init__), and `_transition`.

    Each part (editing, validating, planning, applying, ending, rollback) is one concern in
    one module, composed into `DeploymentWorkflow`; this base declares what they share so
    each reads on its own.
    """

    db: Database
    settings: Settings
    catalog: Catalog
    costs: CostEstimator
    events: EventBus
    clock: Callable[[], datetime]
    access: AccessService
    governance: GovernanceService
    projects: ProjectService
    _tasks: dict[int, asyncio.Task[Session]]
    _stop_reasons: dict[int, str]
    _applying: set[int]
    _deployer: Deployer | None

    if TYPE_CHECKING:
        # What one part calls on another, each defined once in the module named; declared
        # here (as Red-DiscordBot's abc.py does for its mixins) so each part type-checks alone.
        async def get_session(self, session_id: int) -> Session: ...  # editing.py
        async def start_session(self, project_id: int, user_id: int, *, purpose: str = "deploy") -> Session: ...
        async def _editable(self, session_id: int, user_id: int) -> tuple[Session, Project, Role]: ...
        async def add_resource(self, session_id: int, user_id: int, spec: ResourceSpec) -> SessionResource: ...
        async def remove_resource(self, session_id: int, user_id: int, kind: str, name: str) -> None: ...
        async def validate(self, session_id: int, user_id: int) -> ValidationResult: ...  # validating.py
        async def _budget_overrun(self, session: Session, project: Project) -> str | None: ...
        async def desired_resources(self, session: Session) -> list[ResourceSpec]: ...  # planning.py
        def _own_task(self, session_id: int, coro: Any) -> asyncio.Task[Session]: ...
        def running(self, session_id: int) -> asyncio.Task[Session] | None: ...
        async def _finish(self, session_id: int, event_name: Event, user_id: int, *, error: str | None = None,
                          updates: dict[str, Any] | None = None, started: datetime | None = None,
                          commit: str | None = None, state_json: str | None = None, warning: str | None = None,
                          statuses: dict[str, str] | None = None) -> None: ...  # applying.py
        async def _settle(self, session_id: int, user_id: int, *, error: str, started: datetime | None,
                          message: str) -> None: ...
        @staticmethod
        def clock_real() -> datetime: ...
        async def cancel(self, session_id: int, user_id: int, *, reason: str = "cancelled by user") -> Session: ...

    # -- what every part reads: the deployer, roles, projects, policies (from the services)
    @property
    def deployer(self) -> Deployer:
        """The Terraform deployer, built on first use so core-only callers never touch Terraform."""
        if self._deployer is None:
            from cloud_engine.iac.terraform_deployer import TerraformDeployer

            self._deployer = TerraformDeployer(self.settings)
        return self._deployer

    async def role(self, guild_id: int, user_id: int) -> Role:
        return await self.access.role(guild_id, user_id)

    async def _require(self, guild_id: int, user_id: int, action: str) -> Role:
        return await self.access.require(guild_id, user_id, action)

    async def list_policies(self, guild_id: int) -> list[Policy]:
        return await self.governance.list_policies(guild_id)

    async def get_project(self, project_id: int) -> Project:
        return await self.projects.get_project(project_id)

    async def project_resources(self, project_id: int) -> list[SessionResource]:
        """The project's applied resources (its desired configuration after the last apply)."""
        return await self.projects.project_resources(project_id)

    # -- the one transition function
    async def _transition(self, conn: aiosqlite.Connection, session_id: int, event_name: Event, actor_id: int,
                          now: datetime, *, updates: dict[str, Any] | None = None,
                          detail: dict[str, Any] | None = None, row: dict[str, Any] | None = None) -> SessionEvent:
        """Check the table, write the new state and an audit row in the caller's transaction.

        `row` is the session's row when the caller has just read it in this same transaction
        (it cannot have changed since: the transaction holds the write lock); else it is read here.
        """
        row = row if row is not None else await session_row(conn, session_id)
        current = State(row["state"])
        target = next_state(current, event_name)
        fields = {"state": target.value, "updated_at": iso(now), "last_activity_at": iso(now), **(updates or {})}
        if isinstance(fields.get("error"), str):  # errors quote Terraform and users: no known secret is stored
            fields["error"] = mask_secrets(fields["error"])
        if not await write_state(conn, session_id, current, fields):
            raise IllegalTransition(state=current.value, event=event_name.value)
        await write_audit(conn, at=now, guild_id=row["guild_id"], actor_id=actor_id, action=f"session.{event_name.value}",
                          target_type="session", target_id=session_id, from_state=current.value, to_state=target.value,
                          detail=detail)
        return SessionEvent(session_id, row["project_id"], row["guild_id"], event_name.value, current.value, target.value,
                            actor_id, now, detail or {})

    def _publish(self, event: SessionEvent) -> None:
        try:
            self.events.publish(event)
        except RuntimeError:
            log.debug("no running loop to publish on", extra={"session_id": event.session_id})

