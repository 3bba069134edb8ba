"""App-command checks and button gates on top of the engine's permission levels.

Why thin: who may do what is decided in cloud_engine/core/permissions.py, because the CLI
never passes through Discord. These wrappers only ask the engine early, so a refused user
gets a clear ephemeral reason before any work starts (the engine re-checks anyway), and
members Discord calls administrators are recorded as CloudAdmin first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.errors import CloudCheckFailure
from cloud_engine.core import permissions
from cloud_engine.core.models import Role, Session
from cloud_engine.errors import PermissionDenied

__all__ = ["LOBBY_ENGINE_ACTIONS", "lobby_refusal", "require_role", "role_refusal", "sync_admin"]

T = TypeVar("T")

# Lobby button -> the engine action whose role it needs. Approve (and the read-only review
# an approver wants first) may be pressed by others.
LOBBY_ENGINE_ACTIONS: dict[str, str] = {
    "add": "deploy", "remove": "deploy", "validate": "deploy", "plan": "deploy", "review": "view",
    "approve": "approve", "apply": "apply", "cancel": "deploy",
}
_OTHERS_MAY_PRESS = frozenset({"approve", "review"})


async def sync_admin(engine: Any, interaction: discord.Interaction) -> None:
    """Members with Discord's Administrator permission become CloudAdmin (audited once by the engine)."""
    perms = getattr(interaction.user, "guild_permissions", None)
    if interaction.guild_id and perms is not None and perms.administrator:
        await engine.sync_discord_admin(interaction.guild_id, interaction.user.id)


async def role_refusal(interaction: discord.Interaction, minimum: Role, *, what: str = "This command") -> str | None:
    """Why the caller may not use `what` (their engine role is below `minimum`), or None if they may.

    Discord administrators are synced to CloudAdmin first, as for slash commands.
    """
    if interaction.guild_id is None:
        return "Cloud Engine works inside a server, not in DMs."
    engine = interaction.client.engine  # type: ignore[attr-defined]
    await sync_admin(engine, interaction)
    role = await engine.role(interaction.guild_id, interaction.user.id)
    if role >= minimum:
        return None
    return f"{what} needs **{minimum.value}**; you have **{role.value}**. Ask a CloudAdmin for `/cloud-grant`."


def require_role(minimum: Role) -> Callable[[T], T]:
    """An app-command check: the caller's engine role must reach `minimum`."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if reason := await role_refusal(interaction, minimum):
            raise CloudCheckFailure(reason)
        return True

    return app_commands.check(predicate)


async def lobby_refusal(engine: Any, session: Session, user_id: int, action: str) -> str | None:
    """Why `user_id` may not press `action` on `session`'s lobby, or None if they may."""
    role = await engine.role(session.guild_id, user_id)
    try:
        permissions.require(role, LOBBY_ENGINE_ACTIONS[action])
    except PermissionDenied as exc:
        return f"**{action.title()}** needs **{exc.required}**; you have **{exc.role}**."
    if action not in _OTHERS_MAY_PRESS and session.user_id != user_id and not role >= Role.ADMIN:
        return f"This is <@{session.user_id}>'s deployment; only they or a CloudAdmin can **{action}** it."
    return None
