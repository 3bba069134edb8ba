"""FOCUS 1.0-1.3 are read and named; bad cells are named by column and row, and change nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.focus_columns import focus_version
from cloud_engine.finops.synthetic import focus_table, synthetic_resources, write_focus_csv
from tests.cloud_engine.finops.conftest import GUILD


async def stored(service: FinOpsService) -> int:
    return await service.ledger.run(lambda c: c.execute("SELECT count(*) FROM cost_lines").fetchone()[0])


@pytest.mark.parametrize("version", ["1.1", "1.2", "1.3"])
async def test_each_version_imports_and_is_named(service: FinOpsService, tmp_path: Path, version: str) -> None:
    resources = [r for r in synthetic_resources() if r.name in ("aws-web-1", "gcp-web-1", "azure-web-1")]
    path = write_focus_csv(focus_table(resources, days=2, focus_version=version), tmp_path / f"focus{version}.csv")
    report = await service.ingest_focus_file(path, guild_id=GUILD)
    assert report.focus_version_hint == version and report.rows_added == 6
    summary = await service.cost_summary(by="provider", guild_id=GUILD)
    assert {g.key for g in summary.groups} == {"aws", "gcp", "azure"}


def test_a_minimal_export_reads_as_10_and_markers_pick_the_newest() -> None:
    base = ["BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ProviderName"]
    assert focus_version(base) == "1.0"
    assert focus_version([*base, "skumeter"]) == "1.1"
    assert focus_version([*base, "SkuMeter", "InvoiceId"]) == "1.2"
    assert focus_version([*base, "InvoiceId", "HostProviderName"]) == "1.3"


async def test_a_13_export_with_only_host_provider_name_still_has_a_provider(service: FinOpsService,
                                                                             tmp_path: Path) -> None:
    table = focus_table(synthetic_resources()[:1], days=1, focus_version="1.3").drop_columns(["ServiceProviderName"])
    report = await service.ingest_focus_file(write_focus_csv(table, tmp_path / "host.csv"), guild_id=GUILD)
    assert report.rows_added == 1 and report.focus_version_hint == "1.3"


async def test_the_13_contract_commitment_dataset_is_refused_plainly(service: FinOpsService, tmp_path: Path) -> None:
    path = tmp_path / "commitments.csv"
    path.write_text("ContractCommitmentId,ContractId,ContractCommitmentCost,BillingCurrency\nri-1,c-1,100.0,USD\n")
    with pytest.raises(IngestError, match="Contract Commitment dataset"):
        await service.ingest_focus_file(path, guild_id=GUILD)


def _edit(src: Path, dst: Path, row_index: int, **cells: str) -> Path:
    with src.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[row_index].update(cells)
    with dst.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dst


@pytest.fixture
def export_12(tmp_path: Path) -> Path:
    return write_focus_csv(focus_table(synthetic_resources()[:6], days=2), tmp_path / "good.csv")


@pytest.mark.parametrize(("cells", "expected"), [
    ({"ChargePeriodStart": "yesterday"}, "column ChargePeriodStart has a value that is not a timestamp at row 4"),
    ({"ChargePeriodEnd": "2026-13-01"}, "column ChargePeriodEnd has a value that is not a timestamp at row 4"),
    ({"ListCost": "12,5"}, "column ListCost has a value that is not a number at row 4"),
    ({"BilledCost": "n/a"}, "column BilledCost has a value that is not a number at row 4"),
    ({"BillingCurrency": "XYZ"}, "BillingCurrency is not an ISO 4217 currency code (XYZ) at row 4"),
    ({"ChargePeriodStart": "2026-11-18T00:00:00Z", "ChargePeriodEnd": "2026-11-17T00:00:00Z"},
     "ChargePeriodEnd is before ChargePeriodStart (2026-11-17 00:00:00 < 2026-11-18 00:00:00) at row 4"),
])
async def test_a_bad_cell_names_its_column_and_row_and_imports_nothing(
        service: FinOpsService, export_12: Path, tmp_path: Path, cells: dict[str, str], expected: str) -> None:
    bad = _edit(export_12, tmp_path / "bad.csv", 3, **cells)
    with pytest.raises(IngestError) as caught:
        await service.ingest_focus_file(bad, guild_id=GUILD)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert await stored(service) == 0


async def test_parquet_checks_the_same_rules(service: FinOpsService, tmp_path: Path) -> None:
    table = focus_table(synthetic_resources()[:2], days=2)
    currency = table.column("BillingCurrency").to_pylist()
    currency[2] = "usd"  # ISO 4217 codes are upper case
    path = tmp_path / "bad.parquet"
    pq.write_table(table.set_column(table.column_names.index("BillingCurrency"), "BillingCurrency",
                                    pa.array(currency)), path)
    with pytest.raises(IngestError, match=r"BillingCurrency is not an ISO 4217 currency code \(usd\) at row 3"):
        await service.ingest_focus_file(path, guild_id=GUILD)
    assert await stored(service) == 0
