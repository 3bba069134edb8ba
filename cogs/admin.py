"""Admin commands: grants, Discord role mapping, quotas, every session, stats and the audit log.

Each is an `admin_command` (bot/checks.py): offered only in servers, hidden from non-managers
by `default_permissions(manage_guild=True)` (server admins can change that in Integrations
settings) and checked against the engine's CloudAdmin role, which the engine checks again.
"""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete, embeds
from bot.bot import CloudBot
from bot.checks import admin_command
from bot.client import guild_id_of
from bot.converters import Duration
from bot.limits import attachment_limit
from cloud_engine.core.audit_export import parse_since
from cloud_engine.core.models import FINAL_STATES, State
from cloud_engine.core.validation import MAX_DESCRIPTION

QuotaName = Literal["compute.instances", "compute.cpus", "compute.ram_gb", "database.instances", "storage.buckets",
                    "network.vpcs", "network.load_balancers"]
RoleName = Literal["CloudViewer", "CloudUser", "CloudAdmin"]
OPEN_STATES = [s for s in State if s not in FINAL_STATES]


class AdminCog(commands.Cog):
    """Top-level commands (not a group), so each is its own `admin_command`: on a plain Cog, class decorators
    reach no command (only a GroupCog's group takes them)."""

    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    @admin_command(name="cloud-grant", description="Give a member a Cloud role, optionally for a while")
    @app_commands.describe(duration="e.g. 30m, 2h, 1d; empty = until revoked")
    async def grant(self, interaction: discord.Interaction, user: discord.Member, role: RoleName,
                    duration: Duration | None = None) -> None:
        granted = await self.bot.engine.grant(guild_id_of(interaction), interaction.user.id, user.id, role,
                                              duration=duration)
        until = f" until {discord.utils.format_dt(granted.expires_at, 'f')}" if granted.expires_at else ""
        await interaction.response.send_message(f"{user.mention} is now **{role}**{until}.", ephemeral=True)

    @admin_command(name="cloud-revoke", description="Remove a member's Cloud role")
    async def revoke(self, interaction: discord.Interaction, user: discord.Member) -> None:
        removed = await self.bot.engine.revoke(guild_id_of(interaction), interaction.user.id, user.id)
        text = f"Revoked {user.mention}'s role." if removed else f"{user.mention} had no Cloud role."
        await interaction.response.send_message(text, ephemeral=True)

    @admin_command(name="cloud-role-map", description="Members with a Discord role hold at least a Cloud role")
    @app_commands.describe(discord_role="the Discord role", cloud_role="the Cloud role its members hold at least")
    async def role_map(self, interaction: discord.Interaction, discord_role: discord.Role, cloud_role: RoleName) -> None:
        mapped = await self.bot.engine.map_discord_role(guild_id_of(interaction), interaction.user.id, discord_role.id,
                                                        cloud_role)
        await interaction.response.send_message(
            f"Members with {discord_role.mention} now hold at least **{mapped.cloud_role.value}** (from their next "
            "command or button).", ephemeral=True)

    @admin_command(name="cloud-role-unmap", description="Stop a Discord role giving a Cloud role")
    async def role_unmap(self, interaction: discord.Interaction, discord_role: discord.Role) -> None:
        removed = await self.bot.engine.unmap_discord_role(guild_id_of(interaction), interaction.user.id,
                                                           discord_role.id)
        text = (f"{discord_role.mention} no longer gives a Cloud role; its members keep only their own grants."
                if removed else f"{discord_role.mention} was not mapped.")
        await interaction.response.send_message(text, ephemeral=True)

    @admin_command(name="cloud-role-maps", description="Which Discord roles give which Cloud role")
    async def role_maps(self, interaction: discord.Interaction) -> None:
        found = await self.bot.engine.list_role_maps(guild_id_of(interaction), interaction.user.id)
        await interaction.response.send_message(embed=embeds.role_maps(found), ephemeral=True)

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        """A deleted Discord role gives nothing any more: its mapping goes too (audited by the engine)."""
        await self.bot.engine.access.forget_discord_role(role.guild.id, role.id)

    @admin_command(name="cloud-set-quota", description="Set a server quota limit")
    async def set_quota(self, interaction: discord.Interaction, quota: QuotaName,
                        limit: app_commands.Range[int, 0, 100_000]) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.engine.set_quota(guild_id, interaction.user.id, quota, limit)
        await interaction.response.send_message(embed=embeds.quota(await self.bot.engine.quota_usage(guild_id)),
                                                ephemeral=True)

    @admin_command(name="cloud-admin-list", description="Every open deployment in this server")
    async def admin_list(self, interaction: discord.Interaction, include_finished: bool = False) -> None:
        found = await self.bot.engine.list_sessions(guild_id_of(interaction),
                                                    states=None if include_finished else OPEN_STATES)
        await interaction.response.send_message(embed=embeds.sessions(found, "All deployments"), ephemeral=True)

    @admin_command(name="cloud-admin-cancel", description="Cancel anyone's deployment")
    async def admin_cancel(self, interaction: discord.Interaction, session: int, reason: str = "cancelled by an admin") -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        after = await self.bot.engine.admin_cancel(session, interaction.user.id, reason=reason[:300])
        await interaction.followup.send(f"Deployment #{after.id} is now **{after.state.value}**.", ephemeral=True)

    @admin_command(name="cloud-unlock", description="Release a project's lock, ending the deployment that holds it")
    @app_commands.autocomplete(project=autocomplete.projects)
    @app_commands.describe(reason="why: shown on the deployment and kept in the audit log")
    async def unlock(self, interaction: discord.Interaction, project: str,
                     reason: app_commands.Range[str, 1, MAX_DESCRIPTION]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.engine.unlock(guild_id_of(interaction), interaction.user.id, project, reason)
        await interaction.followup.send(embeds.unlocked(result), ephemeral=True)

    @admin_command(name="cloud-stats", description="Sessions, resources and monthly cost for this server")
    async def stats(self, interaction: discord.Interaction) -> None:
        found = await self.bot.engine.stats(guild_id_of(interaction))
        await interaction.response.send_message(embed=embeds.stats(found), ephemeral=True)

    @admin_command(name="cloud-audit", description="Recent audit log entries, or the whole log as a file")
    @app_commands.describe(action="e.g. refused, grant, session.apply, add_resource",
                           export="send every row from `since` on as a file, with its hash (limit, user, action unused)",
                           since="with export: from this date on, YYYY-MM-DD (UTC)")
    async def audit(self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 50] = 20,
                    user: discord.Member | None = None, action: str | None = None,
                    export: Literal["jsonl", "csv"] | None = None, since: str | None = None) -> None:
        if export is not None:
            await self._send_export(interaction, export, since)
            return
        rows = await self.bot.engine.audit(guild_id_of(interaction), interaction.user.id, limit=limit,
                                           actor_id=user.id if user else None, action=action)
        await interaction.response.send_message(embed=embeds.audit(rows), ephemeral=True)

    async def _send_export(self, interaction: discord.Interaction, fmt: Literal["jsonl", "csv"], since: str | None) -> None:
        """`/cloud-audit export:`: the chained log as one attachment within the server's upload limit."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        budget = attachment_limit(interaction.guild)
        found = await self.bot.engine.export_audit(guild_id_of(interaction), interaction.user.id, fmt,
                                                   since=parse_since(since) if since else None, max_bytes=budget)
        note = embeds.audit_export_note(found, budget)
        if not found.rows:
            await interaction.followup.send(note, ephemeral=True)
            return
        await interaction.followup.send(note, file=discord.File(io.BytesIO(found.data), filename=found.filename),
                                        ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(AdminCog(bot))
