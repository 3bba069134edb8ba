"""Restated charges: a corrected export replaces the amounts it corrects, never adds beside them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from tests.cloud_engine.finops.conftest import GUILD

HEADER = ["BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ResourceId",
          "RegionId", "ProviderName", "BillingCurrency", "ChargeCategory", "ChargeClass", "Tags"]


def line(day: int, cost: float, *, resource: str = "i-1", charge_class: str = "", tags: str = '{"env": "prod"}',
         start: str | None = None) -> list[object]:
    return [cost, cost * 0.9, start or f"2026-11-{day:02d}T00:00:00Z", f"2026-11-{day + 1:02d}T00:00:00Z",
            "Amazon EC2", resource, "us-east-1", "AWS", "USD", "Usage", charge_class, tags]


def export(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


async def billed(service: FinOpsService) -> float:
    return (await service.cost_summary(by="day", guild_id=GUILD)).total_billed_cost


async def by_day(service: FinOpsService) -> dict[str, float]:
    return {g.key: g.billed_cost for g in (await service.cost_summary(by="day", guild_id=GUILD)).groups}


async def test_restated_export_replaces_the_corrected_amounts(service: FinOpsService, tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "nov.csv", [line(1, 10), line(2, 20), line(3, 30)]),
                                    guild_id=GUILD)
    corrected = export(tmp_path / "nov-reissued.csv", [line(1, 10), line(2, 25), line(3, 30)])
    report = await service.ingest_focus_file(corrected, guild_id=GUILD)
    assert (report.rows_read, report.rows_added, report.rows_restated, report.rows_unchanged) == (3, 0, 1, 2)
    assert await billed(service) == 65  # 10 + 25 + 30, not 10 + 20 + 25 + 30
    assert (await by_day(service))["2026-11-02"] == 25
    rows = await service.ledger.run(lambda c: c.execute(
        "SELECT CAST(charge_period_start AS DATE), source_name FROM cost_lines ORDER BY 1").fetchall())
    assert [name for _, name in rows] == ["nov.csv", "nov-reissued.csv", "nov.csv"]  # provenance of current values
    history = await service.ledger.run(lambda c: c.execute(
        "SELECT previous_billed_cost, billed_cost, resource_id, p.source_name, n.source_name FROM cost_restatements r "
        "JOIN ledger_imports p ON p.import_id = r.previous_import_id "
        "JOIN ledger_imports n ON n.import_id = r.import_id").fetchall())
    assert history == [(20.0, 25.0, "i-1", "nov.csv", "nov-reissued.csv")]
    runs = await service.recent_runs(guild_id=GUILD)
    assert (runs[0]["rows_restated"], runs[0]["rows_unchanged"]) == (1, 2)


async def test_same_file_twice_adds_and_restates_nothing(service: FinOpsService, tmp_path: Path) -> None:
    path = export(tmp_path / "nov.csv", [line(1, 10.123456789), line(2, 0.000001), line(3, 1e6 / 3)])
    first = await service.ingest_focus_file(path, guild_id=GUILD)
    total = await billed(service)
    again = await service.ingest_focus_file(path, guild_id=GUILD)
    assert (first.rows_added, again.rows_added, again.rows_restated, again.rows_unchanged) == (3, 0, 0, 3)
    assert await billed(service) == total
    history = await service.ledger.run(lambda c: c.execute("SELECT count(*) FROM cost_restatements").fetchone()[0])
    assert history == 0


async def test_overlapping_windows_add_restate_and_keep(service: FinOpsService, tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "nov-1-3.csv", [line(1, 10), line(2, 20), line(3, 30)]),
                                    guild_id=GUILD)
    window = export(tmp_path / "nov-2-4.csv", [line(2, 20), line(3, 33), line(4, 40)])
    report = await service.ingest_focus_file(window, guild_id=GUILD)
    assert (report.rows_added, report.rows_restated, report.rows_unchanged) == (1, 1, 1)
    assert await by_day(service) == {"2026-11-01": 10, "2026-11-02": 20, "2026-11-03": 33, "2026-11-04": 40}


async def test_split_lines_are_summed_then_restated_as_one_charge(service: FinOpsService, tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "a.csv", [line(1, 4), line(1, 6, tags='{"env": "dev"}')]),
                                    guild_id=GUILD)
    assert await billed(service) == 10  # two lines of one charge, summed
    report = await service.ingest_focus_file(export(tmp_path / "b.csv", [line(1, 5), line(1, 6)]), guild_id=GUILD)
    assert (report.rows_merged, report.rows_restated, report.rows_added) == (1, 1, 0)
    assert await billed(service) == 11


async def test_a_correction_line_is_a_charge_of_its_own(service: FinOpsService, tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "nov.csv", [line(1, 10)]), guild_id=GUILD)
    report = await service.ingest_focus_file(
        export(tmp_path / "adj.csv", [line(1, -2, charge_class="Correction")]), guild_id=GUILD)
    assert (report.rows_added, report.rows_restated) == (1, 0)
    assert await billed(service) == 8


async def test_changed_tags_restate_and_equal_timestamps_match(service: FinOpsService, tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "a.csv", [line(1, 10)]), guild_id=GUILD)
    # The same instant written another way, and the resource retagged by the provider.
    relabelled = line(1, 10, tags='{"env": "staging"}', start="2026-11-01 01:00:00+01:00")
    report = await service.ingest_focus_file(export(tmp_path / "b.csv", [relabelled]), guild_id=GUILD)
    assert (report.rows_added, report.rows_restated) == (0, 1)
    tags = await service.cost_summary(by="tag", tag_key="env", guild_id=GUILD)
    assert [(g.key, g.billed_cost) for g in tags.groups] == [("staging", 10)]


async def test_a_bad_file_restates_nothing(service: FinOpsService, tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "nov.csv", [line(1, 10), line(2, 20)]), guild_id=GUILD)
    before = await service.ledger.run(lambda c: c.execute(
        "SELECT (SELECT count(*) FROM ledger_imports), (SELECT count(*) FROM cost_restatements)").fetchone())
    bad = line(4, 40)
    bad[3] = ""  # no ChargePeriodEnd: the ledger's NOT NULL column fails inside the transaction
    with pytest.raises(IngestError, match="ChargePeriodEnd is empty or not a timestamp at row 3"):
        await service.ingest_focus_file(export(tmp_path / "bad.csv", [line(1, 99), line(3, 30), bad]),
                                        guild_id=GUILD)
    wrong_tags = line(3, 30, tags="env=prod")
    with pytest.raises(IngestError, match="Tags is not a JSON object at row 2"):
        await service.ingest_focus_file(export(tmp_path / "tags.csv", [line(2, 99), wrong_tags]), guild_id=GUILD)
    assert await by_day(service) == {"2026-11-01": 10, "2026-11-02": 20}
    after = await service.ledger.run(lambda c: c.execute(
        "SELECT (SELECT count(*) FROM ledger_imports), (SELECT count(*) FROM cost_restatements)").fetchone())
    assert after == before
    runs = await service.recent_runs(guild_id=GUILD)
    assert [r["status"] for r in runs] == ["failed", "failed", "ok"]
