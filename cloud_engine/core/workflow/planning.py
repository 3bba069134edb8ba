"""Plan and approve: the project lock, quotas re-reserved, Terraform's plan judged.

Why apart: the plan is the artefact approval is of; everything that decides whether a plan may
be approved (and by whom) lives here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import aiosqlite

from cloud_engine.core import approvals, permissions, policies, quotas
from cloud_engine.core.approvals import ApprovalRule, ApprovalStatus
from cloud_engine.core.cost import plumbing_change
from cloud_engine.core.deployer import PlanArtifact
from cloud_engine.core.events import SessionEvent
from cloud_engine.core.locks import acquire_project_lock, release_project_lock
from cloud_engine.core.models import Project, ResourceSpec, Role, Session, State
from cloud_engine.core.plan_judgement import plan_summary, quota_needs, unrequested_destruction
from cloud_engine.core.reasons import Rejection, checked_reason
from cloud_engine.core.scanner_policy import ScanJudgement, denial, judge_scan
from cloud_engine.core.state_machine import Event
from cloud_engine.core.suppressions import Suppression
from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.core.workflow.applying import reason_of
from cloud_engine.core.workflow.editing import desired_after
from cloud_engine.errors import (
    EngineError,
    IllegalTransition,
    PolicyViolation,
    ProjectLocked,
    QuotaExceeded,
)
from cloud_engine.store import projects as project_store
from cloud_engine.store import scan_findings as scan_repo
from cloud_engine.store import sessions as session_store
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
        applied = {(r.kind, r.name): r.spec for r in await self.project_resources(session.project_id)}
        return desired_after(applied, session.resources)

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
                if voided := await approvals.void_approvals(conn, session_id):  # a new plan starts from none
                    await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id,
                                      action="session.approvals_voided", target_type="session", target_id=session_id,
                                      detail={"approvals": voided, "reason": "planned again"})
                await session_store.start_run_clock(conn, session_id, now)
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
        applied = [r.spec for r in await self.project_resources(project.id)]
        plumbing = await asyncio.to_thread(plumbing_change, project.catalog_provider, applied, desired,
                                           project_name=project.name, region=project.region)
        summary = plan_summary(artifact)
        summary["plumbing_change"] = plumbing.delta  # in the session's estimate (validating.py), so the lobby's total
        judged = await self._judge_scan(session, project, artifact, guild_policies)
        if judged is not None:
            summary["scan"] = judged.summary
        updates: dict[str, Any] = {"plan_summary": dumps(summary), "plan_fingerprint": artifact.fingerprint,
                                   "plan_created_at": iso(self.clock()), "rejected_by": None, "rejected_reason": None}
        # Approval is of the plan Terraform will run, not of the request: whatever it would destroy
        # that nobody asked to change (plumbing the project no longer needs aside) needs someone who
        # may destroy to approve it; what the scanner policies say of its findings joins the rules.
        found = [*unrequested_destruction(session, artifact, released_plumbing=plumbing.released),
                 *(judged.violations if judged is not None else [])]
        if found:
            updates["violations"] = dumps([*session.violations, *(v.model_dump() for v in found)])
        if asking := [v for v in found if v.action == "require_approval"]:
            updates["needs_approval"] = 1
            stored = await self._stored_rules(session_id)
            updates["approval_rules"] = approvals.rules_dump(
                [*stored, *(r for r in approvals.rules_for(asking, guild_policies)
                            if r.source not in {s.source for s in stored})])
        await self._finish(session_id, Event.PLAN_SUCCEEDED, user_id, updates=updates)
        return await self.get_session(session_id)

    async def _judge_scan(self, session: Session, project: Project, artifact: PlanArtifact,
                          guild_policies: Sequence[policies.Policy]) -> ScanJudgement | None:
        """The plan's findings judged (suppressions, new since the last apply, scanner policies), and stored.

        Every finding of this plan is kept (scan_findings), so the next plan compares with it
        once this session is applied.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            active = [Suppression.of_row(r) for r in await scan_repo.active_suppressions(conn, project.guild_id, now)]
            last = await scan_repo.last_applied_session(conn, project.id, session.id)
            baseline = None
            if last is not None:
                scanned = bool(((loads(last["plan_summary"], {}) or {}).get("scan") or {}).get("scanned"))
                keys = {(str(f["check_id"]), str(f["resource"])) for f in await scan_repo.session_findings(conn, last["id"])}
                baseline = {"session": last["id"], "scanned": scanned, "keys": keys}
            judged = judge_scan(artifact.scan, guild_policies, active, baseline)
            if judged is not None:
                await scan_repo.replace_findings(conn, session_id=session.id, project_id=project.id, findings=judged.rows,
                                                 now=now)
        return judged

    async def _reserve_for_plan(self, conn: aiosqlite.Connection, session: Session, project: Project) -> None:
        """Reserve what the session needs against the project as it is now, inside the plan's transaction.

        Why again: validation measured each edit against the project as it was then. If
        another session since deleted a resource this one edits, the edit now creates it,
        and the unit it needs may already be taken; validation's reservation held none.
        """
        applied = {(r.kind, r.name): r.spec for r in await project_store.resources(conn, project.id)}
        needs = quota_needs(self.catalog, project.provider, session.resources, applied)
        held = session_from_row(await session_row(conn, session.id), []).reservations
        extra = {name: n - held.get(name, 0) for name, n in needs.items() if n > held.get(name, 0)}
        if extra:
            taken = await quotas.reserve(conn, project.guild_id, extra)
            merged = {name: held.get(name, 0) + taken.get(name, 0) for name in held.keys() | taken.keys()}
            await session_store.set_reservations(conn, session.id, merged)

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

    async def _stored_rules(self, session_id: int) -> list[ApprovalRule]:
        """The approval rules validation (and the plan) stored on the session, as stored (no project rule applied)."""
        row = await session_store.raw_session(self.db, session_id)
        return [ApprovalRule.from_json(item) for item in loads(row["approval_rules"] if row else None, []) or []]

    @staticmethod
    def _rules_of(row: dict[str, Any], project: Project) -> list[ApprovalRule]:
        return approvals.session_rules(row["approval_rules"], needs_approval=bool(row["needs_approval"]),
                                       project_must_differ=project.approver_must_differ)

    async def _may_approve(self, session: Session, project: Project, user_id: int, verb: str,
                           discord_roles: Collection[int] = ()) -> Role:
        """Whoever may approve this plan (and so reject it): the role, plus the policies' and the project's rules.

        They must count towards at least one of the plan's approval rules (core/approvals.py).
        """
        role = await self.role(project.guild_id, user_id)
        permissions.require(role, "approve")
        row = await session_store.raw_session(self.db, session.id)
        rules = self._rules_of(row or {"approval_rules": None, "needs_approval": session.needs_approval}, project)
        if refusal := approvals.approval_refusal(rules, role=role, approver_id=user_id, author_id=session.user_id,
                                                 discord_roles=discord_roles,
                                                 needs_approval=session.needs_approval, project_name=project.name,
                                                 verb=verb):
            raise refusal
        return role

    async def approve(self, session_id: int, approver_id: int, *, discord_role_ids: Iterable[int] = ()) -> Session:
        """Record one approval of the current plan; PLAN_READY → APPROVED once every approval rule is met.

        The approval, the count and the transition happen in one transaction (BEGIN IMMEDIATE), so
        two approvers at once are counted one after the other: the second sees the first.
        """
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        discord_roles = frozenset(discord_role_ids)  # what Discord sent with the press (none from the CLI or API)
        role = await self._may_approve(session, project, approver_id, "approving", discord_roles)
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await session_row(conn, session_id)
            if (row["plan_fingerprint"], bool(row["needs_approval"])) != (session.plan_fingerprint,
                                                                          session.needs_approval):
                raise IllegalTransition(state=row["state"], event="approve (the plan changed; review it again)")
            if row["state"] != State.PLAN_READY.value:
                raise IllegalTransition(state=row["state"], event=Event.APPROVE.value)
            if denied := denial(loads(row["violations"], []) or []):  # a scanner policy denies one of its findings
                raise PolicyViolation(policy=denied[0], detail=denied[1])
            rules = self._rules_of(row, project)  # as stored now, inside the transaction that counts
            if refusal := approvals.approval_refusal(rules, role=role, approver_id=approver_id, author_id=session.user_id,
                                                     discord_roles=discord_roles,
                                                     needs_approval=bool(row["needs_approval"]),
                                                     project_name=project.name, verb="approving"):
                raise refusal
            fingerprint = str(row["plan_fingerprint"] or "")
            held = approvals.held_rule_roles(rules, discord_roles)
            if not await approvals.record_approval(conn, session_id, fingerprint, approver_id, role, now, held):
                raise IllegalTransition(state=row["state"], event="count the same approver twice (you already "
                                                                   "approved this plan; another approver is needed)")
            status = ApprovalStatus.of(rules, await approvals.plan_approvals(conn, session_id, fingerprint),
                                       session.user_id)
            if status.complete:
                many = len(status.approvals) > 1
                event = await self._transition(conn, session_id, Event.APPROVE, approver_id, now,
                                               updates={"approved_by": approver_id},
                                               detail={"approvers": list(status.approver_ids)} if many else None)
            else:
                detail = {"approvals": len(status.approvals),
                          "missing": {p.rule.source: p.missing for p in status.progress if not p.met}}
                await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=approver_id,
                                  action="session.approval", target_type="session", target_id=session_id,
                                  detail=detail)
                event = SessionEvent(session_id, project.id, project.guild_id, "approval", State.PLAN_READY.value,
                                     State.PLAN_READY.value, approver_id, now, detail)
        self._publish(event)  # a partial approval re-renders the lobby too ("1 of 2 approvals")
        return await self.get_session(session_id)

    async def approval_status(self, session_id: int) -> ApprovalStatus | None:
        """Where the current plan's approval stands (rules, who approved), while it is PLAN_READY or APPROVED."""
        row = await session_store.raw_session(self.db, check_id(session_id, "session"))
        if row is None or row["state"] not in (State.PLAN_READY.value, State.APPROVED.value):
            return None
        project = await self.get_project(int(row["project_id"]))
        found = await approvals.plan_approvals(self.db, session_id, str(row["plan_fingerprint"] or ""))
        return ApprovalStatus.of(self._rules_of(row, project), found, int(row["user_id"]))

    async def reject(self, session_id: int, user_id: int, reason: str, *,
                     discord_role_ids: Iterable[int] = ()) -> Session:
        """Turn a ready plan down (whoever may approve it may): back to DRAFT with the reason, plan void.

        As after an edit, the plan's reservations and the project lock go with it. The state
        moves with `WHERE state = PLAN_READY`, so an approve racing this reject finds the
        session gone from PLAN_READY (or this one does): exactly one of them happens.
        """
        reason = checked_reason(reason)
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        await self._may_approve(session, project, user_id, "rejecting", frozenset(discord_role_ids))
        now = self.clock()
        async with self.db.transaction() as conn:
            held = session_from_row(await session_row(conn, session_id), []).reservations
            event = await self._transition(conn, session_id, Event.REJECT, user_id, now, detail={"reason": reason},
                                           updates={"reservations": "{}", "rejected_by": user_id,
                                                    "rejected_reason": reason})
            await quotas.release(conn, project.guild_id, held)
            await release_project_lock(conn, project_id=project.id, session_id=session_id)
            await approvals.void_approvals(conn, session_id)  # the rejected plan's approvals go with it
        self._publish(event)
        return await self.get_session(session_id)

    async def rejection(self, session_id: int) -> Rejection | None:
        """Who turned the session's last plan down and why, while it waits in DRAFT for changes; else None."""
        row = await session_store.raw_session(self.db, check_id(session_id, "session"))
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

