"""Gemini gets the response schema; both providers wait as long as the server asks, within 45 s."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from cloud_engine.ai.providers.gemini_provider import GeminiProvider, gemini_json_schema
from cloud_engine.ai.providers.groq_provider import GroqProvider
from cloud_engine.ai.providers.retry import TOTAL_BUDGET_S, RetryPolicy, parse_retry_info
from cloud_engine.ai.schemas import RAW_ADVICE_SCHEMA
from cloud_engine.errors import AdvisorError
from tests.cloud_engine.ai.test_providers import (
    GEMINI_KEY,
    GEMINI_URL,
    GROQ_KEY,
    GROQ_URL,
    gemini_body,
    groq_body,
)


class FakeTime:
    """An injected sleep that advances an injected clock: tests take no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def policy(t: FakeTime, attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, initial_s=0.5, max_s=8, jitter_s=0, sleep=t.sleep, clock=t.clock)


def gemini_429(delay: str) -> httpx.Response:
    return httpx.Response(429, json={"error": {
        "code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}})


def groq_429(retry_after: str) -> httpx.Response:
    return httpx.Response(429, headers={"retry-after": retry_after},
                          json={"error": {"message": "Rate limit reached", "type": "tokens"}})


@respx.mock
async def test_gemini_sends_the_answer_schema_as_response_json_schema() -> None:
    route = respx.post(url__regex=GEMINI_URL).mock(return_value=httpx.Response(200, json=gemini_body("{}")))
    provider = GeminiProvider(GEMINI_KEY, retry=policy(FakeTime()))
    await provider.complete_json("s", "u", schema=RAW_ADVICE_SCHEMA)
    sent = json.loads(route.calls.last.request.content)["generationConfig"]["responseJsonSchema"]
    assert sent["required"] == RAW_ADVICE_SCHEMA["required"]
    assert sent["properties"]["cloud_provider"] == {"type": "string", "enum": ["gcp", "aws", "azure"]}
    assert "maxLength" not in json.dumps(sent)  # unsupported keyword pruned; our validation still checks it
    await provider.aclose()


def test_gemini_schema_keeps_property_names_that_look_like_keywords() -> None:
    schema = {"type": "object", "properties": {"description": {"type": "string", "maxLength": 3}}}
    assert gemini_json_schema(schema) == {"type": "object", "properties": {"description": {"type": "string"}}}


@respx.mock
async def test_gemini_waits_for_retry_info_delay_then_succeeds() -> None:
    route = respx.post(url__regex=GEMINI_URL).mock(side_effect=[gemini_429("37s"),
                                                                httpx.Response(200, json=gemini_body("{}"))])
    t = FakeTime()
    reply = await GeminiProvider(GEMINI_KEY, retry=policy(t)).complete_json("s", "u", schema={})
    assert reply.text == "{}" and route.call_count == 2
    assert t.waits == [37.0]


@respx.mock
async def test_gemini_falls_back_when_the_next_wait_passes_the_budget() -> None:
    route = respx.post(url__regex=GEMINI_URL).mock(return_value=gemini_429("37s"))
    t = FakeTime()
    with pytest.raises(AdvisorError) as info:
        await GeminiProvider(GEMINI_KEY, retry=policy(t)).complete_json("s", "u", schema={})
    assert info.value.reason == "rate_limited" and "45s budget" in info.value.detail
    assert route.call_count == 2 and t.waits == [37.0]
    assert t.now <= TOTAL_BUDGET_S


@respx.mock
async def test_groq_honours_retry_after_within_the_budget() -> None:
    route = respx.post(GROQ_URL).mock(side_effect=[groq_429("20"), groq_429("20"), groq_429("20")])
    t = FakeTime()
    with pytest.raises(AdvisorError) as info:
        await GroqProvider(GROQ_KEY, retry=policy(t)).complete_json("s", "u", schema={})
    assert info.value.reason == "rate_limited"
    assert t.waits == [20.0, 20.0] and route.call_count == 3 and t.now <= TOTAL_BUDGET_S


@respx.mock
async def test_groq_does_not_wait_when_the_server_asks_for_more_than_the_budget() -> None:
    route = respx.post(GROQ_URL).mock(side_effect=[groq_429("120"), httpx.Response(200, json=groq_body("{}"))])
    t = FakeTime()
    with pytest.raises(AdvisorError):
        await GroqProvider(GROQ_KEY, retry=policy(t)).complete_json("s", "u", schema={})
    assert t.waits == [] and route.call_count == 1


@pytest.mark.parametrize(("attempt_s", "calls", "waits"), [(40.0, 1, []), (30.0, 2, [10.0])])
@respx.mock
async def test_slow_attempts_count_against_the_budget(attempt_s: float, calls: int, waits: list[float]) -> None:
    t = FakeTime()

    def slow_429(request: httpx.Request) -> httpx.Response:
        t.now += attempt_s  # the attempt itself took this long
        return groq_429("10")

    route = respx.post(GROQ_URL).mock(side_effect=slow_429)
    with pytest.raises(AdvisorError):
        await GroqProvider(GROQ_KEY, retry=policy(t)).complete_json("s", "u", schema={})
    # 40 s + a 10 s wait would pass 45 s: no retry; 30 s + 10 s fits once, then 70 s does not
    assert route.call_count == calls and t.waits == waits


@pytest.mark.parametrize(("body", "seconds"), [
    ({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}}, 37.0),
    ({"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}, 1.5),
    ({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.Help"}]}}, None),
    ({"error": {"details": "nope"}}, None), (None, None), ("text", None),
    ({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "soon"}]}}, None),
])
def test_retry_info_parsing(body: object, seconds: float | None) -> None:
    assert parse_retry_info(body) == seconds
