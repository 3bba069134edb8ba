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
The billing export reader lives in `gcp_billing.py`, the Cloud Monitoring mapping in
`gcp_monitoring.py`; their names are re-exported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa

from cloud_engine.finops.connectors.base import (
    RetryPolicy,
    focus_table,
    in_thread,
    metric_table,
    require,
    with_retries,
)
from cloud_engine.finops.connectors.gcp_billing import read_billing_export
from cloud_engine.finops.connectors.gcp_monitoring import (
    INSTANCES_PER_QUERY,
    MONITORING_METRICS,
    InstanceRef,
    MonitoringMetric,
    instance_ref,
    series_points,
    time_series_request,
)
from cloud_engine.finops.errors import ConnectorError
from cloud_engine.settings import Settings


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

            self._creds = service_account.Credentials.from_service_account_file(path)  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
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




__all__ = ["MONITORING_METRICS", "GcpConnector", "GcpInstance", "InstanceRef", "MonitoringMetric", "instance_from_api",
           "instance_ref", "read_billing_export", "series_points", "time_series_request"]
