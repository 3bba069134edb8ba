"""Azure Cost Management exports in Blob Storage, against Azurite (no network): the newest run's
parts are imported with their resource ids, regions and amortised costs, each row naming its
blob; a re-import adds nothing; a missing container or folder, refused credentials and a bad
manifest fail in one line."""

from __future__ import annotations

import gzip
import json
import time
from datetime import date

import pytest
from azure.storage.blob import BlobServiceClient

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors.azure_export import AzureExportConnector, parse_blob_uri
from cloud_engine.finops.connectors.base import RetryPolicy
from cloud_engine.finops.connectors.exports import sync_connector
from cloud_engine.finops.connectors.registry import build_connector
from cloud_engine.finops.errors import ConnectorError
from cloud_engine.finops.sync import missing_settings, source_kind
from cloud_engine.settings import Settings
from tests.cloud_engine.finops import azurite as azurite_setup
from tests.cloud_engine.finops.azurite import ACCOUNT, ACCOUNT_KEY, Azurite, azurite  # noqa: F401 - fixture
from tests.cloud_engine.finops.conftest import GUILD

FAST = RetryPolicy(attempts=2, initial_s=0.0, max_s=0.0)
CONTAINER, FOLDER = "costs", "exports/focus-daily"
RANGE = f"{FOLDER}/20261101-20261130"
VM = "/subscriptions/sub-1/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1"
RESERVATION = "/providers/microsoft.capacity/reservationorders/ro-1"
HEADER = ("BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,RegionName,"
          "BillingCurrency,ProviderName,ChargeCategory\n")
START, END = date(2026, 11, 1), date(2026, 11, 3)


def part(*rows: str) -> bytes:
    return gzip.compress((HEADER + "".join(r + "\n" for r in rows)).encode())


def settings_for(az: Azurite, *, container: str = CONTAINER, folder: str = FOLDER, key: str = ACCOUNT_KEY) -> Settings:
    return Settings(_env_file=None, azure_export_blob_uri=f"{az.endpoint}/{container}/{folder}",
                    azure_storage_connection_string=az.connection_string(key))


@pytest.fixture(scope="module")
def export(azurite: Azurite) -> tuple[Azurite, list[str]]:  # noqa: F811 - the fixture imported above
    """A container holding an older run and the newest run (two parts) of November's export."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string())
    container = service.get_container_client(CONTAINER)
    container.create_container()

    def upload(name: str, data: bytes) -> None:
        container.upload_blob(name, data, overwrite=True)

    upload(f"{RANGE}/run-0/part_0_0001.csv.gz", part(
        "99.0,99.0,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Stale,/old,westeurope,West Europe,USD,Microsoft,Usage"))
    upload(f"{RANGE}/run-0/manifest.json", json.dumps({"blobs": [{"blobName": f"{RANGE}/run-0/part_0_0001.csv.gz"}]})
           .encode())
    time.sleep(1.1)  # Last-Modified has one-second resolution: the newer run must be newer
    parts = [f"{RANGE}/run-1/part_0_0001.csv.gz", f"{RANGE}/run-1/part_1_0001.csv.gz"]
    upload(parts[0], part(
        f"0.0,4.0,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Virtual Machines,{VM},westeurope,West Europe,USD,"
        "Microsoft,Usage"))
    upload(parts[1], part(
        f"700.0,0.0,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Virtual Machines,{RESERVATION},,,USD,Microsoft,Purchase"))
    upload(f"{RANGE}/run-1/manifest.json", json.dumps({
        "manifestVersion": "2024-04-01", "exportConfig": {"type": "FocusCost", "dataVersion": "1.0r2"},
        "blobs": [{"blobName": p, "byteCount": 1} for p in parts]}).encode())
    upload(f"{FOLDER}/20261001-20261031/run-9/manifest.json", b"{broken")  # outside the window: never read
    return azurite, parts


def test_uri_parsing_keeps_the_account_of_a_path_style_url() -> None:
    assert parse_blob_uri("https://acct.blob.core.windows.net/costs/exports/focus") == (
        "https://acct.blob.core.windows.net", "costs", "exports/focus")
    assert parse_blob_uri(f"http://127.0.0.1:10000/{ACCOUNT}/costs/exports") == (
        f"http://127.0.0.1:10000/{ACCOUNT}", "costs", "exports")


async def test_newest_run_imports_resources_regions_and_amortised_costs(
        service: FinOpsService, export: tuple[Azurite, list[str]]) -> None:
    az, parts = export
    settings = settings_for(az)
    connector = build_connector("azure", settings)
    assert isinstance(connector, AzureExportConnector) and not connector.meters
    assert missing_settings("azure", settings) == [] and source_kind("azure", settings) == "azure_export"
    connector.retry = FAST
    reports = await sync_connector(service, "azure", connector, START, END, guild_id=GUILD)
    assert [(r.source_name, r.rows_added) for r in reports] == [(f"azure-export:{CONTAINER}/{p}", 1) for p in parts]
    stored = await service.ledger.run(lambda c: c.execute(
        "SELECT resource_id, region_id, billed_cost, effective_cost, charge_category, source_kind, source_name "
        "FROM cost_lines WHERE guild_id = ? ORDER BY billed_cost", [GUILD]).fetchall())
    assert stored == [
        (VM, "westeurope", 0.0, 4.0, "Usage", "azure_export", f"azure-export:{CONTAINER}/{parts[0]}"),
        (RESERVATION, None, 700.0, 0.0, "Purchase", "azure_export", f"azure-export:{CONTAINER}/{parts[1]}"),
    ]


async def test_reimporting_the_same_run_adds_nothing(service: FinOpsService, export: tuple[Azurite, list[str]]) -> None:
    az, _ = export
    connector = AzureExportConnector(settings_for(az), retry=FAST)
    await sync_connector(service, "azure", connector, START, END, guild_id=GUILD)
    again = await sync_connector(service, "azure", connector, START, END, guild_id=GUILD)
    assert [(r.rows_added, r.rows_unchanged) for r in again] == [(0, 1), (0, 1)]


async def test_missing_container_is_one_line(export: tuple[Azurite, list[str]]) -> None:
    az, _ = export
    with pytest.raises(ConnectorError) as err:
        await AzureExportConnector(settings_for(az, container="nope"), retry=FAST).list_files(START, END)
    assert "container nope does not exist" in str(err.value) and "\n" not in str(err.value)


async def test_missing_folder_says_where_it_looked(export: tuple[Azurite, list[str]]) -> None:
    az, _ = export
    with pytest.raises(ConnectorError, match=f"no export run under {CONTAINER}/exports/other/ for 2026-11-01"):
        await AzureExportConnector(settings_for(az, folder="exports/other"), retry=FAST).list_files(START, END)


async def test_refused_credentials_are_one_line_without_the_key(export: tuple[Azurite, list[str]]) -> None:
    az, _ = export
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    with pytest.raises(ConnectorError) as err:
        await AzureExportConnector(settings_for(az, key=wrong), retry=FAST).list_files(START, END)
    text = str(err.value)
    assert "Azure Storage refused the credentials" in text and "AZURE_STORAGE_CONNECTION_STRING" in text
    assert wrong not in text and "\n" not in text


async def test_malformed_manifest_is_one_line(export: tuple[Azurite, list[str]]) -> None:
    az, _ = export
    container = BlobServiceClient.from_connection_string(az.connection_string()).get_container_client(CONTAINER)
    container.upload_blob("exports/broken/20261101-20261130/run-1/manifest.json", b'{"files": []}', overwrite=True)
    with pytest.raises(ConnectorError, match="is not a Cost Management export manifest: it needs blobs") as err:
        await AzureExportConnector(settings_for(az, folder="exports/broken"), retry=FAST).list_files(START, END)
    assert "\n" not in str(err.value)


def test_azurite_without_node_fails_saying_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(azurite_setup.shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=r"needs Node.js and npm: install them .*then run `make azurite`"):
        azurite_setup._require_installed()
