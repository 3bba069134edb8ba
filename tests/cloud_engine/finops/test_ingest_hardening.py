"""Import hardening: GCP exports without labels, Cost Explorer service names, NaN/inf costs,
row and decompression limits, a CSV row with an extra field, and capitalised metrics headers."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from cloud_engine.finops._files import MAX_EXPANSION
from cloud_engine.finops.connectors.aws import cost_rows
from cloud_engine.finops.connectors.base import focus_table
from cloud_engine.finops.connectors.gcp import GcpConnector, read_billing_export
from cloud_engine.finops.focus_ingest import ingest_focus_table
from cloud_engine.finops.models import RecommendationKind
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.finops.conftest import GUILD

HEADER = "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,ProviderName,BillingCurrency"


def line(day: int, cost: str = "1", extra: str = "") -> str:
    return f"{cost},{cost},2026-11-{day:02d}T00:00:00Z,2026-11-{day + 1:02d}T00:00:00Z,EC2,i-1,us-east-1,AWS,USD{extra}\n"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n" + "".join(rows)).encode()


# ---- 1. GCP export where no sampled row has labels -----------------------------------------
class NoInstances:
    def aggregated_list(self, project: str) -> list[object]:
        return []


def gcp_row(day: int, labels: object) -> dict[str, object]:
    return {"service": {"description": "Compute Engine"}, "sku": {"id": "CP"}, "project": {"id": "p", "name": "shop"},
            "location": {"region": "us-central1"}, "resource": {"name": "web-1", "global_name": None},
            "currency": "USD", "cost_type": "regular", "usage_start_time": f"2026-11-{day:02d}T00:00:00Z",
            "usage_end_time": f"2026-11-{day + 1:02d}T00:00:00Z", "cost": 9.0, "credits": [], "labels": labels}


async def test_gcp_export_without_any_labels_imports_with_empty_tags(service: FinOpsService, tmp_path: Path) -> None:
    export = tmp_path / "billing.jsonl"
    export.write_text("".join(json.dumps(gcp_row(d, [])) + "\n" for d in (1, 2)))
    connector = GcpConnector(Settings(_env_file=None, gcp_project_id="p"), billing_export=export,
                             instances_client=NoInstances())
    costs, _ = await service.ingest_connector(connector, date(2026, 11, 1), date(2026, 11, 3), guild_id=GUILD)
    assert costs.rows_added == 2
    summary = await service.cost_summary(guild_id=GUILD)
    assert summary.total_billed_cost == 18.0


@pytest.mark.parametrize(("labels", "tags"), [
    ([{"key": "env", "value": "prod"}], {"env": "prod"}),  # struct list: the usual shape
    ({"env": "prod"}, {"env": "prod"}),  # already an object
    ("not json", None),
    (None, None),
])
def test_gcp_labels_of_any_inferred_type_become_a_json_object_or_null(tmp_path: Path, labels: object,
                                                                      tags: dict[str, str] | None) -> None:
    export = tmp_path / "billing.jsonl"
    export.write_text(json.dumps(gcp_row(1, labels)) + "\n")
    [row] = read_billing_export(export, date(2026, 11, 1), date(2026, 11, 2))
    assert (json.loads(row["Tags"]) if row["Tags"] is not None else None) == tags


def test_gcp_flattened_csv_with_labels_as_json_text(tmp_path: Path) -> None:
    export = tmp_path / "billing.csv"
    export.write_text('cost,usage_start_time,usage_end_time,currency,service_description,labels\n'
                      '2.5,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,USD,Compute Engine,'
                      '"[{""key"": ""team"", ""value"": ""web""}]"\n'
                      '1.5,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,USD,Compute Engine,[]\n')
    rows = read_billing_export(export, date(2026, 11, 1), date(2026, 11, 2))
    assert sorted((r["BilledCost"], r["Tags"]) for r in rows) == [(1.5, "{}"), (2.5, '{"team":"web"}')]


# ---- 2. Cost Explorer service names ---------------------------------------------------------
def ce_page(service: str, days: int = 20) -> dict[str, object]:
    results = []
    for i in range(days):
        d = date(2026, 11, 1) + timedelta(days=i)
        results.append({"TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
                        "Groups": [{"Keys": [service, "us-east-1"], "Metrics": {
                            "UnblendedCost": {"Amount": "40", "Unit": "USD"},
                            "NetAmortizedCost": {"Amount": "40", "Unit": "USD"}}}]})
    return {"ResultsByTime": results}


def test_cost_explorer_service_names_use_the_focus_names() -> None:
    names = {r["ServiceName"] for p in ("Amazon Elastic Compute Cloud - Compute", "Amazon Elastic Load Balancing",
                                        "Amazon Relational Database Service", "EC2 - Other")
             for r in cost_rows(ce_page(p, days=1))}
    assert names == {"Amazon Elastic Compute Cloud", "Elastic Load Balancing", "Amazon Relational Database Service",
                     "EC2 - Other"}


async def test_cost_explorer_ec2_spend_gets_commitment_advice(service: FinOpsService) -> None:
    table = focus_table(cost_rows(ce_page("Amazon Elastic Compute Cloud - Compute")))
    await service.ledger.run(lambda c: ingest_focus_table(c, table, guild_id=GUILD, source_kind="aws_api",
                                                          source_name="ce", fetched_at=datetime(2026, 12, 1)))
    recs = await service.recommendations(guild_id=GUILD)
    assert [r.kind for r in recs.items] == [RecommendationKind.COMMITMENT]
    assert recs.items[0].resource_id == "commitment:aws:Amazon Elastic Compute Cloud"


# ---- 3. NaN and infinite amounts ------------------------------------------------------------
@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity"])
async def test_nan_or_infinite_costs_are_rejected_naming_the_row(service: FinOpsService, value: str) -> None:
    await service.ingest_focus_bytes(csv_bytes(line(1, "100")), "good.csv", guild_id=GUILD)
    with pytest.raises(IngestError, match="BilledCost is NaN or infinite.* at row 2"):
        await service.ingest_focus_bytes(csv_bytes(line(2), line(3, value)), "bad.csv", guild_id=GUILD)
    summary = await service.cost_summary(guild_id=GUILD)
    assert (summary.total_billed_cost, summary.total_effective_cost) == (100.0, 100.0)


@pytest.mark.parametrize("column", ["ListCost", "ConsumedQuantity"])
async def test_nan_in_optional_amounts_is_rejected(service: FinOpsService, column: str) -> None:
    data = csv_bytes(line(1, extra=",1"), line(2, extra=",nan"), header=f"{HEADER},{column}")
    with pytest.raises(IngestError, match=f"{column} is NaN or infinite.* at row 2"):
        await service.ingest_focus_bytes(data, "bad.csv", guild_id=GUILD)


async def test_connector_nan_costs_are_rejected(service: FinOpsService) -> None:
    rows = cost_rows(ce_page("AWS Lambda", days=2))
    rows[1]["BilledCost"] = float("nan")
    with pytest.raises(IngestError, match="BilledCost is NaN or infinite.* at row 2"):
        await service.ledger.run(lambda c: ingest_focus_table(c, focus_table(rows), guild_id=GUILD,
                                                              source_kind="aws_api", source_name="ce",
                                                              fetched_at=datetime(2026, 12, 1)))


async def test_infinite_metric_values_are_rejected(service: FinOpsService) -> None:
    data = b"resource_id,metric,timestamp,value,unit\ni-1,network_in,2026-11-01T00:00:00Z,inf,bytes\n"
    with pytest.raises(IngestError, match="value is infinite.* at row 1"):
        await service.ingest_metrics_bytes(data, "m.csv", guild_id=GUILD)


# ---- 4. Row and decompression limits --------------------------------------------------------
@pytest.fixture
async def capped() -> AsyncIterator[FinOpsService]:
    settings = Settings(_env_file=None, database_path=":memory:", finops_db_path=":memory:", finops_max_upload_mb=1,
                        finops_max_rows=50)
    db = await Database.open(":memory:")
    svc = await FinOpsService.open(settings, db)
    yield svc
    await svc.close()
    await db.close()


def parquet_bytes(rows: int) -> bytes:
    table = pa.table({name: pa.array([value] * rows) for name, value in zip(HEADER.split(","), [
        0.01, 0.01, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "EC2", "i-1", "us-east-1", "AWS", "USD"],
        strict=True)})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


async def test_parquet_over_the_row_limit_is_rejected_before_reading(capped: FinOpsService) -> None:
    with pytest.raises(IngestError, match="more than 50 rows, over the FINOPS_MAX_ROWS limit; split it"):
        await capped.ingest_focus_bytes(parquet_bytes(51), "bill.parquet", guild_id=GUILD)
    runs = await capped.recent_runs(guild_id=GUILD)
    assert runs[0]["status"] == "failed" and "FINOPS_MAX_ROWS" in str(runs[0]["error"])
    report = await capped.ingest_focus_bytes(parquet_bytes(50), "bill.parquet", guild_id=GUILD)
    assert report.rows_read == 50


async def test_gzip_csv_over_the_row_limit_is_rejected(capped: FinOpsService) -> None:
    data = gzip.compress(csv_bytes(*(line(1) for _ in range(51))))
    with pytest.raises(IngestError, match="more than 50 rows, over the FINOPS_MAX_ROWS limit"):
        await capped.ingest_focus_bytes(data, "bill.csv.gz", guild_id=GUILD)
    report = await capped.ingest_focus_bytes(gzip.compress(csv_bytes(*(line(1) for _ in range(50)))), "bill.csv.gz",
                                             guild_id=GUILD)
    assert report.rows_read == 50


async def test_gzip_bomb_is_cut_off_at_the_decompressed_limit(capped: FinOpsService) -> None:
    # one row whose last field is over MAX_EXPANSION x the 1 MB upload limit, compressing to a few hundred KB
    huge = "U" * (MAX_EXPANSION * 1024 * 1024 + 1)
    data = gzip.compress(csv_bytes(line(1).replace("USD", huge)), compresslevel=1)
    assert len(data) < 1024 * 1024
    with pytest.raises(IngestError, match=f"more than {MAX_EXPANSION} MB once decompressed.*FINOPS_MAX_UPLOAD_MB"):
        await capped.ingest_focus_bytes(data, "bill.csv.gz", guild_id=GUILD)


async def test_metrics_csv_over_the_row_limit_is_rejected(capped: FinOpsService) -> None:
    rows = "".join(f"i-1,cpu,2026-11-01T{h % 24:02d}:{h // 24:02d}:00Z,5,percent\n" for h in range(51))
    with pytest.raises(IngestError, match="more than 50 rows"):
        await capped.ingest_metrics_bytes(b"resource_id,metric,timestamp,value,unit\n" + rows.encode(), "m.csv",
                                          guild_id=GUILD)


async def test_corrupt_gzip_is_a_clear_error(service: FinOpsService) -> None:
    with pytest.raises(IngestError, match="could not be read as gzip-compressed CSV"):
        await service.ingest_focus_bytes(b"not gzip at all", "bill.csv.gz", guild_id=GUILD)


# ---- 5. A row with an extra field ----------------------------------------------------------
@pytest.mark.parametrize(("good_rows", "bad_row"), [(1, 2), (9, 10)])
async def test_row_with_an_extra_field_is_named(service: FinOpsService, good_rows: int, bad_row: int) -> None:
    header = f"{HEADER},ChargeDescription"
    rows = [line(d, extra=",ok") for d in range(1, good_rows + 1)]
    data = csv_bytes(*rows, line(20, extra=",t3.micro, Linux"), line(22, extra=",ok"), header=header)
    with pytest.raises(IngestError) as caught:
        await service.ingest_focus_bytes(data, "export.csv", guild_id=GUILD)
    message = str(caught.value)
    assert f"row {bad_row} (file line {bad_row + 1}) does not match the header's 10 columns" in message
    assert "quote values that contain a comma" in message and "missing required column" not in message


async def test_csv_without_focus_columns_still_lists_what_it_found(service: FinOpsService) -> None:
    with pytest.raises(IngestError, match="missing required column.*found: a, b"):
        await service.ingest_focus_bytes(b"a,b\n1,2\n", "other.csv", guild_id=GUILD)


# ---- 6. Metrics headers in any letter case --------------------------------------------------
async def test_metrics_headers_match_in_any_case(service: FinOpsService) -> None:
    data = b"Resource_ID,Metric,Timestamp,VALUE,Unit\ni-1,cpu,2026-11-01T00:00:00Z,5,percent\n"
    report = await service.ingest_metrics_bytes(data, "m.csv", guild_id=GUILD)
    assert (report.rows_read, report.rows_added) == (1, 1)
    stored = await service.ledger.run(lambda c: c.execute(
        "SELECT resource_id, metric, value, unit FROM metric_points").fetchall())
    assert stored == [("i-1", "cpu", 5.0, "percent")]


async def test_metrics_missing_column_is_still_named(service: FinOpsService) -> None:
    with pytest.raises(IngestError, match="missing required column.*unit"):
        await service.ingest_metrics_bytes(b"Resource_ID,Metric,Timestamp,Value\ni-1,cpu,2026-11-01T00:00:00Z,5\n",
                                           "m.csv", guild_id=GUILD)


async def test_a_connector_that_fails_to_fetch_is_in_the_ingestion_log(service: FinOpsService) -> None:
    class Refusing:
        source_kind, source_name = "gcp", "billing export"

        async def fetch_costs(self, start: date, end: date) -> object:
            raise IngestError(detail="the billing export table was not found")

    with pytest.raises(IngestError):
        await service.ingest_connector(Refusing(), date(2026, 11, 1), date(2026, 11, 3), guild_id=GUILD)  # type: ignore[arg-type]
    [run] = await service.recent_runs(guild_id=GUILD)
    assert run["source_name"] == "billing export" and "not found" in str(run["error"])
