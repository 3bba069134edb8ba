"""Drift: does the real infrastructure still match what each project applied?

Atlantis leaves this open (#3245) and HCP sells it as "health assessments". A check plans
the project's applied configuration (its `project_resources`, as the last apply left them)
against Terraform's state: any change means the world moved away from what was applied
(in the sandbox: state edited out of band, e.g. `terraform state rm`). A finding is kept as
one open report per project, audited as `drift.found` (so subscribers are notified once,
cloud_engine/notify) and re-reported only when the drift itself changes. It ends when an
admin dismisses it (with a reason), when someone reconciles it (a normal session that
re-applies the desired configuration: validated, planned and approved like any other), or
when a later check finds nothing.

A project whose lock is held is skipped: the session holding it has planned files in the
root that its apply will check for staleness (TerraformDeployer.check_drift).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import aiosqlite

from cloud_engine.core.access import SYSTEM_USER
from cloud_engine.core.models import Project, Session
from cloud_engine.core.reasons import checked_reason
from cloud_engine.errors import IllegalTransition, NotFound
from cloud_engine.store import drift as drift_store
from cloud_engine.store import locks, projects
from cloud_engine.store.audit import write_audit
from cloud_engine.store.rows import check_id, loads, parse_dt

if TYPE_CHECKING:
    from cloud_engine.core.orchestrator import CloudOrchestrator

__all__ = ["DriftCheck", "DriftReport", "DriftService", "DriftedResource"]

Outcome = Literal["clean", "drifted", "busy", "nothing_applied"]


@dataclass(frozen=True)
class DriftedResource:
    """One address whose state no longer matches the applied configuration."""

    address: str
    action: str  # what a plan would do to bring it back: create, update, replace, delete
    resource: str | None  # "kind/name" of the user resource, when known
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DriftReport:
    id: int
    project_id: int
    project: str
    found_at: datetime
    status: Literal["open", "dismissed", "reconciling", "resolved"]
    changes: tuple[DriftedResource, ...]
    session_id: int | None = None
    closed_by: int | None = None
    closed_reason: str | None = None

    def summary(self, limit: int = 5) -> str:
        """`vm/api-1: create, ...` for the first `limit` drifted resources."""
        parts = [f"{c.resource or c.address}: {c.action}" + (f" ({', '.join(c.attributes[:4])})" if c.attributes else "")
                 for c in self.changes[:limit]]
        more = len(self.changes) - limit
        return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class DriftCheck:
    project: str
    outcome: Outcome
    report: DriftReport | None = None
    new: bool = False  # a new or changed drift, announced to subscribers


class DriftService:
    def __init__(self, engine: CloudOrchestrator) -> None:
        self.engine = engine
        self.db = engine.db

    async def check(self, guild_id: int, user_id: int, project_name: str) -> DriftCheck:
        """On demand (`/cloud-drift`): any CloudUser may ask; the check changes nothing."""
        await self.engine.access.require(guild_id, user_id, "deploy")
        return await self.check_project(await self.engine.find_project(guild_id, project_name), user_id)

    async def check_all(self) -> list[DriftCheck]:
        """The scheduled round: every live project that has applied something."""
        ids = await projects.live_projects_with_resources(self.db)
        return [await self.check_project(await self.engine.get_project(project_id)) for project_id in ids]

    async def check_project(self, project: Project, actor_id: int = SYSTEM_USER) -> DriftCheck:
        applied = [r.spec for r in await self.engine.project_resources(project.id)]
        if not applied:
            return DriftCheck(project.name, "nothing_applied")

        async def still_free() -> bool:
            return not await locks.is_locked(self.db, project.id)

        artifact = await self.engine.deployer.check_drift(project, applied, still_free=still_free)
        if artifact is None:
            return DriftCheck(project.name, "busy")
        drifted = _drifted(artifact.result.changes, artifact.logical, sandbox=project.target == "sandbox")
        now = self.engine.clock()
        async with self.db.transaction() as conn:
            # the current report: open, or being reconciled by a session that has not applied yet
            open_row = await drift_store.current_row(conn, project.id)
            if not drifted:
                if open_row is not None:
                    await self._close(conn, open_row["id"], "resolved", actor_id, "a later check found no drift", now,
                                      project)
                return DriftCheck(project.name, "clean")
            fingerprint = hashlib.sha256(json.dumps([c.__dict__ for c in drifted], sort_keys=True,
                                                    default=list).encode()).hexdigest()
            if open_row is not None and open_row["fingerprint"] == fingerprint:
                return DriftCheck(project.name, "drifted", _report(dict(open_row), project.name))
            if open_row is not None:
                await self._close(conn, open_row["id"], "resolved", actor_id, "superseded by a newer check", now,
                                  project)
            report_id = await drift_store.insert(conn, project.id, found_at=now,
                                                 changes=[c.__dict__ for c in drifted], fingerprint=fingerprint)
            report = DriftReport(report_id, project.id, project.name, now, "open", tuple(drifted))
            await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=actor_id, action="drift.found",
                              target_type="project", target_id=project.id,
                              detail={"report_id": report_id, "resources": len(drifted), "summary": report.summary()})
        return DriftCheck(project.name, "drifted", report, new=True)

    async def get(self, guild_id: int, report_id: int) -> DriftReport:
        row = await drift_store.report_row(self.db, guild_id, check_id(report_id, "drift report"))
        if row is None:
            raise NotFound(what="drift report", key=report_id)
        return _report(row, row["project"])

    async def dismiss(self, guild_id: int, user_id: int, report_id: int, reason: str) -> DriftReport:
        """A CloudAdmin says the drift is intended (e.g. changed in the console on purpose); audited."""
        await self.engine.access.require(guild_id, user_id, "admin")
        reason = checked_reason(reason)
        report = await self._open(guild_id, report_id)
        project = await self.engine.get_project(report.project_id)
        async with self.db.transaction() as conn:
            await self._close(conn, report.id, "dismissed", user_id, reason, self.engine.clock(), project)
        return await self.get(guild_id, report_id)

    async def reconcile(self, guild_id: int, user_id: int, report_id: int) -> Session:
        """Open a session that re-applies the project's desired configuration; it is planned and approved as usual."""
        await self.engine.access.require(guild_id, user_id, "deploy")
        report = await self._open(guild_id, report_id)
        session = await self.engine.start_session(report.project_id, user_id, purpose=f"reconcile drift #{report.id}")
        # The session re-applies each drifted resource as it was applied (an edit to the same spec), so
        # validation, quotas, policies and the plan judge it as any other change; a drifted address no
        # user resource owns (a provider's plumbing) brings back the whole applied configuration.
        applied = {f"{r.kind}/{r.name}": r.spec for r in await self.engine.project_resources(report.project_id)}
        named = [c.resource for c in report.changes if c.resource in applied]
        try:
            for key in dict.fromkeys(named if len(named) == len(report.changes) else applied):
                await self.engine.add_resource(session.id, user_id, applied[key])
        except Exception:
            await self.engine.cancel(session.id, user_id, reason=f"reconciling drift #{report.id} failed")
            raise
        now = self.engine.clock()
        async with self.db.transaction() as conn:
            if not await drift_store.start_reconciling(conn, report.id, session_id=session.id, user_id=user_id, now=now):
                raise IllegalTransition(state="closed", event="reconcile (someone else closed this drift)")
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=user_id, action="drift.reconcile",
                              target_type="project", target_id=report.project_id,
                              detail={"report_id": report.id, "session_id": session.id})
        return session

    async def _open(self, guild_id: int, report_id: int) -> DriftReport:
        report = await self.get(guild_id, report_id)
        if report.status != "open":
            raise IllegalTransition(state=report.status, event="act on (this drift report is closed)")
        return report

    async def _close(self, conn: aiosqlite.Connection, report_id: int, status: str, user_id: int, reason: str,
                     now: datetime, project: Project) -> None:
        await drift_store.close(conn, report_id, status=status, user_id=user_id, reason=reason, now=now)
        await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action=f"drift.{status}",
                          target_type="project", target_id=project.id, detail={"report_id": report_id, "reason": reason})


def _drifted(changes: Any, logical: list[dict[str, Any]], *, sandbox: bool) -> list[DriftedResource]:
    """Per address what a plan would do; in the sandbox, per user resource (the mirror's own addresses mean nothing)."""
    if sandbox:
        return [DriftedResource(address=f"{c['kind']}/{c['name']}", action=str(c["action"]),
                                resource=f"{c['kind']}/{c['name']}") for c in logical]
    by_address = {str(c.get("address")): c for c in logical}
    return [DriftedResource(address=c.address, action=c.action, resource=by_address.get(c.address, {}).get("resource"),
                            attributes=tuple(c.changed_attributes))
            for c in changes if c.action not in ("no-op", "read")]


def _report(row: dict[str, Any], project: str) -> DriftReport:
    changes = tuple(DriftedResource(address=c["address"], action=c["action"], resource=c.get("resource"),
                                    attributes=tuple(c.get("attributes") or ())) for c in loads(row["changes"], []))
    found = parse_dt(row["found_at"])
    assert found is not None  # NOT NULL column
    return DriftReport(row["id"], row["project_id"], project, found, row["status"], changes,
                       row["session_id"], row["closed_by"], row["closed_reason"])
