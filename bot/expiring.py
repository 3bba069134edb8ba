"""Views under an interaction message that grey themselves out when they stop working.

Why: a non-persistent view stops answering when its timeout passes (and its message can
only be edited through the interaction token, which lives 15 minutes). Left as is, its
buttons still look pressable and fail with "This interaction failed". So these views time
out a minute before the token does and use that minute to disable every component and say
so in the message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.limits import VIEW_SECONDS

__all__ = ["EXPIRED_NOTE", "ExpiringView"]

EXPIRED_NOTE = "-# These buttons have expired; run the command again."


class ExpiringView(discord.ui.View):
    """A View that, on timeout, disables its components in the message it was sent with.

    Call `shown_in(message)` with the message the view was sent in (a followup returns
    it), or `shown_in(interaction)` when it was the interaction's response.
    """

    def __init__(self, *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self._edit: Callable[..., Awaitable[Any]] | None = None
        self._content: str | None = None
        self._content_known = False

    def shown_in(self, where: discord.Interaction | Any, *, content: str | None = None) -> None:
        """Remember where this view is displayed (and its text), so that expiry can update it."""
        if isinstance(where, discord.Interaction):
            self._edit = where.edit_original_response
            self._content, self._content_known = content, content is not None
        else:
            self._edit = where.edit
            self._content = content if content is not None else getattr(where, "content", None)
            self._content_known = True

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        if self._edit is None:
            return
        changes: dict[str, Any] = {"view": self}
        if self._content_known:  # otherwise the text is not ours to rewrite: the greyed buttons say enough
            changes["content"] = f"{self._content}\n{EXPIRED_NOTE}" if self._content else EXPIRED_NOTE
        with contextlib.suppress(discord.HTTPException):  # deleted message or an expired token: nothing to grey out
            await self._edit(**changes)
