"""The guild's free quotas: shrink node pools first, then reject the last resource using a quota."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.core import catalog_checks


def _need(e: Enforcer, quota: str) -> int:
    return sum(catalog_checks.quota_usage(e.ctx.catalog, e.ctx.provider, s).get(quota, 0) for s in e.specs)


@step("quotas")
def quotas(e: Enforcer) -> None:
    if e.ctx.quota_free is None:
        return
    fixed: list[str] = []
    failed: list[str] = []
    for name, free in sorted(e.ctx.quota_free.items()):
        while _need(e, name) > free:
            grown = [s for s in e.of_kind("k8s_cluster") if (s.node_count or 1) > 1]
            if grown and name.startswith("compute."):
                spec = grown[-1]
                e.replace(spec, revalidate(spec, node_count=(spec.node_count or 1) - 1))
                fixed.append(f"{spec.name}: {spec.node_count} → {(spec.node_count or 1) - 1} nodes to fit "
                             f"the guild's {name} quota")
                continue
            users = [s for s in e.specs
                     if catalog_checks.quota_usage(e.ctx.catalog, e.ctx.provider, s).get(name, 0) > 0]
            if not users:
                break
            spec = users[-1]
            e.reject(spec, f"the guild's {name} quota has {max(free, 0)} left")
            failed.append(f"{spec.name} rejected: {name} quota has {max(free, 0)} left")
    e.check("quotas", fixed, "the design fits the guild's free quotas", failed=failed)
