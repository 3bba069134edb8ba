"""App-command checks and button gates on top of the engine's permission levels.

Why thin: who may do what is decided in cloud_engine/core/permissions.py, because the CLI
never passes through Discord. These wrappers only ask the engine early, so a refused user
gets a clear ephemeral reason before any work starts (the engine re-checks anyway), and
what Discord says about the member is recorded first (`sync_member`): administrators
become CloudAdmin, and the member's current Discord role ids go to the engine, which keeps
those its role map knows (core/role_map.py explains that seam).

`admin_command` is the one spelling of an admin slash command: offered in servers only,
hidden from non-managers (`default_permissions(manage_guild=True)`; server admins can
change that in Integrations settings) and checked against the engine's CloudAdmin role.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.client import cloud_bot
from bot.custom_ids import LobbyAction
from bot.errors import CloudCheckFailure
from cloud_engine.core import permissions
from cloud_engine.core.models import Role, Session
from cloud_engine.errors import PermissionDenied

if TYPE_CHECKING:
    from cloud_engine.core import CloudOrchestrator

__all__ = ["LOBBY_ENGINE_ACTIONS", "admin_command", "admin_only", "discord_role_ids", "lobby_refusal", "require_role",
           "role_refusal", "sync_admin", "sync_member"]

T = TypeVar("T")
# A slash command's callback as a cog method: (cog, interaction, **options) -> coroutine.
CommandCallback = Callable[..., Coroutine[Any, Any, None]]

# Lobby button -> the engine action whose role it needs. Approve and Reject (who may reject is
# who may approve), and the read-only review an approver wants first, may be pressed by others.
LOBBY_ENGINE_ACTIONS: dict[LobbyAction, str] = {
    LobbyAction.ADD: "deploy", LobbyAction.REMOVE: "deploy", LobbyAction.VALIDATE: "deploy",
    LobbyAction.PLAN: "deploy", LobbyAction.REVIEW: "view", LobbyAction.APPROVE: "approve",
    LobbyAction.REJECT: "approve", LobbyAction.APPLY: "apply", LobbyAction.CANCEL: "deploy",
}
_OTHERS_MAY_PRESS = frozenset({LobbyAction.APPROVE, LobbyAction.REJECT, LobbyAction.REVIEW})


def discord_role_ids(user: discord.User | discord.Member) -> list[int] | None:
    """The ids of the Discord roles a server member holds now (with @everyone); None for a user outside a server."""
    roles = getattr(user, "roles", None)
    if not isinstance(roles, list):
        return None
    return [role.id for role in roles]


async def sync_member(engine: CloudOrchestrator, interaction: discord.Interaction) -> None:
    """Tell the engine what Discord says about the member before any check: their roles, and whether they administer.

    Called before every command check and lobby button, so a mapped Discord role counts from
    the member's next interaction after they get it, and stops counting at the next one after
    they lose it (the engine records only roles its map knows, and only when they change).
    Members with Discord's Administrator permission become CloudAdmin (audited once by the engine).
    """
    if not interaction.guild_id:
        return
    if (role_ids := discord_role_ids(interaction.user)) is not None:
        await engine.record_member_roles(interaction.guild_id, interaction.user.id, role_ids)
    perms = getattr(interaction.user, "guild_permissions", None)
    if perms is not None and perms.administrator:
        await engine.sync_discord_admin(interaction.guild_id, interaction.user.id)


sync_admin = sync_member  # the name callers used before Discord roles were recorded too


async def role_refusal(interaction: discord.Interaction, minimum: Role, *, what: str = "This command") -> str | None:
    """Why the caller may not use `what` (their engine role is below `minimum`), or None if they may.

    Discord administrators are synced to CloudAdmin first, as for slash commands.
    """
    if interaction.guild_id is None:
        return "Cloud Engine works inside a server, not in DMs."
    engine = cloud_bot(interaction).engine
    await sync_member(engine, interaction)
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


def admin_only() -> Callable[[T], T]:
    """Offered in servers only and hidden from non-managers: for a command, or a GroupCog and its subcommands."""

    def decorate(obj: T) -> T:
        return app_commands.guild_only()(app_commands.default_permissions(manage_guild=True)(obj))

    return decorate


def admin_command(*, name: str, description: str,
                  ) -> Callable[[CommandCallback], app_commands.Command[Any, ..., None]]:
    """A top-level admin slash command: `admin_only()` plus the CloudAdmin role check.

    Stack `app_commands.describe(...)` or `autocomplete(...)` under it, as under `app_commands.command`.
    On a plain Cog each top-level command needs these itself (class decorators reach only a GroupCog's group).
    """

    def decorate(callback: CommandCallback) -> app_commands.Command[Any, ..., None]:
        gated = admin_only()(require_role(Role.ADMIN)(callback))
        return app_commands.command(name=name, description=description)(gated)

    return decorate


async def lobby_refusal(engine: CloudOrchestrator, session: Session, user_id: int,
                        action: LobbyAction) -> str | None:
    """Why `user_id` may not press `action` on `session`'s lobby, or None if they may."""
    role = await engine.role(session.guild_id, user_id)
    try:
        permissions.require(role, LOBBY_ENGINE_ACTIONS[action])
    except PermissionDenied as exc:
        return f"**{action.title()}** needs **{exc.data['required']}**; you have **{exc.data['role']}**."
    # Authorship is the engine's rule (permissions.may_change_session); the lobby only asks it.
    if action not in _OTHERS_MAY_PRESS and not permissions.may_change_session(role, author_id=session.user_id, user_id=user_id):
        return f"This is <@{session.user_id}>'s deployment; only they or a CloudAdmin can **{action}** it."
    return None
