"""Anomalies on bills as they really are: sparse services, weekday patterns, short histories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from cloud_engine.finops import FinOpsService
from tests.cloud_engine.finops.conftest import GUILD

HEADER = "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,ProviderName," \
         "BillingCurrency\n"
FIRST = date(2026, 10, 5)  # a Monday


def rows(days: int, amount: Callable[[date], float], service: str = "Support") -> str:
    out = []
    for i in range(days):
        day = FIRST + timedelta(days=i)
        cost = amount(day)
        if cost:
            out.append(f"{cost},{cost},{day}T00:00:00Z,{day + timedelta(days=1)}T00:00:00Z,{service},,us-east-1,AWS,USD\n")
    return "".join(out)


async def found(service: FinOpsService, body: str) -> list:
    await service.ingest_focus_bytes((HEADER + body).encode(), "bill.csv", guild_id=GUILD)
    return list((await service.anomalies(guild_id=GUILD)).items)


async def test_a_service_that_charges_weekly_is_not_an_anomaly_every_week(service: FinOpsService) -> None:
    weekly = rows(63, lambda d: 40.0 if d.isoweekday() == 3 else 0.0)  # 9 Wednesdays, nothing in between
    assert await found(service, weekly) == []


async def test_too_few_charged_days_are_never_judged(service: FinOpsService) -> None:
    short = rows(6, lambda d: 500.0 if d == FIRST + timedelta(days=5) else 10.0)  # a spike, but 6 charged days
    assert await found(service, short) == []


async def test_quiet_weekends_are_normal_and_a_busy_one_is_explained(service: FinOpsService) -> None:
    def office(d: date) -> float:
        if d == date(2026, 10, 25):  # a Sunday
            return 120.0
        return 10.0 if d.isoweekday() >= 6 else 100.0

    items = await found(service, rows(28, office, service="EC2"))
    assert [(a.day, a.service, a.amount, a.expected, a.baseline_days) for a in items] == [
        (date(2026, 10, 25), "EC2", 120.0, 10.0, 8)]
    reason = items[0].reason
    assert "Sun 2026-10-25" in reason and "median of 8 charged weekend days (10.00)" in reason and "above" in reason


async def test_no_anomaly_ever_expects_zero(service: FinOpsService) -> None:
    def irregular(d: date) -> float:
        n = (d - FIRST).days
        return [0.0, 3.0, 0.0, 0.0, 2.5, 0.0, 30.0][n % 7]

    items = await found(service, rows(56, irregular, service="Data Transfer"))
    assert all(a.expected > 0 for a in items)
