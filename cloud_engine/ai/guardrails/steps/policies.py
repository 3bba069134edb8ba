"""The guild's own policies (region, security, count, cost; permission policies apply at deploy).

Why two passes: a denied resource is first corrected where a fix exists (move region,
encrypt, make private), and only what still violates a deny policy is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.controls import EU_REGIONS, PRIVATE_SOURCE
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.ai.schemas import GuardrailCheck
from cloud_engine.core.models import ResourceSpec, Role
from cloud_engine.core.policies import Policy, PolicyContext, evaluate


def _violations(e: Enforcer, policies: Sequence[Policy]) -> list[Any]:
    costs = {f"{s.kind}/{s.name}": e.price(s).monthly for s in e.specs}
    return evaluate(policies, PolicyContext(resources=e.specs, role=Role.ADMIN, costs=costs))


def _by_resource(e: Enforcer, resource: str | None) -> ResourceSpec | None:
    return next((s for s in e.specs if resource == f"{s.kind}/{s.name}"), None)


def _region_denied(policies: Sequence[Policy], spec: ResourceSpec, region: str) -> bool:
    moved = spec.model_copy(update={"region": region})
    return any(v.type == "region" and v.action == "deny" for v in evaluate(
        [p for p in policies if p.type == "region"], PolicyContext(resources=[moved], role=Role.ADMIN, costs={})))


def _security_changes(spec: ResourceSpec) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if spec.kind in ("vm", "database", "bucket") and not spec.encrypted:
        changes["encrypted"] = True
    if spec.kind == "bucket" and spec.public_access:
        changes["public_access"] = False
    if spec.kind == "vm" and spec.public_ip:
        changes["public_ip"] = False
    if spec.kind == "firewall":
        rules = [r.model_copy(update={"sources": [PRIVATE_SOURCE]}) if r.opens_world() else r
                 for r in spec.rules or []]
        changes["rules"] = [r.model_dump() for r in rules]
    return changes


def _fix(e: Enforcer, policies: Sequence[Policy], spec: ResourceSpec, type_: str, message: str) -> str | None:
    if type_ == "region":
        allowed = [r for r in e.cat.regions if not _region_denied(policies, spec, r)]
        if e.controls.eu_only:
            allowed = [r for r in allowed if r in EU_REGIONS[e.ctx.provider]]
        if allowed:
            e.replace(spec, revalidate(spec, region=allowed[0], zone=None))
            return f"{spec.name}: moved to {allowed[0]} ({message})"
        return None
    if type_ == "security":
        changes = _security_changes(spec)
        if changes:
            e.replace(spec, revalidate(spec, **changes))
            return f"{spec.name}: {', '.join(sorted(changes))} changed ({message})"
    return None


@step("policies")
def policies(e: Enforcer) -> None:
    active = [p for p in e.ctx.policies if p.enabled and p.type != "permission"]
    if not active:
        return
    for violation in _violations(e, active):
        spec = _by_resource(e, violation.resource)
        if spec is None or violation.action != "deny":
            continue
        fixed = _fix(e, active, spec, violation.type, violation.message)
        if fixed:
            e.checks.append(GuardrailCheck(name=f"policy:{violation.policy}", passed=True, corrected=True,
                                           detail=fixed))
    for violation in _violations(e, active):
        name = f"policy:{violation.policy}"
        spec = _by_resource(e, violation.resource)
        if violation.action == "deny" and spec is not None:
            e.reject(spec, f"blocked by policy {violation.policy}: {violation.message}")
            e.checks.append(GuardrailCheck(name=name, passed=False, corrected=True,
                                           detail=f"{spec.name} rejected: {violation.message}"))
        elif violation.action == "deny":
            e.checks.append(GuardrailCheck(name=name, passed=False, detail=violation.message))
        elif violation.action == "require_approval":
            e.checks.append(GuardrailCheck(name=name, passed=True,
                                           detail=f"deploying needs an approver: {violation.message}"))
        else:
            e.checks.append(GuardrailCheck(name=name, passed=True, detail=f"warning: {violation.message}"))
