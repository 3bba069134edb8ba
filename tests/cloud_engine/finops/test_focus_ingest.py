"""FOCUS import: happy paths, every rejected-file case, idempotency and provenance."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.synthetic import focus_table, synthetic_resources
from tests.cloud_engine.finops.conftest import GUILD

HEADER = ["BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ResourceId",
          "RegionId", "ProviderName", "BillingCurrency", "Tags"]


def write_rows(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(day: int, cost: float = 1.5, resource: str = "i-1") -> list[object]:
    return [cost, cost, f"2026-11-{day:02d}T00:00:00Z", f"2026-11-{day + 1:02d}T00:00:00Z", "Amazon EC2",
            resource, "us-east-1", "AWS", "USD", '{"env": "dev"}']


async def ledger_count(service: FinOpsService) -> int:
    return await service.ledger.run(lambda c: c.execute("SELECT count(*) FROM cost_lines").fetchone()[0])


async def test_csv_happy_path_keeps_provenance(service: FinOpsService, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "export.csv", [row(1), row(2, 2.25)])
    report = await service.ingest_focus_file(path, guild_id=GUILD)
    assert (report.rows_read, report.rows_added, report.rows_restated, report.rows_unchanged) == (2, 2, 0, 0)
    assert report.guild_id == GUILD
    stored = await service.ledger.run(lambda c: c.execute(
        "SELECT guild_id, provider, source_kind, source_name, fetched_at IS NOT NULL, sum(billed_cost) FROM cost_lines "
        "GROUP BY ALL").fetchall())
    assert stored == [(GUILD, "aws", "focus_file", "export.csv", True, 3.75)]
    runs = await service.recent_runs(guild_id=GUILD)
    assert runs[0]["status"] == "ok" and runs[0]["rows_added"] == 2 and runs[0]["rows_restated"] == 0


async def test_parquet_happy_path(service: FinOpsService, tmp_path: Path) -> None:
    table = focus_table(synthetic_resources()[:5], days=3)
    pq.write_table(table, tmp_path / "export.parquet")
    report = await service.ingest_focus_file(tmp_path / "export.parquet", guild_id=GUILD)
    assert report.rows_added == 15
    summary = await service.cost_summary(by="provider", guild_id=GUILD)
    assert summary.total_billed_cost == pytest.approx(round(sum(table.column("BilledCost").to_pylist()), 2))


async def test_focus_13_service_provider_name(service: FinOpsService, tmp_path: Path) -> None:
    table = focus_table(synthetic_resources()[:3], days=2, focus_version="1.3")
    assert "ServiceProviderName" in table.column_names and "ProviderName" not in table.column_names
    pacsv.write_csv(table, tmp_path / "focus13.csv")
    report = await service.ingest_focus_file(tmp_path / "focus13.csv", guild_id=GUILD)
    assert report.rows_added == 6 and report.focus_version_hint == "1.3"


async def test_reimport_and_overlapping_window_add_nothing(service: FinOpsService, tmp_path: Path) -> None:
    first = write_rows(tmp_path / "nov-1-3.csv", [row(1), row(2), row(3)])
    overlap = write_rows(tmp_path / "nov-2-4.csv", [row(2), row(3), row(4)])
    assert (await service.ingest_focus_file(first, guild_id=GUILD)).rows_added == 3
    again = await service.ingest_focus_file(first, guild_id=GUILD)
    assert (again.rows_read, again.rows_added, again.rows_restated, again.rows_unchanged) == (3, 0, 0, 3)
    window = await service.ingest_focus_file(overlap, guild_id=GUILD)
    assert (window.rows_added, window.rows_restated, window.rows_unchanged) == (1, 0, 2)
    assert await ledger_count(service) == 4
    assert (await service.cost_summary(guild_id=GUILD)).total_billed_cost == 4 * 1.5


async def test_split_lines_of_one_charge_are_summed(service: FinOpsService, tmp_path: Path) -> None:
    # Two lines naming the same charge (same identity, e.g. split by a dimension FOCUS does not carry).
    report = await service.ingest_focus_file(write_rows(tmp_path / "dup.csv", [row(1), row(1, 0.5), row(2)]),
                                             guild_id=GUILD)
    assert (report.rows_read, report.rows_added, report.rows_merged) == (3, 2, 1)
    assert await ledger_count(service) == 2
    assert (await service.cost_summary(guild_id=GUILD)).total_billed_cost == 1.5 + 0.5 + 1.5  # the file's total
    again = await service.ingest_focus_file(tmp_path / "dup.csv", guild_id=GUILD)
    assert (again.rows_added, again.rows_restated, again.rows_unchanged, again.rows_merged) == (0, 0, 2, 1)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", "BilledCost,EffectiveCost\n1,1\n", "missing required column(s)"),
        ("empty.csv", "", "is empty"),
        ("header.csv", ",".join(HEADER) + "\n", "no data rows"),
        ("notes.txt", "hello", "unsupported file type"),
    ],
)
async def test_bad_files_are_rejected(service: FinOpsService, tmp_path: Path, name: str, content: str,
                                      message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(IngestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await service.ingest_focus_file(tmp_path / name, guild_id=GUILD)
    assert await ledger_count(service) == 0


async def test_missing_column_names_each_column(service: FinOpsService, tmp_path: Path) -> None:
    header = [h for h in HEADER if h not in ("RegionId", "ProviderName")]
    path = write_rows(tmp_path / "x.csv", [[v for h, v in zip(HEADER, row(1), strict=True) if h in header]], header)
    with pytest.raises(IngestError) as err:
        await service.ingest_focus_file(path, guild_id=GUILD)
    assert "RegionId" in str(err.value) and "ServiceProviderName" in str(err.value)


async def test_non_numeric_cost_names_column_and_row(service: FinOpsService, tmp_path: Path) -> None:
    bad = row(3)
    bad[0] = "twelve"
    path = write_rows(tmp_path / "bad.csv", [row(1), row(2), bad, row(4)])
    with pytest.raises(IngestError, match="column BilledCost .* not a number at row 3"):
        await service.ingest_focus_file(path, guild_id=GUILD)
    assert await ledger_count(service) == 0  # nothing half-written


async def test_bad_timestamp_and_tags_name_the_row(service: FinOpsService, tmp_path: Path) -> None:
    bad = row(2)
    bad[2] = "yesterday"
    with pytest.raises(IngestError, match="ChargePeriodStart .* at row 2"):
        await service.ingest_focus_file(write_rows(tmp_path / "ts.csv", [row(1), bad]), guild_id=GUILD)
    tags = row(2)
    tags[-1] = "env=dev"
    with pytest.raises(IngestError, match="Tags is not a JSON object at row 2"):
        await service.ingest_focus_file(write_rows(tmp_path / "tags.csv", [row(1), tags]), guild_id=GUILD)


async def test_non_numeric_parquet_column(service: FinOpsService, tmp_path: Path) -> None:
    table = focus_table(synthetic_resources()[:2], days=2)
    values = [str(v) for v in table.column("BilledCost").to_pylist()]
    values[3] = "n/a"
    import pyarrow as pa

    table = table.set_column(table.column_names.index("BilledCost"), "BilledCost", pa.array(values))
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(IngestError, match="BilledCost .* row 4"):
        await service.ingest_focus_file(tmp_path / "bad.parquet", guild_id=GUILD)


async def test_binary_file_is_not_a_csv(service: FinOpsService, tmp_path: Path) -> None:
    (tmp_path / "image.csv").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(IngestError, match="could not be read as CSV|missing required"):
        await service.ingest_focus_file(tmp_path / "image.csv", guild_id=GUILD)
    runs = await service.recent_runs(guild_id=GUILD)
    assert runs[0]["status"] == "failed" and runs[0]["error"]


async def test_upload_bytes_and_size_limit(service: FinOpsService, tmp_path: Path) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, row(1), row(2)])
    report = await service.ingest_focus_bytes(buf.getvalue().encode(), "../../etc/export.csv", guild_id=GUILD)
    assert report.rows_added == 2 and report.source_name == "export.csv"
    service.settings = service.settings.model_copy(update={"finops_max_upload_mb": 1})
    too_big = b"x" * (1024 * 1024 + 1)
    with pytest.raises(IngestError, match="over the 1 MB limit"):
        await service.ingest_focus_bytes(too_big, "big.csv", guild_id=GUILD)
    big_file = tmp_path / "big.csv"
    big_file.write_bytes(too_big)
    with pytest.raises(IngestError, match="over the 1 MB limit"):
        await service.ingest_focus_file(big_file, guild_id=GUILD)
