"""Fakes of the discord.py objects the bot touches, recording every call; no network.

Every fake method exists on the real class it stands for (tests/bot/test_bot_fakes.py checks
that), and Interaction/Member are `NonCallableMagicMock(spec=...)`, so a typo in the bot
fails here instead of passing silently. `RateLimitedChannel` enforces Discord's per-channel
budget (5 sends+edits per 5 s) on a virtual clock and raises a real 429 HTTPException when
exceeded; the streaming benchmark imports it too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from unittest import mock

import discord

_ids = itertools.count(10_000)


class VirtualClock:
    """Monotonic seconds that only move when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        seconds = max(float(seconds), 0.0)
        self.now += seconds
        self.slept += seconds
        await asyncio.sleep(0)


@dataclass
class FakeHTTPResponse:
    """What discord.HTTPException reads from an aiohttp response."""

    status: int = 429
    reason: str = "Too Many Requests"
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited(retry_after: float) -> discord.HTTPException:
    return discord.HTTPException(FakeHTTPResponse(headers={"Retry-After": f"{retry_after:.3f}"}),
                                 {"message": "You are being rate limited.", "code": 0, "retry_after": retry_after})


def http_error(status: int, reason: str = "Forbidden") -> discord.HTTPException:
    cls = discord.Forbidden if status == 403 else discord.NotFound if status == 404 else discord.HTTPException
    return cls(FakeHTTPResponse(status=status, reason=reason), {"message": reason, "code": 50001})


class FakeMessage:
    def __init__(self, channel: FakeChannel, content: str | None = None, **kwargs: Any) -> None:
        self.id = next(_ids)
        self.channel = channel
        self.content = content
        self.embed: discord.Embed | None = kwargs.get("embed")
        self.view: discord.ui.View | None = kwargs.get("view")
        self.file: discord.File | None = kwargs.get("file")
        self.edits: list[dict[str, Any]] = []
        self.jump_url = f"https://discord.com/channels/1/{channel.id}/{self.id}"

    async def edit(self, **kwargs: Any) -> FakeMessage:
        self.channel._spend("edit")
        self.edits.append(kwargs)
        for key in ("content", "embed", "view"):
            if key in kwargs:
                setattr(self, key, kwargs[key])
        return self

    async def create_thread(self, *, name: str, **_: Any) -> FakeChannel:
        thread = FakeChannel(name=name, registry=self.channel.registry)
        self.channel.threads.append(thread)
        return thread


class FakeChannel:
    """A text channel or thread: `send`, `create_thread`, `get_partial_message`, all recorded."""

    def __init__(self, *, name: str = "general", registry: dict[int, FakeChannel] | None = None) -> None:
        self.id = next(_ids)
        self.name = name
        self.sent: list[FakeMessage] = []
        self.threads: list[FakeChannel] = []
        self.calls: list[str] = []
        self.registry = registry if registry is not None else {}
        self.registry[self.id] = self
        self.fail_with: BaseException | None = None

    def _spend(self, kind: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(kind)

    async def send(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        self._spend("send")
        message = FakeMessage(self, content, **kwargs)
        self.sent.append(message)
        return message

    async def create_thread(self, *, name: str, **_: Any) -> FakeChannel:
        thread = FakeChannel(name=name, registry=self.registry)
        self.threads.append(thread)
        return thread

    def get_partial_message(self, message_id: int) -> FakeMessage:
        return next(m for m in self.sent if m.id == message_id)


class RateLimitedChannel(FakeChannel):
    """Enforces `limit` sends+edits per `window` seconds (sliding) on a virtual clock; counts 429s."""

    def __init__(self, clock: VirtualClock, *, limit: int = 5, window: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock, self.limit, self.window = clock, limit, window
        self._stamps: deque[float] = deque()
        self.rejected = 0

    def _spend(self, kind: str) -> None:
        now = self.clock()
        while self._stamps and self._stamps[0] <= now - self.window:
            self._stamps.popleft()
        if len(self._stamps) >= self.limit:
            self.rejected += 1
            raise rate_limited(self._stamps[0] + self.window - now)
        self._stamps.append(now)
        super()._spend(kind)


class FakeResponse:
    """discord.InteractionResponse: one response per interaction, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def is_done(self) -> bool:
        return bool(self.calls)

    def _respond(self, name: str, **kwargs: Any) -> None:
        if self.calls:
            raise discord.InteractionResponded(mock.NonCallableMagicMock(spec=discord.Interaction))
        self.calls.append((name, kwargs))

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self._respond("defer", ephemeral=ephemeral, thinking=thinking)

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self._respond("send_message", content=content, **kwargs)

    async def send_modal(self, modal: discord.ui.Modal) -> None:
        self._respond("send_modal", modal=modal)

    async def edit_message(self, **kwargs: Any) -> None:
        self._respond("edit_message", **kwargs)

    @property
    def text(self) -> str:
        return " ".join(str(kw.get("content") or "") for _, kw in self.calls)


class FakeFollowup:
    """discord.Webhook as used for followups."""

    def __init__(self, channel: FakeChannel) -> None:
        self.channel = channel
        self.sent: list[dict[str, Any]] = []
        self.messages: list[FakeMessage] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        self.sent.append({"content": content, **kwargs})
        self.messages.append(FakeMessage(self.channel, content, **kwargs))
        return self.messages[-1]

    @property
    def text(self) -> str:
        return " ".join(str(s.get("content") or "") for s in self.sent)


def make_member(user_id: int, *, administrator: bool = False, manage_guild: bool = False) -> Any:
    member = mock.NonCallableMagicMock(spec=discord.Member)
    member.id = user_id
    member.mention = f"<@{user_id}>"
    member.display_name = f"user{user_id}"
    member.guild_permissions = discord.Permissions(administrator=administrator, manage_guild=manage_guild)
    member.send = mock.AsyncMock()
    return member


def make_interaction(client: Any, user: Any, *, guild_id: int | None = 1, channel: FakeChannel | None = None,
                     namespace: dict[str, Any] | None = None) -> Any:
    """A spec-bound Interaction whose response/followup record what the bot answered."""
    channel = channel or FakeChannel()
    interaction = mock.NonCallableMagicMock(spec=discord.Interaction)
    interaction.id = next(_ids)
    interaction.client = client
    interaction.user = user
    interaction.guild_id = guild_id
    interaction.channel = channel
    interaction.channel_id = channel.id
    interaction.extras = {}
    interaction.message = None
    interaction.command = None
    interaction.namespace = SimpleNamespace(**(namespace or {}))
    interaction.response = FakeResponse()
    interaction.followup = FakeFollowup(channel)
    interaction.edit_original_response = mock.AsyncMock()
    return interaction
