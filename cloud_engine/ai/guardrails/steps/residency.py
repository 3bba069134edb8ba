"""GDPR: every resource moves to an EU member-state region (its own, if already there)."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.controls import eu_region_for
from cloud_engine.ai.guardrails.steps.registry import step


@step("data-residency")
def residency(e: Enforcer) -> None:
    if not e.controls.eu_only:
        return
    fixed = []
    for spec in list(e.specs):
        target = eu_region_for(e.ctx.provider, spec.region)
        if spec.region != target:
            fixed.append(f"{spec.name}: moved from {spec.region} to {target} (GDPR data residency)")
            e.replace(spec, revalidate(spec, region=target, zone=None))
    e.check("data-residency", fixed, "every resource is in an EU region")
