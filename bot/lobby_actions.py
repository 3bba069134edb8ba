"""What each lobby button does once the presser has been allowed (see LobbyButton).

Each handler defers (or answers) within Discord's 3 seconds, calls one engine method and
answers ephemerally; the lobby itself re-renders from the engine's events. Plan and apply
are rate-limited per user by the engine's limiter and run as engine-owned tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord

from bot import embeds, embeds_ai
from bot.custom_ids import LobbyAction
from bot.lobby import handler
from bot.resource_wizard import start_add, start_remove
from bot.runs import launch_run
from cloud_engine.core.models import Session

if TYPE_CHECKING:
    from bot.bot import CloudBot

__all__: list[str] = []


@handler(LobbyAction.ADD)
async def add(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await start_add(bot, interaction, session)


@handler(LobbyAction.REMOVE)
async def remove(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await start_remove(bot, interaction, session)


@handler(LobbyAction.VALIDATE)
async def validate(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    result = await bot.engine.validate(session.id, interaction.user.id)
    await interaction.followup.send(embed=embeds.validation(result), ephemeral=True)


async def _run(bot: CloudBot, interaction: discord.Interaction, session: Session,
               verb: Literal["plan", "apply"]) -> None:
    bot.engine.rate_limiter.check(session.guild_id, interaction.user.id, verb)
    await interaction.response.defer(ephemeral=True, thinking=True)
    thread = await launch_run(bot, session, interaction.user.id, verb, fallback=interaction.channel)
    await interaction.followup.send(f"Terraform {verb} started; live output in <#{thread.id}>.", ephemeral=True)


@handler(LobbyAction.PLAN)
async def plan(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await _run(bot, interaction, session, "plan")


@handler(LobbyAction.APPLY)
async def apply(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await _run(bot, interaction, session, "apply")


@handler(LobbyAction.REVIEW)
async def review(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    """The advisor's review of the saved plan, shown only to the presser (often the approver)."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    result = await bot.services.review_plan(session.id)
    await interaction.followup.send(embed=embeds_ai.plan_review(result, session.id), ephemeral=True)


@handler(LobbyAction.APPROVE)
async def approve(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    await bot.engine.approve(session.id, interaction.user.id)
    await interaction.followup.send(f"Approved deployment #{session.id}; its author can now **Apply**.", ephemeral=True)


@handler(LobbyAction.CANCEL)
async def cancel(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    after = await bot.engine.cancel(session.id, interaction.user.id)
    await interaction.followup.send(f"Deployment #{session.id} is now **{after.state.value}**.", ephemeral=True)
