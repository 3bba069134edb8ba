"""/cloud-ingest, /cloud-finops-sync, /cloud-finops-alerts, /cloud-finops-costs, /cloud-recommend: billing data in, spend and savings out.

`/cloud-finops-costs` sits beside the project estimate `/cloud-costs` (cogs/projects.py):
that one prices what Cloud Engine deployed from the catalogue; this one reads what the
providers actually billed, from the FOCUS ledger. Every command passes `guild_id_of(interaction)`:
a server imports into, and reads from, its own part of the ledger only.
"""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds_ai
from bot.bot import CloudBot
from bot.checks import admin_command, require_role
from bot.client import guild_id_of
from bot.finops_views import (
    CHART_NAME,
    RecommendationPager,
    check_upload,
    ingest_upload,
    load_overview,
    sync_reply,
)
from cloud_engine.core.models import Role
from cloud_engine.finops.sync import require_configured


class FinOpsCog(commands.Cog):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    @app_commands.command(name="cloud-ingest", description="Import a FOCUS cost export or a metrics CSV")
    @app_commands.describe(file="FOCUS .csv/.csv.gz/.parquet, or metrics .csv", kind="what the file holds",
                           replace_window="this file is the complete, re-issued export for its period: charges "
                                          "missing from it are removed")
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def ingest(self, interaction: discord.Interaction, file: discord.Attachment,
                     kind: Literal["focus", "metrics"] = "focus", replace_window: bool = False) -> None:
        check_upload(kind, file.filename, file.size, self.bot.services.settings.finops_max_upload_mb,
                     replace_window=replace_window)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        report = await ingest_upload(await self.bot.services.finops(), kind, data, file.filename,
                                     guild_id=guild_id_of(interaction), replace_window=replace_window)
        await interaction.followup.send(embed=embeds_ai.ingest_report(report), ephemeral=True)

    @admin_command(name="cloud-finops-sync", description="Run one provider's cost connector now, into this server")
    @app_commands.describe(provider="the cloud whose costs (and VM utilisation) to import")
    async def sync(self, interaction: discord.Interaction, provider: Literal["aws", "azure", "gcp"]) -> None:
        require_configured(provider, self.bot.services.settings)  # one line naming what is missing, before deferring
        await interaction.response.defer(ephemeral=True, thinking=True)  # a provider's API can take minutes
        outcome = await (await self.bot.services.finops()).sync_now(
            provider, guild_id=guild_id_of(interaction), actor_id=interaction.user.id)
        await interaction.followup.send(sync_reply(outcome), ephemeral=True)

    @admin_command(name="cloud-finops-alerts", description="Post budget thresholds, cost anomalies and failed "
                                                            "syncs in a channel")
    @app_commands.describe(channel="the server's FinOps alerts channel (setting another one moves the alerts)")
    async def alerts(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        notes = await self.bot.services.notifications()
        sub = await notes.set_finops_alerts(guild_id_of(interaction), interaction.user.id, channel.id)
        await interaction.response.send_message(
            f"FinOps alerts (budget thresholds, cost anomalies, failed syncs) are posted in <#{sub.target}>, "
            f"once each (subscription `#{sub.id}`).", ephemeral=True)

    @app_commands.command(name="cloud-finops-costs", description="Billed spend by provider and service, forecast, "
                                                                 "anomalies and a daily chart")
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def costs(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        overview = await load_overview(await self.bot.services.finops(), guild_id_of(interaction))
        await interaction.followup.send(embed=overview.embed, ephemeral=True,
                                        file=discord.File(io.BytesIO(overview.chart), filename=CHART_NAME))

    @app_commands.command(name="cloud-recommend", description="Savings recommendations with evidence; act on them")
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def recommend(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        recs = await (await self.bot.services.finops()).recommendations(guild_id=guild_id_of(interaction))
        pager = RecommendationPager(recs)
        pager.shown_in(await interaction.followup.send(embed=pager.embed(), view=pager, ephemeral=True, wait=True))


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(FinOpsCog(bot))
