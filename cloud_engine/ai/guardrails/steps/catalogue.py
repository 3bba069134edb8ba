"""Every machine type, tier, image and region must be in the provider's catalogue.

Why correct rather than reject: a model often names a type from another cloud or an old
family; the catalogue's cheapest type of the budget's size is a safe, priced replacement.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.controls import SIZE_FOR_BUDGET, db_tier_for, machine_type_for
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.core import catalog_checks
from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput


def _changes(e: Enforcer, spec: ResourceSpec, fixed: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    size = SIZE_FOR_BUDGET[e.ctx.budget]
    provider = e.ctx.provider
    if spec.region not in e.cat.regions:
        changes["region"] = e.ctx.region
        if spec.region:
            fixed.append(f"{spec.name}: region {spec.region} is not a {provider} region; using {e.ctx.region}")
    if spec.kind in ("vm", "k8s_cluster") and spec.machine_type not in e.cat.machine_types:
        changes["machine_type"] = machine_type_for(e.cat, size)
        if spec.machine_type:
            fixed.append(f"{spec.name}: {spec.machine_type} is not in the {provider} catalogue; "
                         f"using {changes['machine_type']}")
    if spec.kind == "database" and spec.tier not in e.cat.database_tiers:
        changes["tier"] = db_tier_for(e.cat, size)
        if spec.tier:
            fixed.append(f"{spec.name}: tier {spec.tier} is not in the catalogue; using {changes['tier']}")
    if spec.kind == "vm" and spec.image and spec.image not in e.cat.images:
        changes["image"] = e.cat.images[0]
        fixed.append(f"{spec.name}: image {spec.image} is not offered; using {e.cat.images[0]}")
    return changes


@step("catalogue")
def catalogue(e: Enforcer) -> None:
    fixed: list[str] = []
    for spec in list(e.specs):
        changes = _changes(e, spec, fixed)
        try:
            new = revalidate(spec, **changes) if changes else spec
            new = catalog_checks.normalize(e.ctx.catalog, e.ctx.provider, e.ctx.region, new)
        except (InvalidInput, ValidationError) as exc:
            e.reject(spec, f"not valid for {e.ctx.provider}: {exc}")
            continue
        e.replace(spec, new)
    e.check("catalogue", fixed, f"every machine type, tier and region is in the {e.ctx.provider} catalogue")
