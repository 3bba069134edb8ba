"""Held project locks: list them, and release one an admin says is stuck (Atlantis' `unlock`).

Why its own room: a lock is released by ending the session that holds it, honestly and through
the workflow's one `_transition`, never by deleting the row under a live run. So `unlock`
first judges whether Terraform is really running for the holder, as the workflow does
(core/workflow/applying.py, ending.py):

- an apply runs while this process runs it, or while its `run_heartbeat_at` (refreshed every
  HEARTBEAT_S by the process running it) is younger than HEARTBEAT_STALE_S;
- a plan runs while this process runs it, or, when another process started it, until its plan
  timeout (and cancel grace) has passed since it started: a plan writes its heartbeat once.

Then the holder ends as what really happened: an apply nobody runs is settled from Terraform's
state (FAILED with what was made, or APPLIED if every change was), a plan nobody runs FAILED,
a planned or approved session CANCELLED, each with the admin's reason. A lock left behind by a
finished session is just removed. Every unlock, and every refused one, is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cloud_engine.core.models import FINAL_STATES, State
from cloud_engine.core.reasons import checked_reason
from cloud_engine.core.state_machine import Event
from cloud_engine.core.workflow.applying import HEARTBEAT_STALE_S
from cloud_engine.errors import IllegalTransition, NotFound
from cloud_engine.store import locks
from cloud_engine.store.audit import write_audit

if TYPE_CHECKING:
    from cloud_engine.core.orchestrator import CloudOrchestrator

__all__ = ["HeldLock", "LockAdmin", "UnlockResult"]


@dataclass(frozen=True)
class HeldLock:
    """One held project lock, as `/cloud-locks` shows it."""

    project_id: int
    project: str
    session_id: int
    holder_id: int
    since: datetime
    state: State | None  # None: the holding session no longer exists
    running: bool  # Terraform is running for the holder right now


@dataclass(frozen=True)
class UnlockResult:
    """What `unlock` did: whose lock it released and how the holding session ended."""

    project: str
    session_id: int
    holder_id: int
    previous_state: State | None
    state: State | None
    reason: str

    @property
    def session_ended(self) -> bool:
        """True when the unlock ended the session; False for a lock a finished session had left behind."""
        return self.previous_state is not None and self.previous_state not in FINAL_STATES


class LockAdmin:
    """Lists and releases the durable project locks (core/locks.py) of a guild."""

    def __init__(self, workflow: CloudOrchestrator) -> None:
        self.wf = workflow

    def terraform_running(self, session_id: int, state: State | None, heartbeat: datetime | None) -> bool:
        """Whether Terraform may be running for `session_id` now (see the module docstring)."""
        wf = self.wf
        if wf.running(session_id) is not None or session_id in wf._applying:
            return True
        if heartbeat is None:
            return False
        if state == State.APPLYING:
            return (wf.clock_real() - heartbeat).total_seconds() <= HEARTBEAT_STALE_S
        if state == State.PLANNING:
            window = wf.settings.terraform_plan_timeout_s + wf.settings.terraform_cancel_grace_s * 3
            return (wf.clock() - heartbeat).total_seconds() <= window
        return False

    async def list_locks(self, guild_id: int, by_user_id: int) -> list[HeldLock]:
        """The guild's held locks, oldest first (anyone who may view)."""
        await self.wf._require(guild_id, by_user_id, "view")
        return [HeldLock(project_id=lock.project_id, project=lock.project or "", session_id=lock.session_id,
                         holder_id=lock.user_id, since=lock.acquired_at or self.wf.clock(), state=lock.state,
                         running=self.terraform_running(lock.session_id, lock.state, lock.heartbeat))
                for lock in await locks.guild_locks(self.wf.db, guild_id)]

    async def unlock(self, guild_id: int, admin_id: int, project_name: str, reason: str) -> UnlockResult:
        """Release `project_name`'s lock (CloudAdmin), ending its holder honestly; refused while Terraform runs."""
        wf = self.wf
        await wf._require(guild_id, admin_id, "admin")
        reason = checked_reason(reason)
        project = await wf.projects.find_project(guild_id, project_name)
        lock = await locks.lock_of(wf.db, project.id)
        if lock is None:
            raise NotFound(what="lock on project", key=project.name)
        session_id, holder = lock.session_id, lock.user_id
        before = lock.state
        if self.terraform_running(session_id, before, lock.heartbeat):
            await wf.reports.record_refusal(guild_id, admin_id, "unlock", f"Terraform is running for session {session_id}",
                                            session_id=session_id)
            raise IllegalTransition(state=before.value if before else "unknown",
                                    event="be unlocked while Terraform is running for it; stop it first "
                                          "(/cloud-admin-cancel), then unlock if the lock stays")
        stop = f"unlocked by an admin: {reason}"
        if before == State.APPLYING:  # nobody runs it: stop what Terraform left, then the state decides
            await wf._stop_orphans({project.id})
            session = await wf.get_session(session_id)
            text = (session.plan_summary or {}).get("text", "apply")
            await wf._settle(session_id, admin_id, error=stop, started=None,
                             message=f"session {session_id} by user {session.user_id}: {text} ({session.purpose})")
        elif before == State.PLANNING:
            await wf._finish(session_id, Event.PLAN_FAILED, admin_id, error=stop)
        elif before is not None and before not in FINAL_STATES:
            await wf._end(session_id, project, Event.CANCEL, admin_id, stop)
        after = (await wf.get_session(session_id)).state if before is not None else None
        async with wf.db.transaction() as conn:
            await locks.release(conn, project_id=project.id, session_id=session_id)
            await write_audit(conn, at=wf.clock(), guild_id=guild_id, actor_id=admin_id, action="unlock",
                              target_type="project", target_id=project.id, from_state=before.value if before else None,
                              to_state=after.value if after else None,
                              detail={"project": project.name, "session": session_id, "holder": holder, "reason": reason})
        return UnlockResult(project=project.name, session_id=session_id, holder_id=holder, previous_state=before,
                            state=after, reason=reason)
