"""Cost summaries, forecast arithmetic, anomaly detection and the chart."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from cloud_engine.errors import InvalidInput
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.synthetic import DEFAULT_END, anomaly_day
from tests.cloud_engine.finops.conftest import GUILD


async def test_summaries_add_up_in_every_grouping(loaded: FinOpsService) -> None:
    base = await loaded.cost_summary(by="provider", guild_id=GUILD)
    assert {g.key for g in base.groups} == {"aws", "gcp", "azure"}
    for by in ("service", "project", "tag", "day", "region", "resource"):
        summary = await loaded.cost_summary(by=by, guild_id=GUILD)
        assert sum(g.effective_cost for g in summary.groups) == pytest.approx(base.total_effective_cost, abs=0.5)
    tags = await loaded.cost_summary(by="tag", tag_key="env", guild_id=GUILD)
    assert {"prod", "dev", "test"} <= {g.key for g in tags.groups} and tags.by == "tag:env"
    one_day = await loaded.cost_summary(by="day", start=DEFAULT_END, end=DEFAULT_END, guild_id=GUILD)
    assert [g.key for g in one_day.groups] == [DEFAULT_END.isoformat()]
    with pytest.raises(InvalidInput):
        await loaded.cost_summary(by="colour", guild_id=GUILD)


async def test_anomaly_finds_the_injected_day(loaded: FinOpsService) -> None:
    report = await loaded.anomalies(guild_id=GUILD)
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
    await service.ingest_focus_file(path, guild_id=GUILD)
    fc = await service.forecast(guild_id=GUILD)
    assert fc is not None and fc.as_of == date(2026, 11, 10) and fc.month == "2026-11"
    assert fc.month_to_date == 170 and fc.daily_run_rate == 20 and fc.days_remaining == 20
    assert fc.forecast_month_end == 170 + 20 * 20
    assert fc.previous_month_total is None


async def test_chart_is_a_png(loaded: FinOpsService) -> None:
    png = await loaded.daily_cost_chart(guild_id=GUILD)
    assert png.startswith(b"\x89PNG") and len(png) > 5000


async def test_empty_ledger_is_handled(service: FinOpsService) -> None:
    assert await service.forecast(guild_id=GUILD) is None
    assert (await service.anomalies(guild_id=GUILD)).items == ()
    assert (await service.recommendations(guild_id=GUILD)).items == ()
    assert (await service.daily_cost_chart(guild_id=GUILD)).startswith(b"\x89PNG")


async def test_summary_period_and_currencies_per_scope(service: FinOpsService, tmp_path: Path) -> None:
    path = tmp_path / "two-currencies.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ResourceId",
                    "RegionId", "ProviderName", "BillingCurrency"])
        w.writerow([5, 5, "2026-10-30", "2026-10-31", "EC2", "i-1", "eu-west-1", "AWS", "EUR"])
        for day in (1, 2):
            w.writerow([10, 10, f"2026-11-0{day}", f"2026-11-0{day + 1}", "EC2", "i-1", "us-east-1", "AWS", "USD"])
    await service.ingest_focus_file(path, guild_id=GUILD)
    whole = await service.cost_summary(guild_id=GUILD)
    # never a EUR + USD sum: the total is in the currency most lines use, the note names what it leaves out
    assert (whole.start, whole.end, whole.currency) == (date(2026, 10, 30), date(2026, 11, 2), "USD")
    assert whole.total_effective_cost == 20
    assert whole.notes == ("more than one billing currency (EUR, USD); amounts are not converted, so this summary "
                           "shows USD only (left out: 5.00 EUR)",)
    november = await service.cost_summary(start=date(2026, 11, 1), end=date(2026, 11, 30), guild_id=GUILD)
    assert (november.start, november.end, november.currency, november.notes) == (
        date(2026, 11, 1), date(2026, 11, 2), "USD", ())
    assert november.total_billed_cost == 20
