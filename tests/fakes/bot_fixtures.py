"""Bot fixtures (imported by tests/bot and tests/cogs conftests): the real bot built by create_bot over the engine fixture, with fake channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.bot import CloudBot, create_bot
from cloud_engine.core import CloudOrchestrator
from cloud_engine.services import Services
from tests.fakes.discord import FakeChannel


@pytest.fixture
def channels() -> dict[int, FakeChannel]:
    return {}


@pytest.fixture
def channel(channels: dict[int, FakeChannel]) -> FakeChannel:
    return FakeChannel(name="deployments", registry=channels)


def wire_fake_channels(bot: CloudBot, channels: dict[int, Any]) -> None:
    """Route the bot's channel lookups to the fakes instead of Discord's HTTP API."""
    bot.messageable = channels.__getitem__  # type: ignore[method-assign]
    bot.lobby_message = lambda cid, mid: channels[cid].get_partial_message(mid)  # type: ignore[method-assign]


@asynccontextmanager
async def bot_over(engine: CloudOrchestrator, settings: Any, db: Any,
                   channels: dict[int, Any]) -> AsyncIterator[CloudBot]:
    """The real bot over `engine`, its cogs loaded and channels faked; drained and stopped afterwards."""
    instance = create_bot(Services(settings=settings, db=db, engine=engine))
    await instance.load_cogs()
    wire_fake_channels(instance, channels)
    instance.lobbies.debounce_s = 0
    try:
        yield instance
    finally:
        await engine.events.drain()
        await instance.lobbies.drain()
        if instance._unsubscribe is not None:
            instance._unsubscribe()
        for task in list(instance._background):
            task.cancel()


@pytest.fixture
async def bot(settings, db, engine, channels) -> AsyncIterator[CloudBot]:
    async with bot_over(engine, settings, db, channels) as instance:
        yield instance
