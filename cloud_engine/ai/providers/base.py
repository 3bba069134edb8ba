"""The one interface every model provider implements, and what a call returns.

Why a Protocol and a plain reply record: the advisor, plan review and FinOps review must not
care which SDK answered. Each provider turns its SDK's response into a `ProviderReply` with
the same token and latency figures, and turns every SDK failure into `AdvisorError` with a
short, key-free `reason` ("timeout", "rate_limited", "http_error", "empty"), so callers fall
back to the rules engine the same way whatever went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

RULES_ID = "rules"
RULES_LABEL = "rules engine"


@dataclass(frozen=True, slots=True)
class ProviderReply:
    """One model answer: the raw text (expected to be JSON) plus usage figures for logs."""

    text: str
    model: str
    provider: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float


@runtime_checkable
class ModelProvider(Protocol):
    """A chat model that can be asked for a JSON object."""

    name: str
    model: str

    async def complete_json(self, system: str, user: str, *, schema: dict[str, Any]) -> ProviderReply:
        """Ask for one JSON object; raises `AdvisorError(detail=..., reason=...)` on failure."""

    async def aclose(self) -> None:
        """Release HTTP connections."""


def choice_id(provider: str, model: str) -> str:
    """The user-facing id of a model, e.g. `groq:llama-3.3-70b-versatile`."""
    return f"{provider}:{model}"
