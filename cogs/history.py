"""/cloud-history project: the project root's git log; /cloud-set-budget-alert: one more alert threshold.

The log is the repository's (core/history.py): one commit per apply, tagged `apply-<session>`,
pushed to the project's remote when PROJECT_GIT_REMOTE is set. The reply is an embed kept
inside Discord's limits by bot/limits.py: each line cut to a label's length, the lines that
fit the description, then `fit_embed`.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete
from bot.bot import CloudBot
from bot.checks import admin_command, require_role
from bot.client import guild_id_of
from bot.limits import EMBED_DESCRIPTION, LABEL, MESSAGE, fit_embed, safe, truncate
from cloud_engine.core.budget_thresholds import MAX_PERCENT, MIN_PERCENT, BudgetAlertSet
from cloud_engine.core.history import MAX_ENTRIES, HistoryEntry, ProjectLog
from cloud_engine.core.models import Role


def entry_line(entry: HistoryEntry) -> str:
    """One commit: short sha, session, author, summary, date (newest first in the embed)."""
    who = f"session #{entry.session_id} by <@{entry.author_id}>" if entry.session_id is not None else "no session"
    tags = f" · 🏷 {', '.join(safe(t) for t in entry.tags)}" if entry.tags else ""
    return (f"`{entry.short_sha}` · {who} · <t:{int(entry.date.timestamp())}:f>{tags}\n"
            f"↳ {safe(entry.summary, LABEL)}")


def history_embed(found: ProjectLog) -> discord.Embed:
    embed = discord.Embed(title=f"History of project {found.project}", colour=discord.Colour.blurple())
    lines: list[str] = []
    used = 0
    for entry in found.entries:
        line = entry_line(entry)
        if used + len(line) + 2 > EMBED_DESCRIPTION:
            break
        lines.append(line)
        used += len(line) + 2
    shown = len(lines)
    embed.description = "\n\n".join(lines) or "No commits yet."
    footer = f"{shown} commit(s), newest first"
    if shown < len(found.entries):
        footer += f" ({len(found.entries) - shown} more not shown)"
    footer += f" · remote: {found.remote}" if found.remote else " · no remote (PROJECT_GIT_REMOTE unset)"
    embed.set_footer(text=footer)
    return fit_embed(embed)


def budget_alert_text(result: BudgetAlertSet) -> str:
    thresholds = ", ".join(f"{t} %" for t in result.thresholds)
    if result.added:
        return truncate(f"Project **{safe(result.project)}** now alerts at {result.percent} % of its budget "
                        f"(thresholds: {thresholds}).", MESSAGE)
    return truncate(f"Project **{safe(result.project)}** already alerts at {result.percent} % "
                    f"(thresholds: {thresholds}).", MESSAGE)


class HistoryCog(commands.Cog):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    @app_commands.command(name="cloud-history", description="A project's git history: one tagged commit per apply")
    @app_commands.autocomplete(project=autocomplete.projects)
    @app_commands.describe(limit=f"how many commits, newest first (1–{MAX_ENTRIES})")
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def history(self, interaction: discord.Interaction, project: str,
                      limit: app_commands.Range[int, 1, MAX_ENTRIES] = 10) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # git runs in the project's root
        found = await self.bot.engine.git_log(guild_id_of(interaction), interaction.user.id, project, limit=limit)
        await interaction.followup.send(embed=history_embed(found), ephemeral=True)

    @admin_command(name="cloud-set-budget-alert",
                   description="Add a budget alert threshold to a project, beside 50/80/100 %")
    @app_commands.autocomplete(project=autocomplete.projects)
    @app_commands.describe(percent=f"percent of the monthly budget ({MIN_PERCENT}–{MAX_PERCENT})")
    async def set_budget_alert(self, interaction: discord.Interaction, project: str,
                               percent: app_commands.Range[int, MIN_PERCENT, MAX_PERCENT]) -> None:
        result = await self.bot.engine.set_budget_alert(guild_id_of(interaction), interaction.user.id, project, percent)
        await interaction.response.send_message(budget_alert_text(result), ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(HistoryCog(bot))
