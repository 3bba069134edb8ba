"""Plan review shapes: deterministic findings, and the ranking a model may add to them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cloud_engine.ai.schemas.common import Raw, WrittenBy
from cloud_engine.ai.schemas.request import Severity


class Finding(BaseModel):
    """A deterministic plan check result, with its evidence."""

    severity: Severity
    code: str
    address: str
    evidence: str
    recommendation: str
    knowledge_ids: list[str] = Field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.code}@{self.address}"


class ExplainedFinding(Finding):
    rank: int
    explanation: str


class PlanReview(WrittenBy, BaseModel):
    findings: list[ExplainedFinding]
    summary: str
    monthly_total: float | None = None
    budget_monthly: float | None = None
    citations: list[str] = Field(default_factory=list)
    provider: str
    model: str
    cached: bool = False
    notes: list[str] = Field(default_factory=list)



class RawRankedFinding(Raw):
    ref: str = Field(description="the finding's ref, e.g. OPEN_INGRESS@aws_security_group.web")
    explanation: str = Field(min_length=1, max_length=600)
    citations: list[str] = Field(default_factory=list, max_length=6)


class RawPlanReview(Raw):
    summary: str = Field(min_length=1, max_length=800)
    ranked: list[RawRankedFinding] = Field(default_factory=list, max_length=60)


RAW_PLAN_REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["summary", "ranked"],
    "properties": {
        "summary": {"type": "string"},
        "ranked": {"type": "array", "description": "every finding once, most urgent first", "items": {
            "type": "object", "required": ["ref", "explanation"],
            "properties": {"ref": {"type": "string"}, "explanation": {"type": "string"},
                           "citations": {"type": "array", "items": {"type": "string"}}}}},
    },
}
