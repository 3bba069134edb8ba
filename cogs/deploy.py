"""/cloud-deploy, /cloud-list, /cloud-locks, /cloud-cancel, /cloud-validate, /cloud-edit, /cloud-rollback: sessions and lobbies.

The lobby message is sent to the channel (not as an interaction followup) so it can be
edited long after the 15-minute interaction token has expired. When Discord forbids that,
`open_lobby` names the missing permissions and cancels the session nobody could reach.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import autocomplete, embeds
from bot.bot import CloudBot
from bot.checks import require_role
from bot.client import guild_id_of
from bot.lobby import open_lobby
from bot.resource_wizard import start_edit
from cloud_engine.core.models import Role
from cloud_engine.errors import NotFound


class DeployCog(commands.Cog):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot

    @app_commands.command(name="cloud-deploy", description="Open a deployment lobby for a project")
    @app_commands.autocomplete(project=autocomplete.projects)
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def deploy(self, interaction: discord.Interaction, project: str, purpose: str = "deploy") -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.bot.engine.find_project(guild_id_of(interaction), project)
        session = await self.bot.engine.start_session(found.id, interaction.user.id, purpose=purpose[:200])
        if (message := await open_lobby(self.bot.engine, interaction, session)) is None:
            return  # the user was told which permissions the bot lacks; the session was cancelled
        await interaction.followup.send(f"Lobby for deployment #{session.id}: {message.jump_url}", ephemeral=True)

    @app_commands.command(name="cloud-list", description="Your deployments in this server")
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def list_mine(self, interaction: discord.Interaction) -> None:
        found = await self.bot.engine.list_sessions(guild_id_of(interaction), user_id=interaction.user.id, limit=25)
        await interaction.response.send_message(embed=embeds.sessions(found, "Your deployments"), ephemeral=True)

    @app_commands.command(name="cloud-locks", description="Held project locks: project, deployment, holder, since, state")
    @app_commands.guild_only()
    @require_role(Role.VIEWER)
    async def locks(self, interaction: discord.Interaction) -> None:
        found = await self.bot.engine.list_locks(guild_id_of(interaction), interaction.user.id)
        await interaction.response.send_message(embed=embeds.locks(found), ephemeral=True)

    @app_commands.command(name="cloud-cancel", description="Cancel one of your deployments (stops a running apply)")
    @app_commands.autocomplete(session=autocomplete.sessions)
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def cancel(self, interaction: discord.Interaction, session: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        after = await self.bot.engine.cancel(session, interaction.user.id)
        await interaction.followup.send(f"Deployment #{after.id} is now **{after.state.value}**.", ephemeral=True)

    @app_commands.command(name="cloud-validate", description="Check a deployment: policies, quotas, budget and cost")
    @app_commands.autocomplete(session=autocomplete.sessions)
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def validate(self, interaction: discord.Interaction, session: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.engine.validate(session, interaction.user.id)
        await interaction.followup.send(embed=embeds.validation(result), ephemeral=True)

    @app_commands.command(name="cloud-edit", description="Change an applied resource; the plan shows the impact first")
    @app_commands.autocomplete(project=autocomplete.projects, resource=autocomplete.resources)
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def edit(self, interaction: discord.Interaction, project: str, resource: str) -> None:
        found = await self.bot.engine.find_project(guild_id_of(interaction), project)
        applied = {f"{r.kind}/{r.name}": r.spec for r in await self.bot.engine.project_resources(found.id)}
        if resource not in applied:
            raise NotFound(what=f"resource in {found.name}", key=resource)
        await start_edit(self.bot, interaction, found, applied[resource])

    @app_commands.command(name="cloud-rollback", description="Open a deployment returning a project to an applied commit")
    @app_commands.autocomplete(project=autocomplete.projects, commit=autocomplete.commits)
    @app_commands.guild_only()
    @require_role(Role.USER)
    async def rollback(self, interaction: discord.Interaction, project: str, commit: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.bot.engine.find_project(guild_id_of(interaction), project)
        session = await self.bot.engine.rollback(found.id, interaction.user.id, commit)
        if (message := await open_lobby(self.bot.engine, interaction, session)) is None:
            return
        await interaction.followup.send(f"Rollback lobby #{session.id}: {message.jump_url}", ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(DeployCog(bot))
