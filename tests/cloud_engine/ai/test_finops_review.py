"""FinOps review: every number shown comes from the engine's data; flags only get stricter."""

from __future__ import annotations

import json
import re

import httpx
import respx
from pydantic import SecretStr

from cloud_engine.ai.finops_review import NUMBER_RE, input_figures, number_allowed, review_recommendations
from cloud_engine.ai.providers.retry import RetryPolicy
from cloud_engine.finops.models import Recommendation, Risk
from cloud_engine.settings import Settings

GROQ_URL = "https://api.groq.com/openai/v1/chat/completions"


def rec(rid: str, kind: str, savings: float, *, confidence: float = 0.9, risk: str = "low",
        status: str = "ok") -> Recommendation:
    return Recommendation(id=rid, resource_id=f"res-{rid}", resource_name=f"vm-{rid}", provider="gcp",
                          region="us-central1", kind=kind, action=f"{kind} vm-{rid}",
                          evidence={"cpu_p95": 3.2, "days": 14}, monthly_cost_current=120.0, monthly_savings=savings,
                          co2e_kg_month_delta=-4.5, confidence=confidence, risk=Risk(level=risk, reason="prod traffic"),
                          status=status, needs=("memory metrics",) if status != "ok" else ())


RECS = [rec("r1", "idle", 96.0), rec("r2", "rightsize", 41.25, confidence=0.4),
        rec("r3", "commitment", 30.0, risk="high"), rec("r4", "schedule", 12.0, status="insufficient_telemetry")]
SUMMARY = {"month": "2026-11", "as_of": "2026-11-15", "currency": "USD", "month_to_date": 512.4,
           "daily_run_rate": 34.16, "days_elapsed": 15, "days_remaining": 15, "forecast_month_end": 1024.8,
           "previous_month_total": 990.0, "method": "run rate"}


def numbers_shown(review) -> list[str]:
    text = " ".join([
        review.base_of_recommendations, review.cost_forecasting, review.contract_deal, *review.anomalies,
        *(i.note for i in [review.effective_recommendation, *review.additional_recommendations] if i)])
    return [m.group(0) for m in NUMBER_RE.finditer(text)]


async def test_rules_review_offline_has_the_full_structure(settings: Settings) -> None:
    review = await review_recommendations(RECS, SUMMARY, settings, provider="rules")
    assert review.written_by == "rules engine"
    assert review.effective_recommendation and review.effective_recommendation.recommendation_id == "r1"
    flags = {i.recommendation_id: i.flag for i in review.additional_recommendations}
    assert flags == {"r2": "risky", "r3": "risky", "r4": "downgraded"}
    assert "1024.8" in review.cost_forecasting and "r3" in review.contract_deal
    figures = input_figures([r.model_dump(mode="json") for r in RECS], SUMMARY)
    assert all(number_allowed(n, figures) for n in numbers_shown(review))


@respx.mock
async def test_model_numbers_not_in_the_data_are_removed(settings: Settings) -> None:
    settings = settings.model_copy(update={"groq_api_key": SecretStr("gsk_finopstest0123456789abcdef")})
    reply = {"effective_recommendation": {"id": "r2", "note": "Save $5,000 a month, about 73% of spend; r2 is solid.",
                                          "flag": "ok"},
             "additional_recommendations": [{"id": "r1", "note": "Idle for 14 days at 3.2% CPU.", "flag": "risky"}],
             "base_of_recommendations": "Utilisation over 14 days.",
             "cost_forecasting": "Month end lands near 1024.8 USD, maybe 1500 if traffic grows.",
             "anomalies": ["Spike of 9999 on day 3"], "contract_deal": "Commit for 3 years.",
             "citations": ["not-a-real-entry"]}
    respx.post(GROQ_URL).mock(return_value=httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 1, "model": "llama-3.3-70b-versatile",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(reply)},
                     "finish_reason": "stop"}]}))

    async def no_sleep(_: float) -> None:
        return None

    review = await review_recommendations(RECS, SUMMARY, settings, retry=RetryPolicy(sleep=no_sleep))
    assert review.provider == "groq"
    shown = numbers_shown(review)
    figures = input_figures([r.model_dump(mode="json") for r in RECS], SUMMARY)
    assert all(number_allowed(n, figures) for n in shown), shown
    assert "5,000" not in review.effective_recommendation.note and "9999" not in " ".join(review.anomalies)
    assert "1500" not in review.cost_forecasting and "1024.8" in review.cost_forecasting
    # the model cannot clear the rules' flag on r2 (low confidence) but may flag r1 as risky
    assert review.effective_recommendation.flag == "risky"
    assert next(i for i in review.additional_recommendations if i.recommendation_id == "r1").flag == "risky"
    # figures are copied from the recommendation, not from the model text
    assert review.effective_recommendation.monthly_savings == 41.25
    assert {i.recommendation_id for i in review.additional_recommendations} == {"r1", "r3", "r4"}
    assert review.citations == []


def test_number_policing_precision() -> None:
    figures = [41.25, 0.9]
    assert number_allowed("41.25", figures) and number_allowed("$41.25", figures) and number_allowed("90%", figures)
    assert not number_allowed("41.3", [41.0]) and not number_allowed("5,000", figures)
    assert re.search(r"\d", "t3.large e2-standard-4 co2e") and not NUMBER_RE.findall("t3.large e2-standard-4 co2e")
