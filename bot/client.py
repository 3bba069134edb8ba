"""The typed seam from a discord.py interaction to Cloud Engine's bot and the server it came from.

Why: discord.py types `interaction.client` as a plain `Client`, so reading `.engine` off it
is unchecked. Components, modals and autocomplete (which receive no cog) go through
`cloud_bot`, which checks the client really is a `CloudBot` and returns it typed; from
there every engine call is checked. Cogs and handlers are handed the bot directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.bot import CloudBot

__all__ = ["cloud_bot", "guild_id_of"]


def cloud_bot(interaction: discord.Interaction[Any]) -> CloudBot:
    """The interaction's client as the CloudBot it is; a TypeError for any other client (a wiring bug)."""
    from bot.bot import CloudBot  # at call time: bot.bot imports the modules that call this

    client = interaction.client
    if not isinstance(client, CloudBot):
        raise TypeError(f"interaction client is a {type(client).__name__}, not a CloudBot")
    return client


def guild_id_of(interaction: discord.Interaction[Any]) -> int:
    """The server the interaction came from; DMs are refused the way `guild_only` commands refuse them.

    Commands and buttons only reach here after a check that already refused DMs, so this
    narrows `guild_id` for the engine's `int` parameters rather than deciding anything.
    """
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id
