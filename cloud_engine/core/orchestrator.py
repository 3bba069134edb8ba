"""CloudOrchestrator: the only way a deployment session changes state.

Every public method checks who is asking (roles, just-in-time grants, authorship), then
performs at most one state transition through `_transition`, which checks the table,
writes the new state and an audit row in the same transaction, and publishes an event
once the transaction has committed. Terraform work happens through a `Deployer` outside
any transaction; its outcome is recorded by a second transition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiosqlite

from cloud_engine.core import catalog_checks, permissions, policies, quotas, validation
from cloud_engine.core.access import SYSTEM_USER, AccessService
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.deployer import Deployer, PlanArtifact, ReconcileArtifact
from cloud_engine.core.events import EventBus, SessionEvent
from cloud_engine.core.governance import GovernanceService
from cloud_engine.core.locks import acquire_project_lock, release_project_lock
from cloud_engine.core.models import (
    FINAL_STATES,
    CostLine,
    Project,
    ResourceSpec,
    Role,
    Session,
    SessionResource,
    State,
    ValidationResult,
    Violation,
)
from cloud_engine.core.policies import Policy, PolicyContext, PolicySpec
from cloud_engine.core.projects import ProjectService, project_from_row
from cloud_engine.core.ratelimit import RateLimiter
from cloud_engine.core.reports import Reports
from cloud_engine.core.state_machine import Event, next_state
from cloud_engine.data.catalog import Catalog, load_catalog
from cloud_engine.errors import (
    EngineError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ProjectLocked,
    QuotaExceeded,
)
from cloud_engine.settings import Settings
from cloud_engine.store.audit import write_audit
from cloud_engine.store.database import Database
from cloud_engine.store.rows import check_id, dumps, iso, loads, parse_dt

if TYPE_CHECKING:
    from cloud_engine.iac.output import OutputSink

log = logging.getLogger(__name__)
_COMMIT_PREFIX = re.compile(r"[0-9a-f]{7,40}")
_HEARTBEAT_S = 2.0  # how often a running apply says it is alive and reads cancel requests
_HEARTBEAT_STALE_S = 15.0  # no heartbeat for this long: no process runs the apply any more


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CloudOrchestrator:
    """Owns the deployment state machine; cogs, the CLI and tests all call this."""

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
        self._tasks: dict[int, asyncio.Task[Session]] = {}
        self._stop_reasons: dict[int, str] = {}  # why a running apply was interrupted, for its FAILED reason
        self._applying: set[int] = set()  # sessions whose apply runs in this process

    # ------------------------------------------------------------------ wiring
    @property
    def deployer(self) -> Deployer:
        """The Terraform deployer, built on first use so core-only callers never touch Terraform."""
        if self._deployer is None:
            from cloud_engine.iac.deployer import TerraformDeployer

            self._deployer = TerraformDeployer(self.settings)
        return self._deployer

    # ------------------------------------------------------------------ access, governance, reports
    # Delegated to their own services (access.py, governance.py, reports.py); these names
    # are the documented API (docs/api.md) and stay here.
    @property
    def admin_ids(self) -> frozenset[int]:
        return self.access.admin_ids

    @admin_ids.setter
    def admin_ids(self, ids: frozenset[int]) -> None:
        self.access.admin_ids = ids

    async def role(self, guild_id: int, user_id: int) -> Role:
        return await self.access.role(guild_id, user_id)

    async def _require(self, guild_id: int, user_id: int, action: str) -> Role:
        return await self.access.require(guild_id, user_id, action)

    async def sync_discord_admin(self, guild_id: int, user_id: int) -> None:
        await self.access.sync_discord_admin(guild_id, user_id)

    async def grant(self, guild_id: int, by_user_id: int, user_id: int, role: str, *,
                    expires_at: datetime | None = None, duration: timedelta | None = None) -> dict[str, Any]:
        return await self.access.grant(guild_id, by_user_id, user_id, role, expires_at=expires_at, duration=duration)

    async def revoke(self, guild_id: int, by_user_id: int, user_id: int) -> bool:
        return await self.access.revoke(guild_id, by_user_id, user_id)

    async def list_grants(self, guild_id: int, by_user_id: int) -> list[dict[str, Any]]:
        return await self.access.list_grants(guild_id, by_user_id)

    async def set_quota(self, guild_id: int, by_user_id: int, name: str, limit: int) -> None:
        await self.governance.set_quota(guild_id, by_user_id, name, limit)

    async def quota_usage(self, guild_id: int) -> list[dict[str, Any]]:
        return await self.governance.quota_usage(guild_id)

    async def add_policy(self, guild_id: int, by_user_id: int, spec: PolicySpec) -> Policy:
        return await self.governance.add_policy(guild_id, by_user_id, spec)

    async def list_policies(self, guild_id: int) -> list[Policy]:
        return await self.governance.list_policies(guild_id)

    async def remove_policy(self, guild_id: int, by_user_id: int, name: str) -> bool:
        return await self.governance.remove_policy(guild_id, by_user_id, name)

    async def budget_alerts(self, project_id: int) -> list[dict[str, Any]]:
        return await self.governance.budget_alerts(project_id)

    async def stats(self, guild_id: int) -> dict[str, Any]:
        return await self.reports.stats(guild_id)

    async def audit(self, guild_id: int, by_user_id: int, *, limit: int = 20, actor_id: int | None = None,
                    action: str | None = None) -> list[dict[str, Any]]:
        return await self.reports.audit(guild_id, by_user_id, limit=limit, actor_id=actor_id, action=action)

    async def record_refusal(self, guild_id: int, user_id: int, action: str, reason: str,
                             session_id: int | None = None) -> None:
        await self.reports.record_refusal(guild_id, user_id, action, reason, session_id)

    # ------------------------------------------------------------------ projects (projects.py)
    async def create_project(self, guild_id: int, user_id: int, *, name: str, provider: str, region: str,
                             budget_monthly: float = 0.0, target: str | None = None,
                             approver_must_differ: bool | None = None, alert_thresholds: Sequence[int] = (50, 80, 100),
                             backend: dict[str, Any] | None = None) -> Project:
        """Create a project: one Terraform root whose resources outlive sessions."""
        return await self.projects.create_project(
            guild_id, user_id, name=name, provider=provider, region=region, budget_monthly=budget_monthly,
            target=target, approver_must_differ=approver_must_differ, alert_thresholds=alert_thresholds,
            backend=backend)

    async def get_project(self, project_id: int) -> Project:
        return await self.projects.get_project(project_id)

    async def find_project(self, guild_id: int, name: str) -> Project:
        return await self.projects.find_project(guild_id, name)

    async def list_projects(self, guild_id: int, *, include_archived: bool = False) -> list[Project]:
        return await self.projects.list_projects(guild_id, include_archived=include_archived)

    async def archive_project(self, project_id: int, user_id: int) -> Project:
        return await self.projects.archive_project(project_id, user_id)

    async def project_resources(self, project_id: int) -> list[SessionResource]:
        """The project's applied resources (its desired configuration after the last apply)."""
        return await self.projects.project_resources(project_id)

    async def history(self, project_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
        return await self.projects.history(project_id, limit=limit)

    # ------------------------------------------------------------------ sessions
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
            async with conn.execute(
                "INSERT INTO deployment_sessions (project_id, guild_id, user_id, purpose, state, created_at, updated_at,"
                " last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (project_id, project.guild_id, user_id, purpose, State.DRAFT.value, iso(now), iso(now), iso(now))) as cur:
                session_id = cur.lastrowid
            await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action="start_session",
                              target_type="session", target_id=session_id, to_state=State.DRAFT.value,
                              detail={"project": project.name, "purpose": purpose})
        self._publish(SessionEvent(session_id, project_id, project.guild_id, "start", None, State.DRAFT.value, user_id, now))
        return await self.get_session(session_id)

    async def get_session(self, session_id: int) -> Session:
        row = await self.db.fetchone("SELECT * FROM deployment_sessions WHERE id = ?", (check_id(session_id, "session"),))
        if row is None:
            raise NotFound(what="session", key=session_id)
        res = await self.db.fetchall("SELECT * FROM session_resources WHERE session_id = ? ORDER BY id", (session_id,))
        return _session(row, res)

    async def list_sessions(self, guild_id: int, *, user_id: int | None = None, states: Sequence[State] | None = None,
                            project_id: int | None = None, limit: int = 50) -> list[Session]:
        wanted = [s.value for s in (states or list(State))]
        marks = ",".join("?" for _ in wanted)
        rows = await self.db.fetchall(
            f"SELECT * FROM deployment_sessions WHERE guild_id = ? AND (? IS NULL OR user_id = ?)"  # noqa: S608 - marks only
            f" AND (? IS NULL OR project_id = ?) AND state IN ({marks}) ORDER BY id DESC LIMIT ?",
            (guild_id, user_id, user_id, project_id, project_id, *wanted, limit))
        return [_session(r, []) for r in rows]

    async def set_lobby_message(self, session_id: int, *, channel_id: int, message_id: int | None = None,
                                thread_id: int | None = None) -> None:
        """Remember where the session's lobby lives so restarts and events can find it."""
        await self.db.execute(
            "UPDATE deployment_sessions SET channel_id = ?, message_id = COALESCE(?, message_id),"
            " thread_id = COALESCE(?, thread_id) WHERE id = ?", (channel_id, message_id, thread_id, session_id))

    async def _editable(self, session_id: int, user_id: int) -> tuple[Session, Project, Role]:
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        role = await self.role(project.guild_id, user_id)
        permissions.require(role, "deploy")
        if session.user_id != user_id and not role >= Role.ADMIN:
            raise PermissionDenied(action="changing someone else's session", required=Role.ADMIN.value, role=role.value)
        return session, project, role

    async def add_resource(self, session_id: int, user_id: int, spec: ResourceSpec) -> SessionResource:
        """Add or edit a resource in the session (an existing project resource of that name is updated)."""
        session, project, role = await self._editable(session_id, user_id)
        spec = catalog_checks.normalize(self.catalog, project.provider, project.region, spec)
        reasons = permissions.resource_limits(role, spec.kind, catalog_checks.size_class(self.catalog, project.provider, spec))
        if reasons:
            raise PermissionDenied(action=f"{spec.kind} {spec.name}: {'; '.join(reasons)}", required=Role.ADMIN.value,
                                   role=role.value)
        cost = self.costs.estimate(project.provider, project.region, spec)
        await self._change_resources(session, project, user_id, "add_resource", spec, "upsert", cost.monthly)
        return SessionResource(kind=spec.kind, name=spec.name, action="upsert", spec=spec, cost_monthly=cost.monthly)

    async def remove_resource(self, session_id: int, user_id: int, kind: str, name: str) -> None:
        """Drop a resource added in this session, or mark an applied project resource for destruction."""
        session, project, role = await self._editable(session_id, user_id)
        in_session = any(r.kind == kind and r.name == name and r.action == "upsert" for r in session.resources)
        applied = {(r.kind, r.name): r for r in await self.project_resources(project.id)}
        if (kind, name) in applied and not in_session:
            permissions.require(role, "destroy")
            await self._change_resources(session, project, user_id, "destroy_resource", applied[(kind, name)].spec,
                                         "delete", 0.0)
        elif in_session:
            await self._change_resources(session, project, user_id, "remove_resource", None, "delete", 0.0,
                                         drop=(kind, name))
        else:
            raise NotFound(what="resource", key=f"{kind}/{name}")

    async def _change_resources(self, session: Session, project: Project, user_id: int, action: str,
                                spec: ResourceSpec | None, change: str, cost: float,
                                drop: tuple[str, str] | None = None) -> None:
        now = self.clock()
        event = None
        async with self.db.transaction() as conn:
            if spec is not None:  # counted inside the writing transaction, so racing adds cannot pass the cap
                await _check_session_cap(conn, session.id, spec.key)
            current = await _state_of(conn, session.id)
            if current == State.PLAN_READY:
                # The plan is void: its quota reservations and the project lock go with it, and
                # the next validate reserves for the edited resources.
                held = _session(await _row(conn, session.id), []).reservations
                event = await self._transition(conn, session.id, Event.EDIT, user_id, now, detail={"reason": action},
                                               updates={"reservations": "{}"})
                await quotas.release(conn, project.guild_id, held)
                await release_project_lock(conn, project_id=project.id, session_id=session.id)
            elif current != State.DRAFT:
                raise IllegalTransition(state=current.value, event="edit resources")
            if drop is not None:
                await conn.execute("DELETE FROM session_resources WHERE session_id = ? AND kind = ? AND name = ?",
                                   (session.id, *drop))
                detail = {"kind": drop[0], "name": drop[1]}
            else:
                assert spec is not None
                await conn.execute(
                    "INSERT INTO session_resources (session_id, kind, name, action, spec, cost_monthly, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, kind, name) DO UPDATE SET"
                    " action = excluded.action, spec = excluded.spec, cost_monthly = excluded.cost_monthly",
                    (session.id, spec.kind, spec.name, change, dumps(spec.to_json()), cost, iso(now)))
                detail = {"kind": spec.kind, "name": spec.name, "action": change, "cost_monthly": cost}
            await conn.execute("UPDATE deployment_sessions SET last_activity_at = ?, updated_at = ?, violations = '[]'"
                               " WHERE id = ?", (iso(now), iso(now), session.id))
            await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action=action,
                              target_type="session", target_id=session.id, detail=detail)
        if event:
            self._publish(event)
        self._publish(SessionEvent(session.id, project.id, project.guild_id, action, None, None, user_id, now, detail))

    # ------------------------------------------------------------------ validate
    async def validate(self, session_id: int, user_id: int) -> ValidationResult:
        """Check permissions, quotas (reserved atomically), policies and budget; DRAFT → PLANNING or back to DRAFT."""
        session, project, _ = await self._editable(session_id, user_id)
        if not session.resources:
            raise InvalidInput(field="resources", rule="the session has no resource changes yet; add one first")
        now = self.clock()
        async with self.db.transaction() as conn:
            event = await self._transition(conn, session_id, Event.VALIDATE, user_id, now)
        self._publish(event)
        try:
            # Read again now that the session is VALIDATING: an edit that committed after the
            # read above would otherwise be planned without having been checked.
            session = await self.get_session(session_id)
            result = await self._evaluate(session, project, user_id)
        except Exception:
            async with self.db.transaction() as conn:
                failed = await self._transition(conn, session_id, Event.VALIDATION_FAILED, user_id, self.clock(),
                                                detail={"error": "validation crashed"})
            self._publish(failed)
            raise
        blocking = [v for v in result.violations if v.action == "deny"]
        now = self.clock()
        async with self.db.transaction() as conn:
            # Whatever the row still holds is replaced, never overwritten while reserved.
            await quotas.release(conn, project.guild_id, _session(await _row(conn, session_id), []).reservations)
            reservations: dict[str, int] = {}
            if not blocking:
                try:
                    reservations = await quotas.reserve(conn, project.guild_id, result.reservations)
                except QuotaExceeded as exc:
                    blocking.append(Violation(policy="guild-quota", type="quota", action="deny", resource=None,
                                              message=exc.message, priority=0))
            violations = [*blocking, *[v for v in result.violations if v.action != "deny"], *result.warnings]
            event_name = Event.VALIDATION_FAILED if blocking else Event.VALIDATION_PASSED
            final = await self._transition(
                conn, session_id, event_name, user_id, now,
                detail={"violations": len(blocking), "cost_monthly": result.cost_monthly},
                updates={"reservations": dumps(reservations), "cost_monthly": result.cost_monthly,
                         "violations": dumps([v.model_dump() for v in violations]),
                         "needs_approval": int(result.needs_approval)})
            if not blocking:  # a refused attempt spends no alert: the month's real crossing must still be told
                await self.governance.record_budget_alerts(conn, project, result.project_monthly_after, session_id, now)
        self._publish(final)
        return result.model_copy(update={"ok": not blocking, "violations": blocking + [
            v for v in result.violations if v.action != "deny"], "reservations": reservations,
            "state": State(final.to_state)})

    async def _evaluate(self, session: Session, project: Project, user_id: int) -> ValidationResult:
        role = await self.role(project.guild_id, user_id)
        applied = {(r.kind, r.name): r for r in await self.project_resources(project.id)}
        violations: list[Violation] = []
        lines: list[CostLine] = []
        upserts = [r.spec for r in session.resources if r.action == "upsert"]
        needs = _quota_needs(self.catalog, project.provider, session.resources,
                             {key: r.spec for key, r in applied.items()})
        for res in session.resources:
            spec = res.spec
            size = catalog_checks.size_class(self.catalog, project.provider, spec)
            for reason in permissions.resource_limits(role, spec.kind, size, deleting=res.action == "delete"):
                violations.append(Violation(policy="builtin:role-limits", type="permission", action="deny",
                                            resource=f"{spec.kind}/{spec.name}", message=reason, priority=0))
            if res.action == "upsert":
                lines.append(self.costs.estimate(project.provider, project.region, spec))
        policy_rows = await self.list_policies(project.guild_id)
        costs = {line.resource: line.monthly for line in lines}
        changed = {r.spec.key for r in session.resources}
        # Per-resource policies judge what this session changes; count and cost policies judge the
        # project as it would be after it, or splitting resources over sessions would evade them.
        kept = [r for k, r in applied.items() if k not in changed]
        after = PolicyContext(resources=[*(r.spec for r in kept), *upserts], role=role,
                              costs={**{f"{r.kind}/{r.name}": r.cost_monthly for r in kept}, **costs})
        violations += [v for v in policies.evaluate(policy_rows, PolicyContext(resources=upserts, role=role, costs=costs))
                       if v.resource is not None]
        violations += [v for v in policies.evaluate(policy_rows, after) if v.resource is None]
        session_cost = round(sum(costs.values()), 2)
        project_after = round(sum(r.cost_monthly for k, r in applied.items() if k not in changed) + session_cost, 2)
        if project.budget_monthly > 0 and project_after > project.budget_monthly:
            violations.append(Violation(policy="project-budget", type="cost", action="deny", resource=None, priority=0,
                                        message=f"project {project.name} would cost ${project_after:,.2f}/month, over its "
                                                f"budget of ${project.budget_monthly:,.2f}"))
        warnings = [v for v in violations if v.action == "warn"]
        return ValidationResult(
            ok=not any(v.action == "deny" for v in violations),
            violations=[v for v in violations if v.action != "warn"], warnings=warnings,
            needs_approval=any(v.action == "require_approval" for v in violations),
            cost_monthly=session_cost, cost_lines=lines, project_monthly_after=project_after,
            budget_monthly=project.budget_monthly, reservations={k: v for k, v in needs.items() if v > 0},
            state=State.VALIDATING)

    async def _budget_overrun(self, session: Session, project: Project) -> str | None:
        """The budget, checked again once the plan holds the project lock; why it is exceeded, or None.

        Why again: validation saw the project as it was then. Another session may have
        applied since (it held the lock until its apply ended), so two sessions that each fit
        the budget alone could otherwise both be applied.
        """
        if project.budget_monthly <= 0:
            return None
        changed = {r.spec.key for r in session.resources}
        applied = await self.project_resources(project.id)
        after = round(sum(r.cost_monthly for r in applied if (r.kind, r.name) not in changed) + session.cost_monthly, 2)
        if after <= project.budget_monthly:
            return None
        return (f"project {project.name} would now cost ${after:,.2f}/month, over its budget of "
                f"${project.budget_monthly:,.2f} (changes applied since this session was validated); "
                "edit the session and validate again")

    # ------------------------------------------------------------------ plan / approve / apply
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
                if (current := await _state_of(conn, session_id)) != State.PLANNING:  # e.g. cancelled since the read
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
            await self._finish(session_id, Event.PLAN_FAILED, user_id, error=_reason(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
            return await self.get_session(session_id)
        summary = _plan_summary(artifact)
        updates: dict[str, Any] = {"plan_summary": dumps(summary), "plan_fingerprint": artifact.fingerprint,
                                   "plan_created_at": iso(self.clock())}
        if unasked := _unrequested_destruction(session, artifact):
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
        needs = _quota_needs(self.catalog, project.provider, session.resources, applied)
        held = _session(await _row(conn, session.id), []).reservations
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
            held = _session(await _row(conn, session_id), []).reservations
            event = await self._transition(conn, session_id, Event.PLAN_REFUSED, user_id, now,
                                           updates={"reservations": "{}", "error": str(exc)[:1500]},
                                           detail={"reason": str(exc)})
            await quotas.release(conn, project.guild_id, held)
        self._publish(event)

    async def approve(self, session_id: int, approver_id: int) -> Session:
        session = await self.get_session(session_id)
        project = await self.get_project(session.project_id)
        role = await self.role(project.guild_id, approver_id)
        permissions.require(role, "approve")
        if session.needs_approval and not role >= Role.ADMIN:
            raise PermissionDenied(action="approving a plan that a policy marked require_approval",
                                   required=Role.ADMIN.value, role=role.value)
        if project.approver_must_differ and approver_id == session.user_id:
            raise PermissionDenied(action=f"approving your own plan in project {project.name}",
                                   required="an approver other than the author", role=role.value)
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await _row(conn, session_id)
            if (row["plan_fingerprint"], bool(row["needs_approval"])) != (session.plan_fingerprint,
                                                                          session.needs_approval):
                raise IllegalTransition(state=row["state"], event="approve (the plan changed; review it again)")
            event = await self._transition(conn, session_id, Event.APPROVE, approver_id, now,
                                           updates={"approved_by": approver_id})
        self._publish(event)
        return await self.get_session(session_id)

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
                error = _reason(exc) + (f" ({stop})" if stop else "")
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
                row = await self.db.fetchone("SELECT cancel_request FROM deployment_sessions WHERE id = ?", (session_id,))
                if row and row["cancel_request"] and session_id not in self._stop_reasons:
                    self._stop_reasons[session_id] = row["cancel_request"]
                    await self.deployer.cancel(session_id)
                await self.db.execute("UPDATE deployment_sessions SET run_heartbeat_at = ? WHERE id = ?",
                                      (iso(self.clock_real()), session_id))
            except EngineError as exc:  # a busy database: try again at the next beat
                log.warning("run heartbeat skipped", extra={"session_id": session_id, "error": str(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), _HEARTBEAT_S)

    @staticmethod
    def clock_real() -> datetime:
        """Wall-clock time for heartbeats: they are compared across processes, never with a test clock."""
        return _utcnow()

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
                               error=f"{error}; the state could not be read to see what was made ({_reason(exc)}):"
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

    def start_plan(self, session_id: int, user_id: int, *, sinks: Sequence[OutputSink] = ()) -> asyncio.Task[Session]:
        """Run `plan` as a task that outlives the interaction that asked for it."""
        return self._own_task(session_id, self.plan(session_id, user_id, sinks=sinks))

    def start_apply(self, session_id: int, user_id: int, *, sinks: Sequence[OutputSink] = ()) -> asyncio.Task[Session]:
        return self._own_task(session_id, self.apply(session_id, user_id, sinks=sinks))

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
                session = _session(await _row(conn, session_id), [])
                project = project_from_row(await _project_row(conn, session.project_id))
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
                    await conn.execute(
                        "INSERT INTO deployment_history (session_id, project_id, user_id, outcome, summary, commit_sha,"
                        " cost_monthly, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (session_id, project.id, session.user_id, event.to_state,
                         dumps({"plan": session.plan_summary, "error": error, "resources": resources}), commit,
                         session.cost_monthly, iso(started or now), iso(now)))
        except IllegalTransition:
            log.info("run finished after the session moved on", extra={"session_id": session_id, "event": event_name.value})
            async with self.db.transaction() as conn:
                row = await _row(conn, session_id)
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
        async with conn.execute("SELECT * FROM session_resources WHERE session_id = ?", (session.id,)) as cur:
            changes = list(await cur.fetchall())
        for ch in changes:
            status = "made" if statuses is None else statuses.get(f"{ch['kind']}/{ch['name']}", "not_made")
            if status == "not_made" or (status == "partial" and ch["action"] != "upsert"):
                continue
            if ch["action"] != "upsert":
                await conn.execute("DELETE FROM project_resources WHERE project_id = ? AND kind = ? AND name = ?",
                                   (project.id, ch["kind"], ch["name"]))
            else:
                await conn.execute(
                    "INSERT INTO project_resources (project_id, kind, name, spec, cost_monthly, session_id, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, kind, name) DO UPDATE SET spec = excluded.spec,"
                    " cost_monthly = excluded.cost_monthly, session_id = excluded.session_id, updated_at = excluded.updated_at",
                    (project.id, ch["kind"], ch["name"], ch["spec"], ch["cost_monthly"], session.id, iso(now)))
        await quotas.release(conn, project.guild_id, session.reservations)
        await self.governance.recount_quotas(conn, project.guild_id)
        await release_project_lock(conn, project_id=project.id, session_id=session.id)
        if state_json is not None:
            await conn.execute("INSERT INTO state_snapshots (project_id, session_id, commit_sha, state_json, created_at)"
                               " VALUES (?, ?, ?, ?, ?)", (project.id, session.id, commit, state_json, iso(now)))
        async with conn.execute("SELECT spec FROM project_resources WHERE project_id = ? ORDER BY kind, name",
                                (project.id,)) as cur:
            return [loads(r["spec"]) for r in await cur.fetchall()]

    # ------------------------------------------------------------------ cancel / expire / recover
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
            row = await _row(conn, session.id)
            await conn.execute("UPDATE deployment_sessions SET cancel_request = ? WHERE id = ? AND state = ?",
                               (stop, session.id, State.APPLYING.value))
            await write_audit(conn, at=now, guild_id=project.guild_id, actor_id=user_id, action="cancel_requested",
                              target_type="session", target_id=session.id, detail={"reason": reason})
        beat = parse_dt(row["run_heartbeat_at"])
        if beat is None or (self.clock_real() - beat).total_seconds() > _HEARTBEAT_STALE_S:
            await self._stop_orphans({project.id})
            message = f"{(session.plan_summary or {}).get('text', 'apply')} ({session.purpose})"
            await self._settle(session.id, user_id, error=f"no apply was running; marked failed ({stop})", started=None,
                               message=f"session {session.id} by user {session.user_id}: {message}")
            return await self.get_session(session.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.terraform_cancel_grace_s * 3 + _HEARTBEAT_S
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
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await _row(conn, session_id)
            if idle_before is not None and (parse_dt(row["last_activity_at"]) or now) >= idle_before:
                raise IllegalTransition(state=row["state"], event=f"{event_name.value} (the session was used meanwhile)")
            session = _session(row, [])
            event = await self._transition(conn, session_id, event_name, user_id, now,
                                           updates={"error": reason}, detail={"reason": reason})
            await quotas.release(conn, project.guild_id, session.reservations)
            await conn.execute("UPDATE deployment_sessions SET reservations = '{}' WHERE id = ?", (session_id,))
            await release_project_lock(conn, project_id=project.id, session_id=session_id)
        self._publish(event)

    async def expire_idle(self) -> list[int]:
        """Expire sessions idle longer than SESSION_TTL_MINUTES, releasing reservations and locks."""
        cutoff = self.clock() - timedelta(minutes=self.settings.session_ttl_minutes)
        rows = await self.db.fetchall(
            "SELECT id, project_id FROM deployment_sessions WHERE state IN (?, ?, ?, ?, ?) AND last_activity_at < ?",
            (State.DRAFT.value, State.VALIDATING.value, State.PLANNING.value, State.PLAN_READY.value,
             State.APPROVED.value, iso(cutoff)))
        expired = []
        for row in rows:
            if self.running(row["id"]):
                continue
            try:
                await self._end(row["id"], await self.get_project(row["project_id"]), Event.EXPIRE, SYSTEM_USER,
                                f"idle for more than {self.settings.session_ttl_minutes} minutes", idle_before=cutoff)
                expired.append(row["id"])
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
        rows = await self.db.fetchall(
            "SELECT s.id, s.state, s.user_id, s.project_id, s.purpose, s.plan_summary FROM deployment_sessions s"
            " LEFT JOIN project_locks l ON l.session_id = s.id"
            " WHERE s.state IN (?, ?) OR (s.state = ? AND l.session_id IS NOT NULL)",
            (State.APPLYING.value, State.VALIDATING.value, State.PLANNING.value))
        out = []
        for row in rows:
            event = {State.APPLYING.value: Event.APPLY_FAILED, State.PLANNING.value: Event.PLAN_FAILED,
                     State.VALIDATING.value: Event.VALIDATION_FAILED}[row["state"]]
            if event == Event.VALIDATION_FAILED:
                async with self.db.transaction() as conn:
                    ev = await self._transition(conn, row["id"], event, SYSTEM_USER, self.clock(),
                                                updates={"error": "interrupted by restart"})
                self._publish(ev)
            else:
                note = " (its Terraform process was still running and was stopped)" \
                    if row["project_id"] in stopped else ""
                if event == Event.APPLY_FAILED:  # Terraform may have changed anything: the state decides
                    text = (loads(row["plan_summary"], {}) or {}).get("text", "apply")
                    await self._settle(row["id"], SYSTEM_USER, error=f"interrupted by restart{note}", started=None,
                                       message=f"session {row['id']} by user {row['user_id']}: {text} ({row['purpose']})")
                else:
                    await self._finish(row["id"], event, SYSTEM_USER, error=f"interrupted by restart{note}")
            out.append(await self.get_session(row["id"]))
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM project_locks WHERE session_id IN (SELECT id FROM deployment_sessions WHERE state IN (?, ?, ?, ?))",
                tuple(s.value for s in FINAL_STATES))
        return out

    # ------------------------------------------------------------------ history, rollback, stats
    async def rollback(self, project_id: int, user_id: int, commit_sha: str) -> Session:
        """Open a session that returns the project to the configuration applied at `commit_sha`.

        It is a normal session: it is validated, planned, approved and applied like any other.
        """
        project = await self.get_project(project_id)  # NotFound for an unknown project
        # Who may roll back is decided before anything about the project's history is looked up,
        # so an outsider learns neither its commits nor where it stands.
        await self._require(project.guild_id, user_id, "deploy")
        prefix = commit_sha.strip().lower()
        if not _COMMIT_PREFIX.fullmatch(prefix):
            raise InvalidInput(field="commit", rule="7 to 40 hexadecimal characters of an applied commit")
        row = await self.db.fetchone(
            "SELECT * FROM deployment_history WHERE project_id = ? AND outcome = 'APPLIED' AND substr(commit_sha, 1, ?) = ?"
            " ORDER BY id DESC LIMIT 1", (project_id, len(prefix), prefix))
        if row is None:
            raise NotFound(what="applied commit", key=prefix)
        target = {(s["kind"], s["name"]): ResourceSpec(**s) for s in loads(row["summary"], {}).get("resources", [])}
        current = {(r.kind, r.name): r.spec for r in await self.project_resources(project_id)}
        changed = [spec for key, spec in target.items() if current.get(key) != spec]
        removed = sorted(current.keys() - target.keys())
        # Refused before any session exists: a half-built rollback would plan as a partial one.
        if not changed and not removed:
            raise InvalidInput(field="commit", rule=f"project {project.name} is already at {row['commit_sha'][:12]}")
        if removed:
            await self._require(project.guild_id, user_id, "destroy")
        session = await self.start_session(project_id, user_id, purpose=f"rollback to {row['commit_sha'][:12]}")
        try:
            await self.db.execute("UPDATE deployment_sessions SET target_commit = ? WHERE id = ?",
                                  (row["commit_sha"], session.id))
            for spec in changed:
                await self.add_resource(session.id, user_id, spec)
            for kind, name in removed:
                await self.remove_resource(session.id, user_id, kind, name)
        except BaseException:
            await self.cancel(session.id, user_id, reason="the rollback could not be prepared")
            raise
        return await self.get_session(session.id)

    # ------------------------------------------------------------------ the one transition function
    async def _transition(self, conn: aiosqlite.Connection, session_id: int, event_name: Event, actor_id: int,
                          now: datetime, *, updates: dict[str, Any] | None = None,
                          detail: dict[str, Any] | None = None) -> SessionEvent:
        """Check the table, write the new state and an audit row in the caller's transaction."""
        row = await _row(conn, session_id)
        current = State(row["state"])
        target = next_state(current, event_name)
        fields = {"state": target.value, "updated_at": iso(now), "last_activity_at": iso(now), **(updates or {})}
        assignments = ", ".join(f"{name} = ?" for name in fields)
        if any(not name.isidentifier() for name in fields):
            raise ValueError("bad column name")
        async with conn.execute(
            f"UPDATE deployment_sessions SET {assignments} WHERE id = ? AND state = ?",  # noqa: S608 - fixed column names
            (*fields.values(), session_id, current.value)) as cur:
            if cur.rowcount != 1:
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


# ---------------------------------------------------------------------- row helpers
async def _row(conn: aiosqlite.Connection, session_id: int) -> dict[str, Any]:
    async with conn.execute("SELECT * FROM deployment_sessions WHERE id = ?", (session_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        raise NotFound(what="session", key=session_id)
    return row


async def _project_row(conn: aiosqlite.Connection, project_id: int) -> dict[str, Any]:
    async with conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        raise NotFound(what="project", key=project_id)
    return row


MAX_SESSION_CHANGES = 50


async def _check_session_cap(conn: aiosqlite.Connection, session_id: int, key: tuple[str, str]) -> None:
    """InvalidInput when adding `key` would take the session past MAX_SESSION_CHANGES (an edit of one it holds is fine)."""
    async with conn.execute("SELECT COUNT(*) AS n, SUM(kind = ? AND name = ?) AS same FROM session_resources"
                            " WHERE session_id = ?", (*key, session_id)) as cur:
        row = await cur.fetchone()
    if row["n"] >= MAX_SESSION_CHANGES and not row["same"]:
        raise InvalidInput(field="resources", rule=f"a session holds at most {MAX_SESSION_CHANGES} resource changes")


async def _state_of(conn: aiosqlite.Connection, session_id: int) -> State:
    return State((await _row(conn, session_id))["state"])


def _session(row: dict[str, Any], resources: list[dict[str, Any]]) -> Session:
    return Session(
        **{**row, "reservations": loads(row["reservations"], {}), "violations": loads(row["violations"], []),
           "needs_approval": bool(row["needs_approval"]), "plan_summary": loads(row["plan_summary"]),
           "plan_created_at": parse_dt(row["plan_created_at"])},
        resources=[SessionResource(kind=r["kind"], name=r["name"], action=r["action"], spec=ResourceSpec(**loads(r["spec"])),
                                   cost_monthly=r["cost_monthly"]) for r in resources])


def _quota_needs(catalog: Catalog, provider: str, changes: Sequence[SessionResource],
                 applied: dict[tuple[str, str], ResourceSpec]) -> dict[str, int]:
    """Net quota units the session's changes add to the project as recorded in `applied`."""
    needs: dict[str, int] = {}
    for res in changes:
        before = applied.get(res.spec.key)
        old = catalog_checks.quota_usage(catalog, provider, before) if before else {}
        new = catalog_checks.quota_usage(catalog, provider, res.spec) if res.action == "upsert" else {}
        for name in set(old) | set(new):
            needs[name] = needs.get(name, 0) + new.get(name, 0) - old.get(name, 0)
    return {name: n for name, n in needs.items() if n > 0}


def _unrequested_destruction(session: Session, artifact: PlanArtifact) -> list[Violation]:
    """Each resource the plan destroys or replaces that the session did not ask to change.

    Why: records and state can disagree (a resource created out of band, or by a run the
    engine could not follow). Validation judged the request; this judges what Terraform
    will actually do, so such a plan never reaches apply on an ordinary user's approval.
    """
    asked = {f"{r.kind}/{r.name}" for r in session.resources}
    asked_names = {r.name for r in session.resources}
    out = []
    for change in artifact.logical:
        action = change.get("action")
        kind, name = str(change.get("kind")), str(change.get("name"))
        if action not in ("delete", "replace"):
            continue
        if artifact.target == "sandbox":
            if f"{kind}/{name}" in asked:
                continue
        elif change.get("resource") in asked or (change.get("resource") is None
                                                 and name.split("__")[0] in asked_names):
            continue  # a real provider's address: its user resource, or (deleted) its name's first part
        verb = "destroy" if action == "delete" else "replace (destroy and re-create)"
        out.append(Violation(policy="builtin:plan-destroys-unrequested", type="permission",
                             action="require_approval", resource=f"{kind}/{name}", priority=0,
                             message=f"the plan would {verb} {kind}/{name}, which this session did not ask to "
                                     "change; only a CloudAdmin may approve it"))
    return out


def _plan_summary(artifact: PlanArtifact) -> dict[str, Any]:
    """Counts per user resource (a sandbox mirror has two null_resources per resource), plus Terraform's own line."""
    counts = {action: sum(1 for c in artifact.logical if c.get("action") == action)
              for action in ("create", "update", "replace", "delete")}
    text = (f"{counts['create']} to add, {counts['update']} to update in place, {counts['replace']} to replace, "
            f"{counts['delete']} to destroy")
    return {"add": counts["create"], "change": counts["update"], "replace": counts["replace"], "destroy": counts["delete"],
            "text": text, "terraform": artifact.result.summary(), "target": artifact.target, "changes": artifact.logical,
            "log_path": artifact.log_path}


async def _stop_watching(watcher: asyncio.Task[None], ended: asyncio.Event) -> None:
    """End a run's watcher and wait for it (shielded: a cancelled apply still stops it cleanly)."""
    ended.set()
    await asyncio.shield(asyncio.gather(watcher, return_exceptions=True))


def _reason(exc: BaseException) -> str:
    """The error a failed run records; an unexpected exception is logged with its traceback."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if not isinstance(exc, EngineError | OSError):
        log.error("unexpected error in a plan or apply", exc_info=exc)
        return f"internal error ({type(exc).__name__}: {exc})" if str(exc) else f"internal error ({type(exc).__name__})"
    return str(exc) or type(exc).__name__


