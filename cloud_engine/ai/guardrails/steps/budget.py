"""The budget ceiling: downsize the most expensive resource one catalogue step at a time.

Why one step at a time: the result is the largest design that fits, and every step is
recorded (merged per resource as `first → last`) so the user sees what was given up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.controls import BUDGET_CEILINGS
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.core.models import CostLine, ResourceSpec
from cloud_engine.core.policies import Policy
from cloud_engine.data.catalog import MachineType

MAX_DOWNSIZE_STEPS = 200


def ceiling_for(budget: str, policies: Sequence[Policy] = ()) -> float:
    """The monthly ceiling: the budget level's, lowered by any enabled guild-wide cost policy."""
    ceiling = BUDGET_CEILINGS[budget]
    for p in policies:
        if p.enabled and p.type == "cost" and p.action == "deny" and p.pattern == "*":
            ceiling = min(ceiling, float(p.params["max_monthly_usd"]))
    return ceiling


def _next_cheaper(types: Mapping[str, MachineType], current: str) -> str | None:
    price = types[current].hourly_usd if current in types else None
    if price is None:
        return None
    cheaper = [(m.hourly_usd, name) for name, m in types.items() if m.hourly_usd < price]
    return max(cheaper)[1] if cheaper else None


def _downsize_step(e: Enforcer, costs: Mapping[tuple[str, str], CostLine]
                   ) -> tuple[ResourceSpec, ResourceSpec, str] | None:
    for spec in sorted(e.specs, key=lambda s: costs[s.key].monthly, reverse=True):
        if spec.kind == "database" and spec.high_availability and not e.controls.ha_databases:
            return spec, revalidate(spec, high_availability=False), f"{spec.name}: high availability off"
        if spec.kind == "k8s_cluster" and (spec.node_count or 1) > 2:
            n = spec.node_count or 1
            return spec, revalidate(spec, node_count=n - 1), f"{spec.name}: {n} → {n - 1} nodes"
        if spec.kind in ("vm", "k8s_cluster"):
            cheaper = _next_cheaper(e.cat.machine_types, spec.machine_type or "")
            if cheaper:
                return spec, revalidate(spec, machine_type=cheaper), f"{spec.name}: {spec.machine_type} → {cheaper}"
        if spec.kind == "database":
            cheaper = _next_cheaper(e.cat.database_tiers, spec.tier or "")
            if cheaper:
                return spec, revalidate(spec, tier=cheaper), f"{spec.name}: tier {spec.tier} → {cheaper}"
    return None


def merge_steps(steps: list[str]) -> list[str]:
    """Collapse repeated downsizing of one resource into `name: first → last`."""
    merged: dict[str, tuple[str, str]] = {}
    order: list[str] = []
    for item in steps:
        name, _, change = item.partition(": ")
        first, _, last = change.partition(" → ")
        if name not in merged:
            order.append(name)
            merged[name] = (first, last) if last else (change, "")
        elif last:
            merged[name] = (merged[name][0], last)
        else:
            merged[name] = (change, "")
    out = []
    for name in order:
        first, last = merged[name]
        out.append(f"{name}: {first} → {last} to fit the budget" if last else f"{name}: {first} to fit the budget")
    return out


@step("budget")
def budget(e: Enforcer) -> None:
    e.ceiling = ceiling = ceiling_for(e.ctx.budget, e.ctx.policies)
    fixed: list[str] = []
    costs = {s.key: e.price(s) for s in e.specs}
    for _ in range(MAX_DOWNSIZE_STEPS):
        if sum(c.monthly for c in costs.values()) <= ceiling:
            break
        found = _downsize_step(e, costs)
        if found is None:
            break
        old, new, what = found
        e.replace(old, new)
        costs.pop(old.key)
        costs[new.key] = e.price(new)
        fixed.append(what)
    total = round(sum(c.monthly for c in costs.values()), 2)
    failed = [] if total <= ceiling else [
        f"the smallest design that meets the other guardrails costs ${total:,.2f}/month, above the "
        f"${ceiling:,.2f} ceiling; raise the budget level or drop a component"]
    e.check("budget", merge_steps(fixed), f"${total:,.2f}/month is within the ${ceiling:,.2f} ceiling", failed=failed)
    e.costs = costs
