"""FinOps figures are shown in their own billing currency and never summed across currencies."""

from __future__ import annotations

from datetime import date

from bot import embeds_ai
from cloud_engine.finops.models import (
    Anomaly,
    AnomalyReport,
    CostGroup,
    CostSummary,
    Forecast,
    Recommendation,
    RecommendationKind,
    RecommendationSet,
    Risk,
)


def rec(rid: str, savings: float, currency: str) -> Recommendation:
    return Recommendation(id=rid, resource_id=rid, resource_name=rid, provider="azure", region="japaneast",
                          kind=RecommendationKind.IDLE, action="Stop", evidence={}, monthly_cost_current=savings,
                          monthly_savings=savings, co2e_kg_month_delta=0.0, confidence=0.9,
                          risk=Risk(level="low", reason="idle"), currency=currency)


def test_recommendation_savings_show_their_currency_and_totals_stay_apart() -> None:
    items = (rec("vm-usd", 40.0, "USD"), rec("vm-jpy", 9000.0, "JPY"))
    recs = RecommendationSet(as_of=None, items=items, total_monthly_savings=9040.0, total_co2e_kg_month_delta=0.0)
    page = embeds_ai.recommendations_page(list(recs.items), page=0, pages=1, total_savings=recs.total_monthly_savings,
                                          suppressed=0, start=0, currency=recs.currency,
                                          savings_by_currency=recs.savings_by_currency)
    values = [f.value for f in page.fields]
    assert values[0].startswith("**$40.00/mo**") and values[1].startswith("**9,000.00 JPY/mo**")
    assert "9,040" not in page.description
    assert "**9,000.00 JPY/mo** + **$40.00/mo**" in page.description


def test_a_yen_only_list_is_not_shown_in_dollars() -> None:
    recs = RecommendationSet(as_of=None, items=(rec("vm-jpy", 9000.0, "JPY"),), total_monthly_savings=9000.0,
                             total_co2e_kg_month_delta=0.0)
    page = embeds_ai.recommendations_page(list(recs.items), page=0, pages=1, total_savings=recs.total_monthly_savings,
                                          suppressed=0, start=0, currency=recs.currency,
                                          savings_by_currency=recs.savings_by_currency)
    assert "$" not in page.description and "9,000.00 JPY" in page.description


def test_costs_overview_labels_forecast_and_anomalies_with_their_currency() -> None:
    summary = CostSummary(by="service", start=date(2026, 11, 1), end=date(2026, 11, 10), currency="USD",
                          total_billed_cost=10.0, total_effective_cost=10.0,
                          groups=(CostGroup(key="EC2", billed_cost=10.0, effective_cost=10.0, share=1.0),))
    forecast = Forecast(month="2026-11", as_of=date(2026, 11, 10), currency="JPY", month_to_date=150000.0,
                        daily_run_rate=15000.0, days_elapsed=10, days_remaining=20, forecast_month_end=450000.0,
                        previous_month_total=None, method="m", notes=("also billed in USD",))
    anomalies = AnomalyReport(start=None, end=None, threshold=3.5, method="robust z", items=(
        Anomaly(day=date(2026, 11, 9), service="VMs", provider="azure", currency="JPY", amount=96000.0,
                expected=15000.0, robust_z=12.0),))
    embed = embeds_ai.costs_overview(summary, summary, forecast, anomalies)
    fields = {f.name: f.value for f in embed.fields}
    assert "**450,000.00 JPY**" in fields["Month to date · 2026-11"]
    assert "96,000.00 JPY" in fields["Anomalies (1)"] and "$96,000" not in fields["Anomalies (1)"]
    assert "also billed in USD" in fields["Notes"]


async def test_the_recommendation_list_keeps_currencies_apart_after_an_item_is_hidden() -> None:
    from bot.finops_views import RecommendationPager

    items = (rec("vm-usd", 40.0, "USD"), rec("vm-jpy", 9000.0, "JPY"), rec("vm-jpy2", 1000.0, "JPY"))
    pager = RecommendationPager(RecommendationSet(as_of=None, items=items, total_monthly_savings=0.0,
                                                  total_co2e_kg_month_delta=0.0))
    assert "**10,000.00 JPY/mo** + **$40.00/mo**" in pager.embed().description
    pager.items = [i for i in pager.items if i.id != "vm-usd"]  # what a "noisy" click does
    pager.retotal()
    assert "**10,000.00 JPY/mo**" in pager.embed().description and "$" not in pager.embed().description
