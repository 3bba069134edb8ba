"""The advice shapes: what a model must return (`RawAdvice`) and what the user sees (`AdviceAnswer`).

Pricing comes from `CostEstimator`, never from the model, so the raw shape has no prices and
the answer's figures are all the engine's.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, computed_field, model_validator

from cloud_engine.ai.schemas.common import Raw, ReplyInvalid, WrittenBy, format_errors, load_json_object
from cloud_engine.ai.schemas.request import REASONING_STEPS, AdviceRequest, CloudProvider
from cloud_engine.core.models import ResourceSpec


class RawReasoning(Raw):
    requirements: str = Field(min_length=1, max_length=500)
    architecture: str = Field(min_length=1, max_length=500)
    cost: str = Field(min_length=1, max_length=500)
    security: str = Field(min_length=1, max_length=500)


class RawResource(Raw):
    spec: ResourceSpec
    rationale: str = Field(min_length=1, max_length=500)
    citations: list[str] = Field(default_factory=list, max_length=8)


class RawSourced(Raw):
    text: str = Field(min_length=1, max_length=400)
    citations: list[str] = Field(default_factory=list, max_length=8)


class RawAdvice(Raw):
    """What a model (or the rules engine) must return for an advice request."""

    summary: str = Field(min_length=1, max_length=800)
    cloud_provider: CloudProvider
    region: str = Field(min_length=2, max_length=40)
    reasoning: RawReasoning
    resources: list[RawResource] = Field(min_length=1, max_length=12)
    risks: list[RawSourced] = Field(default_factory=list, max_length=10)
    citations: list[str] = Field(default_factory=list, max_length=16)


RAW_ADVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["summary", "cloud_provider", "region", "reasoning", "resources", "risks", "citations"],
    "properties": {
        "summary": {"type": "string", "maxLength": 800},
        "cloud_provider": {"type": "string", "enum": ["gcp", "aws", "azure"]},
        "region": {"type": "string", "description": "a region from the catalogue block"},
        "reasoning": {
            "type": "object", "required": list(REASONING_STEPS),
            "description": "a 1-2 sentence summary per step, not step-by-step thoughts",
            "properties": {step: {"type": "string", "maxLength": 500} for step in REASONING_STEPS},
        },
        "resources": {
            "type": "array", "minItems": 1, "maxItems": 12,
            "items": {
                "type": "object", "required": ["spec", "rationale"],
                "properties": {
                    "spec": {"type": "object", "description": "a ResourceSpec; see the resource fields block"},
                    "rationale": {"type": "string", "maxLength": 500},
                    "citations": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "risks": {"type": "array", "items": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "maxLength": 400}, "citations": {"type": "array", "items": {"type": "string"}}}}},
        "citations": {"type": "array", "items": {"type": "string"}, "description": "knowledge ids you used"},
    },
}


def parse_raw_advice(text: str) -> RawAdvice:
    """Parse a model reply into `RawAdvice` or raise `ReplyInvalid` with every problem found."""
    data = load_json_object(text)
    try:
        return RawAdvice.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(format_errors(exc)) from None


class ReasoningStep(BaseModel):
    """One of the four short reasoning summaries shown with every answer."""

    step: Literal["requirements", "architecture", "cost", "security"]
    text: str


class SourcedText(BaseModel):
    """A claim and the knowledge ids that back it; no ids means it is shown as unsourced."""

    text: str
    citations: list[str] = Field(default_factory=list)

    @property
    def sourced(self) -> bool:
        return bool(self.citations)


class GuardrailCheck(BaseModel):
    """One guardrail's outcome. `corrected` means the advisor changed the design to pass it;
    `enforced=False` marks an action the design cannot express (e.g. sign a BAA): the code has
    not checked it, so `passed` is None and `status` says "advisory, not checked"."""

    name: str
    passed: bool | None
    detail: str
    corrected: bool = False
    enforced: bool = True

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        """passed, corrected, failed, or "advisory, not checked" (shown in every rendering)."""
        if not self.enforced or self.passed is None:
            return "advisory, not checked"
        if not self.passed:
            return "failed"
        return "corrected" if self.corrected else "passed"


class RejectedResource(BaseModel):
    kind: str
    name: str
    reason: str


class RecommendedResource(BaseModel):
    """One resource of the design, priced by the engine's catalogue."""

    spec: ResourceSpec
    provider: CloudProvider
    monthly_cost: float
    cost_detail: str
    rationale: str
    citations: list[str] = Field(default_factory=list)


class AdviceAnswer(WrittenBy, BaseModel):
    """The advisor's answer, ready to render; every figure comes from the engine."""

    request: AdviceRequest
    summary: str
    reasoning: list[ReasoningStep]
    resources: list[RecommendedResource]
    total_monthly_cost: float
    budget_ceiling: float
    risks: list[SourcedText] = Field(default_factory=list)
    guardrails: list[GuardrailCheck] = Field(default_factory=list)
    rejected: list[RejectedResource] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    provider: str
    model: str
    cached: bool = False
    notes: list[str] = Field(default_factory=list)
    cost_source: str = ""
    prompt_version: str = ""

    @model_validator(mode="after")
    def _four_steps(self) -> AdviceAnswer:
        if tuple(s.step for s in self.reasoning) != REASONING_STEPS:
            raise ValueError(f"reasoning must be exactly the steps {', '.join(REASONING_STEPS)} in order")
        return self
