"""Cost estimation from the price catalogue.

One convention everywhere: a month is `catalog.hours_per_month` (730) hours. Prices are
list prices for the catalogue's reference region times the region's multiplier; the
catalogue records its source and date, and estimates say so.

Network plumbing (NAT gateways, their addresses, private DNS zones) is priced by
`iac/plumbing.py`, since only the renderer knows what a project's resources need together;
`plumbing_change` turns it into the lines and the monthly change a session's estimate and
budget check include, so the budget is judged on everything the plan creates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cloud_engine.core.catalog_checks import lb_backend
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


def _load_balancer(cat: ProviderCatalog, mult: float, spec: ResourceSpec, hpm: int, *,
                   bucket: bool = False) -> tuple[float, str]:
    """The gateway's hour (its own source and date, catalog.json), traffic by use.

    A bucket backend is priced as the product that serves it where the catalogue names one
    (AWS: CloudFront, no hourly fee; Azure: Front Door Standard), a global service, so no
    regional multiplier. GCP names none: the same global load balancer serves a bucket.
    The line names the product first (the lobby cuts long details) and its traffic rates
    after, so a $0.00 CloudFront line still says what will be billed.
    """
    lb = cat.load_balancer
    if bucket and lb.bucket is not None:
        lb, mult = lb.bucket, 1.0
    requests = f", ${lb.requests_10k_usd:g} per 10,000 requests" if lb.requests_10k_usd else ""
    return lb.hourly_usd * mult + lb.certificate_monthly_usd / hpm, (
        f"{lb.product} for {spec.domain}; + ${lb.processed_gb_usd:g}/GB {lb.per_gb}{requests} "
        f"({lb.source}, {lb.as_of})")


def fronts_bucket(spec: ResourceSpec, among: Sequence[ResourceSpec]) -> bool:
    """Whether a load balancer's backend is a bucket: named so among the project's resources, or `cdn` set.

    `cdn` is accepted only in front of a bucket (`catalog_checks.backend_problems`), so it
    answers even when the caller prices the load balancer alone.
    """
    if spec.cdn:
        return True
    try:
        return lb_backend(spec, among).kind == "bucket"
    except InvalidInput:  # priced alone, or the backend is not there yet (validation names that field)
        return False


PRICERS: dict[str, Callable[[ProviderCatalog, float, ResourceSpec, int], tuple[float, str]]] = {
    "vm": _vm, "database": _database, "bucket": _bucket, "k8s_cluster": _k8s, "network": _free, "firewall": _free,
    "load_balancer": _load_balancer,
}


class CostEstimator:
    """Hourly and monthly cost per resource and per session."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or load_catalog()

    @property
    def hours_per_month(self) -> int:
        return self.catalog.hours_per_month

    def estimate(self, provider: str, region: str, spec: ResourceSpec, *,
                 among: Sequence[ResourceSpec] = ()) -> CostLine:
        """Price one normalised spec (catalogue values already checked).

        `among` is the project's resources as they will be: a load balancer costs what its
        backend needs (on Azure a bucket is served by Front Door, not a gateway).
        """
        cat = self.catalog.for_provider(provider)
        region = spec.region or region
        if region not in cat.regions:
            raise InvalidInput(field="region", rule=f"{region!r} is not a {provider} region; valid: {', '.join(cat.regions)}")
        try:
            if spec.kind == "load_balancer":
                hourly, detail = _load_balancer(cat, cat.regions[region], spec, self.hours_per_month,
                                                bucket=fronts_bucket(spec, among))
            else:
                hourly, detail = PRICERS[spec.kind](cat, cat.regions[region], spec, self.hours_per_month)
        except KeyError as exc:
            raise InvalidInput(field=spec.kind, rule=f"no price for {exc.args[0]!r}") from None
        hourly = round(hourly, 6)
        return CostLine(resource=f"{spec.kind}/{spec.name}", kind=spec.kind, hourly=hourly,
                        monthly=round(hourly * self.hours_per_month, 2), detail=detail)

    def total(self, provider: str, region: str, specs: Iterable[ResourceSpec]) -> float:
        project = list(specs)
        return round(sum(self.estimate(provider, region, s, among=project).monthly for s in project), 2)

    @property
    def provenance(self) -> str:
        return f"{self.catalog.source} (as of {self.catalog.as_of}; {self.hours_per_month} h/month)"


@dataclass(frozen=True)
class PlumbingChange:
    """The project's priced plumbing before and after a session, and the lines of what changes."""

    before_monthly: float = 0.0
    after_monthly: float = 0.0
    lines: list[CostLine] = field(default_factory=list)  # what each item adds (negative: released); sums to delta
    released: frozenset[str] = frozenset()  # addresses the project no longer needs
    unpriced: str | None = None  # why the renderer could not say (the plan will refuse the same configuration)

    @property
    def delta(self) -> float:
        return round(self.after_monthly - self.before_monthly, 2)


def plumbing_change(provider: str, before: Sequence[ResourceSpec], after: Sequence[ResourceSpec], *,
                    project_name: str, region: str) -> PlumbingChange:
    """What a session does to the project's network plumbing: totals before and after, and per-item lines.

    Blocking (it renders the project twice); callers run it in a worker thread. A configuration
    the renderer refuses (a database without a network) is not priced, and `unpriced` says why.
    """
    from cloud_engine.iac.plumbing import network_plumbing  # iac prices what its own renderer adds

    try:
        old = {i.address: i for i in network_plumbing(provider, before, project_name=project_name, region=region)}
    except InvalidInput:
        old = {}  # what was applied no longer renders (e.g. a catalogue change): nothing to compare with
    try:
        new = {i.address: i for i in network_plumbing(provider, after, project_name=project_name, region=region)}
    except InvalidInput as exc:
        kept = round(sum(i.monthly_usd for i in old.values()), 2)  # counted as it is: the estimate never drops it
        return PlumbingChange(before_monthly=kept, after_monthly=kept, unpriced=exc.message)
    lines = []
    for address, item in new.items():
        was = old[address].monthly_usd if address in old else 0.0
        if item.monthly_usd != was:  # added, or repriced (a Cloud NAT is billed per VM behind it)
            before_h = old[address].hourly_usd if address in old else 0.0
            lines.append(CostLine(resource=address, kind="plumbing", hourly=round(item.hourly_usd - before_h, 6),
                                  monthly=round(item.monthly_usd - was, 2),
                                  detail=f"network plumbing: {item.detail}" + (f" (was ${was:,.2f})" if was else "")))
    lines += [CostLine(resource=a, kind="plumbing", hourly=-i.hourly_usd, monthly=-i.monthly_usd,
                       detail="network plumbing no longer needed: destroyed with this change")
              for a, i in old.items() if a not in new and i.monthly_usd > 0]
    return PlumbingChange(before_monthly=round(sum(i.monthly_usd for i in old.values()), 2),
                          after_monthly=round(sum(i.monthly_usd for i in new.values()), 2), lines=lines,
                          released=frozenset(old) - frozenset(new))
