"""/cloud-advise and /cloud-review: the advisor's design for a use case, and a plan's review.

The lobby's **Review plan** button shows the same review; the command reaches a session
whose lobby message is far up the channel (or in another one).
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete, embeds_ai
from bot.advice_views import AdviceView
from bot.bot import CloudBot
from bot.checks import require_role
from bot.client import guild_id_of
from bot.limits import AUTOCOMPLETE_CHOICES, LABEL, truncate
from cloud_engine.ai.providers.registry import available_models
from cloud_engine.ai.schemas import AdviceRequest
from cloud_engine.core.models import Role
from cloud_engine.errors import NotFound


class AdviseCog(commands.Cog):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    async def model_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """auto, every configured model with why it is (un)available, and the rules engine."""
        rows = [("auto", "auto: the first model with a key, else the rules engine")]
        rows += [(m.id, f"{m.id} ({m.note})") for m in available_models(self.bot.services.settings)]
        return [app_commands.Choice(name=truncate(name, LABEL), value=value) for value, name in rows
                if current.lower() in name.lower()][:AUTOCOMPLETE_CHOICES]

    @app_commands.command(name="cloud-advise", description="Architecture advice for a use case, priced and checked")
    @app_commands.describe(use_case="what to build, e.g. web app with postgres for a small shop",
                           model="auto, rules, or a configured model", compare="answer with two models side by side")
    @app_commands.autocomplete(model=model_choices)
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def advise(self, interaction: discord.Interaction, use_case: str,
                     provider: Literal["any", "gcp", "aws", "azure"] = "any",
                     budget: Literal["low", "medium", "high"] = "medium",
                     security: Literal["standard", "enhanced", "compliance"] = "standard",
                     compliance: Literal["none", "HIPAA", "GDPR", "PCI-DSS", "SOX"] = "none",
                     model: str = "auto", compare: bool = False) -> None:
        request = AdviceRequest(use_case=use_case, provider=provider, budget=budget, security=security,
                                compliance=compliance, model=model)  # a bad request is refused before deferring
        # The advisor may take a minute, so defer, but ephemerally: after a public "thinking" defer the first
        # followup is that public message whatever its flags, so an advisor error would be shown to everyone.
        await interaction.response.defer(ephemeral=True, thinking=True)
        advisor = await self.bot.services.advisor()
        if compare:
            answers = await advisor.compare(request, guild_id=guild_id_of(interaction))
        else:
            answers = [await advisor.advise(request, guild_id=guild_id_of(interaction))]
        # Finish the private "thinking" message first; only then are later followups free to be public.
        await interaction.edit_original_response(
            content="Posted the advice below." if len(answers) == 1 else f"Posted {len(answers)} answers below.")
        for answer in answers:  # one public message each: Discord's 6000-character cap covers all its embeds
            view = AdviceView([answer])
            view.shown_in(await interaction.followup.send(embed=embeds_ai.advice(answer), view=view, wait=True))

    @app_commands.command(name="cloud-review", description="Review a planned deployment before approving it")
    @app_commands.autocomplete(session=autocomplete.sessions)
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def review(self, interaction: discord.Interaction, session: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.bot.services.engine.get_session(session)
        if found.guild_id != guild_id_of(interaction):
            raise NotFound(what="session", key=session)
        result = await self.bot.services.review_plan(session)
        scan = (found.plan_summary or {}).get("scan")  # as judged when planned: what the lobby counts as suppressed
        await interaction.followup.send(embed=embeds_ai.plan_review(result, session, scan), ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(AdviseCog(bot))
