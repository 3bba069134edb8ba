"""Provider-specific checks and defaults for a ResourceSpec, from the catalogue.

The same spec is valid or not depending on the project's provider (an `e2-small` exists on
GCP only), so these checks run when a resource is added to a session, and every error
lists the valid choices.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.data.catalog import Catalog
from cloud_engine.errors import InvalidInput

DEFAULT_K8S_TYPE = {"gcp": "e2-standard-2", "aws": "t3.large", "azure": "Standard_D2s_v5"}


def _choose(field: str, value: str, valid: list[str]) -> None:
    if value not in valid:
        raise InvalidInput(field=field, rule=f"{value!r} is not available; valid: {', '.join(valid)}")


def normalize(catalog: Catalog, provider: str, project_region: str, spec: ResourceSpec) -> ResourceSpec:
    """Fill catalogue defaults (region, image, tier) and check catalogue-backed values."""
    cat = catalog.for_provider(provider)
    shape = "gcp" if provider == "sandbox" else provider
    updates: dict[str, object] = {}
    region = spec.region or project_region
    _choose("region", region, list(cat.regions))
    updates["region"] = region
    if spec.kind == "vm":
        if not spec.machine_type:
            raise InvalidInput(field="machine_type", rule=f"required for a vm; valid: {', '.join(cat.machine_types)}")
        _choose("machine_type", spec.machine_type, list(cat.machine_types))
        image = spec.image or cat.images[0]
        _choose("image", image, list(cat.images))
        updates["image"] = image
    elif spec.kind == "k8s_cluster":
        machine_type = spec.machine_type or DEFAULT_K8S_TYPE[shape]
        _choose("machine_type", machine_type, list(cat.machine_types))
        updates["machine_type"] = machine_type
    elif spec.kind == "database":
        tier = spec.tier or next(iter(cat.database_tiers))
        _choose("tier", tier, list(cat.database_tiers))
        _choose("engine", spec.engine or "postgres", list(cat.database_engines))
        updates["tier"] = tier
    return spec.model_copy(update=updates)


def size_class(catalog: Catalog, provider: str, spec: ResourceSpec) -> str | None:
    """small/medium/large of the spec's machine type or tier, if it has one."""
    cat = catalog.for_provider(provider)
    if spec.kind in ("vm", "k8s_cluster") and spec.machine_type in cat.machine_types:
        return cat.machine_types[spec.machine_type].size
    if spec.kind == "database" and spec.tier in cat.database_tiers:
        return cat.database_tiers[spec.tier].size
    return None


def quota_usage(catalog: Catalog, provider: str, spec: ResourceSpec) -> dict[str, int]:
    """How much of each guild quota one resource uses."""
    cat = catalog.for_provider(provider)
    if spec.kind == "vm":
        mt = cat.machine_types[spec.machine_type or ""]
        return {"compute.instances": 1, "compute.cpus": int(mt.vcpus), "compute.ram_gb": int(-(-mt.memory_gb // 1))}
    if spec.kind == "k8s_cluster":
        mt = cat.machine_types[spec.machine_type or ""]
        n = spec.node_count or 0
        return {"compute.instances": n, "compute.cpus": int(mt.vcpus) * n, "compute.ram_gb": int(-(-mt.memory_gb // 1)) * n}
    if spec.kind == "database":
        return {"database.instances": 1}
    if spec.kind == "bucket":
        return {"storage.buckets": 1}
    if spec.kind == "network":
        return {"network.vpcs": 1}
    return {}
