"""/cloud-policy add|list|remove, and suppress|suppressions|unsuppress for scan findings.

Policies are evaluated at validation (cloud_engine/core/policies.py), except `scanner`
policies, which judge a plan's Checkov findings after the plan (core/scanner_policy.py).
A require_approval policy may also say who approves: `approvals` (1-5 distinct approvers),
`approver_role` and `approvers_must_differ` (cloud_engine/core/approvals.py). A suppression
accepts one check on the resources a glob matches, with a reason and perhaps an expiry
(core/suppressions.py); adding and removing one is audited.
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
from bot.converters import Duration, policy_params, split_list
from bot.limits import safe
from cloud_engine.core.models import Role
from cloud_engine.core.policies import MAX_APPROVALS, PolicySpec, check_approval_params

POLICY_NAME = 100  # valid names have at most 63 characters (PolicySpec); anything longer is only echoed, cut
SecurityCheck = Literal["world_ingress", "unencrypted", "public_bucket", "public_ip", "allow_world_admin"]
Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def scanner_params(checks: str | None, min_severity: str | None, unrated: str | None) -> dict[str, object]:
    """The scanner options as PolicySpec params (unset ones left out; PolicySpec validates them)."""
    params: dict[str, object] = {}
    if checks:
        params["checks"] = split_list(checks)
    if min_severity:
        params["min_severity"] = min_severity
    if unrated:
        params["unrated"] = unrated
    return params


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
                                                 "approvals)",
                           approver_discord_role="require_approval: approvers must hold this Discord role "
                                                 "(then CloudUser suffices unless approver_role says)",
                           checks="scanner policy: comma list of check ids or globs, e.g. CKV_AWS_*, CKV2_AWS_12",
                           min_severity="scanner policy: findings at or above this severity",
                           unrated="scanner + min_severity: a finding without severity counts (match) or only warns")
    @require_role(Role.ADMIN)
    async def add(self, interaction: discord.Interaction, name: str,
                  type: Literal["permission", "quota", "region", "cost", "security", "scanner"],
                  action: Literal["deny", "warn", "require_approval"] = "deny", pattern: str = "*",
                  priority: app_commands.Range[int, 0, 10_000] = 100, allowed_regions: str | None = None,
                  denied_regions: str | None = None, max_monthly: float | None = None, max_count: int | None = None,
                  min_role: Literal["CloudViewer", "CloudUser", "CloudAdmin"] | None = None,
                  check: SecurityCheck | None = None, approvals: app_commands.Range[int, 1, MAX_APPROVALS] | None = None,
                  approver_role: Literal["CloudUser", "CloudAdmin"] | None = None,
                  approvers_must_differ: bool | None = None, checks: str | None = None,
                  min_severity: Severity | None = None, unrated: Literal["match", "warn"] | None = None,
                  approver_discord_role: discord.Role | None = None) -> None:
        params = policy_params(allowed_regions=allowed_regions, denied_regions=denied_regions, max_monthly=max_monthly,
                               max_count=max_count, min_role=min_role, check=check, approvals=approvals,
                               approver_role=approver_role, approvers_must_differ=approvers_must_differ,
                               approver_discord_role=approver_discord_role.id if approver_discord_role else None)
        params.update(scanner_params(checks, min_severity, unrated))
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

    @app_commands.command(name="suppress", description="Accept a scan finding's check on matching resources, with a reason")
    @app_commands.describe(check="Checkov check id or glob, e.g. CKV_AWS_144 or CKV2_AWS_*",
                           resource="glob on the Terraform address, e.g. aws_s3_bucket.logs* or *",
                           reason="why this is accepted (shown in every lobby it applies to, and audited)",
                           duration="optional: 30m, 2h, 7d (at most 90 days); without it, until removed")
    @require_role(Role.ADMIN)
    async def suppress(self, interaction: discord.Interaction, check: str, resource: str, reason: str,
                       duration: Duration | None = None) -> None:
        added = await self.bot.engine.suppressions.add(guild_id_of(interaction), interaction.user.id, check, resource,
                                                       reason, duration)
        await interaction.response.send_message(embed=embeds.suppressions([added], added.created_at), ephemeral=True)

    @app_commands.command(name="suppressions", description="List this server's scan suppressions")
    @require_role(Role.VIEWER)
    async def suppressions(self, interaction: discord.Interaction) -> None:
        found = await self.bot.engine.suppressions.list_all(guild_id_of(interaction), interaction.user.id)
        await interaction.response.send_message(embed=embeds.suppressions(found, self.bot.engine.clock()),
                                                ephemeral=True)

    @app_commands.command(name="unsuppress", description="Remove a scan suppression by its #id")
    @app_commands.describe(suppression="the suppression's id, as /cloud-policy suppressions lists it")
    @require_role(Role.ADMIN)
    async def unsuppress(self, interaction: discord.Interaction, suppression: app_commands.Range[int, 1]) -> None:
        gone = await self.bot.engine.suppressions.remove(guild_id_of(interaction), interaction.user.id, suppression)
        await interaction.response.send_message(f"Removed suppression #{gone.id}; the next plan counts its findings "
                                                "again.", embed=embeds.suppressions([gone], self.bot.engine.clock()),
                                                ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(PolicyCog(bot))
