"""What each lobby button does once the presser has been allowed (see LobbyButton).

Each handler defers (or answers) within Discord's 3 seconds, calls one engine method and
answers ephemerally; the lobby itself re-renders from the engine's events. Plan and apply
are rate-limited per user by the engine's limiter and run as engine-owned tasks.
"""

from __future__ import annotations

from typing import Any

import discord

from bot import embeds, embeds_ai
from bot.lobby import handler
from bot.resource_wizard import start_add, start_remove
from bot.runs import launch_run
from cloud_engine.core.models import Session

__all__: list[str] = []


@handler("add")
async def add(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    await start_add(bot, interaction, session)


@handler("remove")
async def remove(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    await start_remove(bot, interaction, session)


@handler("validate")
async def validate(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    result = await bot.engine.validate(session.id, interaction.user.id)
    await interaction.followup.send(embed=embeds.validation(result), ephemeral=True)


async def _run(bot: Any, interaction: discord.Interaction, session: Session, verb: str) -> None:
    bot.engine.rate_limiter.check(session.guild_id, interaction.user.id, verb)
    await interaction.response.defer(ephemeral=True, thinking=True)
    thread = await launch_run(bot, session, interaction.user.id, verb, fallback=interaction.channel)
    await interaction.followup.send(f"Terraform {verb} started; live output in <#{thread.id}>.", ephemeral=True)


@handler("plan")
async def plan(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    await _run(bot, interaction, session, "plan")


@handler("apply")
async def apply(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    await _run(bot, interaction, session, "apply")


@handler("review")
async def review(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    """The advisor's review of the saved plan, shown only to the presser (often the approver)."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    result = await bot.services.review_plan(session.id)
    await interaction.followup.send(embed=embeds_ai.plan_review(result, session.id), ephemeral=True)


@handler("approve")
async def approve(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    await bot.engine.approve(session.id, interaction.user.id)
    await interaction.followup.send(f"Approved deployment #{session.id}; its author can now **Apply**.", ephemeral=True)


@handler("cancel")
async def cancel(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    after = await bot.engine.cancel(session.id, interaction.user.id)
    await interaction.followup.send(f"Deployment #{session.id} is now **{after.state.value}**.", ephemeral=True)
