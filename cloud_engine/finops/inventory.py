"""Resource profiles: what each resource is, what it costs, and how busy it has been.

Recommenders never query DuckDB themselves. One pass here aggregates the ledger (latest
attributes, monthly cost) and the metrics table (daily and whole-window percentiles, a
weekday/weekend hour-of-day CPU profile), so every recommender sees the same numbers and
the expensive scans run once per `recommendations()` call, in a worker thread. Every
query reads one scope (`guild_id`): a server's recommendations come from its own bills.

Monthly cost convention: effective cost over the resource's last 30 days (or its lifetime,
if shorter) divided by the hours covered, times the catalogue's 730 hours per month.

Currency: every amount stays in the bill's BillingCurrency, which each profile and each
commitment series carries, so no rule mistakes yen for dollars. A resource billed in more
than one currency is costed in its latest one (its other lines are not converted and left out).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb

from cloud_engine.data.catalog import load_catalog

COST_WINDOW_DAYS = 30
METRIC_WINDOW_DAYS = 30
ACTIVE_GRACE_DAYS = 2
_MACHINE_KEYS = ("InstanceType", "MachineType", "VMSize", "vmSize", "instance_type", "machine_type", "vm_size")
_KIND_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("snapshot", ("snapshot",)),
    ("public_ip", ("ip address", "public ip", "elastic ip", "publicip", "static ip")),
    ("load_balancer", ("load balancer", "loadbalancer")),
    ("disk", ("disk", "volume")),
)


@dataclass(frozen=True)
class DayStats:
    day: date
    p95: float
    avg: float
    max: float
    total: float
    samples: int


@dataclass(frozen=True)
class WindowStats:
    p95: float
    avg: float
    samples: int
    days: int


@dataclass
class ResourceProfile:
    resource_id: str
    resource_name: str
    provider: str
    region: str | None
    service: str | None
    resource_type: str | None
    sub_account: str | None
    tags: dict[str, str]
    kind: str
    machine_type: str | None
    monthly_cost: float
    first_seen: datetime
    last_seen: datetime
    daily: dict[str, list[DayStats]] = field(default_factory=dict)
    window: dict[str, WindowStats] = field(default_factory=dict)
    cpu_hourly: dict[tuple[bool, int], float] = field(default_factory=dict)
    currency: str | None = "USD"  # BillingCurrency of monthly_cost

    def days_of(self, metric: str) -> int:
        return len(self.daily.get(metric, []))


@dataclass
class Inventory:
    as_of: date | None
    metrics_end: datetime | None
    resources: list[ResourceProfile]
    # (provider, service, billing currency) -> resource_id (None for rows without one) -> day -> effective cost
    service_daily: dict[tuple[str, str, str | None], dict[str | None, dict[date, float]]]


def _tags(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return {str(k).lower(): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def machine_type_of(provider: str, sku_details: str | None, tags: dict[str, str], sku_id: str | None) -> str | None:
    """The catalogue machine type named by SkuPriceDetails, a tag or SkuId, if any."""
    types = load_catalog().for_provider(provider).machine_types if provider in ("aws", "gcp", "azure") else {}
    candidates: list[str] = []
    if sku_details:
        try:
            details = json.loads(sku_details)
        except ValueError:
            details = {}
        if isinstance(details, dict):
            candidates += [str(details[k]) for k in _MACHINE_KEYS if k in details]
    candidates += [tags[k.lower()] for k in _MACHINE_KEYS if k.lower() in tags]
    if sku_id:
        candidates.append(sku_id)
    return next((c for c in candidates if c in types), None)


def classify(resource_type: str | None, service: str | None, machine_type: str | None) -> str:
    """vm | disk | snapshot | public_ip | load_balancer | other, from type and service names."""
    if machine_type:
        return "vm"
    text = f"{resource_type or ''} {service or ''}".lower()
    for kind, words in _KIND_KEYWORDS:
        if any(w in text for w in words):
            return kind
    return "other"


def build_inventory(conn: duckdb.DuckDBPyConnection, guild_id: int, eligible: dict[str, list[str]]) -> Inventory:
    """Aggregate one scope's ledger and metrics into profiles (blocking; run via `Ledger.run`)."""
    bounds = conn.execute("SELECT max(charge_period_end) FROM cost_lines WHERE guild_id = ?", [guild_id]).fetchone()
    last_end: datetime | None = bounds[0] if bounds else None
    if last_end is None:
        return Inventory(as_of=None, metrics_end=None, resources=[], service_daily={})
    as_of = (last_end - timedelta(seconds=1)).date()
    cost_start = datetime.combine(as_of - timedelta(days=COST_WINDOW_DAYS - 1), datetime.min.time())
    hours_per_month = load_catalog().hours_per_month
    rows = conn.execute(
        """
        WITH cur AS (
            SELECT resource_id, arg_max(billing_currency, charge_period_start) AS currency
            FROM cost_lines WHERE guild_id = ? AND resource_id IS NOT NULL GROUP BY resource_id
        )
        SELECT c.resource_id,
               arg_max(resource_name, charge_period_start), arg_max(provider, charge_period_start),
               arg_max(region_id, charge_period_start), arg_max(service_name, charge_period_start),
               arg_max(resource_type, charge_period_start), arg_max(sub_account_name, charge_period_start),
               arg_max(tags, charge_period_start), arg_max(sku_price_details, charge_period_start),
               arg_max(sku_id, charge_period_start), min(charge_period_start), max(charge_period_end),
               sum(effective_cost) FILTER (WHERE charge_period_start >= ?
                                           AND billing_currency IS NOT DISTINCT FROM cur.currency),
               cur.currency
        FROM cost_lines c JOIN cur ON c.resource_id = cur.resource_id
        WHERE c.guild_id = ?
        GROUP BY c.resource_id, cur.currency HAVING max(charge_period_end) >= ?
        ORDER BY c.resource_id
        """,
        [guild_id, cost_start, guild_id, last_end - timedelta(days=ACTIVE_GRACE_DAYS)],
    ).fetchall()
    profiles: dict[str, ResourceProfile] = {}
    for (rid, name, provider, region, service, rtype, sub, tags_raw, details, sku, first, last, recent,
         currency) in rows:
        tags = _tags(tags_raw)
        machine = machine_type_of(provider, details, tags, sku)
        covered_h = max((last - max(first, cost_start)).total_seconds() / 3600.0, 1.0)
        profiles[rid] = ResourceProfile(
            resource_id=rid, resource_name=name or rid.rsplit("/", 1)[-1], provider=provider, region=region,
            service=service, resource_type=rtype, sub_account=sub, tags=tags, kind=classify(rtype, service, machine),
            machine_type=machine, monthly_cost=max(float(recent or 0.0), 0.0) / covered_h * hours_per_month,
            first_seen=first, last_seen=last, currency=currency,
        )
    metrics_end = _load_metrics(conn, guild_id, profiles)
    return Inventory(as_of=as_of, metrics_end=metrics_end, resources=list(profiles.values()),
                     service_daily=_service_daily(conn, guild_id, cost_start, eligible))


def _load_metrics(conn: duckdb.DuckDBPyConnection, guild_id: int,
                  profiles: dict[str, ResourceProfile]) -> datetime | None:
    end_row = conn.execute("SELECT max(ts) FROM metric_points WHERE guild_id = ?", [guild_id]).fetchone()
    metrics_end: datetime | None = end_row[0] if end_row else None
    if metrics_end is None or not profiles:
        return metrics_end
    start = datetime.combine(metrics_end.date() - timedelta(days=METRIC_WINDOW_DAYS - 1), datetime.min.time())
    daily = conn.execute(
        """
        SELECT resource_id, metric, CAST(ts AS DATE) AS day, quantile_cont(value, 0.95), avg(value), max(value),
               sum(value), count(*)
        FROM metric_points WHERE guild_id = ? AND ts >= ? GROUP BY ALL ORDER BY resource_id, metric, day
        """,
        [guild_id, start],
    ).fetchall()
    for rid, metric, day, p95, avg, mx, total, n in daily:
        if rid in profiles:
            profiles[rid].daily.setdefault(metric, []).append(DayStats(day, p95, avg, mx, total, n))
    window = conn.execute(
        """
        SELECT resource_id, metric, quantile_cont(value, 0.95), avg(value), count(*), count(DISTINCT CAST(ts AS DATE))
        FROM metric_points WHERE guild_id = ? AND ts >= ? GROUP BY ALL
        """,
        [guild_id, start],
    ).fetchall()
    for rid, metric, p95, avg, n, days in window:
        if rid in profiles:
            profiles[rid].window[metric] = WindowStats(p95, avg, n, days)
    hourly = conn.execute(
        """
        SELECT resource_id, isodow(ts) >= 6, hour(ts), quantile_cont(value, 0.95)
        FROM metric_points WHERE guild_id = ? AND metric = 'cpu' AND ts >= ? GROUP BY ALL
        """,
        [guild_id, start],
    ).fetchall()
    for rid, weekend, hour, p95 in hourly:
        if rid in profiles:
            profiles[rid].cpu_hourly[(bool(weekend), int(hour))] = p95
    return metrics_end


def _service_daily(conn: duckdb.DuckDBPyConnection, guild_id: int, start: datetime, eligible: dict[str, list[str]],
                   ) -> dict[tuple[str, str, str | None], dict[str | None, dict[date, float]]]:
    pairs = [(p, s) for p, services in eligible.items() for s in services]
    if not pairs:
        return {}
    out: dict[tuple[str, str, str | None], dict[str | None, dict[date, float]]] = defaultdict(lambda: defaultdict(dict))
    conn.execute("CREATE OR REPLACE TEMP TABLE eligible_services (provider VARCHAR, service VARCHAR)")
    conn.executemany("INSERT INTO eligible_services VALUES (?, ?)", pairs)
    rows = conn.execute(
        """
        SELECT c.provider, c.service_name, c.billing_currency, c.resource_id, CAST(c.charge_period_start AS DATE),
               sum(c.effective_cost)
        FROM cost_lines c JOIN eligible_services e ON c.provider = e.provider AND c.service_name = e.service
        WHERE c.guild_id = ? AND c.charge_period_start >= ? GROUP BY ALL
        """,
        [guild_id, start],
    ).fetchall()
    for provider, service, currency, rid, day, cost in rows:
        out[(provider, service, currency)][rid][day] = float(cost)
    return {k: dict(v) for k, v in out.items()}


__all__ = ["DayStats", "Inventory", "ResourceProfile", "WindowStats", "build_inventory", "classify", "machine_type_of"]
