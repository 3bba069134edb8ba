"""Gemini through the current `google-genai` SDK (not the deprecated `google-generativeai`).

`client.aio.models.generate_content` posts to
`https://generativelanguage.googleapis.com/{api_version}/models/{model}:generateContent`
with `systemInstruction`, `generationConfig.responseMimeType = application/json` and the
answer's JSON Schema as `generationConfig.responseJsonSchema` (pruned to the keywords Gemini
documents as supported, see `gemini_json_schema`).

Transport: with aiohttp installed (it is, for other packages) google-genai 3.x sends async
requests through aiohttp unless it is handed an httpx client. We pass our own
`httpx.AsyncClient`, so both SDKs share one transport (and respx can mock both in tests),
and we set a one-attempt `HttpRetryOptions` so `RetryPolicy` alone decides on retries.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from cloud_engine.ai.providers.base import ProviderReply
from cloud_engine.ai.providers.calls import elapsed_ms, failure, run_call
from cloud_engine.ai.providers.retry import (
    RetryableStatus,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    parse_retry_info,
)

DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
# google-genai defers building its pydantic models until first use, which would cost ~0.1 s on
# the event loop in the first request; this module is imported by `build_provider`, in a
# worker thread, so they are built there instead (names missing in another SDK version are skipped).
_REQUEST_TYPES = ("GenerateContentConfig", "GenerateContentResponse", "_GenerateContentParameters", "Part",
                  "UserContent", "HttpResponse", "Candidate", "Content", "GenerateContentResponseUsageMetadata")


def _build_sdk_models() -> None:
    for name in _REQUEST_TYPES:
        model = getattr(types, name, None)
        if model is not None and hasattr(model, "model_rebuild"):
            model.model_rebuild()


_build_sdk_models()

# The JSON Schema keywords GenerateContentConfig.response_json_schema documents as supported.
_SUPPORTED_KEYWORDS = frozenset({
    "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items", "prefixItems",
    "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf", "properties", "additionalProperties", "required",
    "propertyOrdering",
})


def gemini_json_schema(schema: Any) -> Any:
    """`schema` without the keywords Gemini does not support (e.g. maxLength), recursively.

    Why prune rather than send as is: an unsupported keyword can make the API refuse the
    request (HTTP 400), which would push every Gemini answer onto the rules engine; the length
    limits are still checked by our own validation of the reply.
    """
    if isinstance(schema, list):
        return [gemini_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SUPPORTED_KEYWORDS:
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: gemini_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = gemini_json_schema(value) if isinstance(value, dict | list) else value
    return out


class GeminiProvider:
    """A Gemini model asked for JSON objects."""

    name = "gemini"

    def __init__(self, api_key: str, model: str = DEFAULT_GEMINI_MODEL, *, timeout_s: float = 30.0,
                 retry: RetryPolicy | None = None, temperature: float = 0.2) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.temperature = temperature
        self._http = httpx.AsyncClient(timeout=timeout_s)
        self._client = genai.Client(api_key=api_key, http_options=types.HttpOptions(
            httpx_async_client=self._http,
            timeout=int(timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        ))

    def __repr__(self) -> str:
        return f"GeminiProvider(model={self.model!r})"

    async def complete_json(self, system: str, user: str, *, schema: dict[str, Any]) -> ProviderReply:
        """One generateContent call in JSON mode, constrained by `schema`.

        The schema is JSON Schema, so it goes in `response_json_schema` (sent as
        `generationConfig.responseJsonSchema`): google-genai's `response_schema` takes the
        OpenAPI-subset `Schema`, which rejects an object without `properties` (our `spec`).
        An empty schema sends none.
        """

        async def once() -> ProviderReply:
            started = time.perf_counter()
            response = await self._client.aio.models.generate_content(
                model=self.model,
                contents=user,
                config=types.GenerateContentConfig(system_instruction=system, response_mime_type="application/json",
                                                   response_json_schema=gemini_json_schema(schema) or None,
                                                   temperature=self.temperature),
            )
            text = response.text
            if not text:
                raise failure(self.name, self.model, "empty", "returned an empty answer")
            usage = response.usage_metadata
            return ProviderReply(text=text, model=response.model_version or self.model, provider=self.name,
                                 input_tokens=usage.prompt_token_count if usage else None,
                                 output_tokens=usage.candidates_token_count if usage else None,
                                 latency_ms=elapsed_ms(started))

        return await run_call(self.name, self.model, once, timeout_s=self.timeout_s, policy=self.retry,
                              classify=self._classify)

    def _classify(self, exc: Exception) -> Exception:
        if isinstance(exc, httpx.TimeoutException):
            return failure(self.name, self.model, "timeout", f"timed out after {self.timeout_s:g}s")
        if isinstance(exc, genai_errors.APIError):
            status = int(exc.code or 0)
            if is_retryable_status(status):
                headers = getattr(exc.response, "headers", None) or {}
                delay = parse_retry_after(headers.get("retry-after"))
                return RetryableStatus(status, delay if delay is not None else parse_retry_info(exc.details), exc)
            return failure(self.name, self.model, "http_error", f"returned HTTP {status}")
        if isinstance(exc, httpx.TransportError):
            return failure(self.name, self.model, "connection", "could not be reached")
        if isinstance(exc, ValueError):
            return failure(self.name, self.model, "empty", f"returned no usable text ({type(exc).__name__})")
        return failure(self.name, self.model, "error", f"failed ({type(exc).__name__})")

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        await self._http.aclose()
