"""Plan and approve: the project lock, quotas re-reserved, Terraform's plan judged.

Why apart: the plan is the artefact approval is of; everything that decides whether a plan may
be approved (and by whom) lives here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite

from cloud_engine.core import permissions, policies, quotas
from cloud_engine.core.deployer import PlanArtifact
from cloud_engine.core.locks import acquire_project_lock, release_project_lock
from cloud_engine.core.models import Project, ResourceSpec, Role, Session, State
from cloud_engine.core.plan_judgement import plan_summary, quota_needs, unrequested_destruction
from cloud_engine.core.reasons import Rejection, checked_reason
from cloud_engine.core.state_machine import Event
from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.core.workflow.applying import reason_of
from cloud_engine.errors import (
    EngineError,
    IllegalTransition,
    PermissionDenied,
    PolicyViolation,
    ProjectLocked,
    QuotaExceeded,
)
from cloud_engine.store.audit import write_audit
from cloud_engine.store.rows import check_id, dumps, iso, loads
from cloud_engine.store.sessions import session_from_row, session_row, state_of

if TYPE_CHECKING:
    from cloud_engine.iac.sinks import OutputSink

log = logging.getLogger(__name__)


class Planning(WorkflowBase):
    """Plan and approve: the project lock, quotas re-reserved, Terraform's plan judged."""

    async def desired_resources(self, session: Session) -> list[ResourceSpec]:
        """The project's whole desired configuration if this session were applied."""
        desired = {(r.kind, r.name): r.spec for r in await self.project_resources(session.project_id)}
        for res in session.resources:
            if res.action == "delete":
                desired.pop((res.kind, res.name), None)
            else:
                desired[(res.kind, res.name)] = res.spec
        return list(desired.values())

    async def plan(self, session_id: int, user_id: int, *, sinks: Sequence[OutputSink] = ()) -> Session:
        """Run Terraform plan for the whole project; validates first when the session is still a DRAFT."""
        session, project, _ = await self._editable(session_id, user_id)
        if session.state == State.DRAFT:
            result = await self.validate(session_id, user_id)
            if not result.ok:
                raise PolicyViolation(policy=result.violations[0].policy,
                                      detail="; ".join(v.message for v in result.violations))
            session = await self.get_session(session_id)
        if session.state != State.PLANNING:
            raise IllegalTransition(state=session.state.value, event="plan")
        now = self.clock()
        try:
            async with self.db.transaction() as conn:
                if (current := await state_of(conn, session_id)) != State.PLANNING:  # e.g. cancelled since the read
                    raise IllegalTransition(state=current.value, event="plan")
                await acquire_project_lock(conn, project_id=project.id, project_name=project.name,
                                           session_id=session_id, user_id=user_id, now=now)
                await self._reserve_for_plan(conn, session, project)
                await conn.execute("UPDATE deployment_sessions SET last_activity_at = ?, run_heartbeat_at = ?"
                                   " WHERE id = ?", (iso(now), iso(now), session_id))
                await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action="plan_started",
                                  target_type="session", target_id=session_id)
        except (ProjectLocked, QuotaExceeded) as exc:
            await self._refuse_plan(session_id, project, user_id, exc)
            raise
        if overrun := await self._budget_overrun(session, project):
            await self._finish(session_id, Event.PLAN_FAILED, user_id, error=overrun)
            return await self.get_session(session_id)
        desired = await self.desired_resources(session)
        guild_policies = await self.list_policies(project.guild_id)
        allow = frozenset(s.name for s in desired if s.kind == "firewall" and policies.world_admin_allowed(guild_policies, s))
        try:
            artifact: PlanArtifact = await self.deployer.plan(project, desired, session_id=session_id, sinks=sinks,
                                                              allow_world_admin=allow)
        except (Exception, asyncio.CancelledError) as exc:
            await self._finish(session_id, Event.PLAN_FAILED, user_id, error=reason_of(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
            return await self.get_session(session_id)
        summary = plan_summary(artifact)
        updates: dict[str, Any] = {"plan_summary": dumps(summary), "plan_fingerprint": artifact.fingerprint,
                                   "plan_created_at": iso(self.clock()), "rejected_by": None, "rejected_reason": None}
        if unasked := unrequested_destruction(session, artifact):
            # Approval is of the plan Terraform will run, not of the request: whatever it would
            # destroy that nobody asked to change needs someone who may destroy to approve it.
            updates["needs_approval"] = 1
            updates["violations"] = dumps([*session.violations, *(v.model_dump() for v in unasked)])
        await self._finish(session_id, Event.PLAN_SUCCEEDED, user_id, updates=updates)
        return await self.get_session(session_id)

    async def _reserve_for_plan(self, conn: aiosqlite.Connection, session: Session, project: Project) -> None:
        """Reserve what the session needs against the project as it is now, inside the plan's transaction.

        Why again: validation measured each edit against the project as it was then. If
        another session since deleted a resource this one edits, the edit now creates it,
        and the unit it needs may already be taken; validation's reservation held none.
        """
        async with conn.execute("SELECT kind, name, spec FROM project_resources WHERE project_id = ?",
                                (project.id,)) as cur:
            applied = {(r["kind"], r["name"]): ResourceSpec(**loads(r["spec"])) for r in await cur.fetchall()}
        needs = quota_needs(self.catalog, project.provider, session.resources, applied)
        held = session_from_row(await session_row(conn, session.id), []).reservations
        extra = {name: n - held.get(name, 0) for name, n in needs.items() if n > held.get(name, 0)}
        if extra:
            taken = await quotas.reserve(conn, project.guild_id, extra)
            merged = {name: held.get(name, 0) + taken.get(name, 0) for name in held.keys() | taken.keys()}
            await conn.execute("UPDATE deployment_sessions SET reservations = ? WHERE id = ?",
                               (dumps(merged), session.id))

    async def _refuse_plan(self, session_id: int, project: Project, user_id: int, exc: EngineError) -> None:
        """A plan that could not start: the session returns to DRAFT and gives back its reservations."""
        now = self.clock()
        async with self.db.transaction() as conn:
            held = session_from_row(await session_row(conn, session_id), []).reservations
            event = await self._transition(conn, session_id, Event.PLAN_REFUSED, user_id, now,
                                           updates={"reservations": "{}", "error": str(exc)[:1500]},
                                           detail={"reason": str(exc)})
            await quotas.release(conn, project.guild_id, held)
        self._publish(event)

    async def _may_approve(self, session: Session, project: Project, user_id: int, verb: str) -> Role:
        """Whoever may approve this plan (and so reject it): the role, plus the policy's and the project's rules."""
        role = await self.role(project.guild_id, user_id)
        permissions.require(role, "approve")
        if session.needs_approval and not role >= Role.ADMIN:
            raise PermissionDenied(action=f"{verb} a plan that a policy marked require_approval",
                                   required=Role.ADMIN.value, role=role.value)
        if project.approver_must_differ and user_id == session.user_id:
            raise PermissionDenied(action=f"{verb} your own plan in project {project.name}",
                                   required="an approver other than the author", role=role.value)
        return role

    async def approve(self, session_id: int, approver_id: int) -> Session:
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        await self._may_approve(session, project, approver_id, "approving")
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await session_row(conn, session_id)
            if (row["plan_fingerprint"], bool(row["needs_approval"])) != (session.plan_fingerprint,
                                                                          session.needs_approval):
                raise IllegalTransition(state=row["state"], event="approve (the plan changed; review it again)")
            event = await self._transition(conn, session_id, Event.APPROVE, approver_id, now,
                                           updates={"approved_by": approver_id})
        self._publish(event)
        return await self.get_session(session_id)

    async def reject(self, session_id: int, user_id: int, reason: str) -> Session:
        """Turn a ready plan down (whoever may approve it may): back to DRAFT with the reason, plan void.

        As after an edit, the plan's reservations and the project lock go with it. The state
        moves with `WHERE state = PLAN_READY`, so an approve racing this reject finds the
        session gone from PLAN_READY (or this one does): exactly one of them happens.
        """
        reason = checked_reason(reason)
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        await self._may_approve(session, project, user_id, "rejecting")
        now = self.clock()
        async with self.db.transaction() as conn:
            held = session_from_row(await session_row(conn, session_id), []).reservations
            event = await self._transition(conn, session_id, Event.REJECT, user_id, now, detail={"reason": reason},
                                           updates={"reservations": "{}", "rejected_by": user_id,
                                                    "rejected_reason": reason})
            await quotas.release(conn, project.guild_id, held)
            await release_project_lock(conn, project_id=project.id, session_id=session_id)
        self._publish(event)
        return await self.get_session(session_id)

    async def rejection(self, session_id: int) -> Rejection | None:
        """Who turned the session's last plan down and why, while it waits in DRAFT for changes; else None."""
        row = await self.db.fetchone("SELECT state, rejected_by, rejected_reason FROM deployment_sessions WHERE id = ?",
                                     (check_id(session_id, "session"),))
        if row is None or row["state"] != State.DRAFT.value or row["rejected_by"] is None:
            return None
        return Rejection(by=int(row["rejected_by"]), reason=str(row["rejected_reason"] or ""))

    def start_plan(self, session_id: int, user_id: int, *, sinks: Sequence[OutputSink] = ()) -> asyncio.Task[Session]:
        """Run `plan` as a task that outlives the interaction that asked for it."""
        return self._own_task(session_id, self.plan(session_id, user_id, sinks=sinks))

    def _own_task(self, session_id: int, coro: Any) -> asyncio.Task[Session]:
        if (running := self._tasks.get(session_id)) and not running.done():
            coro.close()
            raise IllegalTransition(state="busy", event="start another run while one is running")
        task = asyncio.get_running_loop().create_task(coro, name=f"session-{session_id}")
        self._tasks[session_id] = task

        def _done(t: asyncio.Task[Session]) -> None:
            self._tasks.pop(session_id, None)
            if not t.cancelled() and t.exception() is not None:
                log.error("session run failed", exc_info=t.exception(), extra={"session_id": session_id})

        task.add_done_callback(_done)
        return task

    def running(self, session_id: int) -> asyncio.Task[Session] | None:
        task = self._tasks.get(session_id)
        return task if task and not task.done() else None

