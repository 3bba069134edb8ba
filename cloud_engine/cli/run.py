"""`main.py run`: start the Discord bot (fails fast, naming DISCORD_TOKEN, when it is missing).

The only CLI module that touches Discord, and only through an import inside the handler,
so `cloud_engine` itself never imports discord (the engine stays usable without it).
"""

from __future__ import annotations

import argparse
import importlib

from cloud_engine.errors import ConfigurationError
from cloud_engine.settings import Settings


def discord_token(settings: Settings) -> str:
    """The bot token, or ConfigurationError naming DISCORD_TOKEN when it is unset or blank."""
    secret = settings.discord_token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        raise ConfigurationError(variable="DISCORD_TOKEN")
    return token


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    parser.add_argument("--log-level", default=None, help="override LOG_LEVEL")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    token = discord_token(settings)  # fails before any Discord import or connection; main.py exits 2
    bot_module = importlib.import_module("bot.bot")
    bot = bot_module.create_bot(settings)
    async with bot:
        await bot.start(token)
    return 0
