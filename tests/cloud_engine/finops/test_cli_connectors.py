"""`python main.py ingest aws|azure|gcp`: the connectors run from the CLI through the idempotent import,
with the fakes the connector tests use (moto for AWS, the loopback ARM server for Azure)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from moto import mock_aws

from cloud_engine.cli import main
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors import registry
from cloud_engine.finops.connectors.base import focus_table
from cloud_engine.finops.focus_ingest import ingest_focus_table
from tests.cloud_engine.finops.conftest import GUILD
from tests.cloud_engine.finops.test_cli import env  # noqa: F401 - the CLI's temporary stores
from tests.cloud_engine.finops.test_connector_aws import day, group, queue_cost_explorer_results
from tests.cloud_engine.finops.test_connector_azure import VM, FakeArm, arm, connector  # noqa: F401 - arm: fixture

CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AZURE_TENANT_ID", "AZURE_CLIENT_ID",
               "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "GCP_PROJECT_ID", "GOOGLE_APPLICATION_CREDENTIALS")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("args", "variables"), [
    (["ingest", "aws"], "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"),
    (["ingest", "azure", "--days", "7"], "AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID"),
    (["ingest", "gcp", "--billing-export", "export.jsonl"], "GCP_PROJECT_ID"),
])
def test_missing_credentials_are_one_line_and_fail(env: Path, no_credentials: None,  # noqa: F811
                                                   capsys: pytest.CaptureFixture[str], args: list[str],
                                                   variables: str) -> None:
    assert main(args) != 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and variables in lines[0] and lines[0].startswith("error: ")
    assert captured.out == ""


def test_gcp_needs_its_billing_export_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    with pytest.raises(SystemExit) as exited:
        main(["ingest", "gcp"])
    assert exited.value.code == 2 and "--billing-export" in capsys.readouterr().err


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield


def test_ingest_aws_imports_once_and_reruns_change_nothing(env: Path, mocked_aws: None,  # noqa: F811
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    page = {"ResultsByTime": [day("2026-11-01", "2026-11-02", group("Amazon Elastic Compute Cloud - Compute",
                                                                     "us-east-1", "10.5", "9.25"))],
            "DimensionValueAttributes": []}
    queue_cost_explorer_results([page, page])
    assert main(["ingest", "aws", "--days", "40", "--guild", "5", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["source_kind"], first["rows_read"], first["rows_added"], first["guild_id"]) == ("aws_api", 1, 1, 5)
    assert main(["ingest", "aws", "--days", "40", "--guild", "5"]) == 0
    line = capsys.readouterr().out
    assert "added 0, restated 0, unchanged 1" in line and "into guild 5" in line
    assert main(["costs", "--guild", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["total_billed_cost"] == 10.5


def test_ingest_azure_imports_costs_then_metrics_of_its_machines(env: Path, arm: str,  # noqa: F811
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    built: list[str] = []

    def fake(settings: object, options: registry.ConnectorOptions) -> object:
        built.append("azure")
        return connector(arm)

    monkeypatch.setitem(registry.CONNECTORS, "azure", fake)
    assert main(["ingest", "azure", "--days", "40", "--guild", "6", "--json"]) == 0
    costs, metrics = json.loads(capsys.readouterr().out)
    assert built == ["azure"]
    assert (costs["source_kind"], costs["rows_added"]) == ("azure_api", 4)  # with the reservation purchase
    assert (metrics["target"], metrics["rows_added"]) == ("metrics", 6)
    gets = [path for method, path, _ in FakeArm.requests if method == "GET"]
    assert len(gets) == 1 and VM.lower() in gets[0].lower()  # only the VM is metered, not the bandwidth line


async def test_a_connector_import_after_a_half_read_result_still_registers(service: FinOpsService) -> None:
    """DuckDB refuses to register an Arrow table while a fetchone() result is open (a reopened ledger, or
    any read before a sync); the import finishes that result first."""
    rows = [{"BilledCost": 1.0, "EffectiveCost": 1.0, "ChargePeriodStart": "2026-11-01", "ChargePeriodEnd": "2026-11-02",
             "ServiceName": "Amazon EC2", "ProviderName": "AWS", "BillingCurrency": "USD", "RegionId": "us-east-1"}]
    await service.ledger.run(lambda c: c.execute("SELECT 1 UNION ALL SELECT 2").fetchone())
    report = await service.ledger.run(lambda c: ingest_focus_table(
        c, focus_table(rows), guild_id=GUILD, source_kind="aws_api", source_name="t", fetched_at=datetime(2026, 11, 3)))
    assert report.rows_added == 1
