"""/cloud-notify channel|webhook|list|remove: where a server's events are announced (CloudAdmin).

Thin on purpose: subscriptions, URL checks, signing and delivery live in cloud_engine/notify;
the bot's background loop (bot.py) delivers, posting channel notices through `post_notice`.
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import CloudBot
from bot.checks import admin_only, require_role
from bot.client import guild_id_of
from bot.limits import MESSAGE, safe, truncate
from cloud_engine.core.models import Role
from cloud_engine.notify import NotifyEvent, Subscription, parse_events
from cloud_engine.secret_text import register_known_secrets

EVENTS_HELP = "all, or a comma list of: " + ", ".join(e.value for e in NotifyEvent)


def describe(sub: Subscription) -> str:
    where = f"<#{sub.target}>" if sub.kind == "channel" else f"webhook {safe(sub.target)} ({sub.format})"
    scope = f"project #{sub.project_id}" if sub.project_id is not None else "every project"
    events = "all events" if set(sub.events) == set(NotifyEvent) else ", ".join(e.value for e in sub.events)
    return f"`#{sub.id}` {where}: {events}, {scope}"


@admin_only()
class NotifyCog(commands.GroupCog, group_name="cloud-notify", group_description="Announce this server's events"):
    def __init__(self, bot: CloudBot) -> None:
        self.bot = bot
        super().__init__()

    async def _project_id(self, guild_id: int, name: str | None) -> int | None:
        return None if not name else (await self.bot.engine.find_project(guild_id, name)).id

    @app_commands.command(name="channel", description="Announce events in a channel")
    @app_commands.describe(channel="where to post", project="only this project (default: all)", events=EVENTS_HELP)
    @require_role(Role.ADMIN)
    async def channel(self, interaction: discord.Interaction, channel: discord.TextChannel,
                      project: str | None = None, events: str = "all") -> None:
        guild_id = guild_id_of(interaction)
        notes = await self.bot.services.notifications()
        sub = await notes.subscribe_channel(guild_id, interaction.user.id, channel.id, events=parse_events(events),
                                            project_id=await self._project_id(guild_id, project))
        await interaction.response.send_message(f"Subscribed {describe(sub)}.", ephemeral=True)

    @app_commands.command(name="webhook", description="Send events to an HTTPS webhook, signed with HMAC-SHA256")
    @app_commands.describe(url="https:// receiver (Slack or Discord webhooks too)", events=EVENTS_HELP,
                           format="json: the event as JSON; slack / discord: their message format",
                           project="only this project (default: all)")
    @require_role(Role.ADMIN)
    async def webhook(self, interaction: discord.Interaction, url: str, events: str = "all",
                      format: Literal["json", "slack", "discord"] = "json", project: str | None = None) -> None:
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # the URL's host is resolved first
        notes = await self.bot.services.notifications()
        sub, secret = await notes.subscribe_webhook(guild_id, interaction.user.id, url, events=parse_events(events),
                                                    fmt=format, project_id=await self._project_id(guild_id, project))
        register_known_secrets([secret])  # from now on masked in every log line
        await interaction.followup.send(
            f"Subscribed {describe(sub)}.\nSigning secret (shown only now; verify `X-Cloud-Engine-Signature: "
            f"sha256=<HMAC-SHA256 of the body>`): ||{secret}||", ephemeral=True)

    @app_commands.command(name="list", description="This server's notification subscriptions and dead letters")
    @require_role(Role.ADMIN)
    async def list_(self, interaction: discord.Interaction) -> None:
        notes = await self.bot.services.notifications()
        guild_id = guild_id_of(interaction)
        subs = await notes.subscriptions(guild_id)
        dead = await notes.dead_letters(guild_id)
        lines = [describe(s) for s in subs] or ["No subscriptions: `/cloud-notify channel` or `/cloud-notify webhook`."]
        if dead:
            lines.append(f"**{len(dead)} undelivered** after every retry; latest: `#{dead[0].subscription_id}` "
                         f"{dead[0].event}: {safe(dead[0].last_error or 'unknown error', 200)}")
        await interaction.response.send_message(truncate("\n".join(lines), MESSAGE), ephemeral=True)

    @app_commands.command(name="remove", description="Stop a subscription")
    @require_role(Role.ADMIN)
    async def remove(self, interaction: discord.Interaction, subscription: app_commands.Range[int, 1]) -> None:
        notes = await self.bot.services.notifications()
        removed = await notes.unsubscribe(guild_id_of(interaction), interaction.user.id, subscription)
        text = f"Removed subscription #{subscription}." if removed else f"No subscription #{subscription} here."
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: CloudBot) -> None:
    await bot.add_cog(NotifyCog(bot))
