"""A low budget gets no Kubernetes cluster: its control plane alone is most of the budget."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer
from cloud_engine.ai.guardrails.controls import machine_type_for
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.core import catalog_checks
from cloud_engine.core.models import ResourceSpec


@step("complexity")
def complexity(e: Enforcer) -> None:
    fixed = []
    if e.ctx.budget == "low":
        for spec in e.of_kind("k8s_cluster"):
            vm = ResourceSpec(kind="vm", name=spec.name, region=spec.region, tags=spec.tags,
                              machine_type=machine_type_for(e.cat, "small"), network=spec.network,
                              description="runs the containers with Docker Compose instead of a cluster")
            vm = catalog_checks.normalize(e.ctx.catalog, e.ctx.provider, e.ctx.region, vm)
            e.replace(spec, vm)
            fixed.append(f"{spec.name}: Kubernetes replaced by one {vm.machine_type} VM running the containers "
                         "(a managed control plane alone would take most of a low budget)")
    e.check("complexity", fixed, f"the design's complexity suits a {e.ctx.budget} budget")
