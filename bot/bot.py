"""The Discord bot: wiring only. Commands live in cogs/, behaviour in cloud_engine/.

`setup_hook` runs once after login and before the gateway connects: it opens the engine's
services, loads every cog, registers the persistent lobby buttons, subscribes lobby
re-rendering to engine events, starts the expiry sweep, tells sessions cut off by a restart
what happened, and syncs commands. `create_bot` builds the same bot for tests without
connecting anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import lobby_actions  # noqa: F401  (registers the lobby handlers)
from bot.background import periodic
from bot.drift_views import DriftButton, drift_view
from bot.errors import handle_app_command_error
from bot.limits import MESSAGE, safe
from bot.lobby import LobbyButton, LobbyRenderer, check_wiring
from bot.resource_wizard import DraftStore
from cloud_engine.core import CloudOrchestrator
from cloud_engine.core.models import Session
from cloud_engine.finops.sync import tick_seconds as sync_tick_seconds
from cloud_engine.logging_setup import new_request_id, request_id_var
from cloud_engine.notify import DeliveryReport, NotifyEvent
from cloud_engine.services import Services
from cloud_engine.settings import Settings

__all__ = ["EXTENSIONS", "CloudBot", "CloudEngineBot", "CloudTree", "create_bot"]

log = logging.getLogger(__name__)
EXTENSIONS: tuple[str, ...] = (
    "cogs.projects", "cogs.deploy", "cogs.admin", "cogs.policy", "cogs.health", "cogs.advise", "cogs.finops",
    "cogs.notify", "cogs.drift", "cogs.history",
)


class CloudTree(app_commands.CommandTree):
    """Gives every command interaction a request id (JSON logs) and routes errors to bot/errors.py."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        rid = new_request_id()
        request_id_var.set(rid)  # the tree runs each interaction in its own task, so this stays local to it
        interaction.extras["request_id"] = rid
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        await handle_app_command_error(interaction, error)


class CloudBot(commands.Bot):
    """Discord front end of the engine; every cog and bot/ function receives this, typed.

    `services` is the engine's container (opened in setup_hook unless given) and `engine` its CloudOrchestrator.
    """

    def __init__(self, settings: Settings, services: Services | None = None, *,
                 extensions: Sequence[str] = EXTENSIONS) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and threads; no members, no message content
        super().__init__(command_prefix=commands.when_mentioned, intents=intents, tree_cls=CloudTree,
                         help_command=None, allowed_mentions=discord.AllowedMentions.none())
        self.settings = settings
        self._services = services
        self.extensions_to_load = tuple(extensions)
        self.drafts = DraftStore()
        self.lobbies = LobbyRenderer(self)
        self.started_at = time.monotonic()
        self._background: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are opened in setup_hook")
        return self._services

    @property
    def engine(self) -> CloudOrchestrator:
        return self.services.engine

    async def setup_hook(self) -> None:
        if self._services is None:
            self._services = await Services.open(self.settings)
        await self.load_cogs()
        self.start_background()
        await self.announce_interrupted(await self.engine.recover_interrupted())
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("commands synced", extra={"count": len(synced), "guild": self.settings.dev_guild_id})

    async def load_cogs(self) -> None:
        """Load every extension and register the persistent lobby buttons (no network needed)."""
        check_wiring()
        for name in self.extensions_to_load:
            await self.load_extension(name)
        self.add_dynamic_items(LobbyButton, DriftButton)

    def start_background(self) -> None:
        """Lobby re-rendering on engine events, the idle-session expiry sweep and notification delivery."""
        if self._unsubscribe is None:
            self._unsubscribe = self.engine.events.subscribe(self.lobbies.on_event)
        self.track(periodic(self.settings.expiry_sweep_seconds, self.engine.expire_idle, name="session expiry"))
        self.track(periodic(self.settings.notify_interval_s, self.deliver_notifications, name="notifications"))
        if self.settings.drift_check_interval_hours > 0:
            self.track(periodic(self.settings.drift_check_interval_hours * 3600, self.engine.drift.check_all,
                                name="drift check"))
        if self.settings.finops_sync_interval_hours > 0:  # each configured provider, when due (finops/sync.py)
            async def finops_sync() -> object:
                return [o.provider + (" ok" if o.ok else " failed") for o in await (await self.services.finops()).sync_due()]

            self.track(periodic(sync_tick_seconds(self.settings), finops_sync, name="finops sync"))

    async def deliver_notifications(self) -> DeliveryReport:
        """One delivery round: new events fanned out, due channel posts and webhooks sent (cloud_engine/notify)."""
        return await (await self.services.notifications()).run_once(self.post_notice)

    async def post_notice(self, channel_id: int, text: str, notice: Mapping[str, Any]) -> None:
        """A notification in a channel: inert text (no markdown, no pings), within one message.

        A drift finding carries its Reconcile and Dismiss buttons.
        """
        extra: dict[str, Any] = {}
        if notice.get("event") == NotifyEvent.DRIFT_FOUND and notice.get("drift_report_id"):
            extra["view"] = drift_view(int(notice["drift_report_id"]))
        await self.messageable(channel_id).send(safe(text, MESSAGE), allowed_mentions=discord.AllowedMentions.none(),
                                                **extra)

    async def announce_interrupted(self, sessions: Sequence[Session]) -> int:
        """Tell each session cut off by a restart, in its thread (or lobby channel), what happened."""
        told = 0
        for session in sessions:
            target = session.thread_id or session.channel_id
            if not target:
                continue
            try:
                await self.messageable(target).send(
                    f"⚠️ Deployment #{session.id} was **interrupted by restart** and is now "
                    f"**{session.state.value}**. Nothing further will run; start a new plan when ready.")
                told += 1
            except discord.HTTPException:
                log.warning("could not announce an interrupted session", extra={"session_id": session.id})
        return told

    def messageable(self, channel_id: int) -> Any:
        """A channel or thread to send to, from the cache or as a partial (no fetch needed)."""
        return self.get_channel(channel_id) or self.get_partial_messageable(channel_id)

    def lobby_message(self, channel_id: int, message_id: int) -> Any:
        return self.messageable(channel_id).get_partial_message(message_id)

    def track(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` as a background task the bot keeps a reference to and cancels on close."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._background.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task failed", exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await super().close()
        if self._services is not None:
            await self._services.close()
            self._services = None


CloudEngineBot = CloudBot  # the class's earlier name, still importable


def create_bot(services_or_settings: Services | Settings, **kwargs: Any) -> CloudBot:
    """Build the bot; given Services it uses them (tests), given Settings it opens them in setup_hook."""
    if isinstance(services_or_settings, Services):
        return CloudBot(services_or_settings.settings, services_or_settings, **kwargs)
    return CloudBot(services_or_settings, **kwargs)
