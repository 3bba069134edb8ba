"""What the advisor accepts: `AdviceRequest`, refused with sentences that name the field and limit.

Why its own error wording: pydantic's messages end in a documentation URL and use internal
names ("String should have at least 3 characters"); a Discord user or CLI user needs "use case
must be 3 to 1000 characters". Constructing an invalid request raises `InvalidInput`, which
both the bot and the CLI already render, so no pydantic text ever reaches the user.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cloud_engine.errors import InvalidInput

ProviderChoice = Literal["any", "gcp", "aws", "azure"]
CloudProvider = Literal["gcp", "aws", "azure"]
BudgetLevel = Literal["low", "medium", "high"]
SecurityLevel = Literal["standard", "enhanced", "compliance"]
ComplianceFramework = Literal["none", "HIPAA", "GDPR", "PCI-DSS", "SOX"]
Severity = Literal["high", "medium", "low"]
REASONING_STEPS: tuple[str, ...] = ("requirements", "architecture", "cost", "security")
MIN_USE_CASE = 3
MAX_USE_CASE = 1000
_MODEL_RE = re.compile(r"^(auto|rules|groq:[A-Za-z0-9._/-]{1,80}|gemini:[A-Za-z0-9._-]{1,80})$")
_REGION_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
_COMPLIANCE_ALIASES = {"none": "none", "hipaa": "HIPAA", "gdpr": "GDPR", "pci-dss": "PCI-DSS", "pci": "PCI-DSS",
                       "pcidss": "PCI-DSS", "sox": "SOX"}
_CHOICES: dict[str, tuple[str, ...]] = {
    "provider": get_args(ProviderChoice), "budget": get_args(BudgetLevel), "security": get_args(SecurityLevel),
    "compliance": get_args(ComplianceFramework),
}
MODEL_CHOICES = "auto, rules, groq:<model> or gemini:<model>"


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]


def _sentence(err: Any) -> tuple[str, str]:
    """(field label, "must ...") for one pydantic error, in our words only."""
    field = str(err["loc"][0]) if err.get("loc") else "request"
    label = field.replace("_", " ")
    kind = err.get("type", "")
    value = err.get("input")
    if field == "use_case" and kind in ("string_too_short", "string_too_long"):
        got = f" (got {len(value)})" if isinstance(value, str) else ""
        return label, f"must be {MIN_USE_CASE} to {MAX_USE_CASE} characters{got}"
    if field in _CHOICES and kind in ("literal_error", "string_type"):
        return label, f"must be {_choices(_CHOICES[field])} (got {str(value)[:40]!r})"
    if field == "model" and kind == "value_error":
        return label, f"unknown model {str(value)[:80]!r}; choose {MODEL_CHOICES}"
    if kind == "extra_forbidden":
        return label, "is not an option of an advice request"
    if kind == "string_type":
        return label, "must be text"
    message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
    return label, message


def readable(exc: ValidationError) -> InvalidInput:
    """One `InvalidInput` naming each refused field and its limit."""
    sentences = [_sentence(err) for err in exc.errors()[:6]]
    if len(sentences) == 1:
        label, text = sentences[0]
        return InvalidInput(field=label, rule=text)
    return InvalidInput(field="advice request", rule="; ".join(
        text if text.startswith("unknown model") else f"{label} {text}" for label, text in sentences))


class AdviceRequest(BaseModel):
    """One question for the advisor, validated once so every layer can trust it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    use_case: str = Field(min_length=MIN_USE_CASE, max_length=MAX_USE_CASE)
    provider: ProviderChoice = "any"
    budget: BudgetLevel = "medium"
    security: SecurityLevel = "standard"
    compliance: ComplianceFramework = "none"
    model: str = "auto"
    region: str | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise readable(exc) from None

    @field_validator("use_case", mode="before")
    @classmethod
    def _clean_use_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t\r" for ch in value):
            raise ValueError("must not contain control characters")
        text = " ".join(value.split())
        if text and not any(ch.isalpha() for ch in text):  # empty: the length limit reports it, with the range
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
            raise ValueError(f"must be {MODEL_CHOICES}")
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
