"""What the advisor accepts, what a model must return, and what the advisor answers.

Split by responsibility: `request` (the validated question and its readable refusals),
`common` (authorship, reply parsing), `advice`, `plan` and `finops` (one raw shape a model
returns and one answer shape the user sees, each).
"""

from __future__ import annotations

from cloud_engine.ai.schemas.advice import (
    RAW_ADVICE_SCHEMA,
    AdviceAnswer,
    GuardrailCheck,
    RawAdvice,
    RawReasoning,
    RawResource,
    RawSourced,
    ReasoningStep,
    RecommendedResource,
    RejectedResource,
    SourcedText,
    parse_raw_advice,
)
from cloud_engine.ai.schemas.common import Raw, ReplyInvalid, WrittenBy, format_errors, load_json_object
from cloud_engine.ai.schemas.finops import (
    RAW_FINOPS_SCHEMA,
    FinOpsItem,
    FinOpsReview,
    Flag,
    RawFinOpsPick,
    RawFinOpsReview,
)
from cloud_engine.ai.schemas.plan import (
    RAW_PLAN_REVIEW_SCHEMA,
    ExplainedFinding,
    Finding,
    PlanReview,
    RawPlanReview,
    RawRankedFinding,
)
from cloud_engine.ai.schemas.request import (
    MAX_USE_CASE,
    MIN_USE_CASE,
    MODEL_CHOICES,
    REASONING_STEPS,
    AdviceRequest,
    BudgetLevel,
    CloudProvider,
    ComplianceFramework,
    ProviderChoice,
    SecurityLevel,
    Severity,
    readable,
)

__all__ = [
    "MAX_USE_CASE", "MIN_USE_CASE", "MODEL_CHOICES", "RAW_ADVICE_SCHEMA", "RAW_FINOPS_SCHEMA", "RAW_PLAN_REVIEW_SCHEMA",
    "REASONING_STEPS", "AdviceAnswer", "AdviceRequest", "BudgetLevel", "CloudProvider", "ComplianceFramework",
    "ExplainedFinding", "FinOpsItem", "FinOpsReview", "Finding", "Flag", "GuardrailCheck", "PlanReview",
    "ProviderChoice", "Raw", "RawAdvice", "RawFinOpsPick", "RawFinOpsReview", "RawPlanReview", "RawRankedFinding",
    "RawReasoning", "RawResource", "RawSourced", "ReasoningStep", "RecommendedResource", "RejectedResource",
    "ReplyInvalid", "SecurityLevel", "Severity", "SourcedText", "WrittenBy", "format_errors", "load_json_object",
    "parse_raw_advice", "readable",
]
