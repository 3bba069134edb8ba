"""Groq chat completions (OpenAI-compatible) through the official `groq` SDK.

`POST https://api.groq.com/openai/v1/chat/completions` with `response_format` set to
`{"type": "json_object"}` (JSON mode). The SDK's own retries are off (`max_retries=0`) so
`RetryPolicy` alone decides; its HTTP timeout matches `settings.ai_timeout_s`.
"""

from __future__ import annotations

import time
from typing import Any

import groq

from cloud_engine.ai.providers.base import ProviderReply
from cloud_engine.ai.providers.calls import elapsed_ms, failure, run_call
from cloud_engine.ai.providers.retry import (
    RetryableStatus,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
)

DEFAULT_GROQ_MODEL = "llama-3.3-70b-versatile"


class GroqProvider:
    """A Groq-hosted model asked for JSON objects."""

    name = "groq"

    def __init__(self, api_key: str, model: str = DEFAULT_GROQ_MODEL, *, timeout_s: float = 30.0,
                 retry: RetryPolicy | None = None, temperature: float = 0.2) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.temperature = temperature
        self._client = groq.AsyncGroq(api_key=api_key, max_retries=0, timeout=timeout_s)

    def __repr__(self) -> str:
        return f"GroqProvider(model={self.model!r})"

    async def complete_json(self, system: str, user: str, *, schema: dict[str, Any]) -> ProviderReply:
        """One JSON-mode chat completion. `schema` is described in the prompt (JSON mode takes none)."""

        async def once() -> ProviderReply:
            started = time.perf_counter()
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={"type": "json_object"},
                temperature=self.temperature,
            )
            text = response.choices[0].message.content if response.choices else None
            if not text:
                raise failure(self.name, self.model, "empty", "returned an empty answer")
            usage = response.usage
            return ProviderReply(text=text, model=response.model or self.model, provider=self.name,
                                 input_tokens=usage.prompt_tokens if usage else None,
                                 output_tokens=usage.completion_tokens if usage else None,
                                 latency_ms=elapsed_ms(started))

        return await run_call(self.name, self.model, once, timeout_s=self.timeout_s, policy=self.retry,
                              classify=self._classify)

    def _classify(self, exc: Exception) -> Exception:
        if isinstance(exc, groq.APITimeoutError):
            return failure(self.name, self.model, "timeout", f"timed out after {self.timeout_s:g}s")
        if isinstance(exc, groq.APIStatusError):
            status = exc.status_code
            if is_retryable_status(status):
                return RetryableStatus(status, parse_retry_after(exc.response.headers.get("retry-after")), exc)
            return failure(self.name, self.model, "http_error", f"returned HTTP {status}")
        if isinstance(exc, groq.APIConnectionError):
            return failure(self.name, self.model, "connection", "could not be reached")
        return failure(self.name, self.model, "error", f"failed ({type(exc).__name__})")

    async def aclose(self) -> None:
        await self._client.close()
