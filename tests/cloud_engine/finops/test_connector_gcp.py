"""GCP connector: Compute aggregated_list through the real REST transport against a
loopback fake (two pages), BigQuery billing export files (JSONL and CSV) mapped to FOCUS, and
Cloud Monitoring timeSeries.list through the real gRPC transport (google-cloud-monitoring has
no REST transport) against a loopback gRPC fake: pages, a 503 retried, 403 and quota errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent import futures
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, monitoring_v3
from google.cloud.compute_v1.services.instances.transports.rest import InstancesRestTransport
from google.cloud.monitoring_v3.services.metric_service.transports.grpc import MetricServiceGrpcTransport
from google.cloud.monitoring_v3.types import ListTimeSeriesRequest, ListTimeSeriesResponse

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors.base import METRIC_FIELDS, RetryPolicy
from cloud_engine.finops.connectors.gcp import (
    MONITORING_METRICS,
    GcpConnector,
    instance_ref,
    read_billing_export,
    time_series_request,
)
from cloud_engine.finops.errors import ConnectorError, MissingCredentials
from cloud_engine.settings import Settings
from tests.cloud_engine.finops.conftest import GUILD

PAGES = {
    "": {"items": {"zones/us-central1-a": {"instances": [
        {"name": "web-1", "id": "11", "zone": "projects/p/zones/us-central1-a",
         "machineType": "projects/p/zones/us-central1-a/machineTypes/n2-standard-8", "status": "RUNNING",
         "labels": {"env": "prod"}}]},
        "zones/europe-west1-b": {"warning": {"code": "NO_RESULTS_ON_PAGE"}}}, "nextPageToken": "p2"},
    "p2": {"items": {"zones/us-east1-b": {"instances": [
        {"name": "batch-1", "id": "12", "zone": "projects/p/zones/us-east1-b",
         "machineType": "projects/p/zones/us-east1-b/machineTypes/e2-standard-4", "status": "TERMINATED"}]}}},
}


class FakeCompute(BaseHTTPRequestHandler):
    paths: list[str] = []

    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:  # noqa: N802
        FakeCompute.paths.append(self.path)
        token = self.path.split("pageToken=")[1].split("&")[0] if "pageToken=" in self.path else ""
        data = json.dumps(PAGES[token]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def compute() -> Iterator[compute_v1.InstancesClient]:
    FakeCompute.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCompute)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    transport = InstancesRestTransport(host=f"127.0.0.1:{server.server_address[1]}",
                                       credentials=AnonymousCredentials(), url_scheme="http")
    yield compute_v1.InstancesClient(transport=transport)
    server.shutdown()
    server.server_close()


def export_rows() -> list[dict]:
    base = {"billing_account_id": "01A", "service": {"id": "6F81", "description": "Compute Engine"},
            "sku": {"id": "CP-N2", "description": "N2 Instance Core"}, "project": {"id": "p", "name": "shop"},
            "location": {"location": "us-central1", "region": "us-central1", "zone": "us-central1-a"},
            "resource": {"name": "web-1", "global_name": None}, "currency": "USD",
            "usage": {"amount": 24.0, "unit": "seconds", "pricing_unit": "hour"}, "cost_type": "regular",
            "labels": [{"key": "env", "value": "prod"}]}
    return [
        {**base, "usage_start_time": "2026-11-01T00:00:00Z", "usage_end_time": "2026-11-02T00:00:00Z", "cost": 9.0,
         "credits": [{"name": "SUD", "amount": -1.5, "type": "SUSTAINED_USAGE_DISCOUNT"}]},
        {**base, "usage_start_time": "2026-11-02T00:00:00Z", "usage_end_time": "2026-11-03T00:00:00Z", "cost": 9.0,
         "credits": []},
        {**base, "usage_start_time": "2026-11-05T00:00:00Z", "usage_end_time": "2026-11-06T00:00:00Z", "cost": 9.0,
         "credits": []},
    ]


def test_missing_project_names_the_variable() -> None:
    with pytest.raises(MissingCredentials, match="GCP_PROJECT_ID"):
        GcpConnector(Settings(_env_file=None, gcp_project_id=None), billing_export="x.jsonl")


async def test_instances_and_jsonl_export(service: FinOpsService, compute, tmp_path: Path) -> None:
    export = tmp_path / "billing.jsonl"
    export.write_text("\n".join(json.dumps(r) for r in export_rows()) + "\n")
    connector = GcpConnector(Settings(_env_file=None, gcp_project_id="p"), billing_export=export,
                             instances_client=compute, retry=RetryPolicy(attempts=2, initial_s=0, max_s=0))
    instances = await connector.list_instances()
    assert [(i.name, i.zone, i.region, i.machine_type, i.status) for i in instances] == [
        ("web-1", "us-central1-a", "us-central1", "n2-standard-8", "RUNNING"),
        ("batch-1", "us-east1-b", "us-east1", "e2-standard-4", "TERMINATED")]
    assert len(FakeCompute.paths) == 2 and "pageToken=p2" in FakeCompute.paths[1]

    costs, _ = await service.ingest_connector(connector, date(2026, 11, 1), date(2026, 11, 4), guild_id=GUILD)
    assert (costs.rows_added, costs.source_kind) == (2, "gcp_api")  # the 5th is outside the window
    summary = await service.cost_summary(by="project", guild_id=GUILD)
    assert summary.groups[0].key == "shop" and summary.total_billed_cost == 18.0
    assert summary.total_effective_cost == 16.5  # credits applied
    inventory = await service.inventory(guild_id=GUILD)
    (web,) = inventory.resources
    assert web.machine_type == "n2-standard-8" and web.kind == "vm" and web.tags == {"env": "prod"}


def test_flattened_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "billing.csv"
    path.write_text("service.description,sku.id,project.id,project.name,location.region,resource.name,"
                    "usage_start_time,usage_end_time,currency,cost,cost_type\n"
                    "BigQuery,BQ-1,p,shop,us,ds1,2026-11-01 00:00:00 UTC,2026-11-02 00:00:00 UTC,USD,3.25,tax\n")
    (row,) = read_billing_export(path, date(2026, 11, 1), date(2026, 11, 2))
    assert (row["ServiceName"], row["BilledCost"], row["EffectiveCost"], row["ChargeCategory"]) == (
        "BigQuery", 3.25, 3.25, "Tax")


# ---- Cloud Monitoring ----------------------------------------------------------------------
WEB = "//compute.googleapis.com/projects/p/zones/us-central1-a/instances/web-1"
BATCH = "//compute.googleapis.com/projects/p/zones/us-east1-b/instances/batch-1"
DAY = datetime(2026, 11, 1, tzinfo=UTC)
CPU, MEMORY = "compute.googleapis.com/instance/cpu/utilization", "agent.googleapis.com/memory/percent_used"
NET_IN = "compute.googleapis.com/instance/network/received_bytes_count"
DISK_READ = "compute.googleapis.com/instance/disk/read_bytes_count"
FAST = RetryPolicy(attempts=3, initial_s=0, max_s=0)


def series(metric_type: str, zone: str, name: str, values: list[tuple[int, float | int]], *,
           agent: bool = False, project: str = "p") -> dict:
    """A time series as Cloud Monitoring returns it after alignment: one point per hour, stamped at its end."""
    key = "int64_value" if values and isinstance(values[0][1], int) else "double_value"
    out = {"metric": {"type": metric_type, "labels": {} if agent else {"instance_name": name}},
           "resource": {"type": "gce_instance", "labels": {"project_id": project, "zone": zone, "instance_id": "77"}},
           "points": [{"interval": {"end_time": DAY + timedelta(hours=h)}, "value": {key: v}} for h, v in values]}
    if agent:
        out["metadata"] = {"system_labels": {"name": name}}
    return out


# metric type -> pages (page token -> response); a type not listed has no series (e.g. network out)
SERIES = {
    CPU: {
        "": {"time_series": [
            series(CPU, "us-central1-a", "web-1", [(2, 0.25), (1, 0.05), (0, 0.9)]),  # (0, ...) covers the day before
            series(CPU, "us-central1-a", "db-9", [(1, 0.99)]),  # not asked for
            series(CPU, "europe-west1-b", "web-1", [(1, 0.77)]),  # same name, other zone: not asked for
            series(CPU, "us-central1-a", "web-1", [(1, 0.66)], project="q"),  # other project of the metrics scope
        ], "next_page_token": "p2"},
        "p2": {"time_series": [series(CPU, "us-east1-b", "batch-1", [(1, 1.3)])]},  # shared-core burst above 1.0
    },
    MEMORY: {"": {"time_series": [series(MEMORY, "us-central1-a", "web-1", [(1, 42.5)], agent=True)]}},  # batch-1: no agent
    NET_IN: {"": {"time_series": [series(NET_IN, "us-central1-a", "web-1", [(1, 1_048_576), (2, 2048)])]}},
    DISK_READ: {"": {"time_series": [series(DISK_READ, "us-east1-b", "batch-1", [(24, 4096)])]}},
}


class FakeMonitoring:
    """google.monitoring.v3.MetricService/ListTimeSeries; `errors` are answered first, one per call."""

    def __init__(self) -> None:
        self.requests: list[ListTimeSeriesRequest] = []
        self.errors: list[grpc.StatusCode] = []
        self.lock = threading.Lock()

    def list_time_series(self, request: ListTimeSeriesRequest, context: grpc.ServicerContext) -> ListTimeSeriesResponse:
        with self.lock:
            self.requests.append(request)
            error = self.errors.pop(0) if self.errors else None
        if error is not None:
            context.abort(error, f"fake {error.name.lower()}")
        metric_type = request.filter.split('metric.type = "')[1].split('"')[0]
        return ListTimeSeriesResponse(SERIES.get(metric_type, {}).get(request.page_token, {}))

    def of(self, metric_type: str) -> list[ListTimeSeriesRequest]:
        return [r for r in self.requests if f'metric.type = "{metric_type}"' in r.filter]


@pytest.fixture
def monitoring() -> Iterator[tuple[FakeMonitoring, monitoring_v3.MetricServiceClient]]:
    fake = FakeMonitoring()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("google.monitoring.v3.MetricService", {
        "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
            fake.list_time_series, request_deserializer=ListTimeSeriesRequest.deserialize,
            response_serializer=ListTimeSeriesResponse.serialize)}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)])
    yield fake, monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))
    channel.close()
    server.stop(None)


def metrics_connector(client: monitoring_v3.MetricServiceClient, export: Path | str = "unused.jsonl",
                      instances: compute_v1.InstancesClient | None = None) -> GcpConnector:
    return GcpConnector(Settings(_env_file=None, gcp_project_id="p"), billing_export=export,
                        instances_client=instances or object(), monitoring_client=client, retry=FAST)


async def test_metrics_query_pages_units_and_ignored_series(monitoring) -> None:
    fake, client = monitoring
    fake.errors = [grpc.StatusCode.UNAVAILABLE]  # the first call is a 503: retried by the RetryPolicy
    table = await metrics_connector(client).fetch_metrics([WEB, BATCH, "arn:aws:s3:::not-gcp"],
                                                          date(2026, 11, 1), date(2026, 11, 2))
    assert tuple(table.column_names) == METRIC_FIELDS
    assert list(zip(*table.to_pydict().values(), strict=True)) == [
        (WEB, "cpu", "2026-11-01T00:00:00Z", 5.0, "percent"),  # fraction -> percent, stamped with the hour it covers
        (WEB, "cpu", "2026-11-01T01:00:00Z", 25.0, "percent"),
        (WEB, "memory", "2026-11-01T00:00:00Z", 42.5, "percent"),
        (WEB, "network_in", "2026-11-01T00:00:00Z", 1048576.0, "bytes"),
        (WEB, "network_in", "2026-11-01T01:00:00Z", 2048.0, "bytes"),
        (BATCH, "cpu", "2026-11-01T00:00:00Z", 100.0, "percent"),  # 1.3 capped at 100 %
        (BATCH, "disk_read", "2026-11-01T23:00:00Z", 4096.0, "bytes"),
    ]  # no memory for batch-1 (no agent), no network_out/disk_write series: absent, not an error

    first, retried, page2 = fake.of(CPU)
    assert first == retried and (first.page_token, page2.page_token) == ("", "p2")
    assert first.name == "projects/p"
    assert 'metric.labels.instance_name = one_of("web-1", "batch-1")' in first.filter
    assert 'resource.labels.zone = one_of("us-central1-a", "us-east1-b")' in first.filter
    assert 'resource.type = "gce_instance"' in first.filter and 'project = "p"' in first.filter
    assert (first.interval.start_time, first.interval.end_time) == (DAY, DAY + timedelta(days=1))
    agg = first.aggregation
    assert (agg.alignment_period, agg.per_series_aligner.name, agg.cross_series_reducer.name) == (
        timedelta(hours=1), "ALIGN_MEAN", "REDUCE_MEAN")
    (net,) = fake.of(NET_IN)
    assert (net.aggregation.per_series_aligner.name, net.aggregation.cross_series_reducer.name) == (
        "ALIGN_SUM", "REDUCE_SUM")
    assert "metric.label.instance_name" in net.aggregation.group_by_fields
    (mem,) = fake.of(MEMORY)
    assert 'metric.labels.state = "used"' in mem.filter
    assert 'metadata.system_labels.name = one_of("web-1", "batch-1")' in mem.filter
    assert "metadata.system_labels.name" in mem.aggregation.group_by_fields
    assert len(fake.requests) == len(MONITORING_METRICS) + 2  # one query per metric, + the retry and the second cpu page


async def test_metrics_permission_denied_names_the_query_and_role(monitoring) -> None:
    fake, client = monitoring
    fake.errors = [grpc.StatusCode.PERMISSION_DENIED]
    with pytest.raises(ConnectorError, match=r"GCP Cloud Monitoring timeSeries\.list \(compute\.googleapis\.com/"
                                             r"instance/cpu/utilization, projects/p\) failed: permission denied.*"
                                             r"roles/monitoring\.viewer"):
        await metrics_connector(client).fetch_metrics([WEB], date(2026, 11, 1), date(2026, 11, 2))
    assert len(fake.requests) == 1  # a 403 is not retried


@pytest.mark.parametrize(("status", "message"), [
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "quota or rate limit exceeded after 3 attempts"),
    (grpc.StatusCode.UNAVAILABLE, "ServiceUnavailable: 503"),
])
async def test_metrics_transient_errors_stop_after_the_policys_attempts(monitoring, status, message) -> None:
    fake, client = monitoring
    fake.errors = [status] * FAST.attempts
    with pytest.raises(ConnectorError, match=message):
        await metrics_connector(client).fetch_metrics([WEB], date(2026, 11, 1), date(2026, 11, 2))
    assert len(fake.requests) == FAST.attempts  # the client's own retry is off: the RetryPolicy is the only one


def test_instance_ids_by_number_and_non_instances() -> None:
    assert instance_ref("//compute.googleapis.com/projects/p/zones/us-east1-b/disks/d1") is None
    assert instance_ref('//compute.googleapis.com/projects/p/zones/z/instances/x" OR a="b') is None
    ref = instance_ref("//compute.googleapis.com/projects/123/zones/us-east1-b/instances/4567")
    assert ref is not None and ref.by_id and (ref.project, ref.zone, ref.name) == ("123", "us-east1-b", "4567")
    request = time_series_request(MONITORING_METRICS[1], ref.project, [ref], DAY, DAY + timedelta(days=1), by_id=True)
    assert 'resource.labels.instance_id = one_of("4567")' in request["filter"]
    assert request["name"] == "projects/123"


async def test_ingest_connector_puts_points_in_the_guilds_ledger(service: FinOpsService, compute, monitoring,
                                                                 tmp_path: Path) -> None:
    _, client = monitoring
    export = tmp_path / "billing.jsonl"
    export.write_text("\n".join(json.dumps(r) for r in export_rows()) + "\n")
    costs, metrics = await service.ingest_connector(
        metrics_connector(client, export, compute), date(2026, 11, 1), date(2026, 11, 2),
        resource_ids=[WEB, BATCH], guild_id=GUILD)
    assert costs.rows_added == 1
    assert metrics is not None and (metrics.rows_added, metrics.source_kind, metrics.guild_id) == (7, "gcp_api", GUILD)
    stored = await service.ledger.run(lambda c: c.execute(
        "SELECT guild_id, metric, value, unit FROM metric_points WHERE resource_id = ? ORDER BY metric, ts",
        [WEB]).fetchall())
    assert stored == [(GUILD, "cpu", 5.0, "percent"), (GUILD, "cpu", 25.0, "percent"),
                      (GUILD, "memory", 42.5, "percent"), (GUILD, "network_in", 1048576.0, "bytes"),
                      (GUILD, "network_in", 2048.0, "bytes")]
    (web,) = (await service.inventory(guild_id=GUILD)).resources  # the cost line and the points share the id
    assert web.resource_id == WEB and web.window["cpu"].avg == 15.0 and web.window["memory"].avg == 42.5
    other = await service.inventory(guild_id=GUILD + 1)
    assert other.resources == [] and other.metrics_end is None


async def test_metrics_without_credentials_name_the_variable() -> None:
    connector = GcpConnector(Settings(_env_file=None, gcp_project_id="p", google_application_credentials=None),
                             billing_export="x.jsonl", instances_client=object())  # costs need no monitoring client
    with pytest.raises(MissingCredentials, match="GOOGLE_APPLICATION_CREDENTIALS"):
        await connector.fetch_metrics([WEB], date(2026, 11, 1), date(2026, 11, 2))
