"""Azure connector against a loopback HTTP fake serving recorded-shape JSON (no network):
the real SDK clients (aio, aiohttp transport) send the requests, including the nextLink page."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors.azure import AzureConnector, StaticTokenCredential
from cloud_engine.finops.connectors.base import RetryPolicy
from cloud_engine.finops.errors import MissingCredentials
from cloud_engine.settings import Settings
from tests.cloud_engine.finops.conftest import GUILD

VM = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
RESERVATION = "/providers/Microsoft.Capacity/reservationOrders/ro-1"


def columns(second: str) -> list[dict[str, str]]:
    return [{"name": "Cost", "type": "Number"}, {"name": "UsageDate", "type": "Number"},
            {"name": "ResourceId", "type": "String"}, {"name": second, "type": "String"},
            {"name": "Currency", "type": "String"}]


class FakeArm(BaseHTTPRequestHandler):
    """Answers each query by its type and grouping: a VM covered by a reservation bought on 1 Nov."""

    requests: list[tuple[str, str, str]] = []
    bodies: list[dict] = []
    throttle_once = True

    def log_message(self, *args: object) -> None:
        return None

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length).decode())
        FakeArm.requests.append(("POST", self.path, self.headers.get("Authorization", "")))
        FakeArm.bodies.append(body)
        assert body["dataset"]["granularity"] == "Daily"
        grouping = [g["name"] for g in body["dataset"]["grouping"]]
        port = self.server.server_address[1]
        if FakeArm.throttle_once:
            FakeArm.throttle_once = False
            self._send(429, {"error": {"code": "TooManyRequests", "message": "slow down"}})
            return
        if grouping == ["ResourceId", "ResourceLocation"]:
            rows = [[6.5, 20261101, VM.lower(), "westeurope", "USD"], [1.0, 20261101, "", "", "USD"]]
            self._send(200, {"properties": {"nextLink": None, "columns": columns("ResourceLocation"), "rows": rows}})
            return
        if body["type"] == "ActualCost":  # the VM's hours cost nothing: the reservation's purchase paid them
            rows = [[0.0, 20261101, VM, "Virtual Machines", "USD"], [1.0, 20261101, "", "Bandwidth", "USD"],
                    [700.0, 20261101, RESERVATION, "Virtual Machines", "USD"]]
            self._send(200, {"properties": {"nextLink": None, "columns": columns("ServiceName"), "rows": rows}})
            return
        if "skiptoken" in self.path:
            rows = [[2.5, 20261102, VM, "Virtual Machines", "USD"]]
            self._send(200, {"properties": {"nextLink": None, "columns": columns("ServiceName"), "rows": rows}})
            return
        rows = [[4.0, 20261101, VM, "Virtual Machines", "USD"], [1.0, 20261101, "", "Bandwidth", "USD"]]
        next_link = f"http://127.0.0.1:{port}/subscriptions/sub-1/providers/Microsoft.CostManagement/query?api-version=2025-03-01&$skiptoken=p2"
        self._send(200, {"properties": {"nextLink": next_link, "columns": columns("ServiceName"), "rows": rows}})

    def do_GET(self) -> None:  # noqa: N802
        FakeArm.requests.append(("GET", self.path, self.headers.get("Authorization", "")))
        series = lambda field, values: [{"metadatavalues": [], "data": [  # noqa: E731
            {"timeStamp": f"2026-11-01T{h:02d}:00:00Z", field: v} for h, v in enumerate(values)]}]
        self._send(200, {"cost": 0, "timespan": "x", "interval": "PT1H", "value": [
            {"id": "m1", "type": "Microsoft.Insights/metrics", "name": {"value": "Percentage CPU"}, "unit": "Percent",
             "timeseries": series("average", [5.0, 7.0])},
            {"id": "m2", "type": "Microsoft.Insights/metrics", "name": {"value": "Available Memory Percentage"},
             "unit": "Percent", "timeseries": series("average", [70.0, 60.0])},
            {"id": "m3", "type": "Microsoft.Insights/metrics", "name": {"value": "Network In Total"}, "unit": "Bytes",
             "timeseries": series("total", [1024.0, 2048.0])},
        ]})


@pytest.fixture
def arm() -> Iterator[str]:
    FakeArm.requests = []
    FakeArm.bodies = []
    FakeArm.throttle_once = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeArm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def connector(base_url: str) -> AzureConnector:
    settings = Settings(_env_file=None, azure_subscription_id="sub-1")
    return AzureConnector(settings, credential=StaticTokenCredential("fake-token"), base_url=base_url,
                          retry=RetryPolicy(attempts=3, initial_s=0.0, max_s=0.0), allow_http=True)


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(MissingCredentials, match="AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET"):
        AzureConnector(Settings(_env_file=None, azure_tenant_id=None, azure_client_id=None, azure_client_secret=None,
                                azure_subscription_id="s"))


async def test_costs_are_amortised_billed_and_regional(service: FinOpsService, arm: str) -> None:
    costs, metrics = await service.ingest_connector(connector(arm), date(2026, 11, 1), date(2026, 11, 3),
                                                    resource_ids=[VM], guild_id=GUILD)
    assert (costs.rows_read, costs.rows_added, costs.source_kind) == (4, 4, "azure_api")
    posts = [p for m, p, _ in FakeArm.requests if m == "POST"]
    assert len(posts) == 5 and "skiptoken=p2" in posts[2]  # throttled once, two amortised pages, actual, regions
    asked = [(b["type"], [g["name"] for g in b["dataset"]["grouping"]]) for b in FakeArm.bodies[1:]]
    assert asked == [("AmortizedCost", ["ResourceId", "ServiceName"])] * 2 + [
        ("ActualCost", ["ResourceId", "ServiceName"]), ("AmortizedCost", ["ResourceId", "ResourceLocation"])]
    assert all(auth == "Bearer fake-token" for _, _, auth in FakeArm.requests)
    stored = await service.ledger.run(lambda c: c.execute(
        "SELECT resource_id, charge_period_start::DATE::VARCHAR, billed_cost, effective_cost, region_id, "
        "charge_category FROM cost_lines WHERE guild_id = ? ORDER BY billed_cost DESC, charge_period_start, "
        "resource_id NULLS LAST", [GUILD]).fetchall())
    assert stored == [
        (RESERVATION, "2026-11-01", 700.0, 0.0, None, "Purchase"),  # billed once, amortised onto the VM's hours
        (None, "2026-11-01", 1.0, 1.0, None, "Usage"),
        (VM, "2026-11-01", 0.0, 4.0, "westeurope", "Usage"),
        (VM, "2026-11-02", 0.0, 2.5, "westeurope", "Usage"),
    ]
    summary = await service.cost_summary(by="service", guild_id=GUILD)
    assert {(g.key, g.effective_cost) for g in summary.groups} == {("Virtual Machines", 6.5), ("Bandwidth", 1.0)}
    assert summary.currency == "USD"

    assert metrics is not None and metrics.rows_added == 6
    stored = await service.ledger.run(lambda c: c.execute(
        "SELECT metric, value FROM metric_points WHERE resource_id = ? ORDER BY metric, ts", [VM]).fetchall())
    assert stored == [("cpu", 5.0), ("cpu", 7.0), ("memory", 30.0), ("memory", 40.0),
                      ("network_in", 1024.0), ("network_in", 2048.0)]
