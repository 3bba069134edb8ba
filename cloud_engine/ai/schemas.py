"""What the advisor accepts, what a model must return, and what the advisor answers.

Two layers on purpose (raw → valid): a model's JSON is parsed into the small `RawAdvice`
shape (resources as `ResourceSpec`s, so a bad field is a validation error that can be fed
back in the one re-ask); the user only ever sees `AdviceAnswer`, which the advisor builds
after guardrails, pricing (from `CostEstimator`, never from the model) and citation checks.
Plan and FinOps reviews follow the same pattern with their own raw shapes.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cloud_engine.core.models import ResourceSpec

ProviderChoice = Literal["any", "gcp", "aws", "azure"]
CloudProvider = Literal["gcp", "aws", "azure"]
BudgetLevel = Literal["low", "medium", "high"]
SecurityLevel = Literal["standard", "enhanced", "compliance"]
ComplianceFramework = Literal["none", "HIPAA", "GDPR", "PCI-DSS", "SOX"]
Severity = Literal["high", "medium", "low"]
REASONING_STEPS: tuple[str, ...] = ("requirements", "architecture", "cost", "security")
MAX_USE_CASE = 1000
_MODEL_RE = re.compile(r"^(auto|rules|groq:[A-Za-z0-9._/-]{1,80}|gemini:[A-Za-z0-9._-]{1,80})$")
_REGION_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
_COMPLIANCE_ALIASES = {"none": "none", "hipaa": "HIPAA", "gdpr": "GDPR", "pci-dss": "PCI-DSS", "pci": "PCI-DSS",
                       "pcidss": "PCI-DSS", "sox": "SOX"}



class WrittenBy:
    """Every answer names who wrote it: "rules engine" or `provider:model` (fields of the model it is mixed into)."""

    @property
    def written_by(self) -> str:
        provider, model = getattr(self, "provider"), getattr(self, "model")  # noqa: B009 - set by the pydantic model
        return "rules engine" if provider == "rules" else f"{provider}:{model}"

class ReplyInvalid(ValueError):
    """A model reply that is not the JSON we asked for; `errors` go back to the model verbatim."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# --------------------------------------------------------------------------- request
class AdviceRequest(BaseModel):
    """One question for the advisor, validated once so every layer can trust it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    use_case: str = Field(min_length=3, max_length=MAX_USE_CASE)
    provider: ProviderChoice = "any"
    budget: BudgetLevel = "medium"
    security: SecurityLevel = "standard"
    compliance: ComplianceFramework = "none"
    model: str = "auto"
    region: str | None = None

    @field_validator("use_case", mode="before")
    @classmethod
    def _clean_use_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t\r" for ch in value):
            raise ValueError("must not contain control characters")
        text = " ".join(value.split())
        if not any(ch.isalpha() for ch in text):
            raise ValueError("must describe the use case in words")
        return text

    @field_validator("compliance", mode="before")
    @classmethod
    def _compliance_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _COMPLIANCE_ALIASES.get(value.strip().lower(), value)
        return value

    @field_validator("model")
    @classmethod
    def _model_id(cls, value: str) -> str:
        value = value.strip()
        if not _MODEL_RE.match(value):
            raise ValueError("must be auto, rules, groq:<model> or gemini:<model>")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _REGION_RE.match(value.lower()):
            raise ValueError("must be a region name such as us-central1, eu-west-1 or westeurope")
        return value.lower()

    def cache_inputs(self) -> dict[str, Any]:
        """The inputs that decide an answer, normalised (case, spacing) for the cache key."""
        return {"use_case": self.use_case.lower(), "provider": self.provider, "budget": self.budget,
                "security": self.security, "compliance": self.compliance, "region": self.region}


# --------------------------------------------------------------------------- raw model output
class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class RawReasoning(_Raw):
    requirements: str = Field(min_length=1, max_length=500)
    architecture: str = Field(min_length=1, max_length=500)
    cost: str = Field(min_length=1, max_length=500)
    security: str = Field(min_length=1, max_length=500)


class RawResource(_Raw):
    spec: ResourceSpec
    rationale: str = Field(min_length=1, max_length=500)
    citations: list[str] = Field(default_factory=list, max_length=8)


class RawSourced(_Raw):
    text: str = Field(min_length=1, max_length=400)
    citations: list[str] = Field(default_factory=list, max_length=8)


class RawAdvice(_Raw):
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
        "cloud_provider": {"enum": ["gcp", "aws", "azure"]},
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


def format_errors(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """Short `path: message` lines, the form the re-ask shows the model."""
    out = []
    for err in exc.errors()[:12]:
        loc = ".".join(str(p) for p in err["loc"])
        out.append(f"{prefix}{loc}: {err['msg']}")
    return out


def load_json_object(text: str) -> dict[str, Any]:
    """Decode a reply as one JSON object, tolerating a ```json fence around it."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        body = body[4:] if body.lower().startswith("json") else body
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ReplyInvalid([f"reply is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]) from None
    except RecursionError:  # "[[[[..." thousands deep: the decoder recurses once per level
        raise ReplyInvalid(["reply is not valid JSON: nested too deeply"]) from None
    except ValueError as exc:  # e.g. an integer over Python's 4300-digit conversion limit
        raise ReplyInvalid([f"reply is not valid JSON: {str(exc)[:120]}"]) from None
    if not isinstance(data, dict):
        raise ReplyInvalid(["reply must be one JSON object"])
    return data


def parse_raw_advice(text: str) -> RawAdvice:
    """Parse a model reply into `RawAdvice` or raise `ReplyInvalid` with every problem found."""
    data = load_json_object(text)
    try:
        return RawAdvice.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(format_errors(exc)) from None


# --------------------------------------------------------------------------- the answer
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
    `enforced=False` marks an action the design cannot express (e.g. sign a BAA)."""

    name: str
    passed: bool
    detail: str
    corrected: bool = False
    enforced: bool = True


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



# --------------------------------------------------------------------------- plan review
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



class RawRankedFinding(_Raw):
    ref: str = Field(description="the finding's ref, e.g. OPEN_INGRESS@aws_security_group.web")
    explanation: str = Field(min_length=1, max_length=600)
    citations: list[str] = Field(default_factory=list, max_length=6)


class RawPlanReview(_Raw):
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


# --------------------------------------------------------------------------- FinOps review
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



class RawFinOpsPick(_Raw):
    id: str
    note: str = Field(default="", max_length=600)
    flag: Flag = "ok"


class RawFinOpsReview(_Raw):
    effective_recommendation: RawFinOpsPick | None = None
    additional_recommendations: list[RawFinOpsPick] = Field(default_factory=list, max_length=60)
    base_of_recommendations: str = Field(default="", max_length=1200)
    cost_forecasting: str = Field(default="", max_length=1200)
    anomalies: list[str] = Field(default_factory=list, max_length=20)
    contract_deal: str = Field(default="", max_length=1200)
    citations: list[str] = Field(default_factory=list, max_length=12)


RAW_FINOPS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["effective_recommendation", "additional_recommendations", "base_of_recommendations",
                 "cost_forecasting", "anomalies", "contract_deal"],
    "properties": {
        "effective_recommendation": {"type": "object", "properties": {
            "id": {"type": "string"}, "note": {"type": "string"}, "flag": {"enum": ["ok", "risky", "downgraded"]}}},
        "additional_recommendations": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "note": {"type": "string"}, "flag": {"enum": ["ok", "risky", "downgraded"]}}}},
        "base_of_recommendations": {"type": "string"},
        "cost_forecasting": {"type": "string"},
        "anomalies": {"type": "array", "items": {"type": "string"}},
        "contract_deal": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "string"}},
    },
}
