"""/cloud-init, /cloud-projects, /cloud-quota, /cloud-costs: projects and what they cost."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete, embeds
from bot.bot import CloudBot
from bot.checks import require_role
from bot.client import guild_id_of
from cloud_engine.core.models import Role


class ProjectsCog(commands.Cog):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    @app_commands.command(name="cloud-init", description="Create a project: one Terraform root whose resources outlive sessions")
    @app_commands.describe(name="lower-case name, e.g. web-shop", provider="sandbox runs offline with no real cloud",
                           region="region from the provider's catalogue", budget="monthly budget in USD (0 = none)")
    @app_commands.autocomplete(region=autocomplete.regions)
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def init(self, interaction: discord.Interaction, name: str,
                   provider: Literal["gcp", "aws", "azure", "sandbox"], region: str,
                   budget: app_commands.Range[float, 0, 10_000_000] = 0.0) -> None:
        # No defer: creating a project is a few checks and one SQLite write, well inside the 3 s to answer. A
        # public "thinking" defer would make any refusal (a bad or taken name) its public first followup; answering
        # directly keeps refusals ephemeral (bot/errors.py `reply`) and the project card public.
        project = await self.bot.engine.create_project(guild_id_of(interaction), interaction.user.id, name=name,
                                                   provider=provider, region=region, budget_monthly=budget)
        await interaction.response.send_message(embed=embeds.project_card(project))

    @app_commands.command(name="cloud-projects", description="List this server's projects")
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def projects(self, interaction: discord.Interaction) -> None:
        found = await self.bot.engine.list_projects(guild_id_of(interaction))
        await interaction.response.send_message(embed=embeds.project_list(found), ephemeral=True)

    @app_commands.command(name="cloud-quota", description="Show this server's quotas: used, reserved and limit")
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def quota(self, interaction: discord.Interaction) -> None:
        rows = await self.bot.engine.quota_usage(guild_id_of(interaction))
        await interaction.response.send_message(embed=embeds.quota(rows), ephemeral=True)

    @app_commands.command(name="cloud-costs", description="Estimated monthly cost of a project's resources")
    @app_commands.autocomplete(project=autocomplete.projects)
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def costs(self, interaction: discord.Interaction, project: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.bot.engine.find_project(guild_id_of(interaction), project)
        estimate = await self.bot.engine.project_costs(found)
        await interaction.followup.send(embed=embeds.costs(estimate), ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(ProjectsCog(bot))
