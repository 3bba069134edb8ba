"""A drift finding's Reconcile and Dismiss buttons, and the message they ride on.

Persistent like the lobby's (a custom id alone identifies the report: bot/custom_ids.py), so
a finding posted days ago still works after restarts. Reconcile opens a normal deployment
lobby for the project, which re-applies the desired configuration once validated, planned
and approved; Dismiss (CloudAdmin) asks for a reason. The engine decides who may do either.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.client import cloud_bot, guild_id_of
from bot.custom_ids import DRIFT_TEMPLATE, DriftAction, drift_custom_id
from bot.errors import report
from bot.limits import MESSAGE, MODAL_TITLE, VIEW_SECONDS, safe, truncate
from bot.lobby import post_lobby
from cloud_engine.core.drift import DriftReport
from cloud_engine.core.validation import MAX_DESCRIPTION

__all__ = ["DriftButton", "drift_text", "drift_view"]

_BUTTONS = {DriftAction.RECONCILE: ("Reconcile", discord.ButtonStyle.primary),
            DriftAction.DISMISS: ("Dismiss", discord.ButtonStyle.secondary)}


def drift_text(found: DriftReport) -> str:
    return truncate(f"⚠️ Drift in project **{safe(found.project)}** (report #{found.id}): "
                    f"{len(found.changes)} resource(s) no longer match what was applied: {safe(found.summary(10))}.",
                    MESSAGE)


def drift_view(report_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in DriftAction:
        view.add_item(DriftButton(action, report_id))
    return view


class DriftButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=DRIFT_TEMPLATE):
    def __init__(self, action: DriftAction | str, report_id: int) -> None:
        verb = DriftAction(action)
        label, style = _BUTTONS[verb]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=drift_custom_id(verb, report_id)))
        self.action, self.report_id = verb, report_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> DriftButton:
        return cls(match["action"], int(match["report"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = cloud_bot(interaction)
        try:
            if self.action is DriftAction.DISMISS:
                await bot.engine.access.require(guild_id_of(interaction), interaction.user.id, "admin")
                await interaction.response.send_modal(DismissModal(self.report_id))
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            session = await bot.engine.drift.reconcile(guild_id_of(interaction), interaction.user.id, self.report_id)
            lobby = await post_lobby(bot.engine, interaction.channel, session)
            await interaction.followup.send(f"Deployment #{session.id} re-applies the project's desired configuration "
                                            f"once validated, planned and approved: {lobby.jump_url}", ephemeral=True)
        except Exception as exc:
            await report(interaction, exc, action=f"drift:{self.action}")


class DismissModal(discord.ui.Modal):
    """Why the drift is intended; kept in the audit log."""

    def __init__(self, report_id: int, *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(title=truncate(f"Dismiss drift report #{report_id}", MODAL_TITLE), timeout=timeout)
        self.report_id = report_id
        self.reason: discord.ui.TextInput[DismissModal] = discord.ui.TextInput(
            label="Reason", placeholder="e.g. resized in the console on purpose", required=True,
            max_length=MAX_DESCRIPTION)
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            done = await cloud_bot(interaction).engine.drift.dismiss(guild_id_of(interaction), interaction.user.id,
                                                                    self.report_id, str(self.reason.value or ""))
        except Exception as exc:
            await report(interaction, exc, action="drift:dismiss")
            return
        await interaction.response.send_message(f"Dismissed drift report #{done.id}: {safe(done.closed_reason or '')}",
                                                ephemeral=True)
