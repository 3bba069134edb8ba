"""/cloud-health: is the bot, its database and its Terraform binary alive.

Admin-only, like the admin commands: it shows host load and where the Terraform binary
lives, which members have no reason to see. An `admin_command` (bot/checks.py): hidden from
non-managers by `default_permissions(manage_guild=True)`, usable only in a server, and
checked against the engine's CloudAdmin role.
"""

from __future__ import annotations

import discord
from discord.ext import commands

from bot import embeds, health
from bot.bot import CloudBot
from bot.checks import admin_command


class HealthCog(commands.Cog):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    @admin_command(name="cloud-health", description="Uptime, CPU, memory, database and Terraform status")
    async def health(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await health.collect(self.bot, interaction.guild_id)
        await interaction.followup.send(embed=embeds.health(report), ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(HealthCog(bot))
