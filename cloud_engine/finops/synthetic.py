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

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cloud_engine.finops._synthetic_cast import (
    SERVICE_CATEGORIES,
    ZONAL_KINDS,
    SyntheticResource,
    synthetic_resources,
)

DEFAULT_END = date(2026, 11, 18)
DEFAULT_DAYS = 45
DEFAULT_SEED = 42
ANOMALY_FACTOR = 20.0
ANOMALY_OFFSET_DAYS = 8
FOCUS_VERSIONS = ("1.1", "1.2", "1.3")
DEFAULT_FOCUS_VERSION = "1.2"


def anomaly_day(end: date = DEFAULT_END) -> date:
    """The day carrying the injected cost anomaly."""
    return end - timedelta(days=ANOMALY_OFFSET_DAYS)


def _periods(days: int, end: date, hours: int) -> np.ndarray:
    start = np.datetime64(end - timedelta(days=days - 1), "h")
    return start + np.arange(days * 24, step=hours).astype("timedelta64[h]")


def _sku(r: SyntheticResource) -> tuple[str, str, str]:
    """(SkuId, SkuPriceId, SkuMeter) in the provider's own shapes, stable per machine type or resource type."""
    what = r.machine_type or r.resource_type
    digest = hashlib.sha256(f"{r.provider}|{what}".encode()).hexdigest().upper()
    if r.provider == "aws":
        sku = f"{digest[:16]}"
        return sku, f"{sku}.JRTCKXETXF.6YS6EN2CT7", f"BoxUsage:{what}" if r.machine_type else f"{what}-Usage"
    if r.provider == "gcp":
        sku = f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}"
        return sku, f"{sku}-ONDEMAND", f"{what} running"
    guid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}".lower()
    return guid, f"{guid}-PAYG", f"{what} hours"


def _billing_periods(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First instant of each day's calendar month and of the next one."""
    month = day.astype("datetime64[M]")
    return month.astype("datetime64[s]"), (month + np.timedelta64(1, "M")).astype("datetime64[s]")


def focus_table(resources: list[SyntheticResource], *, days: int = DEFAULT_DAYS, end: date = DEFAULT_END,
                granularity: str = "day", seed: int = DEFAULT_SEED,
                focus_version: str = DEFAULT_FOCUS_VERSION) -> pa.Table:
    """FOCUS rows (one per resource per day or hour), costs with ±2 % seeded noise, period by period.

    `focus_version` "1.2" (the default) carries every column FOCUS 1.2 makes mandatory, and
    the conditional ones the cast has values for; "1.1" leaves out the columns 1.2 added
    (BillingAccountType, SubAccountType, InvoiceId); "1.3" names the provider with
    ServiceProviderName and HostProviderName instead of the deprecated ProviderName and
    PublisherName. Amounts are list prices: BilledCost = EffectiveCost = ListCost =
    ContractedCost = unit price x PricingQuantity (no discounts).
    """
    if focus_version not in FOCUS_VERSIONS:
        raise ValueError(f"focus_version must be one of {', '.join(FOCUS_VERSIONS)}")
    step = 24 if granularity == "day" else 1
    periods = _periods(days, end, step)
    n_res, n_per = len(resources), len(periods)
    idx = np.tile(np.arange(n_res), n_per)  # period by period: every provider in the first rows
    starts = np.repeat(periods, n_res)
    rng = np.random.default_rng(seed)
    hourly = np.array([r.hourly_cost for r in resources])[idx]
    billed = hourly * step * (1 + rng.uniform(-0.02, 0.02, size=idx.size))
    anomaly = np.array([r.pattern == "anomaly" for r in resources])[idx]
    day_of = starts.astype("datetime64[D]")
    billed = np.where(anomaly & (day_of == np.datetime64(anomaly_day(end))), billed * ANOMALY_FACTOR, billed)
    billed = np.round(billed, 6)
    unit_price = billed / step

    def col(values: list[object]) -> pa.Array:
        return pa.array(values).take(pa.array(idx))

    def stamp(values: np.ndarray) -> pa.Array:
        return pc.strftime(pa.array(values.astype("datetime64[s]")), format="%Y-%m-%dT%H:%M:%SZ")

    def const(value: object) -> pa.Array:
        return pa.array([value] * idx.size)

    bp_start, bp_end = _billing_periods(day_of)
    skus = [_sku(r) for r in resources]
    specs = [r.spec for r in resources]
    categories = [SERVICE_CATEGORIES[r.service_role] for r in resources]
    month = np.datetime_as_string(day_of.astype("datetime64[M]")).astype(object)
    invoice_prefix = np.array([f"INV-{r.provider.upper()}-" for r in resources], dtype=object)[idx]
    providers = col([r.provider_name for r in resources])
    names = ({"ServiceProviderName": providers, "HostProviderName": providers} if focus_version == "1.3"
             else {"ProviderName": providers, "PublisherName": providers})
    columns: dict[str, pa.Array] = {
        "BillingAccountId": col([r.account for r in resources]),
        "BillingAccountName": col([str(s["account_name"]) for s in specs]),
        "BillingAccountType": col([str(s["account_type"]) for s in specs]),
        "SubAccountId": col([r.sub_account_id for r in resources]),
        "SubAccountName": col([r.sub_account for r in resources]),
        "SubAccountType": col([str(s["sub_type"]) for s in specs]),
        **names,
        "InvoiceIssuerName": providers,
        "InvoiceId": pa.array(invoice_prefix + np.char.replace(month.astype(str), "-", "").astype(object)),
        "BillingPeriodStart": stamp(bp_start),
        "BillingPeriodEnd": stamp(bp_end),
        "ServiceName": col([r.service for r in resources]),
        "ServiceCategory": col([c[0] for c in categories]),
        "ServiceSubcategory": col([c[1] for c in categories]),
        "ResourceId": col([r.resource_id for r in resources]),
        "ResourceName": col([r.name for r in resources]),
        "ResourceType": col([r.resource_type for r in resources]),
        "RegionId": col([r.region for r in resources]),
        "RegionName": col([str(s["region_name"]) for s in specs]),
        "AvailabilityZone": col([str(s["zone"]) if r.kind in ZONAL_KINDS else None
                                 for r, s in zip(resources, specs, strict=True)]),
        "ChargeCategory": const("Usage"),
        "ChargeClass": pa.nulls(idx.size, pa.string()),
        "ChargeDescription": col([f"{r.machine_type} on-demand instance hours" if r.machine_type
                                  else f"{r.resource_type} hours" for r in resources]),
        "ChargeFrequency": const("Usage-Based"),
        "ChargePeriodStart": stamp(starts),
        "ChargePeriodEnd": stamp(starts + np.timedelta64(step, "h")),
        "PricingCategory": const("Standard"),
        "BilledCost": pa.array(billed),
        "EffectiveCost": pa.array(billed),
        "ListCost": pa.array(billed),
        "ContractedCost": pa.array(billed),
        "ListUnitPrice": pa.array(unit_price),
        "ContractedUnitPrice": pa.array(unit_price),
        "BillingCurrency": const("USD"),
        "PricingQuantity": pa.array(np.full(idx.size, float(step))),
        "PricingUnit": const("Hours"),
        "ConsumedQuantity": pa.array(np.full(idx.size, float(step))),
        "ConsumedUnit": const("Hours"),
        "SkuId": col([s[0] for s in skus]),
        "SkuPriceId": col([s[1] for s in skus]),
        "SkuMeter": col([s[2] for s in skus]),
        "SkuPriceDetails": col([json.dumps({"InstanceType": r.machine_type}) if r.machine_type else None
                                for r in resources]),
        "Tags": col([json.dumps(_tags(r, end)) for r in resources]),
    }
    if focus_version == "1.1":
        for added_in_12 in ("BillingAccountType", "SubAccountType", "InvoiceId"):
            del columns[added_in_12]
    return pa.table(columns)

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
        table: dict[str, np.ndarray] = {
            "steady": 45 + 8 * wave + 5 * noise, "steady_low": 30 + 5 * wave + 3 * noise,
            "idle": 1.5 + 0.8 * noise, "oversized": 9 + 4 * wave + 2 * noise,
            "spiky": np.where((hod >= 1) & (hod < 4), 92 + 5 * noise, 6 + 2 * noise),
            "weekday": np.where(busy, 40 + 8 * noise, 1.0 + 0.5 * noise),
        }
        return np.asarray(np.clip(table.get(pattern, 20 + 5 * noise), 0, 100), dtype=float)
    if metric == "memory":
        table = {"steady": 62 + 3 * noise, "idle": 12 + 2 * noise, "oversized": 18 + 3 * noise,
                 "spiky": np.where((hod >= 1) & (hod < 4), 70 + 5 * noise, 40 + 3 * noise),
                 "weekday": np.where(busy, 55 + 5 * noise, 20 + 2 * noise)}
        return np.asarray(np.clip(table.get(pattern, 40 + 3 * noise), 0, 100), dtype=float)
    if metric.startswith("network"):
        per_hour: np.ndarray = np.asarray({"idle": 0.01 * mb, "weekday": np.where(busy, 200 * mb, 0.01 * mb)}.get(
            pattern, 150 * mb), dtype=float)
        return np.asarray(np.round(np.maximum(per_hour * (1 + 0.3 * noise), 0)), dtype=float)
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
                    seed: int = DEFAULT_SEED, scale: int = 1, focus_version: str = DEFAULT_FOCUS_VERSION,
                    fmt: str = "csv", prefix: str = "synthetic_") -> tuple[Path, Path]:
    """Write the synthetic FOCUS export and metrics CSV into `directory` as `<prefix>focus.csv` (or
    `.parquet`) and `<prefix>metrics.csv`; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    resources = synthetic_resources(scale)
    focus = focus_table(resources, days=days, end=end, seed=seed, focus_version=focus_version)
    focus_path = out / f"{prefix}focus.{'parquet' if fmt == 'parquet' else 'csv'}"
    if fmt == "parquet":
        pq.write_table(focus, focus_path)
    else:
        write_focus_csv(focus, focus_path)
    metrics_path = out / f"{prefix}metrics.csv"
    pacsv.write_csv(metrics_table(resources, days=days, end=end, seed=seed), metrics_path)
    return focus_path, metrics_path


def write_focus_csv(table: pa.Table, path: str | Path) -> Path:
    """Write FOCUS rows as CSV with every decimal column spelled as a decimal ("24.0", not "24").

    Why: readers that infer column types from a CSV, the FinOps Foundation's validator among
    them, read a column of whole numbers as integers, and FOCUS wants PricingQuantity and the
    costs to be decimals.
    """
    decimals = {name: pa.array([None if v is None else repr(float(v)) for v in table.column(name).to_pylist()],
                               pa.string())
                for name in table.column_names if pa.types.is_floating(table.schema.field(name).type)}
    for name, values in decimals.items():
        table = table.set_column(table.column_names.index(name), name, values)
    pacsv.write_csv(table, Path(path))
    return Path(path)


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
    "DEFAULT_DAYS", "DEFAULT_END", "DEFAULT_FOCUS_VERSION", "DEFAULT_SEED", "FOCUS_VERSIONS", "SyntheticResource", "anomaly_day", "focus_table", "metrics_table", "write_focus_csv",
    "synthetic_resources", "window_start", "write_focus_rows", "write_synthetic",
]
