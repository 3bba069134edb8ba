"""Drive a slash command as Discord would: its checks, then its callback; errors to the tree's handler."""

from __future__ import annotations

from typing import Any

from bot.errors import handle_app_command_error


async def invoke(bot: Any, path: str, interaction: Any, **kwargs: Any) -> None:
    """Run `path` ("cloud-deploy", or a group's "cloud-notify channel") with `kwargs` as its options."""
    name, *sub = path.split()
    command = bot.tree.get_command(name)
    for part in sub:
        command = command.get_command(part)
    interaction.command = command
    try:
        for check in command.checks:
            await check(interaction)
        await command.callback(command.binding, interaction, **kwargs)
    except Exception as exc:  # the tree wraps these; the handler unwraps
        await handle_app_command_error(interaction, exc)
