"""A seeded, deterministic synthetic FOCUS + metrics data set for demos, tests and benchmarks.

Why synthetic data: recommenders must be shown working without a cloud account, and tests
need patterns whose right answer is known. Each provider gets the same cast of resources,
priced from the catalogue so recommendations line up with `cloud_engine/data/catalog.json`:

- steady production VMs, an idle VM, an oversized VM (rightsizing), a spiky batch VM,
  weekday-only dev/test VMs (tagged env=dev|test), a VM without a memory agent and a VM
  created 5 days ago (both: insufficient telemetry for rightsizing);
- an attached disk, an unattached disk (zero I/O), an unused public IP, an idle and a busy
  load balancer, an old (200-day) and a recent snapshot, a bucket and a managed database;
- one injected cost anomaly: the GCP BigQuery dataset costs ~20x its normal day on
  `anomaly_day(end)`.

Generation is vectorised with numpy/pyarrow (resources x periods), so `write_focus_rows`
produces a million hourly rows in seconds for the benchmark. Same seed and end date, same
bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cloud_engine.data.catalog import load_catalog
from cloud_engine.finops.prices import PUBLIC_IP_HOURLY, SNAPSHOT_GB_MONTH

DEFAULT_END = date(2026, 11, 18)
DEFAULT_DAYS = 45
DEFAULT_SEED = 42
ANOMALY_FACTOR = 20.0
ANOMALY_OFFSET_DAYS = 8

_PROVIDERS = {
    "aws": {"name": "AWS", "region": "us-east-1", "account": "123456789012", "sub": "shop-prod",
            "compute": "Amazon Elastic Compute Cloud", "lb": "Elastic Load Balancing",
            "storage": "Amazon Simple Storage Service", "db": "Amazon Relational Database Service",
            "analytics": "Amazon Athena",
            "types": {"vm": "Instance", "disk": "Volume", "snapshot": "Snapshot", "ip": "Elastic IP Address",
                      "lb": "Load Balancer", "bucket": "Bucket", "db": "DB Instance", "analytics": "Workgroup"},
            "steady": "m5.xlarge", "oversized": "m5.2xlarge", "small": "t3.medium", "spiky": "c5.xlarge",
            "dev": "t3.large", "db_tier": "db.m5.large"},
    "gcp": {"name": "Google Cloud", "region": "us-central1", "account": "01A2B3-C4D5E6-F7A8B9", "sub": "analytics-prod",
            "compute": "Compute Engine", "lb": "Cloud Load Balancing", "storage": "Cloud Storage",
            "db": "Cloud SQL", "analytics": "BigQuery",
            "types": {"vm": "Compute Instance", "disk": "Persistent Disk", "snapshot": "Disk Snapshot",
                      "ip": "Static External IP Address", "lb": "Load Balancer", "bucket": "Bucket",
                      "db": "Cloud SQL Instance", "analytics": "BigQuery Dataset"},
            "steady": "n2-standard-4", "oversized": "n2-standard-8", "small": "e2-medium", "spiky": "c3-standard-4",
            "dev": "e2-standard-4", "db_tier": "db-custom-2-7680"},
    "azure": {"name": "Microsoft", "region": "eastus", "account": "ea-7788", "sub": "platform-prod",
              "compute": "Virtual Machines", "lb": "Load Balancer", "storage": "Storage",
              "db": "Azure SQL Database", "analytics": "Azure Synapse Analytics",
              "types": {"vm": "Virtual Machine", "disk": "Managed Disk", "snapshot": "Snapshot",
                        "ip": "Public IP Address", "lb": "Load Balancer", "bucket": "Storage Account",
                        "db": "SQL Database", "analytics": "Synapse Workspace"},
              "steady": "Standard_D4s_v5", "oversized": "Standard_D8s_v5", "small": "Standard_B2s",
              "spiky": "Standard_F4s_v2", "dev": "Standard_D4s_v5", "db_tier": "GP_Standard_D2ds_v5"},
}


@dataclass(frozen=True)
class SyntheticResource:
    """One generated resource: what it is, what it costs per hour, and how it behaves."""

    resource_id: str
    name: str
    provider: str
    provider_name: str
    region: str
    service: str
    resource_type: str
    pattern: str
    hourly_cost: float
    sub_account: str
    account: str
    machine_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    metric_days: int | None = None  # None: metrics for the whole window
    created_days_ago: int | None = None


def anomaly_day(end: date = DEFAULT_END) -> date:
    """The day carrying the injected cost anomaly."""
    return end - timedelta(days=ANOMALY_OFFSET_DAYS)


def _resource_id(provider: str, region: str, account: str, kind: str, name: str) -> str:
    if provider == "aws":
        return f"arn:aws:ec2:{region}:{account}:{kind}/{name}"
    if provider == "gcp":
        return f"//compute.googleapis.com/projects/{account.lower()}/regions/{region}/{kind}/{name}"
    return f"/subscriptions/{account}/resourceGroups/rg-main/providers/Microsoft.Compute/{kind}/{name}"


def _provider_resources(provider: str) -> list[SyntheticResource]:
    spec = _PROVIDERS[provider]
    cat = load_catalog().for_provider(provider)
    region = str(spec["region"])
    mult = cat.regions[region]
    types: dict[str, str] = spec["types"]  # type: ignore[assignment]
    vm_metrics = ("cpu", "memory", "network_in", "network_out")
    out: list[SyntheticResource] = []

    def add(name: str, kind: str, service_key: str, pattern: str, hourly: float, *, machine_type: str | None = None,
            tags: dict[str, str] | None = None, metrics: tuple[str, ...] = (), metric_days: int | None = None,
            created_days_ago: int | None = None) -> None:
        out.append(SyntheticResource(
            resource_id=_resource_id(provider, region, str(spec["account"]), kind, f"{provider}-{name}"),
            name=f"{provider}-{name}", provider=provider, provider_name=str(spec["name"]), region=region,
            service=str(spec[service_key]), resource_type=types[kind], pattern=pattern, hourly_cost=round(hourly, 6),
            sub_account=str(spec["sub"]), account=str(spec["account"]), machine_type=machine_type,
            tags={"project": str(spec["sub"]), "env": "prod", **(tags or {})}, metrics=metrics,
            metric_days=metric_days, created_days_ago=created_days_ago,
        ))

    def vm(name: str, type_key: str, pattern: str, **kw: object) -> None:
        machine = str(spec[type_key])
        add(name, "vm", "compute", pattern, cat.machine_types[machine].hourly_usd * mult,
            machine_type=machine, **kw)  # type: ignore[arg-type]

    vm("web-1", "steady", "steady", metrics=vm_metrics)
    vm("api-1", "steady", "steady", metrics=vm_metrics)
    vm("legacy-report", "small", "idle", metrics=vm_metrics)
    vm("erp-app", "oversized", "oversized", metrics=vm_metrics)
    vm("batch-etl", "spiky", "spiky", metrics=vm_metrics)
    vm("dev-box", "dev", "weekday", tags={"env": "dev"}, metrics=vm_metrics)
    vm("test-runner", "dev", "weekday", tags={"env": "test"}, metrics=vm_metrics)
    vm("cache-1", "oversized", "steady_low", metrics=("cpu", "network_in", "network_out"))
    vm("new-svc", "steady", "steady", metrics=vm_metrics, metric_days=5)
    disk_price = cat.storage_gb_month.disk / load_catalog().hours_per_month
    add("data-disk", "disk", "compute", "disk_busy", 500 * disk_price * mult, metrics=("disk_read", "disk_write"))
    add("old-disk", "disk", "compute", "zero", 250 * disk_price * mult, metrics=("disk_read", "disk_write"))
    add("spare-ip", "ip", "compute", "zero", PUBLIC_IP_HOURLY, metrics=("network_in", "network_out"))
    add("lb-legacy", "lb", "lb", "zero", cat.load_balancer_hourly * mult, metrics=("network_in", "network_out"))
    add("lb-main", "lb", "lb", "steady", cat.load_balancer_hourly * mult, metrics=("network_in", "network_out"))
    snap_hourly = 300 * SNAPSHOT_GB_MONTH / load_catalog().hours_per_month
    add("snap-2025", "snapshot", "compute", "none", snap_hourly, created_days_ago=200)
    add("snap-recent", "snapshot", "compute", "none", snap_hourly, created_days_ago=10)
    bucket = cat.storage_gb_month.bucket["STANDARD"] * 2000 / load_catalog().hours_per_month
    add("assets", "bucket", "storage", "none", bucket)
    add("orders-db", "db", "db", "none", cat.database_tiers[str(spec["db_tier"])].hourly_usd * mult)
    add("warehouse", "analytics", "analytics", "anomaly" if provider == "gcp" else "none", 0.2)
    return out


def synthetic_resources(scale: int = 1) -> list[SyntheticResource]:
    """The resource cast for all three providers; `scale` > 1 repeats it with distinct ids."""
    base = [r for p in ("aws", "gcp", "azure") for r in _provider_resources(p)]
    if scale <= 1:
        return base
    return [replace(r, resource_id=f"{r.resource_id}-{i:04d}", name=f"{r.name}-{i:04d}")
            for i in range(scale) for r in base]


def _periods(days: int, end: date, hours: int) -> np.ndarray:
    start = np.datetime64(end - timedelta(days=days - 1), "h")
    return start + np.arange(days * 24, step=hours).astype("timedelta64[h]")


def focus_table(resources: list[SyntheticResource], *, days: int = DEFAULT_DAYS, end: date = DEFAULT_END,
                granularity: str = "day", seed: int = DEFAULT_SEED, focus_version: str = "1.1") -> pa.Table:
    """FOCUS rows (one per resource per day or hour), costs with ±2 % seeded noise."""
    step = 24 if granularity == "day" else 1
    periods = _periods(days, end, step)
    n_res, n_per = len(resources), len(periods)
    idx = np.repeat(np.arange(n_res), n_per)
    starts = np.tile(periods, n_res)
    rng = np.random.default_rng(seed)
    hourly = np.array([r.hourly_cost for r in resources])[idx]
    billed = hourly * step * (1 + rng.uniform(-0.02, 0.02, size=idx.size))
    anomaly = np.array([r.pattern == "anomaly" for r in resources])[idx]
    day_of = starts.astype("datetime64[D]")
    billed = np.where(anomaly & (day_of == np.datetime64(anomaly_day(end))), billed * ANOMALY_FACTOR, billed)
    billed = np.round(billed, 6)

    def col(values: list[object]) -> pa.Array:
        return pa.array(values).take(pa.array(idx))

    ts_start = pa.array(starts.astype("datetime64[s]"))
    ts_end = pa.array((starts + np.timedelta64(step, "h")).astype("datetime64[s]"))
    provider_col = "ServiceProviderName" if focus_version >= "1.2" else "ProviderName"
    sku_details = [json.dumps({"InstanceType": r.machine_type}) if r.machine_type else None for r in resources]
    return pa.table({
        "BillingAccountId": col([r.account for r in resources]),
        "SubAccountId": col([r.account + "-" + r.sub_account for r in resources]),
        "SubAccountName": col([r.sub_account for r in resources]),
        provider_col: col([r.provider_name for r in resources]),
        "ServiceName": col([r.service for r in resources]),
        "ResourceId": col([r.resource_id for r in resources]),
        "ResourceName": col([r.name for r in resources]),
        "ResourceType": col([r.resource_type for r in resources]),
        "RegionId": col([r.region for r in resources]),
        "ChargeCategory": pa.array(["Usage"] * idx.size),
        "ChargePeriodStart": pc.strftime(ts_start, format="%Y-%m-%dT%H:%M:%SZ"),
        "ChargePeriodEnd": pc.strftime(ts_end, format="%Y-%m-%dT%H:%M:%SZ"),
        "BilledCost": pa.array(billed),
        "EffectiveCost": pa.array(billed),
        "ListCost": pa.array(billed),
        "BillingCurrency": pa.array(["USD"] * idx.size),
        "ConsumedQuantity": pa.array(np.full(idx.size, float(step))),
        "ConsumedUnit": pa.array(["Hours"] * idx.size),
        "PricingUnit": pa.array(["Hours"] * idx.size),
        "SkuId": col([r.machine_type or r.resource_type for r in resources]),
        "SkuPriceDetails": col(sku_details),
        "Tags": col([json.dumps(_tags(r, end)) for r in resources]),
    })


def _tags(resource: SyntheticResource, end: date) -> dict[str, str]:
    tags = dict(resource.tags)
    if resource.created_days_ago is not None:
        tags["created"] = (end - timedelta(days=resource.created_days_ago)).isoformat()
    return tags


def _series(pattern: str, metric: str, hours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hourly values for one metric of one pattern (percent for cpu/memory, bytes otherwise)."""
    hod = (hours.astype("datetime64[h]").astype(np.int64) % 24).astype(float)
    dow = ((hours.astype("datetime64[D]").astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday; 0 = Monday
    n = hours.size
    noise = rng.uniform(-1, 1, size=n)
    wave = np.sin(2 * np.pi * (hod - 14) / 24)
    busy = (dow < 5) & (hod >= 8) & (hod < 20)
    mb = 1024.0 * 1024.0
    if pattern == "zero":
        return np.zeros(n)
    if metric == "cpu":
        table = {
            "steady": 45 + 8 * wave + 5 * noise, "steady_low": 30 + 5 * wave + 3 * noise,
            "idle": 1.5 + 0.8 * noise, "oversized": 9 + 4 * wave + 2 * noise,
            "spiky": np.where((hod >= 1) & (hod < 4), 92 + 5 * noise, 6 + 2 * noise),
            "weekday": np.where(busy, 40 + 8 * noise, 1.0 + 0.5 * noise),
        }
        return np.clip(table.get(pattern, 20 + 5 * noise), 0, 100)
    if metric == "memory":
        table = {"steady": 62 + 3 * noise, "idle": 12 + 2 * noise, "oversized": 18 + 3 * noise,
                 "spiky": np.where((hod >= 1) & (hod < 4), 70 + 5 * noise, 40 + 3 * noise),
                 "weekday": np.where(busy, 55 + 5 * noise, 20 + 2 * noise)}
        return np.clip(table.get(pattern, 40 + 3 * noise), 0, 100)
    if metric.startswith("network"):
        per_hour = {"idle": 0.01 * mb, "weekday": np.where(busy, 200 * mb, 0.01 * mb)}.get(pattern, 150 * mb)
        return np.round(np.maximum(per_hour * (1 + 0.3 * noise), 0))
    return np.round(np.maximum(40 * mb * (1 + 0.3 * noise), 0))  # disk bytes for busy disks


def metrics_table(resources: list[SyntheticResource], *, days: int = DEFAULT_DAYS, end: date = DEFAULT_END,
                  seed: int = DEFAULT_SEED) -> pa.Table:
    """Hourly utilisation points for every resource that reports metrics."""
    ids: list[pa.Array] = []
    names: list[pa.Array] = []
    stamps: list[np.ndarray] = []
    values: list[np.ndarray] = []
    units: list[pa.Array] = []
    for i, res in enumerate(resources):
        if not res.metrics:
            continue
        span = min(days, res.metric_days or days)
        hours = _periods(span, end, 1)
        rng = np.random.default_rng([seed, i])
        for metric in res.metrics:
            series = _series(res.pattern, metric, hours, rng)
            unit = "percent" if metric in ("cpu", "memory") else "bytes"
            ids.append(pa.array([res.resource_id] * hours.size))
            names.append(pa.array([metric] * hours.size))
            units.append(pa.array([unit] * hours.size))
            stamps.append(hours.astype("datetime64[s]"))
            values.append(np.round(series, 3))
    ts = pa.array(np.concatenate(stamps)) if stamps else pa.array([], pa.timestamp("s"))
    return pa.table({
        "resource_id": pa.concat_arrays(ids) if ids else pa.array([], pa.string()),
        "metric": pa.concat_arrays(names) if names else pa.array([], pa.string()),
        "timestamp": pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ"),
        "value": pa.array(np.concatenate(values)) if values else pa.array([], pa.float64()),
        "unit": pa.concat_arrays(units) if units else pa.array([], pa.string()),
    })


def write_synthetic(directory: str | Path, *, days: int = DEFAULT_DAYS, end: date = DEFAULT_END,
                    seed: int = DEFAULT_SEED, scale: int = 1, focus_version: str = "1.1",
                    fmt: str = "csv") -> tuple[Path, Path]:
    """Write the synthetic FOCUS export and metrics CSV into `directory`; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    resources = synthetic_resources(scale)
    focus = focus_table(resources, days=days, end=end, seed=seed, focus_version=focus_version)
    focus_path = out / f"synthetic_focus.{'parquet' if fmt == 'parquet' else 'csv'}"
    if fmt == "parquet":
        pq.write_table(focus, focus_path)
    else:
        pacsv.write_csv(focus, focus_path)
    metrics_path = out / "synthetic_metrics.csv"
    pacsv.write_csv(metrics_table(resources, days=days, end=end, seed=seed), metrics_path)
    return focus_path, metrics_path


def write_focus_rows(path: str | Path, n_rows: int, *, days: int = DEFAULT_DAYS, end: date = DEFAULT_END,
                     seed: int = DEFAULT_SEED) -> Path:
    """Write exactly `n_rows` hourly FOCUS rows (the resource cast repeated) for benchmarks."""
    per_resource = days * 24
    base = len(synthetic_resources())
    scale = -(-n_rows // (per_resource * base))
    table = focus_table(synthetic_resources(scale), days=days, end=end, granularity="hour", seed=seed)
    pacsv.write_csv(table.slice(0, n_rows), Path(path))
    return Path(path)


def window_start(days: int = DEFAULT_DAYS, end: date = DEFAULT_END) -> datetime:
    return datetime.combine(end - timedelta(days=days - 1), datetime.min.time())


__all__ = [
    "DEFAULT_DAYS", "DEFAULT_END", "SyntheticResource", "anomaly_day", "focus_table", "metrics_table",
    "synthetic_resources", "window_start", "write_focus_rows", "write_synthetic",
]
