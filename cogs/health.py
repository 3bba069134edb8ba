"""/cloud-health: is the bot, its database and its Terraform binary alive.

Admin-only, like the admin commands: it shows host load and where the Terraform binary
lives, which members have no reason to see. Hidden from non-managers by
`default_permissions(manage_guild=True)`, usable only in a server, and checked against the
engine's CloudAdmin role.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, health
from bot.checks import require_role
from cloud_engine.core.models import Role


class HealthCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="cloud-health", description="Uptime, CPU, memory, database and Terraform status")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def health(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await health.collect(self.bot)
        await interaction.followup.send(embed=embeds.health(report), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(HealthCog(bot))
