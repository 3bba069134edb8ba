"""Google Cloud: instances from the Compute API and costs from the BigQuery billing export.

Costs: Google has no synchronous cost API; the standard (or detailed) billing export to
BigQuery is the source, exported as JSONL (nested, the table's own schema) or CSV (nested
names flattened with '.' or '_'). DuckDB reads either and this module maps it to FOCUS:
BilledCost = cost, EffectiveCost = cost + sum(credits.amount) (credits are negative),
ServiceName = service.description, SubAccountId/Name = project.id/name, RegionId =
location.region, ResourceId = resource.global_name (detailed export; null otherwise),
Tags = labels as a JSON map, ChargeCategory from cost_type (regular -> Usage).
Instances (aggregated_list, every zone, all pages) supply machine type, zone and status;
`fetch_costs` uses them to put the machine type into SkuPriceDetails for rightsizing.
Utilisation: this connector does not read Cloud Monitoring (no client library in the
pinned set); export metrics to the metrics CSV format and use `ingest metrics`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cloud_engine.errors import IngestError
from cloud_engine.finops._files import describe, file_format
from cloud_engine.finops.connectors.base import RetryPolicy, focus_table, in_thread, require, with_retries
from cloud_engine.finops.errors import ConnectorError
from cloud_engine.settings import Settings

# FOCUS column -> candidate export column names (nested JSON path or flattened CSV header)
EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "ServiceName": ("service.description", "service_description"),
    "SkuId": ("sku.id", "sku_id"),
    "SubAccountId": ("project.id", "project_id"),
    "SubAccountName": ("project.name", "project_name"),
    "RegionId": ("location.region", "location_region"),
    "ResourceId": ("resource.global_name", "resource_global_name"),
    "ResourceName": ("resource.name", "resource_name"),
    "ChargePeriodStart": ("usage_start_time",),
    "ChargePeriodEnd": ("usage_end_time",),
    "BillingCurrency": ("currency",),
    "ConsumedQuantity": ("usage.amount", "usage_amount"),
    "ConsumedUnit": ("usage.unit", "usage_unit"),
    "CostType": ("cost_type",),
    "Cost": ("cost",),
}
CHARGE_CATEGORY = {"regular": "Usage", "tax": "Tax", "adjustment": "Adjustment", "rounding_error": "Adjustment"}


@dataclass(frozen=True)
class GcpInstance:
    name: str
    zone: str
    region: str
    machine_type: str
    status: str
    instance_id: str
    labels: dict[str, str]


def instance_from_api(zone_key: str, item: Any) -> GcpInstance:
    """Map a compute_v1.Instance (or its dict) to what the ledger needs."""
    get = item.get if isinstance(item, dict) else lambda k, d=None: getattr(item, k, d)
    zone = str(get("zone", "") or zone_key).rsplit("/", 1)[-1]
    return GcpInstance(
        name=str(get("name", "")), zone=zone, region=zone.rsplit("-", 1)[0],
        machine_type=str(get("machine_type", "") or get("machineType", "")).rsplit("/", 1)[-1],
        status=str(get("status", "")), instance_id=str(get("id", "")), labels=dict(get("labels", {}) or {}),
    )


class GcpConnector:
    source_kind = "gcp_api"

    def __init__(self, settings: Settings, *, billing_export: str | Path, instances_client: Any = None,
                 retry: RetryPolicy | None = None) -> None:
        self.project = require(settings, "GCP", ("gcp_project_id",))["gcp_project_id"]
        if instances_client is None:
            require(settings, "GCP", ("google_application_credentials",))
            from google.cloud import compute_v1
            from google.oauth2 import service_account

            creds = service_account.Credentials.from_service_account_file(str(settings.google_application_credentials))
            instances_client = compute_v1.InstancesClient(credentials=creds)
        self.instances_client = instances_client
        self.billing_export = Path(billing_export)
        self.source_name = f"gcp:billing-export:{self.billing_export.name}"
        self.retry = retry or RetryPolicy()

    async def list_instances(self) -> list[GcpInstance]:
        def collect() -> list[GcpInstance]:
            out = []
            for zone_key, scoped in self.instances_client.aggregated_list(project=self.project):
                out += [instance_from_api(zone_key, inst) for inst in scoped.instances]
            return sorted(out, key=lambda i: (i.zone, i.name))

        return await with_retries(self.retry, "GCP", "instances.aggregatedList", lambda: in_thread(collect))

    async def fetch_costs(self, start: date, end: date) -> pa.Table:
        rows = await in_thread(read_billing_export, self.billing_export, start, end)
        instances = {i.name: i for i in await self.list_instances()}
        for row in rows:
            inst = instances.get(row.get("ResourceName") or "")
            if inst is not None:
                row["SkuPriceDetails"] = json.dumps({"MachineType": inst.machine_type})
                row["ResourceType"] = "Compute Instance"
                row["RegionId"] = row.get("RegionId") or inst.region
                row["ResourceId"] = row.get("ResourceId") or (
                    f"//compute.googleapis.com/projects/{self.project}/zones/{inst.zone}/instances/{inst.name}")
        return focus_table(rows)

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        raise ConnectorError(provider="GCP", operation="metrics",
                             detail="Cloud Monitoring is not read by this connector; export utilisation to the "
                                    "metrics CSV format and run `main.py ingest metrics FILE`")


def _expr(columns: dict[str, tuple[str, str]], names: tuple[str, ...]) -> str:
    for name in names:
        if name.lower() in columns:  # flattened header, quoted as one identifier
            return '"' + columns[name.lower()][0].replace('"', '""') + '"'
        head, _, rest = name.partition(".")
        if rest and head.lower() in columns and columns[head.lower()][1].upper().startswith("STRUCT"):
            return f'"{columns[head.lower()][0]}".{rest}'
    return "NULL"


def read_billing_export(path: Path, start: date, end: date) -> list[dict[str, Any]]:
    """Rows of a BigQuery billing export file (JSONL or CSV) in [start, end), as FOCUS dicts."""
    lower = path.name.lower()
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        if lower.endswith((".json", ".jsonl", ".ndjson")):
            source, params = "read_json_auto(?, format='newline_delimited')", [str(path)]
            columns = {str(r[0]).lower(): (str(r[0]), str(r[1]))
                       for r in conn.execute(f"DESCRIBE SELECT * FROM {source}", params).fetchall()}  # noqa: S608
        else:
            file_format(path.name)
            source, params = "read_csv(?, header=true, all_varchar=true)", [str(path)]
            columns = describe(conn, "csv", path, path.name)
        if "cost" not in columns or "usage_start_time" not in columns:
            raise IngestError(detail=f"{path.name} is not a BigQuery billing export (needs cost, usage_start_time)")
        select = {focus: _expr(columns, names) for focus, names in EXPORT_COLUMNS.items()}
        credits = "0"
        if "credits" in columns and columns["credits"][1].upper().startswith("STRUCT"):
            credits = "COALESCE(list_sum(list_transform(credits, lambda c: c.amount)), 0)"
        labels = "NULL"
        if "labels" in columns and columns["labels"][1].upper().startswith("STRUCT"):
            labels = "CAST(to_json(map_from_entries(list_transform(labels, lambda l: {'k': l.key, 'v': l.value}))) AS VARCHAR)"
        elif "labels" in columns:
            labels = '"labels"'
        sql = (
            "SELECT " + ", ".join(f"CAST({expr} AS VARCHAR) AS {name}" for name, expr in select.items())  # noqa: S608
            + f", {credits} AS credits_total, {labels} AS tags FROM {source} "
        )
        rows = conn.execute(
            f"SELECT * FROM ({sql}) WHERE CAST(ChargePeriodStart AS TIMESTAMPTZ) >= ? "  # noqa: S608 - fixed names
            "AND CAST(ChargePeriodStart AS TIMESTAMPTZ) < ?",
            [*params, datetime.combine(start, time()), datetime.combine(end, time())],
        ).fetchall()
        names = [*select, "credits_total", "tags"]
    except duckdb.Error as exc:
        raise IngestError(detail=f"{path.name} could not be read as a billing export: {str(exc).splitlines()[0]}") from exc
    finally:
        conn.close()
    out = []
    for values in rows:
        r = dict(zip(names, values, strict=True))
        cost = float(r["Cost"] or 0)
        out.append({
            "BilledCost": cost, "EffectiveCost": cost + float(r["credits_total"] or 0),
            "ChargePeriodStart": r["ChargePeriodStart"], "ChargePeriodEnd": r["ChargePeriodEnd"],
            "ServiceName": r["ServiceName"], "ResourceId": r["ResourceId"], "ResourceName": r["ResourceName"],
            "RegionId": r["RegionId"], "ProviderName": "Google Cloud", "BillingCurrency": r["BillingCurrency"],
            "ChargeCategory": CHARGE_CATEGORY.get(str(r["CostType"] or "regular").lower(), "Usage"),
            "SubAccountId": r["SubAccountId"], "SubAccountName": r["SubAccountName"], "SkuId": r["SkuId"],
            "ConsumedQuantity": float(r["ConsumedQuantity"]) if r["ConsumedQuantity"] not in (None, "") else None,
            "ConsumedUnit": r["ConsumedUnit"], "Tags": r["tags"],
        })
    return out


__all__ = ["GcpConnector", "GcpInstance", "instance_from_api", "read_billing_export"]
