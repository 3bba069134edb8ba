"""Fixtures: a real bot from create_bot over the engine fixture, with fake channels."""

from tests.fakes.bot_fixtures import bot, channel, channels  # noqa: F401
