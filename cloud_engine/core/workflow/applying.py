"""Apply, and settling every end of an apply with Terraform's state.

Why apart: an apply can end any way at all; whatever ends it, `_settle` records what the state
says was made (docs/architecture.md, "Terraform's state is the truth").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from cloud_engine.core import quotas
from cloud_engine.core.deployer import ReconcileArtifact
from cloud_engine.core.locks import release_project_lock
from cloud_engine.core.models import FINAL_STATES, Project, Session, State
from cloud_engine.core.projects import project_from_row
from cloud_engine.core.state_machine import Event
from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.errors import EngineError, IllegalTransition
from cloud_engine.store import runs, sessions
from cloud_engine.store.rows import iso
from cloud_engine.store.sessions import project_row, session_from_row, session_row

if TYPE_CHECKING:
    from cloud_engine.iac.sinks import OutputSink

log = logging.getLogger(__name__)


HEARTBEAT_S = 2.0  # how often a running apply says it is alive and reads cancel requests
HEARTBEAT_STALE_S = 15.0  # no heartbeat for this long: no process runs the apply any more


class Applying(WorkflowBase):
    """Apply, and settling every end of an apply with Terraform's state."""

    async def apply(self, session_id: int, user_id: int, *, sinks: Sequence[OutputSink] = ()) -> Session:
        """Apply exactly the approved saved plan; APPLYING → APPLIED or FAILED (lock and reservations freed)."""
        session, project, _ = await self._editable(session_id, user_id)
        now = self.clock()
        self._applying.add(session_id)  # before the state says APPLYING, so `cancel` never takes it for stale
        try:
            async with self.db.transaction() as conn:
                event = await self._transition(conn, session_id, Event.APPLY, user_id, now,
                                               updates={"run_heartbeat_at": iso(self.clock_real()),
                                                        "cancel_request": None})
            self._publish(event)
            started = now
            message = (f"session {session_id} by user {user_id}: "
                       f"{(session.plan_summary or {}).get('text', 'apply')} ({session.purpose})")
            ended = asyncio.Event()
            watcher = asyncio.get_running_loop().create_task(self._watch_run(session_id, ended),
                                                             name=f"watch-{session_id}")
            try:
                artifact = await self.deployer.apply(project, session_id=session_id,
                                                     fingerprint=session.plan_fingerprint or "",
                                                     commit_message=message, sinks=sinks)
            except (Exception, asyncio.CancelledError) as exc:
                await _stop_watching(watcher, ended)
                stop = self._stop_reasons.pop(session_id, None)
                error = reason_of(exc) + (f" ({stop})" if stop else "")
                # Shielded: a cancelled task must still record what Terraform did before it stopped.
                await asyncio.shield(self._settle(session_id, user_id, error=error, started=started, message=message))
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return await self.get_session(session_id)
            await _stop_watching(watcher, ended)
            await self._finish(session_id, Event.APPLY_SUCCEEDED, user_id, started=started, commit=artifact.commit_sha,
                               state_json=artifact.state_json, warning="; ".join(artifact.warnings) or None)
        finally:
            self._applying.discard(session_id)
            self._stop_reasons.pop(session_id, None)
        return await self.get_session(session_id)

    async def _watch_run(self, session_id: int, ended: asyncio.Event) -> None:
        """While an apply runs here: say so in the database, and act on cancels asked from any process.

        Why through the database: the CLI, a second bot or an admin tool share the database,
        not this process's memory. They write `cancel_request`; this loop reads it every
        heartbeat and interrupts Terraform as a local cancel would. It stops when `ended` is
        set, never by cancellation, so it is never cut off inside a database transaction.
        """
        while not ended.is_set():
            try:
                asked = await sessions.cancel_request_of(self.db, session_id)
                if asked and session_id not in self._stop_reasons:
                    self._stop_reasons[session_id] = asked
                    await self.deployer.cancel(session_id)
                await sessions.beat(self.db, session_id, self.clock_real())
            except EngineError as exc:  # a busy database: try again at the next beat
                log.warning("run heartbeat skipped", extra={"session_id": session_id, "error": str(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), HEARTBEAT_S)

    @staticmethod
    def clock_real() -> datetime:
        """Wall-clock time for heartbeats: they are compared across processes, never with a test clock."""
        return datetime.now(UTC)

    async def _settle(self, session_id: int, user_id: int, *, error: str, started: datetime | None,
                      message: str) -> None:
        """End an apply that did not finish cleanly with what Terraform's state says it did.

        Every change Terraform made is recorded (with this session as its creator) and
        quotas are recounted from the records, so the next plan neither destroys what exists
        nor lets the quota be taken twice. All made: APPLIED, with the interruption as a
        warning. Otherwise FAILED with "N of M changes were made, now recorded".
        """
        reconcile = getattr(self.deployer, "reconcile", None)
        if reconcile is None:  # a deployer that cannot read state: nothing is known to have changed
            await self._finish(session_id, Event.APPLY_FAILED, user_id, error=error, started=started)
            return
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        before = [r.spec for r in await self.project_resources(project.id)]
        after = await self.desired_resources(session)
        changed = [r.spec.key for r in session.resources]
        try:
            outcome: ReconcileArtifact = await reconcile(
                project, before, after, changed=changed, session_id=session_id,
                commit_message=f"{message} (ended early: {error}; reconciled with the state)")
        except Exception as exc:
            log.error("could not read the state after an interrupted apply", exc_info=exc,
                      extra={"session_id": session_id})
            await self._finish(session_id, Event.APPLY_FAILED, user_id, started=started,
                               error=f"{error}; the state could not be read to see what was made ({reason_of(exc)}):"
                                     " check the project before its next apply")
            return
        statuses = outcome.statuses
        made = sum(1 for s in statuses.values() if s == "made")
        partial = sorted(k for k, s in statuses.items() if s == "partial")
        notes = "; ".join(outcome.warnings)
        if made == len(changed):
            warning = f"{error}, but every change had already been made" + (f"; {notes}" if notes else "")
            await self._finish(session_id, Event.APPLY_SUCCEEDED, user_id, started=started, commit=outcome.commit_sha,
                               state_json=outcome.state_json, warning=warning, statuses=statuses)
            return
        # Nothing made: the error alone is the whole truth (and nothing was recorded).
        detail = f"{error}; {made} of {len(changed)} changes were made, now recorded" if made or partial else error
        if partial:
            detail += f" ({', '.join(partial)} only in part: the next plan completes or reverts them)"
        await self._finish(session_id, Event.APPLY_FAILED, user_id, started=started, commit=outcome.commit_sha,
                           state_json=outcome.state_json, error=detail + (f"; {notes}" if notes else ""),
                           statuses=statuses)

    def start_apply(self, session_id: int, user_id: int, *, sinks: Sequence[OutputSink] = ()) -> asyncio.Task[Session]:
        return self._own_task(session_id, self.apply(session_id, user_id, sinks=sinks))

    async def _finish(self, session_id: int, event_name: Event, user_id: int, *, error: str | None = None,
                      updates: dict[str, Any] | None = None, started: datetime | None = None, commit: str | None = None,
                      state_json: str | None = None, warning: str | None = None,
                      statuses: dict[str, str] | None = None) -> None:
        """Record the outcome of a plan or apply; a session cancelled meanwhile keeps its CANCELLED state.

        `statuses` ("kind/name" → made, not_made, partial) says which changes an apply that
        ended early really made; without it a success made them all and a failure none.

        `warning` is for a run that succeeded with something left undone: it is kept in the
        session's `error` column (shown as a warning beside the APPLIED state) and audited.
        """
        now = self.clock()
        try:
            async with self.db.transaction() as conn:
                session = session_from_row(await session_row(conn, session_id), [])
                project = project_from_row(await project_row(conn, session.project_id))
                fields = {**(updates or {}), "cancel_request": None, "run_heartbeat_at": None}
                if error is not None or warning is not None:
                    fields["error"] = (error or warning or "")[:1500]
                detail = {"error": error} if error else {"warning": warning} if warning else {}
                event = await self._transition(conn, session_id, event_name, user_id, now, updates=fields,
                                               detail=detail)
                # Which changes to record: all after a success, none after a plain failure, or what
                # the state says an apply that ended early made (recording frees reservations and lock).
                made = statuses if statuses is not None else {} if event_name == Event.APPLY_FAILED else None
                recording = event_name in (Event.APPLY_SUCCEEDED, Event.APPLY_FAILED) and made != {}
                if event_name in (Event.PLAN_FAILED, Event.APPLY_FAILED) and not recording:
                    await quotas.release(conn, project.guild_id, session.reservations)
                    await release_project_lock(conn, project_id=project.id, session_id=session_id)
                if event_name in (Event.APPLY_SUCCEEDED, Event.APPLY_FAILED):
                    resources = await self._record_apply(conn, session, project, made, commit, state_json, now) \
                        if recording else []
                    await runs.record_history(conn, session, project_id=project.id, outcome=event.to_state,
                                              summary={"plan": session.plan_summary, "error": error,
                                                       "resources": resources},
                                              commit_sha=commit, started_at=started or now, finished_at=now)
        except IllegalTransition:
            log.info("run finished after the session moved on", extra={"session_id": session_id, "event": event_name.value})
            async with self.db.transaction() as conn:
                row = await session_row(conn, session_id)
                if State(row["state"]) in FINAL_STATES:
                    await release_project_lock(conn, project_id=row["project_id"], session_id=session_id)
            return
        self._publish(event)

    async def _record_apply(self, conn: aiosqlite.Connection, session: Session, project: Project,
                            statuses: dict[str, str] | None, commit: str | None, state_json: str | None,
                            now: datetime) -> list[dict[str, Any]]:
        """After an apply: the changes it made recorded, quotas recounted, lock freed, state snapshot kept.

        `statuses` None means every change was made. A change made only in part is recorded
        as asked when it creates or edits (the resource exists in some form, so the engine
        must own it) and kept as it was when it deletes (something of it still exists).
        """
        for ch in await sessions.change_rows(conn, session.id):
            status = "made" if statuses is None else statuses.get(f"{ch['kind']}/{ch['name']}", "not_made")
            if status == "not_made" or (status == "partial" and ch["action"] != "upsert"):
                continue
            if ch["action"] != "upsert":
                await runs.forget_resource(conn, project.id, (ch["kind"], ch["name"]))
            else:
                await runs.record_resource(conn, project.id, ch, session_id=session.id, now=now)
        await quotas.release(conn, project.guild_id, session.reservations)
        await self.governance.recount_quotas(conn, project.guild_id)
        await release_project_lock(conn, project_id=project.id, session_id=session.id)
        if state_json is not None:
            await runs.snapshot_state(conn, project.id, session.id, commit_sha=commit, state_json=state_json, now=now)
        return await runs.recorded_specs(conn, project.id)


async def _stop_watching(watcher: asyncio.Task[None], ended: asyncio.Event) -> None:
    """End a run's watcher and wait for it (shielded: a cancelled apply still stops it cleanly)."""
    ended.set()
    await asyncio.shield(asyncio.gather(watcher, return_exceptions=True))


def reason_of(exc: BaseException) -> str:
    """The error a failed run records; an unexpected exception is logged with its traceback."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if not isinstance(exc, EngineError | OSError):
        log.error("unexpected error in a plan or apply", exc_info=exc)
        return f"internal error ({type(exc).__name__}: {exc})" if str(exc) else f"internal error ({type(exc).__name__})"
    return str(exc) or type(exc).__name__

