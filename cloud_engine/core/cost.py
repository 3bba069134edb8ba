"""Cost estimation from the price catalogue.

One convention everywhere: a month is `catalog.hours_per_month` (730) hours. Prices are
list prices for the catalogue's reference region times the region's multiplier; the
catalogue records its source and date, and estimates say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cloud_engine.core.models import CostLine, ResourceSpec
from cloud_engine.data.catalog import Catalog, ProviderCatalog, load_catalog
from cloud_engine.errors import InvalidInput


def _vm(cat: ProviderCatalog, mult: float, spec: ResourceSpec, hpm: int) -> tuple[float, str]:
    mt = cat.machine_types[spec.machine_type or ""]
    disk = (spec.disk_gb or 0) * cat.storage_gb_month.disk / hpm
    return mt.hourly_usd * mult + disk, f"{spec.machine_type} ({mt.vcpus:g} vCPU, {mt.memory_gb:g} GB) + {spec.disk_gb} GB disk"


def _database(cat: ProviderCatalog, mult: float, spec: ResourceSpec, hpm: int) -> tuple[float, str]:
    tier = cat.database_tiers[spec.tier or ""]
    ha = 2 if spec.high_availability else 1
    storage = (spec.storage_gb or 0) * cat.storage_gb_month.database * ha / hpm
    return tier.hourly_usd * mult * ha + storage, f"{spec.engine} {spec.tier}{' HA' if ha == 2 else ''} + {spec.storage_gb} GB"


def _bucket(cat: ProviderCatalog, mult: float, spec: ResourceSpec, hpm: int) -> tuple[float, str]:
    price = cat.storage_gb_month.bucket[spec.storage_class or "STANDARD"]
    return (spec.storage_gb or 0) * price / hpm, f"{spec.storage_gb} GB {spec.storage_class} (estimated stored data)"


def _k8s(cat: ProviderCatalog, mult: float, spec: ResourceSpec, hpm: int) -> tuple[float, str]:
    mt = cat.machine_types[spec.machine_type or ""]
    nodes = spec.node_count or 0
    return cat.k8s_control_plane_hourly + nodes * mt.hourly_usd * mult, f"control plane + {nodes} × {spec.machine_type}"


def _free(cat: ProviderCatalog, mult: float, spec: ResourceSpec, hpm: int) -> tuple[float, str]:
    return 0.0, "no charge for the resource itself (traffic billed separately)"


PRICERS: dict[str, Callable[[ProviderCatalog, float, ResourceSpec, int], tuple[float, str]]] = {
    "vm": _vm, "database": _database, "bucket": _bucket, "k8s_cluster": _k8s, "network": _free, "firewall": _free,
}


class CostEstimator:
    """Hourly and monthly cost per resource and per session."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or load_catalog()

    @property
    def hours_per_month(self) -> int:
        return self.catalog.hours_per_month

    def estimate(self, provider: str, region: str, spec: ResourceSpec) -> CostLine:
        """Price one normalised spec (catalogue values already checked)."""
        cat = self.catalog.for_provider(provider)
        region = spec.region or region
        if region not in cat.regions:
            raise InvalidInput(field="region", rule=f"{region!r} is not a {provider} region; valid: {', '.join(cat.regions)}")
        try:
            hourly, detail = PRICERS[spec.kind](cat, cat.regions[region], spec, self.hours_per_month)
        except KeyError as exc:
            raise InvalidInput(field=spec.kind, rule=f"no price for {exc.args[0]!r}") from None
        hourly = round(hourly, 6)
        return CostLine(resource=f"{spec.kind}/{spec.name}", kind=spec.kind, hourly=hourly,
                        monthly=round(hourly * self.hours_per_month, 2), detail=detail)

    def total(self, provider: str, region: str, specs: Iterable[ResourceSpec]) -> float:
        return round(sum(self.estimate(provider, region, s).monthly for s in specs), 2)

    @property
    def provenance(self) -> str:
        return f"{self.catalog.source} (as of {self.catalog.as_of}; {self.hours_per_month} h/month)"
