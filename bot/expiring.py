"""Views under an interaction message that grey themselves out when they stop working.

Why: a non-persistent view stops answering when its timeout passes (and an ephemeral
message can only be edited through the interaction token, which lives 15 minutes from the
interaction's creation). Left as is, its buttons still look pressable and fail with "This
interaction failed". So these views time out `VIEW_MARGIN_SECONDS` before the token does,
counted from when the interaction was created (a slow advisor can spend a minute before the
view is even shown), and a press never pushes the expiry past that. On timeout they disable
every component and say so in the message: through the token while it lives, else (or if
that edit fails) through the bot's own token, which can edit any non-ephemeral message.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.limits import FOLLOWUP_SECONDS, VIEW_MARGIN_SECONDS, VIEW_SECONDS

__all__ = ["EXPIRED_NOTE", "ExpiringView"]

EXPIRED_NOTE = "-# These buttons have expired; run the command again."
MIN_TIMEOUT = 1.0  # shown with (almost) no token time left: expire at once rather than never (0 means no timeout)
_VIEW_TIMEOUT: property = inspect.getattr_static(discord.ui.View, "timeout")  # the property extended below


class ExpiringView(discord.ui.View):
    """A View that, on timeout, disables its components in the message it was sent with.

    Call `shown_in(message)` with the message the view was sent in (a followup returns
    it), or `shown_in(interaction)` when it was the interaction's response.
    """

    def __init__(self, *, timeout: float = VIEW_SECONDS) -> None:
        self._deadline: float | None = None  # time.monotonic() by which the view must expire (set by shown_in)
        super().__init__(timeout=timeout)
        self._edit: Callable[..., Awaitable[Any]] | None = None
        self._bot_message: Callable[[], Any] | None = None
        self._token_expires_at: datetime | None = None
        self._content: str | None = None
        self._content_known = False

    @property
    def timeout(self) -> float | None:
        """The configured timeout, but never reaching past the token's deadline.

        discord.py reads this when the view starts listening and again after every press (the
        expiry moves to now + timeout), so clamping here keeps presses from outliving the token.
        """
        base: float | None = _VIEW_TIMEOUT.__get__(self)
        if base is None or self._deadline is None:
            return base
        return max(min(base, self._deadline - time.monotonic()), MIN_TIMEOUT)

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        _VIEW_TIMEOUT.__set__(self, value)

    def shown_in(self, where: discord.Interaction | Any, *, content: str | None = None) -> None:
        """Remember where this view is displayed (and its text), so that expiry can update it."""
        if isinstance(where, discord.Interaction):
            self._edit = where.edit_original_response
            self._bot_message = lambda: _updated_message(where)
            self._content, self._content_known = content, content is not None
            created: datetime | None = where.created_at
        else:
            self._edit = where.edit
            self._bot_message = lambda: _bot_side(where)
            self._content = content if content is not None else getattr(where, "content", None)
            self._content_known = True
            created = getattr(getattr(where, "interaction_metadata", None), "created_at", None)  # on followups
        if isinstance(created, datetime):
            self._token_expires_at = created + timedelta(seconds=FOLLOWUP_SECONDS)
            left = (self._token_expires_at - discord.utils.utcnow()).total_seconds() - VIEW_MARGIN_SECONDS
            self._deadline = time.monotonic() + left
            self.timeout = self.timeout  # re-arm an already running timeout with the clamped value

    def _token_expired(self) -> bool:
        return self._token_expires_at is not None and discord.utils.utcnow() >= self._token_expires_at

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        if self._edit is None:
            return
        changes: dict[str, Any] = {"view": self}
        if self._content_known:  # otherwise the text is not ours to rewrite: the greyed buttons say enough
            changes["content"] = f"{self._content}\n{EXPIRED_NOTE}" if self._content else EXPIRED_NOTE
        if not self._token_expired():
            try:
                await self._edit(**changes)
                return
            except discord.HTTPException:
                pass  # an expired or revoked token, or a deleted message: try as the bot
        message = self._bot_message() if self._bot_message is not None else None
        if message is None:
            return
        with contextlib.suppress(discord.HTTPException):  # ephemeral (the bot cannot see it) or deleted: nothing to do
            await message.edit(**changes)


def _bot_side(message: Any) -> Any:
    """The same message addressed through the bot's token (a followup's own `edit` goes through the webhook)."""
    channel = getattr(message, "channel", None)
    get = getattr(channel, "get_partial_message", None)
    return get(message.id) if get is not None else None


def _updated_message(interaction: discord.Interaction) -> Any:
    """The message an interaction's response shows, when the bot can know it without the token: only when
    the response edited the component's own message (`response.edit_message`)."""
    updated = getattr(interaction.response, "type", None) is discord.InteractionResponseType.message_update
    return _bot_side(interaction.message) if updated and interaction.message is not None else None
