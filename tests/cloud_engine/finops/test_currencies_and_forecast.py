"""Regressions: amounts in different currencies are never added, the forecast's run rate on
short or partial history, tag keys containing dots, and Ledger.run under cancellation."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date
from typing import Any

import pytest

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.models import Recommendation, RecommendationKind, RecommendationSet, Risk
from tests.cloud_engine.finops.conftest import GUILD

HEADER = ("BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,ProviderName,"
          "BillingCurrency\n")


def daily_rows(amount: float, days: range | tuple[int, ...], *, service: str = "Compute", resource: str = "i-1",
               provider: str = "AWS", currency: str = "USD", region: str = "eu-west-1") -> str:
    return "".join(f"{amount},{amount},2026-11-{d:02d}T00:00:00Z,2026-11-{d + 1:02d}T00:00:00Z,{service},{resource},"
                   f"{region},{provider},{currency}\n" for d in days)


async def ingest(service: FinOpsService, body: str, name: str) -> None:
    await service.ingest_focus_bytes((HEADER + body).encode(), name, guild_id=GUILD)


# ---- 1. currencies are never summed -----------------------------------------------------------

async def test_mixed_currencies_are_reported_in_one_currency_with_a_note(service: FinOpsService) -> None:
    # USD on two resources (20 lines), JPY on one (10 lines): USD is the currency most lines use
    await ingest(service, daily_rows(100, range(1, 11)) + daily_rows(50, range(1, 11), resource="i-2"), "aws.csv")
    await ingest(service, daily_rows(15000, range(1, 11), provider="Microsoft", resource="vm-1", currency="JPY"),
                 "azure.csv")

    summary = await service.cost_summary(by="provider", guild_id=GUILD)
    assert (summary.currency, summary.total_effective_cost) == ("USD", 1500)
    assert [g.key for g in summary.groups] == ["aws"]
    assert len(summary.notes) == 1 and "JPY" in summary.notes[0] and "150,000.00 JPY" in summary.notes[0]

    fc = await service.forecast(guild_id=GUILD)
    assert fc is not None and fc.currency == "USD"
    assert (fc.month_to_date, fc.daily_run_rate, fc.forecast_month_end) == (1500, 150, 4500)
    assert any("JPY" in n for n in fc.notes)

    daily = await service.daily_costs(guild_id=GUILD)
    assert daily.currency == "USD" and list(daily.series) == ["aws · Compute"]
    assert daily.series["aws · Compute"][0] == 150 and any("JPY" in n for n in daily.notes)


async def test_daily_cost_currency_follows_the_date_range(service: FinOpsService) -> None:
    await ingest(service, daily_rows(10, range(1, 5), currency="EUR") + daily_rows(10, range(10, 14)), "f.csv")
    early = await service.daily_costs(date(2026, 11, 1), date(2026, 11, 5), guild_id=GUILD)
    late = await service.daily_costs(date(2026, 11, 10), date(2026, 11, 14), guild_id=GUILD)
    assert (early.currency, early.notes, late.currency, late.notes) == ("EUR", (), "USD", ())


async def test_anomalies_are_looked_for_per_service_and_currency(service: FinOpsService) -> None:
    # a flat USD service plus one JPY charge on the same service: added together it was a false "spike"
    body = daily_rows(10, range(1, 15)) + daily_rows(1500, (8,), resource="i-9", currency="JPY")
    await ingest(service, body, "f.csv")
    assert (await service.anomalies(guild_id=GUILD)).items == ()
    await ingest(service, daily_rows(500, (12,), resource="i-2"), "spike.csv")  # a real USD spike is still found
    found = (await service.anomalies(guild_id=GUILD)).items
    assert [(a.day, a.currency, a.amount) for a in found] == [(date(2026, 11, 12), "USD", 510)]


# ---- 2. recommendations carry their currency ----------------------------------------------------

async def test_non_usd_spend_gets_no_dollar_commitment(service: FinOpsService) -> None:
    await ingest(service, daily_rows(3000, range(1, 21), service="Virtual Machines", resource="", region="japaneast",
                                     provider="Microsoft", currency="JPY"), "azure-jpy.csv")
    recs = await service.recommendations(guild_id=GUILD)
    [rec] = [r for r in recs.items if r.kind == RecommendationKind.COMMITMENT]
    assert rec.currency == "JPY" and rec.monthly_savings == 0 and rec.status == "insufficient_telemetry"
    assert "$" not in rec.action and "JPY" in rec.action and "USD" in rec.needs[0]
    assert (recs.total_monthly_savings, recs.currency) == (0, "JPY")


async def test_usd_spend_still_gets_a_commitment(service: FinOpsService) -> None:
    await ingest(service, daily_rows(100, range(1, 21), service="Virtual Machines", resource="", region="eastus",
                                     provider="Microsoft"), "azure-usd.csv")
    recs = await service.recommendations(guild_id=GUILD)
    [rec] = [r for r in recs.items if r.kind == RecommendationKind.COMMITMENT]
    assert rec.status == "ok" and rec.currency == "USD" and "$" in rec.action and rec.monthly_savings > 0


def rec(rid: str, savings: float, currency: str) -> Recommendation:
    return Recommendation(id=rid, resource_id=rid, resource_name=rid, provider="aws", region=None,
                          kind=RecommendationKind.IDLE, action="Stop", evidence={}, monthly_cost_current=savings, monthly_savings=savings,
                          co2e_kg_month_delta=0.0, confidence=0.9, risk=Risk(level="low", reason="x"),
                          currency=currency)


def test_savings_total_never_adds_currencies() -> None:
    items = (rec("a", 100.0, "USD"), rec("b", 20.0, "USD"), rec("c", 9000.0, "JPY"))
    # built the way the service builds it: a plain sum over every item
    recs = RecommendationSet(as_of=None, items=items, total_monthly_savings=9120.0, total_co2e_kg_month_delta=0.0)
    assert (recs.currency, recs.total_monthly_savings) == ("USD", 120.0)
    assert recs.savings_by_currency == {"JPY": 9000.0, "USD": 120.0}
    assert len(recs.notes) == 1 and "9,000.00 JPY" in recs.notes[0]
    single = RecommendationSet(as_of=None, items=items[:2], total_monthly_savings=120.0, total_co2e_kg_month_delta=0.0)
    assert (single.currency, single.total_monthly_savings, single.notes) == ("USD", 120.0, ())
    again = RecommendationSet.model_validate(recs.model_dump())
    assert again.total_monthly_savings == 120.0 and again.savings_by_currency == recs.savings_by_currency


# ---- 3. forecast on short and partial history ---------------------------------------------------

async def test_forecast_with_three_days_of_history(service: FinOpsService) -> None:
    await ingest(service, daily_rows(100, (1, 2, 3)), "nov.csv")
    fc = await service.forecast(guild_id=GUILD)
    assert fc is not None and (fc.month_to_date, fc.daily_run_rate, fc.forecast_month_end) == (300, 100, 3000)
    assert any("3 complete day" in n for n in fc.notes)


async def test_forecast_does_not_count_a_partial_last_day(service: FinOpsService) -> None:
    # an hourly export that stops at 02:00 on Nov 10: $24/day steady
    body = "".join(f"1,1,2026-11-{d:02d}T{h:02d}:00:00Z,2026-11-{d:02d}T{h:02d}:59:59Z,EC2,i-1,us-east-1,AWS,USD\n"
                   for d in range(1, 11) for h in range(24) if not (d == 10 and h >= 2))
    await ingest(service, body, "hourly.csv")
    fc = await service.forecast(guild_id=GUILD)
    assert fc is not None and fc.as_of == date(2026, 11, 10)
    assert (fc.month_to_date, fc.daily_run_rate, fc.forecast_month_end) == (218, 24, 720)
    assert any("2026-11-10 is incomplete" in n for n in fc.notes)


# ---- 4. tag keys with JSON-path characters ---------------------------------------------------------

async def test_tag_keys_with_dots_and_quotes(service: FinOpsService) -> None:
    body = ('5,5,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,EC2,i-1,us-east-1,AWS,USD,'
            '"{""app.kubernetes.io/name"": ""web"", ""a\\""b"": ""q"", ""team name"": ""x""}"\n')
    await service.ingest_focus_bytes((HEADER.rstrip("\n") + ",Tags\n" + body).encode(), "t.csv", guild_id=GUILD)
    for key, expected in (("app.kubernetes.io/name", "web"), ("team name", "x"), ('a"b', "q"), ("app", "(untagged)")):
        summary = await service.cost_summary(by="tag", tag_key=key, guild_id=GUILD)
        assert [g.key for g in summary.groups] == [expected], key


# ---- 5. Ledger.run keeps the lock while its thread runs ---------------------------------------------

async def test_cancelled_caller_keeps_the_connection_until_its_thread_ends(service: FinOpsService) -> None:
    active, overlaps = [0], []
    started = threading.Event()
    guard = threading.Lock()

    def work(_conn: Any, label: str, secs: float) -> str:
        with guard:
            active[0] += 1
            if active[0] > 1:
                overlaps.append(label)
        started.set()
        time.sleep(secs)
        with guard:
            active[0] -= 1
        return label

    first = asyncio.create_task(service.ledger.run(work, "first", 0.5))
    await asyncio.to_thread(started.wait, 5)
    first.cancel()
    second = asyncio.create_task(service.ledger.run(work, "second", 0.01))
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == "second"
    assert overlaps == []
