"""Admin commands: grants, quotas, every session, stats and the audit log.

Offered only in servers (`guild_only`), hidden from non-managers by
`default_permissions(manage_guild=True)` (server admins can change that in Integrations
settings) and checked against the engine's CloudAdmin role, which the engine checks again.
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.checks import require_role
from bot.converters import Duration
from cloud_engine.core.models import FINAL_STATES, Role, State

QuotaName = Literal["compute.instances", "compute.cpus", "compute.ram_gb", "database.instances", "storage.buckets",
                    "network.vpcs", "network.load_balancers"]
RoleName = Literal["CloudViewer", "CloudUser", "CloudAdmin"]
OPEN_STATES = [s for s in State if s not in FINAL_STATES]


class AdminCog(commands.Cog):
    """Top-level commands (not a group), so each carries its own guild_only and default_permissions: on a plain
    Cog, class decorators reach no command (only a GroupCog's group takes them)."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @property
    def engine(self):  # noqa: ANN201 - the CloudOrchestrator
        return self.bot.engine  # type: ignore[attr-defined]

    @app_commands.command(name="cloud-grant", description="Give a member a Cloud role, optionally for a while")
    @app_commands.describe(duration="e.g. 30m, 2h, 1d; empty = until revoked")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def grant(self, interaction: discord.Interaction, user: discord.Member, role: RoleName,
                    duration: Duration | None = None) -> None:
        granted = await self.engine.grant(interaction.guild_id, interaction.user.id, user.id, role, duration=duration)
        until = f" until {discord.utils.format_dt(granted['expires_at'], 'f')}" if granted["expires_at"] else ""
        await interaction.response.send_message(f"{user.mention} is now **{role}**{until}.", ephemeral=True)

    @app_commands.command(name="cloud-revoke", description="Remove a member's Cloud role")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def revoke(self, interaction: discord.Interaction, user: discord.Member) -> None:
        removed = await self.engine.revoke(interaction.guild_id, interaction.user.id, user.id)
        text = f"Revoked {user.mention}'s role." if removed else f"{user.mention} had no Cloud role."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="cloud-set-quota", description="Set a server quota limit")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def set_quota(self, interaction: discord.Interaction, quota: QuotaName,
                        limit: app_commands.Range[int, 0, 100_000]) -> None:
        await self.engine.set_quota(interaction.guild_id, interaction.user.id, quota, limit)
        await interaction.response.send_message(embed=embeds.quota(await self.engine.quota_usage(interaction.guild_id)),
                                                ephemeral=True)

    @app_commands.command(name="cloud-admin-list", description="Every open deployment in this server")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def admin_list(self, interaction: discord.Interaction, include_finished: bool = False) -> None:
        found = await self.engine.list_sessions(interaction.guild_id, states=None if include_finished else OPEN_STATES)
        await interaction.response.send_message(embed=embeds.sessions(found, "All deployments"), ephemeral=True)

    @app_commands.command(name="cloud-admin-cancel", description="Cancel anyone's deployment")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def admin_cancel(self, interaction: discord.Interaction, session: int, reason: str = "cancelled by an admin") -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        after = await self.engine.admin_cancel(session, interaction.user.id, reason=reason[:300])
        await interaction.followup.send(f"Deployment #{after.id} is now **{after.state.value}**.", ephemeral=True)

    @app_commands.command(name="cloud-stats", description="Sessions, resources and monthly cost for this server")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def stats(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=embeds.stats(await self.engine.stats(interaction.guild_id)),
                                                ephemeral=True)

    @app_commands.command(name="cloud-audit", description="Recent audit log entries")
    @app_commands.describe(action="e.g. refused, grant, session.apply, add_resource")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @require_role(Role.ADMIN)
    async def audit(self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 50] = 20,
                    user: discord.Member | None = None, action: str | None = None) -> None:
        rows = await self.engine.audit(interaction.guild_id, interaction.user.id, limit=limit,
                                       actor_id=user.id if user else None, action=action)
        await interaction.response.send_message(embed=embeds.audit(rows), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(AdminCog(bot))
