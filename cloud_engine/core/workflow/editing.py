"""Sessions and their resource changes: start, read, add, edit, remove.

Why apart: editing is what users do most, and every edit of a planned session voids its plan
(back to DRAFT, reservations and lock released), a rule that lives in one place here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core import catalog_checks, permissions, quotas, validation
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.events import SessionEvent
from cloud_engine.core.locks import release_project_lock
from cloud_engine.core.models import Project, ResourceSpec, Role, Session, SessionResource, State
from cloud_engine.core.state_machine import Event
from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from cloud_engine.store import sessions
from cloud_engine.store.audit import write_audit
from cloud_engine.store.rows import check_id
from cloud_engine.store.sessions import check_session_cap, session_from_row, session_row, state_of

Key = tuple[str, str]


def desired_after(applied: Mapping[Key, ResourceSpec], changes: Iterable[SessionResource]) -> list[ResourceSpec]:
    """The project's resources as they would be after `changes` (applied ones, deletes removed, upserts in)."""
    desired = dict(applied)
    for res in changes:
        if res.action == "delete":
            desired.pop((res.kind, res.name), None)
        else:
            desired[(res.kind, res.name)] = res.spec
    return list(desired.values())


async def reprice_load_balancers(conn: aiosqlite.Connection, costs: CostEstimator, project: Project, session_id: int,
                                 applied: Mapping[Key, ResourceSpec], now: datetime) -> None:
    """Store again what each load balancer of the session costs, among the project as it would be after it.

    Why: a load balancer's price follows its backend (a bucket is served by CloudFront or Front
    Door, not a gateway), and that backend may be added, removed or applied by another session
    after the load balancer was priced. The lobby lists, the budget re-check sums and the apply
    records the stored price, so it must be the one validation judges. Read and written in the
    caller's transaction, so a concurrent edit is never overwritten with a stale spec.
    """
    session = await sessions.load_session(conn, session_id)
    changes = session.resources if session is not None else []
    desired = desired_after(applied, changes)
    for res in changes:
        if res.action == "upsert" and res.kind == "load_balancer":
            monthly = costs.estimate(project.provider, project.region, res.spec, among=desired).monthly
            if monthly != res.cost_monthly:
                await sessions.upsert_change(conn, session_id, res.spec, action="upsert", cost=monthly, now=now)


class SessionEditing(WorkflowBase):
    """Sessions and their resource changes: start, read, add, edit, remove."""

    async def start_session(self, project_id: int, user_id: int, *, purpose: str = "deploy") -> Session:
        try:  # it reaches the audit log, the lobby and the apply's git commit message
            purpose = validation.description(purpose.strip()) or "deploy"
        except ValueError as exc:
            raise InvalidInput(field="purpose", rule=str(exc)) from None
        project = await self.get_project(project_id)
        if project.archived_at is not None:
            raise InvalidInput(field="project", rule=f"{project.name} is archived")
        await self._require(project.guild_id, user_id, "deploy")
        now = self.clock()
        async with self.db.transaction() as conn:
            session_id = await sessions.insert_session(conn, project_id=project_id, guild_id=project.guild_id,
                                                       user_id=user_id, purpose=purpose, now=now)
            await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action="start_session",
                              target_type="session", target_id=session_id, to_state=State.DRAFT.value,
                              detail={"project": project.name, "purpose": purpose})
        self._publish(SessionEvent(session_id, project_id, project.guild_id, "start", None, State.DRAFT.value, user_id, now))
        return await self.get_session(session_id)

    async def get_session(self, session_id: int) -> Session:
        session = await sessions.load_session(self.db, check_id(session_id, "session"))
        if session is None:
            raise NotFound(what="session", key=session_id)
        return session

    async def list_sessions(self, guild_id: int, *, user_id: int | None = None, states: Sequence[State] | None = None,
                            project_id: int | None = None, limit: int = 50) -> list[Session]:
        return await sessions.list_sessions(self.db, guild_id, user_id=user_id, states=states or list(State),
                                            project_id=project_id, limit=limit)

    async def set_lobby_message(self, session_id: int, *, channel_id: int, message_id: int | None = None,
                                thread_id: int | None = None) -> None:
        """Remember where the session's lobby lives so restarts and events can find it."""
        await sessions.set_lobby_message(self.db, session_id, channel_id=channel_id, message_id=message_id,
                                         thread_id=thread_id)

    async def _editable(self, session_id: int, user_id: int) -> tuple[Session, Project, Role]:
        """The session, its project and the member's role, if the member may change the session."""
        session, project, role = await self.db.read(self._session_facts, session_id, user_id)
        permissions.require(role, "deploy")
        if not permissions.may_change_session(role, author_id=session.user_id, user_id=user_id):
            raise PermissionDenied(action="changing someone else's session", required=Role.ADMIN.value, role=role.value)
        return session, project, role

    async def _session_facts(self, session_id: int, user_id: int) -> tuple[Session, Project, Role]:
        """Read together (`db.read`, one round trip): what `_editable` judges."""
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        return session, project, await self.role(project.guild_id, user_id)

    async def add_resource(self, session_id: int, user_id: int, spec: ResourceSpec) -> SessionResource:
        """Add or edit a resource in the session (an existing project resource of that name is updated)."""
        session, project, role = await self._editable(session_id, user_id)
        spec = catalog_checks.normalize(self.catalog, project.provider, project.region, spec)
        reasons = permissions.resource_limits(role, spec.kind, catalog_checks.size_class(self.catalog, project.provider, spec))
        if reasons:
            raise PermissionDenied(action=f"{spec.kind} {spec.name}: {'; '.join(reasons)}", required=Role.ADMIN.value,
                                   role=role.value)
        applied = {(r.kind, r.name): r.spec for r in await self.project_resources(project.id)}
        added = SessionResource(kind=spec.kind, name=spec.name, action="upsert", spec=spec, cost_monthly=0.0)
        among = desired_after(applied, [*(r for r in session.resources if r.spec.key != spec.key), added])
        cost = self.costs.estimate(project.provider, project.region, spec, among=among)
        await self._change_resources(session, project, user_id, "add_resource", spec, "upsert", cost.monthly, applied)
        return SessionResource(kind=spec.kind, name=spec.name, action="upsert", spec=spec, cost_monthly=cost.monthly)

    async def remove_resource(self, session_id: int, user_id: int, kind: str, name: str) -> None:
        """Drop a resource added in this session, or mark an applied project resource for destruction."""
        session, project, role = await self._editable(session_id, user_id)
        in_session = any(r.kind == kind and r.name == name and r.action == "upsert" for r in session.resources)
        applied = {(r.kind, r.name): r.spec for r in await self.project_resources(project.id)}
        if (kind, name) in applied and not in_session:
            permissions.require(role, "destroy")
            await self._change_resources(session, project, user_id, "destroy_resource", applied[(kind, name)],
                                         "delete", 0.0, applied)
        elif in_session:
            await self._change_resources(session, project, user_id, "remove_resource", None, "delete", 0.0, applied,
                                         drop=(kind, name))
        else:
            raise NotFound(what="resource", key=f"{kind}/{name}")

    async def _change_resources(self, session: Session, project: Project, user_id: int, action: str,
                                spec: ResourceSpec | None, change: str, cost: float, applied: Mapping[Key, ResourceSpec],
                                drop: tuple[str, str] | None = None) -> None:
        """Write one change in one transaction; `applied` is the project's applied resources the caller read."""
        now = self.clock()
        event, detail = await self.db.atomic(self._write_change, session, project, user_id, action, spec, change, cost,
                                             applied, drop, now)
        if event:
            self._publish(event)
        self._publish(SessionEvent(session.id, project.id, project.guild_id, action, None, None, user_id, now, detail))

    async def _write_change(self, conn: aiosqlite.Connection, session: Session, project: Project, user_id: int,
                            action: str, spec: ResourceSpec | None, change: str, cost: float,
                            applied: Mapping[Key, ResourceSpec], drop: tuple[str, str] | None,
                            now: datetime) -> tuple[SessionEvent | None, dict[str, Any]]:
        """`_change_resources`'s transaction (`db.atomic`, one round trip); the EDIT transition (if any) and the detail."""
        event = None
        # Only a session holding a load balancer has a price that follows other resources (its backend).
        fronting = (spec is not None and spec.kind == "load_balancer") or any(
            r.kind == "load_balancer" for r in session.resources)
        if spec is not None:  # counted inside the writing transaction, so racing adds cannot pass the cap
            await check_session_cap(conn, session.id, spec.key)
        current = await state_of(conn, session.id)
        if current == State.PLAN_READY:
            # The plan is void: its quota reservations and the project lock go with it, and
            # the next validate reserves for the edited resources.
            held = session_from_row(await session_row(conn, session.id), []).reservations
            event = await self._transition(conn, session.id, Event.EDIT, user_id, now, detail={"reason": action},
                                           updates={"reservations": "{}"})
            await quotas.release(conn, project.guild_id, held)
            await release_project_lock(conn, project_id=project.id, session_id=session.id)
        elif current != State.DRAFT:
            raise IllegalTransition(state=current.value, event="edit resources")
        if drop is not None:
            await sessions.drop_change(conn, session.id, drop)
            detail: dict[str, Any] = {"kind": drop[0], "name": drop[1]}
        else:
            assert spec is not None
            await sessions.upsert_change(conn, session.id, spec, action=change, cost=cost, now=now)
            detail = {"kind": spec.kind, "name": spec.name, "action": change, "cost_monthly": cost}
        if fronting:
            await reprice_load_balancers(conn, self.costs, project, session.id, applied, now)
        await sessions.touch_edited(conn, session.id, now)
        await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action=action,
                          target_type="session", target_id=session.id, detail=detail)
        return event, detail
