"""Metrics import: accepted units, idempotency and rejected rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from tests.cloud_engine.finops.conftest import GUILD

HEADER = "resource_id,metric,timestamp,value,unit\n"


async def test_metrics_import_is_idempotent(service: FinOpsService, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "vm-1,cpu,2026-11-01T00:00:00Z,12.5,percent\n"
                             "vm-1,network_in,2026-11-01T00:00:00Z,1048576,bytes\n"
                             "vm-1,disk_read,2026-11-01T00:00:00+01:00,300,ops\n"
                             "vm-1,memory,2026-11-01T00:00:00Z,40,%\n")
    first = await service.ingest_metrics_file(path, guild_id=GUILD)
    assert (first.rows_read, first.rows_added) == (4, 4)
    again = await service.ingest_metrics_file(path, guild_id=GUILD)
    assert (again.rows_added, again.rows_unchanged, again.rows_merged) == (0, 4, 0)
    units = await service.ledger.run(lambda c: c.execute(
        "SELECT metric, unit, ts FROM metric_points ORDER BY metric").fetchall())
    assert [(m, u) for m, u, _ in units] == [("cpu", "percent"), ("disk_read", "ops"), ("memory", "percent"),
                                             ("network_in", "bytes")]
    assert units[1][2].hour == 23  # +01:00 converted to UTC


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("vm-1,cpu,2026-11-01T01:00:00Z,12,bytes", r"unit does not fit the metric \(.*\) at row 2"),
        ("vm-1,gpu,2026-11-01T01:00:00Z,12,percent", "metric must be one of .* at row 2"),
        ("vm-1,cpu,2026-11-01T01:00:00Z,140,percent", "outside 0–100 at row 2"),
        ("vm-1,cpu,soon,12,percent", "not a timestamp at row 2"),
        ("vm-1,cpu,2026-11-01T01:00:00Z,lots,percent", "not a number at row 2"),
    ],
)
async def test_bad_metric_rows_name_the_row(service: FinOpsService, tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "vm-1,cpu,2026-11-01T00:00:00Z,12,percent\n" + line + "\n")
    with pytest.raises(IngestError, match=message):
        await service.ingest_metrics_file(path, guild_id=GUILD)
    count = await service.ledger.run(lambda c: c.execute("SELECT count(*) FROM metric_points").fetchone()[0])
    assert count == 0


async def test_metrics_missing_columns(service: FinOpsService, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("resource_id,metric,value\nvm-1,cpu,3\n")
    with pytest.raises(IngestError, match="missing required column.*timestamp, unit"):
        await service.ingest_metrics_file(path, guild_id=GUILD)
