"""/cloud-health: is the bot, its database and its Terraform binary alive."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, health


class HealthCog(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="cloud-health", description="Uptime, CPU, memory, database and Terraform status")
    async def health(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await health.collect(self.bot)
        await interaction.followup.send(embed=embeds.health(report), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(HealthCog(bot))
