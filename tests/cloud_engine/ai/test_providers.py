"""Groq and Gemini providers over respx-mocked HTTP: JSON mode, retries, timeouts, key hygiene."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import respx

from cloud_engine.ai.providers.gemini_provider import GeminiProvider
from cloud_engine.ai.providers.groq_provider import GroqProvider
from cloud_engine.ai.providers.registry import available_models, resolve
from cloud_engine.ai.providers.retry import RetryPolicy, parse_retry_after
from cloud_engine.errors import AdvisorError, InvalidInput
from cloud_engine.settings import Settings

GROQ_URL = "https://api.groq.com/openai/v1/chat/completions"
GEMINI_URL = r"https://generativelanguage\.googleapis\.com/v1(beta)?/models/gemini-2\.5-flash:generateContent"
GROQ_KEY = "gsk_testkey0123456789abcdefghij"
GEMINI_KEY = "AIzaSyTESTKEY_0123456789abcdefghijklmn"


def groq_body(content: str) -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "llama-3.3-70b-versatile",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}


def gemini_body(text: str) -> dict:
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 17},
            "modelVersion": "gemini-2.5-flash"}


class Sleeps:
    """Records the waits tenacity asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fast(sleeps: Sleeps | None = None) -> RetryPolicy:
    return RetryPolicy(attempts=3, initial_s=0, max_s=0, jitter_s=0, sleep=sleeps or Sleeps())


@respx.mock
async def test_groq_json_mode_reply_and_usage() -> None:
    route = respx.post(GROQ_URL).mock(return_value=httpx.Response(200, json=groq_body('{"ok": true}')))
    provider = GroqProvider(GROQ_KEY, retry=fast())
    reply = await provider.complete_json("sys", "user", schema={})
    sent = json.loads(route.calls.last.request.content)
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"][0] == {"role": "system", "content": "sys"}
    assert reply.text == '{"ok": true}' and reply.provider == "groq"
    assert (reply.input_tokens, reply.output_tokens) == (11, 7)
    await provider.aclose()


@respx.mock
async def test_groq_429_waits_for_retry_after_then_succeeds() -> None:
    route = respx.post(GROQ_URL).mock(side_effect=[
        httpx.Response(429, headers={"retry-after": "2"}, json={"error": {"message": "rate limited"}}),
        httpx.Response(200, json=groq_body("{}")),
    ])
    sleeps = Sleeps()
    provider = GroqProvider(GROQ_KEY, retry=fast(sleeps))
    reply = await provider.complete_json("s", "u", schema={})
    assert reply.text == "{}"
    assert route.call_count == 2
    assert sleeps.waits == [2.0]


@respx.mock
async def test_groq_5xx_gives_up_after_our_attempts() -> None:
    route = respx.post(GROQ_URL).mock(return_value=httpx.Response(503, json={"error": {"message": "busy"}}))
    provider = GroqProvider(GROQ_KEY, retry=fast())
    with pytest.raises(AdvisorError) as info:
        await provider.complete_json("s", "u", schema={})
    assert info.value.reason == "http_error"
    assert route.call_count == 3  # ours, not the SDK's


@respx.mock
async def test_groq_timeout_is_not_retried() -> None:
    route = respx.post(GROQ_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    provider = GroqProvider(GROQ_KEY, retry=fast(), timeout_s=0.5)
    with pytest.raises(AdvisorError) as info:
        await provider.complete_json("s", "u", schema={})
    assert info.value.reason == "timeout"
    assert route.call_count == 1


@respx.mock
async def test_gemini_generate_content_request_shape() -> None:
    route = respx.post(url__regex=GEMINI_URL).mock(return_value=httpx.Response(200, json=gemini_body('{"a": 1}')))
    provider = GeminiProvider(GEMINI_KEY, retry=fast())
    reply = await provider.complete_json("be terse", "question", schema={})
    request = route.calls.last.request
    body = json.loads(request.content)
    assert body["systemInstruction"]["parts"][0]["text"] == "be terse"
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["contents"][0]["parts"][0]["text"] == "question"
    assert request.headers["x-goog-api-key"] == GEMINI_KEY
    assert reply.text == '{"a": 1}' and (reply.input_tokens, reply.output_tokens) == (12, 5)
    await provider.aclose()


@respx.mock
async def test_gemini_503_then_success() -> None:
    route = respx.post(url__regex=GEMINI_URL).mock(side_effect=[
        httpx.Response(503, json={"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}),
        httpx.Response(200, json=gemini_body("{}")),
    ])
    reply = await GeminiProvider(GEMINI_KEY, retry=fast()).complete_json("s", "u", schema={})
    assert reply.text == "{}" and route.call_count == 2


@respx.mock
async def test_keys_never_reach_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    respx.post(GROQ_URL).mock(return_value=httpx.Response(401, json={"error": {"message": f"bad key {GROQ_KEY}"}}))
    respx.post(url__regex=GEMINI_URL).mock(return_value=httpx.Response(400, json={"error": {"message": "bad"}}))
    for provider in (GroqProvider(GROQ_KEY, retry=fast()), GeminiProvider(GEMINI_KEY, retry=fast())):
        with pytest.raises(AdvisorError) as info:
            await provider.complete_json("s", "u", schema={})
        assert GROQ_KEY not in str(info.value) and GEMINI_KEY not in str(info.value)
        assert GROQ_KEY not in repr(provider) and GEMINI_KEY not in repr(provider)
    assert GROQ_KEY not in caplog.text and GEMINI_KEY not in caplog.text


def test_missing_keys_leave_only_rules_available() -> None:
    settings = Settings(_env_file=None, groq_api_key=None, gemini_api_key=None)
    choices = available_models(settings)
    assert [c.id for c in choices] == ["groq:llama-3.3-70b-versatile", "gemini:gemini-2.5-flash",
                                       "gemini:gemini-2.5-pro", "rules"]
    assert [c.available for c in choices] == [False, False, False, True]
    assert "GROQ_API_KEY" in choices[0].note and "GEMINI_API_KEY" in choices[1].note
    choice, note = resolve(settings, "auto")
    assert choice.id == "rules" and note and "rules engine" in note
    choice, note = resolve(settings, "gemini:gemini-2.5-pro")
    assert choice.id == "rules" and "GEMINI_API_KEY" in (note or "")
    with pytest.raises(InvalidInput):
        resolve(settings, "groq:not-configured")


def test_auto_prefers_groq_then_gemini() -> None:
    only_gemini = Settings(_env_file=None, groq_api_key=None, gemini_api_key=GEMINI_KEY)
    assert resolve(only_gemini, "auto")[0].id == "gemini:gemini-2.5-flash"
    both = Settings(_env_file=None, groq_api_key=GROQ_KEY, gemini_api_key=GEMINI_KEY)
    assert resolve(both, "auto")[0].id == "groq:llama-3.3-70b-versatile"


def test_retry_after_parses_seconds_and_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
