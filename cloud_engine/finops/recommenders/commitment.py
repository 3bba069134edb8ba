"""Commitments: buy a 1-year (or 3-year) flexible commitment for a service's steady baseline.

Baseline = the 10th-percentile daily effective cost of the service's VMs (and rows without a
resource id) over the last 30 days, excluding resources other recommenders will stop,
shrink or schedule, so the two kinds of savings never overlap. Savings = baseline x discount;
break-even = term months x (1 - discount): used for fewer months than that, the commitment
costs more than on-demand would have. Discounts live in finops/data/commitment_discounts.json.

Only USD spend is advised on: the threshold, the hourly commitment a provider sells and the
published discounts are all in dollars, and there is no exchange-rate source offline. A
service billed in another currency gets a visible "needs USD billing" item instead of a
purchase sized in the wrong money.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cloud_engine.finops.inventory import ResourceProfile
from cloud_engine.finops.models import Recommendation, RecommendationKind, Risk
from cloud_engine.finops.recommenders.base import RecommenderContext, make, recommendation_id

KIND = RecommendationKind.COMMITMENT  # the one kind this module produces (engine.RECOMMENDERS)

DISCOUNTS_PATH = Path(__file__).resolve().parent.parent / "data" / "commitment_discounts.json"
LOOKBACK_DAYS = 30


@lru_cache(maxsize=1)
def load_discounts() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DISCOUNTS_PATH.read_text("utf-8"))
    return loaded


def eligible_services() -> dict[str, list[str]]:
    services: dict[str, list[str]] = load_discounts()["eligible_services"]
    return services


def recommend(ctx: RecommenderContext, exclude: Collection[str] = frozenset()) -> list[Recommendation]:
    """Commitments on the spend left once `exclude` (resources other advice stops or shrinks) is set aside."""
    t = ctx.thresholds
    as_of = ctx.inventory.as_of
    if as_of is None:
        return []
    kinds = {p.resource_id: p.kind for p in ctx.inventory.resources}
    data = load_discounts()
    out: list[Recommendation] = []
    for (provider, service, currency), by_resource in sorted(ctx.inventory.service_daily.items(),
                                                             key=lambda i: (i[0][0], i[0][1], i[0][2] or "")):
        rates = data["providers"].get(provider)
        if rates is None:
            continue
        daily: dict[date, float] = {}
        for rid, days in by_resource.items():
            if rid is not None and (rid in exclude or kinds.get(rid) != "vm"):
                continue
            for day, cost in days.items():
                daily[day] = daily.get(day, 0.0) + cost
        if not daily:
            continue
        first = max(min(daily), as_of - timedelta(days=LOOKBACK_DAYS - 1))
        series = np.array([daily.get(first + timedelta(days=i), 0.0) for i in range((as_of - first).days + 1)])
        if float(series.mean()) <= 0:
            continue  # credits net the service to nothing or less: there is no spend to commit to
        holder = ResourceProfile(
            # a USD series keeps the id it had before currencies were told apart (feedback is stored by id)
            resource_id=f"commitment:{provider}:{service}" + ("" if currency == "USD" else f":{currency}"),
            resource_name=f"{service} steady baseline",
            provider=provider, region=None, service=service, resource_type=None, sub_account=None, tags={},
            kind="commitment", machine_type=None, monthly_cost=float(series.mean()) * ctx.days_per_month,
            first_seen=datetime.combine(first, time()),
            last_seen=datetime.combine(as_of, time()), currency=currency,
        )
        if currency != "USD":
            out.append(_needs_usd(holder, service))
            continue
        if series.size < t.commitment_min_days:
            out.append(Recommendation(
                id=recommendation_id(holder.resource_id, KIND), resource_id=holder.resource_id,
                resource_name=holder.resource_name, provider=provider, region=None, kind=KIND,
                action="Collect more cost history before commitment advice",
                evidence={"days_of_cost_history": int(series.size)},
                monthly_cost_current=round(holder.monthly_cost, 2), monthly_savings=0.0, co2e_kg_month_delta=0.0,
                confidence=0.0, risk=Risk(level="low", reason="no change proposed"), currency=currency,
                status="insufficient_telemetry",
                needs=(f"at least {t.commitment_min_days} days of cost data for {service} (have {series.size})",),
            ))
            continue
        baseline_daily = float(np.percentile(series, t.commitment_baseline_percentile))
        baseline_monthly = baseline_daily * ctx.days_per_month
        if baseline_monthly < t.commitment_min_monthly_usd:
            continue
        mean = float(series.mean())
        cv = float(series.std() / mean) if mean > 0 else 1.0
        one, three = float(rates["one_year"]), float(rates["three_year"])
        commit_hourly = baseline_daily / 24 * (1 - one)
        out.append(make(
            holder, KIND,
            f"Buy a 1-year {rates['program']} of ${commit_hourly:.2f}/hour for {service}",
            evidence={
                "window_start": first.isoformat(), "window_end": as_of.isoformat(), "days": int(series.size),
                "baseline_daily_usd": round(baseline_daily, 2), "baseline_monthly_usd": round(baseline_monthly, 2),
                "baseline_percentile": t.commitment_baseline_percentile, "daily_cost_cv": round(cv, 4),
                "discount_one_year": one, "discount_three_year": three,
                "three_year_monthly_savings": round(baseline_monthly * three, 2),
                "break_even_months_one_year": round(12 * (1 - one), 1),
                "break_even_months_three_year": round(36 * (1 - three), 1),
                "excluded_resources": len([r for r in by_resource if r in exclude]),
                "discount_source": data["source"],
            },
            savings=baseline_monthly * one, co2e=0.0, confidence=max(0.3, min(0.95, 1 - cv)),
            risk=("medium", f"commits ${commit_hourly:.2f}/hour for 12 months; usage must stay near the baseline "
                            f"for {12 * (1 - one):.1f}+ months to break even"),
            target="1y",
        ))
    return out


def _needs_usd(holder: ResourceProfile, service: str) -> Recommendation:
    """The note shown instead of commitment advice on a non-USD bill; it proposes nothing and saves nothing."""
    return Recommendation(
        id=recommendation_id(holder.resource_id, KIND), resource_id=holder.resource_id,
        resource_name=holder.resource_name, provider=holder.provider, region=None, kind=KIND,
        action=f"No commitment advice: {service} is billed in {holder.currency}, commitments are priced in USD",
        evidence={"billing_currency": holder.currency,
                  "reason": "commitment discounts and the minimum baseline are in USD; amounts are not converted"},
        monthly_cost_current=round(holder.monthly_cost, 2), monthly_savings=0.0, co2e_kg_month_delta=0.0,
        confidence=0.0, risk=Risk(level="low", reason="no change proposed"), status="insufficient_telemetry",
        needs=(f"USD-billed cost data for {service} (this bill is in {holder.currency}; "
               "no exchange rate is available to convert it)",),
        currency=holder.currency,
    )
