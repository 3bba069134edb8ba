"""Validation: permissions, policies, budget, quotas reserved atomically.

Why apart: it judges what the session asks for before any plan exists; the plan is judged
again against Terraform's actual actions in planning.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import aiosqlite

from cloud_engine.core import approvals, catalog_checks, permissions, policies, quotas
from cloud_engine.core.approvals import ApprovalRule
from cloud_engine.core.cost import plumbing_change
from cloud_engine.core.events import SessionEvent
from cloud_engine.core.models import (
    CostLine,
    Project,
    Role,
    Session,
    SessionResource,
    State,
    ValidationResult,
    Violation,
)
from cloud_engine.core.plan_judgement import quota_needs
from cloud_engine.core.policies import Policy, PolicyContext
from cloud_engine.core.state_machine import Event
from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.core.workflow.editing import reprice_load_balancers
from cloud_engine.errors import InvalidInput, QuotaExceeded
from cloud_engine.store.rows import dumps, loads
from cloud_engine.store.sessions import session_row


class Validating(WorkflowBase):
    """Validation: permissions, policies, budget, quotas reserved atomically."""

    async def validate(self, session_id: int, user_id: int) -> ValidationResult:
        """Check permissions, quotas (reserved atomically), policies and budget; DRAFT → PLANNING or back to DRAFT."""
        session, project, role = await self._editable(session_id, user_id)
        if not session.resources:
            raise InvalidInput(field="resources", rule="the session has no resource changes yet; add one first")
        event = await self.db.atomic(self._transition, session_id, Event.VALIDATE, user_id, self.clock())
        self._publish(event)
        try:
            # Read again now that the session is VALIDATING: an edit that committed after the
            # read above would otherwise be planned without having been checked.
            session, policy_rows, applied_list = await self.db.read(self._inputs, session_id, project)
            applied = {(r.kind, r.name): r for r in applied_list}
            result = await self._evaluate(session, project, role, policy_rows, applied)
            # Who must approve is judged with the findings, by the policies they were found with.
            rules = approvals.rules_for(result.violations, policy_rows)
        except Exception:
            failed = await self.db.atomic(self._transition, session_id, Event.VALIDATION_FAILED, user_id, self.clock(),
                                          detail={"error": "validation crashed"})
            self._publish(failed)
            raise
        final, blocking, reservations = await self.db.atomic(self._record, session, project, user_id, result, rules,
                                                             applied)
        self._publish(final)
        return result.model_copy(update={"ok": not blocking, "violations": blocking + [
            v for v in result.violations if v.action != "deny"], "reservations": reservations,
            "state": State(str(final.to_state))})

    async def _inputs(self, session_id: int, project: Project) -> tuple[Session, list[Policy], list[SessionResource]]:
        """What validation judges, read together (`db.read`): the session, the server's policies, the applied resources."""
        return (await self.get_session(session_id), await self.list_policies(project.guild_id),
                await self.project_resources(project.id))

    async def _record(self, conn: aiosqlite.Connection, session: Session, project: Project, user_id: int,
                      result: ValidationResult, rules: list[ApprovalRule],
                      applied: Mapping[tuple[str, str], SessionResource]) -> tuple[SessionEvent, list[Violation], dict[str, int]]:
        """The verdict, in one transaction (`db.atomic`): prices, quotas released and reserved, the transition, alerts.

        Returns the transition, the blocking findings (a quota refused here among them) and the reservations held.
        """
        blocking = [v for v in result.violations if v.action == "deny"]
        now = self.clock()
        if any(r.kind == "load_balancer" and r.action == "upsert" for r in session.resources):
            # the lobby's per-resource prices are the ones just judged (a load balancer's follows its backend)
            await reprice_load_balancers(conn, self.costs, project, session.id,
                                         {key: r.spec for key, r in applied.items()}, now)
        # Whatever the row still holds is replaced, never overwritten while reserved.
        row = await session_row(conn, session.id)
        await quotas.release(conn, project.guild_id, loads(row["reservations"], {}))
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
            conn, session.id, event_name, user_id, now, row=row,
            detail={"violations": len(blocking), "cost_monthly": result.cost_monthly},
            updates={"reservations": dumps(reservations), "cost_monthly": result.cost_monthly,
                     "violations": dumps([v.model_dump() for v in violations]),
                     "needs_approval": int(result.needs_approval),
                     "approval_rules": approvals.rules_dump(rules)})
        if not blocking:  # a refused attempt spends no alert: the month's real crossing must still be told
            await self.governance.record_budget_alerts(conn, project, result.project_monthly_after, session.id, now)
        return final, blocking, reservations

    async def _evaluate(self, session: Session, project: Project, role: Role, policy_rows: Sequence[Policy],
                        applied: Mapping[tuple[str, str], SessionResource]) -> ValidationResult:
        """Judge the session as `role` (read once, as the call began) against the server's policies and the
        project's applied resources (read once too: the prices stored afterwards are the ones judged here)."""
        violations: list[Violation] = []
        lines: list[CostLine] = []
        upserts = [r.spec for r in session.resources if r.action == "upsert"]
        changed = {r.spec.key for r in session.resources}
        # Per-resource policies judge what this session changes; count and cost policies judge the
        # project as it would be after it, or splitting resources over sessions would evade them.
        kept = [r for k, r in applied.items() if k not in changed]
        desired = [*(r.spec for r in kept), *upserts]  # a load balancer is priced by what it fronts there
        needs = quota_needs(self.catalog, project.provider, session.resources,
                             {key: r.spec for key, r in applied.items()})
        for res in session.resources:
            spec = res.spec
            size = catalog_checks.size_class(self.catalog, project.provider, spec)
            for reason in permissions.resource_limits(role, spec.kind, size, deleting=res.action == "delete"):
                violations.append(Violation(policy="builtin:role-limits", type="permission", action="deny",
                                            resource=f"{spec.kind}/{spec.name}", message=reason, priority=0))
            if res.action == "upsert":
                lines.append(self.costs.estimate(project.provider, project.region, spec, among=desired))
        costs = {line.resource: line.monthly for line in lines}
        # The plumbing the project needs after the session (a NAT for its private VMs) is part
        # of what it costs: the estimate and the budget include it, as the lobby shows it.
        plumbing = await asyncio.to_thread(plumbing_change, project.catalog_provider, [r.spec for r in applied.values()],
                                           [*(r.spec for r in kept), *upserts], project_name=project.name,
                                           region=project.region)
        after = PolicyContext(resources=[*(r.spec for r in kept), *upserts], role=role,
                              costs={**{f"{r.kind}/{r.name}": r.cost_monthly for r in kept}, **costs})
        violations += [v for v in policies.evaluate(policy_rows, PolicyContext(resources=upserts, role=role, costs=costs))
                       if v.resource is not None]
        violations += [v for v in policies.evaluate(policy_rows, after) if v.resource is None]
        violations += [Violation(policy="builtin:lb-backend", type="security", action="deny", priority=0,
                                 resource=f"load_balancer/{field.split('.')[0]}", message=f"{field}: {rule}")
                       for field, rule in catalog_checks.backend_problems(after.resources)]
        session_cost = round(sum(costs.values()) + plumbing.delta, 2)
        project_after = round(sum(r.cost_monthly for r in kept) + sum(costs.values()) + plumbing.after_monthly, 2)
        lines += plumbing.lines
        if plumbing.unpriced:
            violations.append(Violation(policy="builtin:plumbing-unpriced", type="cost", action="warn", resource=None,
                                        priority=0, message=f"network plumbing not priced: {plumbing.unpriced}"))
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
        kept = [r for r in await self.project_resources(project.id) if (r.kind, r.name) not in changed]
        upserts = [r for r in session.resources if r.action == "upsert"]
        plumbing = await asyncio.to_thread(plumbing_change, project.catalog_provider, [],
                                           [*(r.spec for r in kept), *(r.spec for r in upserts)],
                                           project_name=project.name, region=project.region)
        after = round(sum(r.cost_monthly for r in kept) + sum(r.cost_monthly for r in upserts)
                      + plumbing.after_monthly, 2)
        if after <= project.budget_monthly:
            return None
        return (f"project {project.name} would now cost ${after:,.2f}/month, over its budget of "
                f"${project.budget_monthly:,.2f} (changes applied since this session was validated); "
                "edit the session and validate again")

