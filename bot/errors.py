"""Every failure a user can meet, turned into one short reply in one place.

Why here and nowhere else: commands and buttons raise; they never compose failure text.
Engine errors carry data (see cloud_engine/errors.py) and get Discord wording from
USER_MESSAGES; failed checks are refusals; anything unexpected is logged with its
traceback and an incident id, and the user sees the id but never a stack trace.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from pydantic import ValidationError

from bot.limits import MESSAGE, code, safe, truncate
from cloud_engine.errors import (
    AdvisorError,
    Busy,
    ConfigurationError,
    EngineError,
    IllegalTransition,
    IngestError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ProjectLocked,
    QuotaExceeded,
    RateLimited,
    StalePlan,
    TerraformError,
    UnsupportedResource,
)
from cloud_engine.logging_setup import new_request_id, request_id_var

__all__ = ["USER_MESSAGES", "CloudCheckFailure", "describe", "handle_app_command_error", "reply", "report",
           "request_id_of", "with_request_id"]

log = logging.getLogger(__name__)

USER_MESSAGES: dict[type[EngineError], str] = {
    NotFound: "Not found: {what} `{key}`.",
    IllegalTransition: "A deployment in **{state}** cannot {event}.",
    PermissionDenied: "Not allowed: {action} needs **{required}** (you have {role}).",
    QuotaExceeded: "Quota reached for **{quota}**: {used} used + {reserved} reserved + {requested} requested > {limit}.",
    InvalidInput: "Invalid **{field}**: {rule}",
    UnsupportedResource: "{kind} is not supported on {provider}.",
    PolicyViolation: "Blocked by policy **{policy}**: {detail}",
    ProjectLocked: "**{project}** is busy with deployment {holder}; try again when it finishes.",
    StalePlan: "The plan is out of date ({reason}); press **Plan** again.",
    TerraformError: "Terraform {phase} failed: {detail}",
    RateLimited: "Slow down: at most {limit} {action} actions per minute. Try again in {retry_after:.0f}s.",
    ConfigurationError: "The bot is missing the setting {variable}; ask an admin.",
    AdvisorError: "The advisor could not answer: {detail}",
    IngestError: "Import rejected: {detail}",
    Busy: "The database is busy; try again in a moment.",
}


_VALUE = MESSAGE * 3 // 4  # one value of an engine error in its message


class CloudCheckFailure(app_commands.CheckFailure):
    """A check refused the caller; `reason` is shown to them as-is (already user wording)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def request_id_of(interaction: discord.Interaction) -> str:
    """The interaction's request id, minting one if the tree's check has not (components, modals)."""
    rid = interaction.extras.get("request_id") or request_id_var.get()
    if not rid:
        rid = new_request_id()
    interaction.extras["request_id"] = rid
    return rid


def describe(error: BaseException) -> str | None:
    """User wording for an expected failure, or None for an unexpected one."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__:
        if isinstance(error, app_commands.TransformerError) and not isinstance(error.__cause__, EngineError):
            return f"Could not understand `{code(error.value, 100)}`: {safe(error.__cause__)}"
        error = error.__cause__
    if isinstance(error, EngineError):
        template = next((USER_MESSAGES[t] for t in type(error).__mro__ if t in USER_MESSAGES), None)
        # each value cut on its own first, so one long value (a 3000-character name) leaves the wording and its
        # closing backtick intact; `with_request_id` still cuts the whole if several long values add up
        data = {k: safe(v, _VALUE) if isinstance(v, str) else v for k, v in error.data.items()}
        try:
            return template.format(**data) if template else safe(error.message)
        except (KeyError, IndexError, ValueError):
            return safe(error.message)
    if isinstance(error, ValidationError):
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": str(error)}
        where = ".".join(str(p) for p in first.get("loc", ())) or "input"
        return f"Invalid **{safe(where)}**: {safe(str(first.get('msg', '')).removeprefix('Value error, '))}"
    if isinstance(error, CloudCheckFailure):
        return error.reason
    if isinstance(error, app_commands.NoPrivateMessage):
        return "Cloud Engine commands work inside a server, not in DMs."
    if isinstance(error, app_commands.MissingPermissions):
        return "You need the **Manage Server** permission for this command."
    if isinstance(error, app_commands.CheckFailure):
        return "You may not use this command here."
    if isinstance(error, app_commands.TransformerError):
        return f"Could not understand `{code(error.value, 100)}`."
    return None


async def reply(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral answer whether or not the interaction was already answered or deferred.

    Ephemeral only if the interaction's own response allows it: after a *public* `defer(thinking=True)`
    Discord turns the first followup into that public message and ignores `ephemeral=True`. So a command
    whose failure must stay private either answers without deferring or defers ephemerally and posts its
    public result as a later followup (see /cloud-advise).
    """
    text = truncate(text, MESSAGE)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply", extra={"interaction_id": getattr(interaction, "id", None)})


async def report(interaction: discord.Interaction, error: BaseException, *, action: str = "command") -> None:
    """Answer `error` for commands, buttons, selects and modals alike; audit refusals."""
    rid = request_id_of(interaction)
    text = describe(error)
    if text is None:
        log.error("unexpected error handling %s", action, exc_info=error,
                  extra={"request_id": rid, "user_id": interaction.user.id, "guild_id": interaction.guild_id})
        await reply(interaction, f"Something went wrong on our side. Incident id `{rid}`; an admin can find it in the logs.")
        return
    cause = error.__cause__ if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(cause, PermissionDenied | CloudCheckFailure) and interaction.guild_id:
        await _audit_refusal(interaction, action, interaction.guild_id, text)
    log.info("refused %s: %s", action, text, extra={"request_id": rid, "error": type(cause).__name__})
    await reply(interaction, with_request_id(text, rid))


def with_request_id(text: str, rid: str) -> str:
    """`text` cut to leave room for the request id line, so that line always survives `reply`'s limit."""
    tail = f"\n-# request `{rid}`"
    room = MESSAGE - len(tail)
    cut = truncate(text, room)
    # A cut inside `code` or a ``` block would swallow the request id line into it: close it.
    for closer in ("\n```", "`"):
        if _open_code(cut) == closer:
            cut = truncate(text, room - len(closer))
            cut += closer if _open_code(cut) == closer else ""
    return cut + tail


def _open_code(text: str) -> str | None:
    """The text that closes the code span `text` ends inside ("\n```" or "`"), or None."""
    if text.count("```") % 2:
        return "\n```"
    if len(re.findall(r"(?<!\\)`", text.replace("```", ""))) % 2:
        return "`"
    return None


async def _audit_refusal(interaction: discord.Interaction, action: str, guild_id: int, reason: str) -> None:
    from bot.bot import CloudBot  # at call time: bot.bot imports this module

    if not isinstance(interaction.client, CloudBot):  # another client (none in production): nothing to audit into
        return
    session_id = interaction.extras.get("session_id")
    try:
        await interaction.client.engine.record_refusal(guild_id, interaction.user.id, action, reason,
                                                       session_id=session_id)
    except Exception:
        log.exception("could not audit a refusal")


async def handle_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """The tree's one error handler (installed as `tree.on_error`)."""
    command = interaction.command.qualified_name if interaction.command else "command"
    await report(interaction, error, action=command)
