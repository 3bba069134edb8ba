"""FinOps review shapes: every number is copied from the engine's recommendations, never a model's."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from cloud_engine.ai.schemas.common import Raw, WrittenBy

Flag = Literal["ok", "risky", "downgraded"]


class FinOpsItem(BaseModel):
    """One recommendation as the review shows it; every number is copied from the engine's data."""

    recommendation_id: str
    resource: str
    kind: str
    action: str
    monthly_cost_current: float | None = None
    monthly_savings: float | None = None
    currency: str = Field(default="USD", description="billing currency of the amounts (never converted)")
    co2e_kg_month_delta: float | None = None
    confidence: float | None = None
    risk: str | None = None
    status: str | None = None
    flag: Flag = "ok"
    note: str = ""


class FinOpsReview(WrittenBy, BaseModel):
    effective_recommendation: FinOpsItem | None
    additional_recommendations: list[FinOpsItem] = Field(default_factory=list)
    base_of_recommendations: str
    cost_forecasting: str
    anomalies: list[str] = Field(default_factory=list)
    contract_deal: str
    citations: list[str] = Field(default_factory=list)
    provider: str
    model: str
    cached: bool = False
    notes: list[str] = Field(default_factory=list)



class RawFinOpsPick(Raw):
    id: str
    note: str = Field(default="", max_length=600)
    flag: Flag = "ok"


class RawFinOpsReview(Raw):
    effective_recommendation: RawFinOpsPick | None = None
    additional_recommendations: list[RawFinOpsPick] = Field(default_factory=list, max_length=60)
    base_of_recommendations: str = Field(default="", max_length=1200)
    cost_forecasting: str = Field(default="", max_length=1200)
    anomalies: list[str] = Field(default_factory=list, max_length=20)
    contract_deal: str = Field(default="", max_length=1200)
    citations: list[str] = Field(default_factory=list, max_length=12)


_FLAG: dict[str, Any] = {"type": "string", "enum": ["ok", "risky", "downgraded"]}
RAW_FINOPS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["effective_recommendation", "additional_recommendations", "base_of_recommendations",
                 "cost_forecasting", "anomalies", "contract_deal"],
    "properties": {
        "effective_recommendation": {"type": "object", "properties": {
            "id": {"type": "string"}, "note": {"type": "string"}, "flag": _FLAG}},
        "additional_recommendations": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "note": {"type": "string"}, "flag": _FLAG}}},
        "base_of_recommendations": {"type": "string"},
        "cost_forecasting": {"type": "string"},
        "anomalies": {"type": "array", "items": {"type": "string"}},
        "contract_deal": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "string"}},
    },
}
