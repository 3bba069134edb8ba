"""What each lobby button does once the presser has been allowed (see LobbyButton).

Each handler defers (or answers) within Discord's 3 seconds, calls one engine method and
answers ephemerally; the lobby itself re-renders from the engine's events. Plan and apply
are rate-limited per user by the engine's limiter and run as engine-owned tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord

from bot import embeds, embeds_ai
from bot.checks import discord_role_ids
from bot.custom_ids import LobbyAction
from bot.errors import report
from bot.limits import MODAL_TITLE, VIEW_SECONDS, truncate
from bot.lobby import handler
from bot.resource_wizard import start_add, start_remove
from bot.runs import launch_run
from cloud_engine.core.models import Session
from cloud_engine.core.validation import MAX_DESCRIPTION

if TYPE_CHECKING:
    from bot.bot import CloudBot

__all__ = ["RejectModal"]


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
    scan = (session.plan_summary or {}).get("scan")  # its suppressed findings are named, as /cloud-review does
    await interaction.followup.send(embed=embeds_ai.plan_review(result, session.id, scan), ephemeral=True)


@handler(LobbyAction.APPROVE)
async def approve(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    after = await bot.engine.approve(session.id, interaction.user.id,  # their Discord roles: a rule may name one
                                     discord_role_ids=discord_role_ids(interaction.user) or ())
    status = await bot.engine.approval_status(session.id)  # a rule may need more approvers than this one
    await interaction.followup.send(embeds.approve_reply(after, status), ephemeral=True)


class RejectModal(discord.ui.Modal):
    """Why the plan is turned down: the reason is shown in the lobby and kept in the audit log."""

    def __init__(self, bot: CloudBot, session_id: int, *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(title=truncate(f"Reject the plan of deployment #{session_id}", MODAL_TITLE), timeout=timeout)
        self.bot, self.session_id = bot, session_id
        self.reason: discord.ui.TextInput[RejectModal] = discord.ui.TextInput(
            label="Reason (shown to the author)", placeholder="e.g. the database needs backups first",
            required=True, max_length=MAX_DESCRIPTION)
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            after = await self.bot.engine.reject(self.session_id, interaction.user.id, str(self.reason.value or ""),
                                                 discord_role_ids=discord_role_ids(interaction.user) or ())
        except Exception as exc:  # e.g. approved meanwhile: one short reply, refusals audited
            await report(interaction, exc, action="lobby:reject")
            return
        await interaction.followup.send(f"Rejected the plan: deployment #{after.id} is back in **{after.state.value}** "
                                        "with your reason shown in its lobby.", ephemeral=True)

    # Modal.on_error's own signature (no item): discord.py's Modal drops BaseView's `item` parameter itself.
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report(interaction, error, action="lobby:reject")


@handler(LobbyAction.REJECT)
async def reject(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    """Ask for the reason first; the modal's submit sends the session back to DRAFT."""
    await interaction.response.send_modal(RejectModal(bot, session.id))


@handler(LobbyAction.CANCEL)
async def cancel(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    after = await bot.engine.cancel(session.id, interaction.user.id)
    await interaction.followup.send(f"Deployment #{session.id} is now **{after.state.value}**.", ephemeral=True)
