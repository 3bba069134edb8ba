"""/cloud-drift project: check now whether a project's real infrastructure still matches what it applied.

The scheduled check (DRIFT_CHECK_INTERVAL_HOURS) does the same for every project and tells
subscribers (`/cloud-notify ... events: drift_found`); both post a finding with Reconcile and
Dismiss buttons (bot/drift_views.py).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.bot import CloudBot
from bot.checks import require_role
from bot.client import guild_id_of
from bot.drift_views import drift_text, drift_view
from bot.limits import safe
from cloud_engine.core.models import Role

OUTCOMES = {
    "clean": "No drift: project **{project}** matches what it applied.",
    "busy": "Project **{project}** has a deployment holding its lock; drift is checked once it has ended.",
    "nothing_applied": "Project **{project}** has applied nothing yet: there is nothing to drift from.",
}


class DriftCog(commands.Cog):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    @app_commands.command(name="cloud-drift", description="Check whether a project's infrastructure still matches "
                                                         "what it applied")
    @app_commands.autocomplete(project=autocomplete.projects)
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def drift(self, interaction: discord.Interaction, project: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a real plan: seconds to minutes
        checked = await self.bot.engine.drift.check(guild_id_of(interaction), interaction.user.id, project)
        if checked.report is None:
            await interaction.followup.send(OUTCOMES[checked.outcome].format(project=safe(checked.project)),
                                            ephemeral=True)
            return
        if interaction.channel is None or not hasattr(interaction.channel, "send"):
            await interaction.followup.send(drift_text(checked.report), ephemeral=True)
            return
        posted = await interaction.channel.send(drift_text(checked.report), view=drift_view(checked.report.id),
                                                allowed_mentions=discord.AllowedMentions.none())
        await interaction.followup.send(f"Drift found: {posted.jump_url}", ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(DriftCog(bot))
