"""Ask a model for JSON that must validate: cache, one re-ask with the errors, then give up.

The caller supplies `parse` (text -> validated value, raising `ReplyInvalid`); when the
second reply fails too, `AdvisorError(reason="invalid")` tells the caller to use the rules
engine. Any other exception `parse` raises counts as an invalid reply too: the text is the
model's, so however it breaks the parser, the user must still get the rules engine's answer
rather than an error. Only replies that validated are cached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cloud_engine.ai.cache import AdviceCache
from cloud_engine.ai.prompts import PROMPT_VERSION, reask
from cloud_engine.ai.providers.base import ModelProvider, ProviderReply, choice_id
from cloud_engine.ai.schemas import ReplyInvalid
from cloud_engine.errors import AdvisorError

log = logging.getLogger("cloud_engine.ai.providers")
T = TypeVar("T")


@dataclass(frozen=True)
class Validated(Generic[T]):
    """A validated reply: the value, its text, and whether it came from the cache or a re-ask."""

    value: T
    text: str
    model: str
    cached: bool
    reasked: bool
    reply: ProviderReply | None = None


def _parse_reply(parse: Callable[[str], T], text: str, provider: ModelProvider) -> T:
    """`parse(text)`, with any unexpected failure turned into `ReplyInvalid` (logged, since it may be our bug)."""
    try:
        return parse(text)
    except ReplyInvalid:
        raise
    except Exception as exc:
        log.warning("model reply broke the parser", exc_info=True,
                    extra={"ai_provider": provider.name, "ai_model": provider.model})
        raise ReplyInvalid([f"reply could not be parsed ({type(exc).__name__}); return one plain JSON object"]) from None


async def ask_validated(provider: ModelProvider, system: str, user: str, *, schema: dict[str, Any],
                        parse: Callable[[str], T], cache: AdviceCache | None = None,
                        key: str | None = None) -> Validated[T]:
    """A validated value from the cache or the model; raises `AdvisorError` for the rules fallback."""
    if cache is not None and key is not None:
        hit = await cache.get(key)
        if hit is not None:
            try:
                return Validated(_parse_reply(parse, hit, provider), hit, provider.model, cached=True, reasked=False)
            except ReplyInvalid:
                log.info("cached reply no longer validates; asking again", extra={"ai_provider": provider.name})
    reply = await provider.complete_json(system, user, schema=schema)
    reasked = False
    try:
        value = _parse_reply(parse, reply.text, provider)
    except ReplyInvalid as first:
        log.info("model reply invalid; re-asking once", extra={"ai_provider": provider.name,
                                                               "ai_model": provider.model, "errors": len(first.errors)})
        reasked = True
        reply = await provider.complete_json(system, reask(user, first.errors), schema=schema)
        try:
            value = _parse_reply(parse, reply.text, provider)
        except ReplyInvalid as second:
            raise AdvisorError(detail=f"{choice_id(provider.name, provider.model)} returned invalid JSON twice "
                                      f"({second.errors[0]})", reason="invalid", errors=second.errors) from None
    if cache is not None and key is not None:
        await cache.put(key, provider=provider.name, model=provider.model, prompt_version=PROMPT_VERSION,
                        response=reply.text)
    return Validated(value, reply.text, reply.model, cached=False, reasked=reasked, reply=reply)
