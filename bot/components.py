"""A button and a select that take their callback as an argument.

Why: views that build components in a loop (one button per answer, a select per step)
used to assign `item.callback = ...` after construction, which type checkers rightly reject
(it replaces a method). These subclasses take the coroutine up front and call it from the
real `callback` method, so discord.py sees exactly what it saw before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord

__all__ = ["ActionButton", "ActionSelect", "OnPress"]

V = TypeVar("V", bound=discord.ui.View, covariant=True)
OnPress = Callable[[discord.Interaction[Any]], Awaitable[None]]


class ActionButton(discord.ui.Button[V]):
    """A `discord.ui.Button` whose press runs `on_press(interaction)`."""

    def __init__(self, on_press: OnPress, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_press = on_press

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await self.on_press(interaction)


class ActionSelect(discord.ui.Select[V]):
    """A `discord.ui.Select` whose choice runs `on_press(interaction)`."""

    def __init__(self, on_press: OnPress, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_press = on_press

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await self.on_press(interaction)
