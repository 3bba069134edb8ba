"""/cloud-policy add|list|remove: guild policies evaluated at validation (see cloud_engine/core/policies.py).

A require_approval policy may also say who approves: `approvals` (1-5 distinct approvers),
`approver_role` and `approvers_must_differ` (cloud_engine/core/approvals.py).
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.bot import CloudBot
from bot.checks import admin_only, require_role
from bot.client import guild_id_of
from bot.converters import policy_params
from bot.limits import safe
from cloud_engine.core.models import Role
from cloud_engine.core.policies import MAX_APPROVALS, PolicySpec, check_approval_params

POLICY_NAME = 100  # valid names have at most 63 characters (PolicySpec); anything longer is only echoed, cut
SecurityCheck = Literal["world_ingress", "unencrypted", "public_bucket", "public_ip", "allow_world_admin"]


@admin_only()  # on a GroupCog: the whole /cloud-policy group; each subcommand checks its own role
class PolicyCog(commands.GroupCog, group_name="cloud-policy", group_description="Server deployment policies"):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Add a policy (first match per type wins, lowest priority first)")
    @app_commands.describe(pattern="glob on kind/type/name, e.g. vm/*/prod-*", priority="lower = evaluated first",
                           allowed_regions="region policy: comma list", denied_regions="region policy: comma list",
                           max_monthly="cost policy: USD per month", max_count="quota policy: resources",
                           min_role="permission policy", check="security policy",
                           approvals="require_approval: how many distinct approvers (1-5; default 1)",
                           approver_role="require_approval: the Cloud role approvers need (default CloudAdmin)",
                           approvers_must_differ="require_approval: the author never counts (default: yes from 2 "
                                                 "approvals)")
    @require_role(Role.ADMIN)
    async def add(self, interaction: discord.Interaction, name: str,
                  type: Literal["permission", "quota", "region", "cost", "security"],
                  action: Literal["deny", "warn", "require_approval"] = "deny", pattern: str = "*",
                  priority: app_commands.Range[int, 0, 10_000] = 100, allowed_regions: str | None = None,
                  denied_regions: str | None = None, max_monthly: float | None = None, max_count: int | None = None,
                  min_role: Literal["CloudViewer", "CloudUser", "CloudAdmin"] | None = None,
                  check: SecurityCheck | None = None, approvals: app_commands.Range[int, 1, MAX_APPROVALS] | None = None,
                  approver_role: Literal["CloudUser", "CloudAdmin"] | None = None,
                  approvers_must_differ: bool | None = None) -> None:
        params = policy_params(allowed_regions=allowed_regions, denied_regions=denied_regions, max_monthly=max_monthly,
                               max_count=max_count, min_role=min_role, check=check, approvals=approvals,
                               approver_role=approver_role, approvers_must_differ=approvers_must_differ)
        check_approval_params(action, params)  # one clear InvalidInput line before the spec is built
        spec = PolicySpec(name=name, type=type, pattern=pattern, priority=priority, action=action, params=params)
        policy = await self.bot.engine.add_policy(guild_id_of(interaction), interaction.user.id, spec)
        await interaction.response.send_message(embed=embeds.policies([policy]), ephemeral=True)

    @app_commands.command(name="list", description="List this server's policies")
    @require_role(Role.VIEWER)
    async def list_(self, interaction: discord.Interaction) -> None:
        found = await self.bot.engine.list_policies(guild_id_of(interaction))
        await interaction.response.send_message(embed=embeds.policies(found), ephemeral=True)

    @app_commands.command(name="remove", description="Remove a policy by name")
    @require_role(Role.ADMIN)
    async def remove(self, interaction: discord.Interaction, name: str) -> None:
        removed = await self.bot.engine.remove_policy(guild_id_of(interaction), interaction.user.id, name)
        shown = safe(name, POLICY_NAME)  # bold, not a code span: a backtick in the name would close the span
        text = f"Removed policy **{shown}**." if removed else f"No policy named **{shown}**."
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(PolicyCog(bot))
