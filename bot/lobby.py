"""The deployment lobby: one message per session, its persistent buttons, and re-rendering.

Why DynamicItem buttons: a custom id like `ce:lobby:apply:42` carries the action and the
session (bot/custom_ids.py owns the verbs and the format), so a button pressed after a
restart still routes to the right session with no in-memory view. Which buttons show is
derived from the state machine's allowed events, never decided here. Each button first
asks the engine whether the presser may act (a refusal is answered ephemerally and
audited), then runs the action's handler, which bot/lobby_actions.py registers in
HANDLERS (a missing handler is a wiring bug found at start-up by `check_wiring`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot import embeds
from bot.checks import lobby_refusal, sync_member
from bot.client import cloud_bot
from bot.custom_ids import LOBBY_TEMPLATE, LobbyAction, lobby_custom_id
from bot.errors import reply, report, request_id_of
from cloud_engine.core.events import SessionEvent
from cloud_engine.core.models import Session, State
from cloud_engine.core.state_machine import Event, allowed_events
from cloud_engine.logging_setup import request_id_var

if TYPE_CHECKING:
    from bot.bot import CloudBot
    from cloud_engine.core import CloudOrchestrator

__all__ = ["ACTIONS", "HANDLERS", "LOBBY_PERMISSIONS", "LobbyButton", "LobbyRenderer", "check_wiring", "handler",
           "lobby_actions", "lobby_payload", "lobby_view", "open_lobby", "post_lobby"]

log = logging.getLogger(__name__)

Handler = Callable[["CloudBot", discord.Interaction, Session], Awaitable[None]]
_A = LobbyAction

# action -> (label, style, emoji), in display order.
ACTIONS: dict[LobbyAction, tuple[str, discord.ButtonStyle, str]] = {
    _A.ADD: ("Add resource", discord.ButtonStyle.secondary, "➕"),
    _A.REMOVE: ("Remove", discord.ButtonStyle.secondary, "➖"),
    _A.VALIDATE: ("Validate", discord.ButtonStyle.primary, "🔎"),
    _A.PLAN: ("Plan", discord.ButtonStyle.primary, "📋"),
    _A.REVIEW: ("Review plan", discord.ButtonStyle.secondary, "🧐"),
    _A.APPROVE: ("Approve", discord.ButtonStyle.success, "✅"),
    _A.REJECT: ("Reject", discord.ButtonStyle.secondary, "↩️"),
    _A.APPLY: ("Apply", discord.ButtonStyle.danger, "🚀"),
    _A.CANCEL: ("Cancel", discord.ButtonStyle.secondary, "✖️"),
}
# Which buttons each allowed state-machine event makes available.
EVENT_ACTIONS: dict[Event, tuple[LobbyAction, ...]] = {
    Event.VALIDATE: (_A.ADD, _A.REMOVE, _A.VALIDATE, _A.PLAN),  # a DRAFT is editable, checkable and plannable
    Event.EDIT: (_A.ADD, _A.REMOVE),  # editing a ready plan sends the session back to DRAFT
    Event.PLAN_SUCCEEDED: (_A.PLAN,),  # validated and waiting for a plan run
    Event.APPROVE: (_A.REVIEW, _A.APPROVE),  # a ready plan can be reviewed by the advisor before approval
    Event.REJECT: (_A.REJECT,),  # or turned down, with a reason, by anyone who may approve it
    Event.APPLY: (_A.REVIEW, _A.APPLY),
    Event.CANCEL: (_A.CANCEL,),
    Event.APPLY_FAILED: (_A.CANCEL,),  # a running apply can be stopped; the engine interrupts Terraform
}
# What the bot needs in a lobby's channel: the message and its buttons, then the run thread.
LOBBY_PERMISSIONS: dict[str, str] = {
    "view_channel": "View Channel", "send_messages": "Send Messages", "embed_links": "Embed Links",
    "create_public_threads": "Create Public Threads", "send_messages_in_threads": "Send Messages in Threads",
}
HANDLERS: dict[LobbyAction, Handler] = {}


def handler(action: LobbyAction) -> Callable[[Handler], Handler]:
    """Register the coroutine that runs when `action` is pressed."""
    def register(fn: Handler) -> Handler:
        HANDLERS[action] = fn
        return fn
    return register


def check_wiring() -> None:
    """Fail at start-up, not on a button press, if an action has no handler (or no button)."""
    if missing := set(LobbyAction) - HANDLERS.keys():
        raise RuntimeError(f"no lobby handler for {sorted(a.value for a in missing)}")
    if missing := set(LobbyAction) - ACTIONS.keys():
        raise RuntimeError(f"no lobby button for {sorted(a.value for a in missing)}")


def lobby_actions(state: State, *, running: bool = False) -> list[LobbyAction]:
    """The buttons a lobby in `state` shows; a plan already running hides Plan."""
    wanted = {action for event in allowed_events(state) for action in EVENT_ACTIONS.get(event, ())}
    if running:
        wanted.discard(LobbyAction.PLAN)
    return [action for action in ACTIONS if action in wanted]


class LobbyButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=LOBBY_TEMPLATE):
    """One lobby button; its custom id alone identifies the action and the session."""

    def __init__(self, action: LobbyAction | str, session_id: int, *, label: str | None = None) -> None:
        try:
            verb = LobbyAction(action)
        except ValueError:
            raise ValueError(f"unknown lobby action {action!r}") from None
        text, style, emoji = ACTIONS[verb]
        super().__init__(discord.ui.Button(label=label or text, style=style, emoji=emoji,
                                           custom_id=lobby_custom_id(verb, session_id)))
        self.action = verb
        self.session_id = session_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> LobbyButton:
        return cls(match["action"], int(match["session"]))

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Refuse (ephemerally, audited) anyone who may not press this button on this session."""
        request_id_var.set(request_id_of(interaction))
        interaction.extras["session_id"] = self.session_id
        engine = cloud_bot(interaction).engine
        try:
            session = await engine.get_session(self.session_id)
            await sync_member(engine, interaction)  # as slash commands do: Discord admins and mapped roles count
            reason = await lobby_refusal(engine, session, interaction.user.id, self.action)
        except Exception as exc:
            await report(interaction, exc, action=f"lobby:{self.action}")
            return False
        if reason is None:
            return True
        await engine.record_refusal(session.guild_id, interaction.user.id, self.action, reason, session_id=session.id)
        await interaction.response.send_message(reason, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = cloud_bot(interaction)
        try:
            session = await bot.engine.get_session(self.session_id)
            await HANDLERS[self.action](bot, interaction, session)
        except Exception as exc:
            await report(interaction, exc, action=f"lobby:{self.action}")


def lobby_view(session: Session, *, running: bool = False) -> discord.ui.View:
    """A persistent view (no timeout) with the buttons `session`'s state allows."""
    view = discord.ui.View(timeout=None)
    for action in lobby_actions(session.state, running=running):
        label = "Stop apply" if action == LobbyAction.CANCEL and session.state == State.APPLYING else None
        view.add_item(LobbyButton(action, session.id, label=label))
    return view


async def lobby_payload(engine: CloudOrchestrator, session_id: int) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and buttons for the session as it is now."""
    session = await engine.get_session(session_id)
    project = await engine.get_project(session.project_id)
    quotas = await engine.quota_usage(session.guild_id) if session.reservations else None
    rejection = await engine.rejection(session_id) if session.state == State.DRAFT else None
    approval = await engine.approval_status(session_id)  # None unless PLAN_READY or APPROVED
    return (embeds.lobby(session, project, quotas, rejection=rejection, approval=approval),
            lobby_view(session, running=engine.running(session_id) is not None))


async def post_lobby(engine: CloudOrchestrator, channel: Any, session: Session) -> Any:
    """Send the lobby message and remember where it lives (restarts and events find it there)."""
    embed, view = await lobby_payload(engine, session.id)
    message = await channel.send(embed=embed, view=view)
    await engine.set_lobby_message(session.id, channel_id=channel.id, message_id=message.id)
    return message


async def open_lobby(engine: CloudOrchestrator, interaction: discord.Interaction, session: Session) -> Any | None:
    """`post_lobby` in the interaction's channel; None if Discord forbids it.

    Then the user is told which channel permissions the bot needs, and the session, which
    nobody could reach without its lobby, is cancelled through the engine.
    """
    try:
        return await post_lobby(engine, interaction.channel, session)
    except discord.Forbidden as exc:
        log.info("lobby refused by Discord", extra={"session_id": session.id, "status": exc.status, "code": exc.code})
    try:
        await engine.cancel(session.id, interaction.user.id, reason="lobby could not be posted: missing permissions")
    except Exception:
        log.exception("could not cancel a session without a lobby", extra={"session_id": session.id})
    await reply(interaction, missing_permissions_text(interaction, session.id))
    return None


def missing_permissions_text(interaction: discord.Interaction, session_id: int) -> str:
    """Which permissions to give the bot here, then those the interaction says it lacks (when it says)."""
    needed = ", ".join(f"**{label}**" for label in LOBBY_PERMISSIONS.values())
    text = (f"I can't post the deployment lobby in <#{interaction.channel_id}>: Discord refused. Give the bot "
            f"{needed} in this channel (or run the command in another one). Deployment #{session_id} was cancelled.")
    perms = getattr(interaction, "app_permissions", None)
    if isinstance(perms, discord.Permissions):
        missing = [label for flag, label in LOBBY_PERMISSIONS.items() if not getattr(perms, flag)]
        if missing:
            text += f"\nMissing here: {', '.join(f'**{label}**' for label in missing)}."
    return text


class LobbyRenderer:
    """Re-renders lobbies on engine events, coalescing bursts into one edit per session.

    A validate press publishes three transitions in milliseconds; editing once with the
    latest state saves two Discord calls and never shows a stale intermediate state last.
    """

    def __init__(self, bot: CloudBot, *, debounce_s: float = 0.5) -> None:
        self.bot = bot
        self.debounce_s = debounce_s
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()

    async def on_event(self, event: SessionEvent) -> None:
        self._dirty.add(event.session_id)
        if event.session_id not in self._pending:
            task = asyncio.get_running_loop().create_task(self._render_later(event.session_id))
            self._pending[event.session_id] = task

    async def _render_later(self, session_id: int) -> None:
        """Render until no event arrived during the last render, so the final edit shows the final state."""
        try:
            while session_id in self._dirty:
                await asyncio.sleep(self.debounce_s)
                self._dirty.discard(session_id)
                await self.render(session_id)
        except Exception:
            log.exception("lobby re-render failed", extra={"session_id": session_id})
        finally:
            self._dirty.discard(session_id)
            self._pending.pop(session_id, None)

    async def render(self, session_id: int) -> bool:
        """Edit the stored lobby message; False when the session has none (e.g. CLI sessions)."""
        engine = self.bot.engine
        session = await engine.get_session(session_id)
        if not session.channel_id or not session.message_id:
            return False
        embed, view = await lobby_payload(engine, session_id)
        message = self.bot.lobby_message(session.channel_id, session.message_id)
        try:
            await message.edit(embed=embed, view=view)
        except discord.NotFound:
            log.info("lobby message is gone", extra={"session_id": session_id})
            return False
        return True

    async def drain(self) -> None:
        """Wait for scheduled renders (tests and shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)
