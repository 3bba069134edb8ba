"""Cost summaries, forecast arithmetic, anomaly detection and the chart."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from cloud_engine.errors import InvalidInput
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.synthetic import DEFAULT_END, anomaly_day


async def test_summaries_add_up_in_every_grouping(loaded: FinOpsService) -> None:
    base = await loaded.cost_summary(by="provider")
    assert {g.key for g in base.groups} == {"aws", "gcp", "azure"}
    for by in ("service", "project", "tag", "day", "region", "resource"):
        summary = await loaded.cost_summary(by=by)
        assert sum(g.effective_cost for g in summary.groups) == pytest.approx(base.total_effective_cost, abs=0.5)
    tags = await loaded.cost_summary(by="tag", tag_key="env")
    assert {"prod", "dev", "test"} <= {g.key for g in tags.groups} and tags.by == "tag:env"
    one_day = await loaded.cost_summary(by="day", start=DEFAULT_END, end=DEFAULT_END)
    assert [g.key for g in one_day.groups] == [DEFAULT_END.isoformat()]
    with pytest.raises(InvalidInput):
        await loaded.cost_summary(by="colour")


async def test_anomaly_finds_the_injected_day(loaded: FinOpsService) -> None:
    report = await loaded.anomalies()
    assert [(a.day, a.provider, a.service) for a in report.items] == [(anomaly_day(DEFAULT_END), "gcp", "BigQuery")]
    hit = report.items[0]
    assert hit.amount > 10 * hit.expected and hit.robust_z >= report.threshold


async def test_forecast_arithmetic(service: FinOpsService, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ResourceId",
                    "RegionId", "ProviderName", "BillingCurrency"])
        for day in range(1, 11):  # Nov 1-10: 10/day, except the last 7 days at 20/day
            cost = 20 if day >= 4 else 10
            w.writerow([cost, cost, f"2026-11-{day:02d}", f"2026-11-{day + 1:02d}", "EC2", "i-1", "us-east-1", "AWS",
                        "USD"])
    await service.ingest_focus_file(path)
    fc = await service.forecast()
    assert fc is not None and fc.as_of == date(2026, 11, 10) and fc.month == "2026-11"
    assert fc.month_to_date == 170 and fc.daily_run_rate == 20 and fc.days_remaining == 20
    assert fc.forecast_month_end == 170 + 20 * 20
    assert fc.previous_month_total is None


async def test_chart_is_a_png(loaded: FinOpsService) -> None:
    png = await loaded.daily_cost_chart()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


async def test_empty_ledger_is_handled(service: FinOpsService) -> None:
    assert await service.forecast() is None
    assert (await service.anomalies()).items == ()
    assert (await service.recommendations()).items == ()
    assert (await service.daily_cost_chart()).startswith(b"\x89PNG")
