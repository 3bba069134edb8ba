"""ask_validated: whatever a model's text does to the parser, the caller gets the rules-fallback error."""

from __future__ import annotations

from typing import Any

import pytest

from cloud_engine.ai.providers.base import ProviderReply
from cloud_engine.ai.providers.structured import ask_validated
from cloud_engine.ai.schemas import ReplyInvalid, load_json_object
from cloud_engine.errors import AdvisorError

NESTED = "[" * 5000 + "]" * 5000
HUGE_INT = '{"n": ' + "9" * 5000 + "}"


class Scripted:
    """A provider that returns the given texts in turn."""

    name, model = "groq", "scripted"

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.calls = 0

    async def complete_json(self, system: str, user: str, *, schema: dict[str, Any]) -> ProviderReply:
        self.calls += 1
        return ProviderReply(text=self.texts.pop(0), model=self.model, provider=self.name, input_tokens=1,
                             output_tokens=1, latency_ms=1.0)

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("text", [NESTED, HUGE_INT], ids=["deeply-nested", "huge-integer"])
def test_degenerate_json_is_an_invalid_reply(text: str) -> None:
    with pytest.raises(ReplyInvalid, match="not valid JSON"):
        load_json_object(text)


async def test_a_parser_crash_is_reasked_then_reported_as_invalid() -> None:
    def parse(text: str) -> dict[str, Any]:
        return {"value": load_json_object(text)["missing"]}  # KeyError: a bug, not a ReplyInvalid

    provider = Scripted('{"a": 1}', '{"b": 2}')
    with pytest.raises(AdvisorError) as caught:
        await ask_validated(provider, "system", "user", schema={}, parse=parse)
    assert provider.calls == 2  # the model got its one re-ask
    assert caught.value.reason == "invalid"


async def test_a_parser_crash_on_the_first_reply_still_gets_the_re_ask() -> None:
    provider = Scripted(NESTED, '{"ok": true}')
    validated = await ask_validated(provider, "system", "user", schema={}, parse=load_json_object)
    assert validated.value == {"ok": True} and validated.reasked
