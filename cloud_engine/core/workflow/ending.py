"""Cancel, expiry and restart recovery: the ways a session ends without a plain success.

Why apart: these run from other places (a second process, the sweeper, start-up) and must stop
Terraform before any lock is freed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import aiosqlite

from cloud_engine.core import quotas
from cloud_engine.core.access import SYSTEM_USER
from cloud_engine.core.events import SessionEvent
from cloud_engine.core.locks import release_project_lock
from cloud_engine.core.models import Project, Session, State
from cloud_engine.core.state_machine import Event
from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.core.workflow.applying import HEARTBEAT_S, HEARTBEAT_STALE_S
from cloud_engine.errors import IllegalTransition
from cloud_engine.store import locks, sessions
from cloud_engine.store.audit import write_audit
from cloud_engine.store.rows import parse_dt
from cloud_engine.store.sessions import session_from_row, session_row


class Ending(WorkflowBase):
    """Cancel, expiry and restart recovery: the ways a session ends without a plain success."""

    async def cancel(self, session_id: int, user_id: int, *, reason: str = "cancelled by user") -> Session:
        """Cancel a session; a running apply is interrupted and ends FAILED with the reason."""
        session, project, _ = await self._editable(session_id, user_id)
        if session.state == State.APPLYING:
            if session_id not in self._applying:
                return await self._cancel_elsewhere(session, project, user_id, reason)
            self._stop_reasons[session_id] = f"{reason}, by user {user_id}"
            if not await self.deployer.cancel(session_id):
                self._stop_reasons.pop(session_id, None)
                raise IllegalTransition(state=session.state.value, event="cancel (no running apply to interrupt)")
            async with self.db.transaction() as conn:
                await write_audit(conn, at=self.clock(), guild_id=project.guild_id, actor_id=user_id,
                                  action="cancel_requested", target_type="session", target_id=session_id,
                                  detail={"reason": reason})
            task = self.running(session_id)
            if task is not None:
                await asyncio.wait({task}, timeout=self.settings.terraform_cancel_grace_s * 3)
            return await self.get_session(session_id)
        await self._end(session_id, project, Event.CANCEL, user_id, reason)
        if session.state == State.PLANNING and self.running(session_id):
            await self.deployer.cancel(session_id)
        return await self.get_session(session_id)

    async def _cancel_elsewhere(self, session: Session, project: Project, user_id: int, reason: str) -> Session:
        """Cancel an apply this process does not run: ask through the database, then say what happened.

        The process running it reads `cancel_request` at its next heartbeat and interrupts
        Terraform. With no live heartbeat nobody runs it any more (a crash the start-up
        recovery did not see): any Terraform it left is stopped and the session settled
        from the state here. If it is still running when the wait ends, that is said
        plainly instead of pretending it stopped.
        """
        stop = f"{reason}, by user {user_id}"
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await session_row(conn, session.id)
            await sessions.request_cancel(conn, session.id, stop)
            await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action="cancel_requested",
                              target_type="session", target_id=session.id, detail={"reason": reason})
        beat = parse_dt(row["run_heartbeat_at"])
        if beat is None or (self.clock_real() - beat).total_seconds() > HEARTBEAT_STALE_S:
            await self._stop_orphans({project.id})
            message = f"{(session.plan_summary or {}).get('text', 'apply')} ({session.purpose})"
            await self._settle(session.id, user_id, error=f"no apply was running; marked failed ({stop})", started=None,
                               message=f"session {session.id} by user {session.user_id}: {message}")
            return await self.get_session(session.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.terraform_cancel_grace_s * 3 + HEARTBEAT_S
        while loop.time() < deadline:
            current = await self.get_session(session.id)
            if current.state != State.APPLYING:
                return current
            await asyncio.sleep(0.2)
        raise IllegalTransition(state=State.APPLYING.value,
                                event="be confirmed stopped yet: the cancel reached the process running it, "
                                      "which has not stopped; look again in a moment")

    async def _stop_orphans(self, project_ids: set[int] | None = None) -> set[int]:
        """Stop Terraform processes no live bot runs (all, or those of `project_ids`); their projects' ids."""
        stop_orphans = getattr(self.deployer, "stop_orphans", None)
        if stop_orphans is None:
            return set()
        stopped: set[int] = await stop_orphans(project_ids)
        return stopped

    async def admin_cancel(self, session_id: int, admin_id: int, *, reason: str = "cancelled by an admin") -> Session:
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        await self._require(project.guild_id, admin_id, "admin")
        return await self.cancel(session_id, admin_id, reason=reason)

    async def _end(self, session_id: int, project: Project, event_name: Event, user_id: int, reason: str, *,
                   idle_before: datetime | None = None) -> None:
        """Cancel or expire; with `idle_before`, only if nobody acted on the session since then."""
        self._publish(await self.db.atomic(self._ended, session_id, project, event_name, user_id, reason, idle_before))

    async def _ended(self, conn: aiosqlite.Connection, session_id: int, project: Project, event_name: Event,
                     user_id: int, reason: str, idle_before: datetime | None) -> SessionEvent:
        """`_end`'s transaction (`db.atomic`, one round trip): the transition, and the reservations and lock let go."""
        now = self.clock()
        row = await session_row(conn, session_id)
        if idle_before is not None and (parse_dt(row["last_activity_at"]) or now) >= idle_before:
            raise IllegalTransition(state=row["state"], event=f"{event_name.value} (the session was used meanwhile)")
        session = session_from_row(row, [])
        event = await self._transition(conn, session_id, event_name, user_id, now,
                                       updates={"error": reason}, detail={"reason": reason})
        await quotas.release(conn, project.guild_id, session.reservations)
        await sessions.clear_reservations(conn, session_id)
        await release_project_lock(conn, project_id=project.id, session_id=session_id)
        return event

    async def expire_idle(self) -> list[int]:
        """Expire sessions idle longer than SESSION_TTL_MINUTES, releasing reservations and locks."""
        cutoff = self.clock() - timedelta(minutes=self.settings.session_ttl_minutes)
        idle = await sessions.idle_sessions(self.db, (State.DRAFT, State.VALIDATING, State.PLANNING, State.PLAN_READY,
                                                      State.APPROVED), cutoff)
        expired = []
        for session_id, project_id in idle:
            if self.running(session_id):
                continue
            try:
                await self._end(session_id, await self.get_project(project_id), Event.EXPIRE, SYSTEM_USER,
                                f"idle for more than {self.settings.session_ttl_minutes} minutes", idle_before=cutoff)
                expired.append(session_id)
            except IllegalTransition:
                continue
        return expired

    async def recover_interrupted(self) -> list[Session]:
        """At start-up: runs cut off by a restart are marked honestly and their locks freed.

        A Terraform process the dead bot left running is stopped first (the deployer's
        `stop_orphans`, where it has one): freeing the lock while it still changed the
        project would let a new plan race it.
        """
        stopped = await self._stop_orphans()
        if (secure := getattr(self.deployer, "secure_files", None)) is not None:
            await secure()
        out = []
        for cut in await sessions.interrupted_sessions(self.db):
            event = {State.APPLYING: Event.APPLY_FAILED, State.PLANNING: Event.PLAN_FAILED,
                     State.VALIDATING: Event.VALIDATION_FAILED}[cut.state]
            if event == Event.VALIDATION_FAILED:
                async with self.db.transaction() as conn:
                    ev = await self._transition(conn, cut.id, event, SYSTEM_USER, self.clock(),
                                                updates={"error": "interrupted by restart"})
                self._publish(ev)
            else:
                note = " (its Terraform process was still running and was stopped)" \
                    if cut.project_id in stopped else ""
                if event == Event.APPLY_FAILED:  # Terraform may have changed anything: the state decides
                    text = (cut.plan_summary or {}).get("text", "apply")
                    await self._settle(cut.id, SYSTEM_USER, error=f"interrupted by restart{note}", started=None,
                                       message=f"session {cut.id} by user {cut.user_id}: {text} ({cut.purpose})")
                else:
                    await self._finish(cut.id, event, SYSTEM_USER, error=f"interrupted by restart{note}")
            out.append(await self.get_session(cut.id))
        async with self.db.transaction() as conn:
            await locks.release_finished(conn)
        return out

