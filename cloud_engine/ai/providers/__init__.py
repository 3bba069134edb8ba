"""Model providers behind one interface (`ModelProvider`), plus the deterministic rules engine.

SDK modules (`groq_provider`, `gemini_provider`) are imported only when a provider is built,
so code that never calls a model never loads an SDK; code on the event loop builds them with
`build_provider_async` (in a worker thread), since the import and the HTTP clients are slow.
"""

from cloud_engine.ai.providers.base import RULES_ID, RULES_LABEL, ModelProvider, ProviderReply, choice_id
from cloud_engine.ai.providers.registry import (
    ModelChoice,
    available_models,
    build_provider,
    build_provider_async,
    resolve,
)
from cloud_engine.ai.providers.retry import RetryPolicy

__all__ = [
    "RULES_ID", "RULES_LABEL", "ModelChoice", "ModelProvider", "ProviderReply", "RetryPolicy", "available_models",
    "build_provider", "build_provider_async", "choice_id", "resolve",
]
