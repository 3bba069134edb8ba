"""Which models a user may pick, and building a provider for one of them.

A model whose provider has no API key stays in the list as unavailable with a note saying
which variable to set, so the UI can explain why it cannot be chosen; "rules" (the
deterministic engine) is always available. Model ids are `provider:model`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cloud_engine.ai.providers.base import RULES_ID, ModelProvider, choice_id
from cloud_engine.ai.providers.retry import RetryPolicy
from cloud_engine.errors import InvalidInput
from cloud_engine.settings import Settings

PROVIDER_ORDER: tuple[str, ...] = ("groq", "gemini")
_KEY_VARIABLE = {"groq": "GROQ_API_KEY", "gemini": "GEMINI_API_KEY"}


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """One selectable model: `id` like `groq:llama-3.3-70b-versatile`, or `rules`."""

    id: str
    provider: str
    model: str
    available: bool
    note: str


def _models(settings: Settings, provider: str) -> list[str]:
    raw = settings.groq_models if provider == "groq" else settings.gemini_models
    return [m.strip() for m in raw.split(",") if m.strip()]


def _key(settings: Settings, provider: str) -> str | None:
    secret = settings.groq_api_key if provider == "groq" else settings.gemini_api_key
    value = secret.get_secret_value() if secret is not None else ""
    return value or None


def available_models(settings: Settings) -> list[ModelChoice]:
    """Every configured model (available or not, with a note) followed by the rules engine."""
    out: list[ModelChoice] = []
    for provider in PROVIDER_ORDER:
        has_key = _key(settings, provider) is not None
        for model in _models(settings, provider):
            note = "ready" if has_key else f"unavailable: set {_KEY_VARIABLE[provider]} to use it"
            out.append(ModelChoice(choice_id(provider, model), provider, model, has_key, note))
    out.append(ModelChoice(RULES_ID, RULES_ID, "rules engine", True, "deterministic, offline; always available"))
    return out


def resolve(settings: Settings, requested: str) -> tuple[ModelChoice, str | None]:
    """The model to use for `requested` ("auto", "rules" or an id) and a note when it was swapped.

    "auto" picks the first available model (Groq first, then Gemini) and otherwise the rules
    engine. A named model without a key falls back to the rules engine with a note; a name
    not configured at all is a user error listing the choices.
    """
    choices = available_models(settings)
    rules = choices[-1]
    if requested == RULES_ID:
        return rules, None
    if requested == "auto":
        first = next((c for c in choices if c.available and c.id != RULES_ID), None)
        if first is None:
            return rules, "No AI provider key is set (GROQ_API_KEY / GEMINI_API_KEY); the rules engine answered."
        return first, None
    for choice in choices:
        if choice.id == requested:
            if not choice.available:
                return rules, f"{choice.id} is {choice.note}; the rules engine answered."
            return choice, None
    valid = ", ".join(["auto", *(c.id for c in choices)])
    raise InvalidInput(field="model", rule=f"{requested!r} is not configured; valid: {valid}")


def build_provider(settings: Settings, choice: ModelChoice, *, retry: RetryPolicy | None = None) -> ModelProvider:
    """A live provider for an available model choice (SDKs are imported only here, lazily)."""
    key = _key(settings, choice.provider)
    if not choice.available or key is None:
        raise InvalidInput(field="model", rule=f"{choice.id} is {choice.note}")
    if choice.provider == "groq":
        from cloud_engine.ai.providers.groq_provider import GroqProvider

        return GroqProvider(key, choice.model, timeout_s=settings.ai_timeout_s, retry=retry)
    if choice.provider == "gemini":
        from cloud_engine.ai.providers.gemini_provider import GeminiProvider

        return GeminiProvider(key, choice.model, timeout_s=settings.ai_timeout_s, retry=retry)
    raise InvalidInput(field="model", rule=f"{choice.id} has no provider implementation")


async def build_provider_async(settings: Settings, choice: ModelChoice, *,
                               retry: RetryPolicy | None = None) -> ModelProvider:
    """`build_provider` in a worker thread, so the event loop keeps serving while it runs.

    Why: the first build imports the SDK (0.5-0.9 s) and every build creates HTTP clients with
    a TLS context (~70 ms); on the bot's loop either would freeze every other command.
    """
    return await asyncio.to_thread(build_provider, settings, choice, retry=retry)
