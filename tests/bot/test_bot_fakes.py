"""The fakes only offer what the real discord.py classes offer, so the bot cannot rely on invented API."""

from __future__ import annotations

import inspect

import discord
import pytest

from tests.fakes.discord import FakeChannel, FakeFollowup, FakeMessage, FakeResponse

PAIRS = [(FakeResponse, discord.InteractionResponse), (FakeFollowup, discord.Webhook),
         (FakeMessage, discord.Message), (FakeChannel, discord.TextChannel)]


@pytest.mark.parametrize(("fake", "real"), PAIRS)
def test_fake_methods_exist_on_the_real_class(fake: type, real: type) -> None:
    public = [n for n, v in vars(fake).items() if not n.startswith("_") and inspect.isfunction(v)]
    assert public
    for name in public:
        assert hasattr(real, name), f"{real.__name__} has no {name}"
        assert inspect.iscoroutinefunction(getattr(fake, name)) == inspect.iscoroutinefunction(getattr(real, name)), name
