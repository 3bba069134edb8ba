"""GCP connector: Compute aggregated_list through the real REST transport against a
loopback fake (two pages), and BigQuery billing export files (JSONL and CSV) mapped to FOCUS."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1
from google.cloud.compute_v1.services.instances.transports.rest import InstancesRestTransport

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors.base import RetryPolicy
from cloud_engine.finops.connectors.gcp import GcpConnector, read_billing_export
from cloud_engine.finops.errors import MissingCredentials
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
