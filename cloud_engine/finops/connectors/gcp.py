"""Google Cloud: instances from the Compute API, costs from the BigQuery billing export and
utilisation from Cloud Monitoring.

Costs: Google has no synchronous cost API; the standard (or detailed) billing export to
BigQuery is the source, exported as JSONL (nested, the table's own schema) or CSV (nested
names flattened with '.' or '_'). DuckDB reads either and this module maps it to FOCUS:
BilledCost = cost, EffectiveCost = cost + sum(credits.amount) (credits are negative),
ServiceName = service.description, SubAccountId/Name = project.id/name, RegionId =
location.region, ResourceId = resource.global_name (detailed export; null otherwise),
Tags = labels as a JSON map, ChargeCategory from cost_type (regular -> Usage).
Instances (aggregated_list, every zone, all pages) supply machine type, zone and status;
`fetch_costs` uses them to put the machine type into SkuPriceDetails for rightsizing.

Utilisation (`fetch_metrics`): Cloud Monitoring `projects.timeSeries.list` for the ledger's
instance ids (`//compute.googleapis.com/projects/P/zones/Z/instances/NAME`, or a numeric
instance id as the last segment), one query per metric type, project and batch of
instances, aligned to one point per hour over the period (start, end] of the request
(stamped with the hour it covers, as CloudWatch and Azure Monitor stamp theirs):
- cpu: compute.googleapis.com/instance/cpu/utilization (GAUGE, a 0-1 fraction), ALIGN_MEAN,
  x100 to percent and capped at 100 (shared-core types may burst above 1.0);
- memory: agent.googleapis.com/memory/percent_used with state=used (GAUGE, percent), from
  the Ops Agent; without the agent there are no series and so no memory rows, which the
  recommenders report as insufficient telemetry;
- network_in/out, disk_read/write: compute.googleapis.com/instance/network/received_bytes_count,
  .../sent_bytes_count, .../disk/read_bytes_count, .../disk/write_bytes_count (DELTA, bytes),
  ALIGN_SUM: the bytes moved in each hour (ALIGN_RATE would be bytes/s, ALIGN_DELTA fills
  empty hours by interpolation); series are summed per instance (REDUCE_SUM) over disks and
  the load-balanced label.
Series map back by zone and instance name (or id) to the exact id asked for; others are
ignored. The client's own retry is off: the shared RetryPolicy retries 429/5xx, and a
permission error names the query and the role it needs. Credentials are never logged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cloud_engine.errors import IngestError
from cloud_engine.finops._files import describe, file_format, ident
from cloud_engine.finops.connectors.base import (
    RetryPolicy,
    focus_table,
    in_thread,
    metric_table,
    require,
    with_retries,
)
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
class MonitoringMetric:
    """One Cloud Monitoring metric type and how it becomes a ledger metric."""

    metric_type: str
    metric: str  # ledger metric name (metrics_ingest.UNITS)
    unit: str
    aligner: str  # per-series aligner over ALIGNMENT
    reducer: str  # cross-series reducer per instance (disks, load-balanced label)
    scale: float = 1.0
    agent: bool = False  # Ops Agent metric: no instance_name label, the name is metadata.system_labels.name
    extra_filter: str = ""


MONITORING_METRICS: tuple[MonitoringMetric, ...] = (
    MonitoringMetric("compute.googleapis.com/instance/cpu/utilization", "cpu", "percent", "ALIGN_MEAN",
                     "REDUCE_MEAN", scale=100.0),
    MonitoringMetric("agent.googleapis.com/memory/percent_used", "memory", "percent", "ALIGN_MEAN", "REDUCE_MEAN",
                     agent=True, extra_filter='metric.labels.state = "used"'),
    MonitoringMetric("compute.googleapis.com/instance/network/received_bytes_count", "network_in", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
    MonitoringMetric("compute.googleapis.com/instance/network/sent_bytes_count", "network_out", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
    MonitoringMetric("compute.googleapis.com/instance/disk/read_bytes_count", "disk_read", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
    MonitoringMetric("compute.googleapis.com/instance/disk/write_bytes_count", "disk_write", "bytes",
                     "ALIGN_SUM", "REDUCE_SUM"),
)
ALIGNMENT = timedelta(hours=1)
INSTANCES_PER_QUERY = 50  # keeps each filter's one_of(...) list short
_INSTANCE_ID = re.compile(
    r"^//compute\.googleapis\.com/projects/([a-z0-9][a-z0-9.:-]*)/zones/([a-z0-9-]+)/instances/([a-z0-9][a-z0-9-]*)$")


@dataclass(frozen=True)
class InstanceRef:
    """A ledger instance id split into what Cloud Monitoring labels carry."""

    resource_id: str
    project: str
    zone: str
    name: str  # instance name, or the numeric instance id (names start with a letter)

    @property
    def by_id(self) -> bool:
        return self.name.isdigit()


def instance_ref(resource_id: str) -> InstanceRef | None:
    """The project, zone and instance of a Compute instance id; None for anything else."""
    match = _INSTANCE_ID.match(resource_id.strip())
    return InstanceRef(resource_id, *match.groups()) if match else None


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
                 monitoring_client: Any = None, retry: RetryPolicy | None = None) -> None:
        self.project = require(settings, "GCP", ("gcp_project_id",))["gcp_project_id"]
        self._settings = settings
        self._creds: Any = None
        if instances_client is None:
            from google.cloud import compute_v1

            instances_client = compute_v1.InstancesClient(credentials=self._credentials())
        self.instances_client = instances_client
        self._monitoring_client = monitoring_client  # built on first use when not given (costs alone need none)
        self.billing_export = Path(billing_export)
        self.source_name = f"gcp:billing-export:{self.billing_export.name}"
        self.retry = retry or RetryPolicy()

    def _credentials(self) -> Any:
        """Service-account credentials from GOOGLE_APPLICATION_CREDENTIALS (loaded once, never logged)."""
        if self._creds is None:
            path = require(self._settings, "GCP", ("google_application_credentials",))["google_application_credentials"]
            from google.oauth2 import service_account

            self._creds = service_account.Credentials.from_service_account_file(path)
        return self._creds

    @property
    def monitoring_client(self) -> Any:
        """A monitoring_v3.MetricServiceClient (gRPC; the library has no REST transport)."""
        if self._monitoring_client is None:
            from google.cloud import monitoring_v3

            self._monitoring_client = monitoring_v3.MetricServiceClient(credentials=self._credentials())
        return self._monitoring_client

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
        """Hourly cpu, memory, network and disk points for the instances in `resource_ids` over [start, end).

        Ids that are not Compute instances are skipped; a metric without series (memory when
        no Ops Agent runs, a stopped VM) yields no rows rather than an error.
        """
        begin, finish = datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC)
        groups: dict[tuple[str, bool], list[InstanceRef]] = {}
        for ref in dict.fromkeys(r for r in map(instance_ref, resource_ids) if r is not None):
            groups.setdefault((ref.project, ref.by_id), []).append(ref)
        points: list[tuple[str, str, str, float, str]] = []
        for (project, by_id), refs in groups.items():
            for i in range(0, len(refs), INSTANCES_PER_QUERY):
                batch = refs[i:i + INSTANCES_PER_QUERY]
                for spec in MONITORING_METRICS:
                    request = time_series_request(spec, project, batch, begin, finish, by_id=by_id)
                    series = await self._list_time_series(spec, project, request)
                    points += series_points(spec, batch, series, begin, finish)
        return metric_table(sorted(points))

    async def _list_time_series(self, spec: MonitoringMetric, project: str, request: dict[str, Any]) -> list[Any]:
        """Every series of one query (the pager follows next_page_token), retried as a whole."""
        operation = f"Cloud Monitoring timeSeries.list ({spec.metric_type}, projects/{project})"
        client = self.monitoring_client

        def collect() -> list[Any]:
            # retry=None: the RetryPolicy below is the only retry layer (the client's default
            # would retry 503s for up to 90 s inside each of our attempts)
            return list(client.list_time_series(request=request, retry=None))

        try:
            return await with_retries(self.retry, "GCP", operation, lambda: in_thread(collect))
        except ConnectorError as exc:
            status = getattr(exc.__cause__, "code", None)
            reason = getattr(exc.__cause__, "message", None) or str(exc.__cause__)
            if status in (401, 403):
                raise ConnectorError(provider="GCP", operation=operation, detail=(
                    f"permission denied ({reason}); the service account needs roles/monitoring.viewer "
                    f"on projects/{project}")) from exc.__cause__
            if status == 429:
                raise ConnectorError(provider="GCP", operation=operation, detail=(
                    f"quota or rate limit exceeded after {self.retry.attempts} attempts ({reason})")) from exc.__cause__
            raise


def _quoted(values: Iterable[str]) -> str:
    return ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)


def time_series_request(spec: MonitoringMetric, project: str, refs: list[InstanceRef], start: datetime,
                        end: datetime, *, by_id: bool) -> dict[str, Any]:
    """A ListTimeSeriesRequest (as a dict) for one metric over a batch of one project's instances."""
    names = _quoted(r.name for r in refs)
    if by_id:
        who = f"resource.labels.instance_id = one_of({names})"
    elif spec.agent:
        who = f"metadata.system_labels.name = one_of({names})"
    else:
        who = f"metric.labels.instance_name = one_of({names})"
    clauses = [f'metric.type = "{spec.metric_type}"', 'resource.type = "gce_instance"', f'project = "{project}"',
               f"resource.labels.zone = one_of({_quoted(sorted({r.zone for r in refs}))})", who]
    if spec.extra_filter:
        clauses.append(spec.extra_filter)
    name_field = "metadata.system_labels.name" if spec.agent else "metric.label.instance_name"
    return {
        "name": f"projects/{project}", "filter": " AND ".join(clauses),
        "interval": {"start_time": start, "end_time": end},
        "aggregation": {"alignment_period": ALIGNMENT, "per_series_aligner": spec.aligner,
                        "cross_series_reducer": spec.reducer,
                        "group_by_fields": ["resource.label.zone", "resource.label.instance_id", name_field]},
        "view": "FULL",
    }


def _label(labels: Any, key: str) -> str:
    try:
        return str(labels[key]) if key in labels else ""
    except (KeyError, TypeError):
        return ""


def _number(value: Any) -> float | None:
    """The double or int64 of a TypedValue (aligned gauges are doubles, summed byte counts int64)."""
    pb = type(value).pb(value) if hasattr(type(value), "pb") else value
    kind = pb.WhichOneof("value")
    return float(getattr(pb, kind)) if kind in ("double_value", "int64_value") else None


def series_points(spec: MonitoringMetric, refs: list[InstanceRef], series: Iterable[Any], start: datetime,
                  end: datetime) -> list[tuple[str, str, str, float, str]]:
    """Ledger points of the series that belong to `refs` (matched by zone and name or id)."""
    wanted = {(r.zone, r.name): r.resource_id for r in refs}
    projects = {r.project for r in refs if not r.project.isdigit()}  # a project number can't be compared
    out = []
    for ts in series:
        project = _label(ts.resource.labels, "project_id")
        if project and projects and project not in projects:
            continue  # another project of the metrics scope
        zone = _label(ts.resource.labels, "zone")
        name = _label(ts.metric.labels, "instance_name") or _label(ts.metadata.system_labels, "name")
        rid = wanted.get((zone, name)) or wanted.get((zone, _label(ts.resource.labels, "instance_id")))
        if rid is None:
            continue  # an instance nobody asked for
        for point in ts.points:
            value = _number(point.value)
            period_start = point.interval.end_time - ALIGNMENT
            if value is None or not start <= period_start < end:
                continue
            value *= spec.scale
            value = min(max(value, 0.0), 100.0) if spec.unit == "percent" else max(value, 0.0)
            out.append((rid, spec.metric, period_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), value, spec.unit))
    return out


def _expr(columns: dict[str, tuple[str, str]], names: tuple[str, ...]) -> str:
    for name in names:
        if name.lower() in columns:  # flattened header, quoted as one identifier
            return '"' + columns[name.lower()][0].replace('"', '""') + '"'
        head, _, rest = name.partition(".")
        if rest and head.lower() in columns and columns[head.lower()][1].upper().startswith("STRUCT"):
            return f'"{columns[head.lower()][0]}".{rest}'
    return "NULL"


_LABEL_ENTRIES = """from_json({json}, '[{{"key": "VARCHAR", "value": "VARCHAR"}}]')"""


def _labels_map(entries: str) -> str:
    """A JSON object text from a list of {key, value} structs (entries without a key are dropped)."""
    return ("CAST(to_json(map_from_entries(list_transform(list_filter("
            f"{entries}, lambda l: l.key IS NOT NULL), lambda l: {{'k': l.key, 'v': l.value}}))) AS VARCHAR)")


def _labels_expr(columns: dict[str, tuple[str, str]]) -> str:
    """SQL for Tags (a JSON object text, or NULL) from the export's `labels`, whatever type DuckDB inferred.

    BigQuery writes labels as a list of {key, value}. DuckDB infers that as a struct list
    only when a sampled row has a label: when none does, the column is JSON[] (or "NULL"),
    and a CSV export holds text. Each shape is converted here, and anything else becomes
    NULL, so Tags is always text or NULL and never a raw list the Arrow table cannot hold.
    """
    if "labels" not in columns:
        return "NULL"
    actual, duck_type = columns["labels"]
    q, kind = ident(actual), duck_type.upper()
    if kind.startswith("STRUCT") and kind.endswith("[]"):
        return _labels_map(q)
    if kind.startswith(("STRUCT", "MAP")):  # already an object of label -> value
        return f"CAST(to_json({q}) AS VARCHAR)"
    if kind == "JSON[]":
        return _labels_map(_LABEL_ENTRIES.format(json=f"CAST({q} AS JSON)"))
    if kind in ("VARCHAR", "JSON"):  # json_type fails on invalid JSON, so it runs only inside json_valid's branch
        text = f"NULLIF(TRIM(CAST({q} AS VARCHAR)), '')"
        return (f"CASE WHEN json_valid({text}) THEN CASE json_type({text}) WHEN 'OBJECT' THEN {text} "
                f"WHEN 'ARRAY' THEN {_labels_map(_LABEL_ENTRIES.format(json=f'CAST({text} AS JSON)'))} END END")
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
        labels = _labels_expr(columns)
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
            "ConsumedUnit": r["ConsumedUnit"], "Tags": r["tags"] if isinstance(r["tags"], str) else None,
        })
    return out


__all__ = ["MONITORING_METRICS", "GcpConnector", "GcpInstance", "InstanceRef", "MonitoringMetric", "instance_from_api",
           "instance_ref", "read_billing_export", "series_points", "time_series_request"]
