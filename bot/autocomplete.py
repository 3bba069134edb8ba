"""Autocomplete sources shared by several cogs (cogs never import each other).

Each returns at most 25 choices from the engine or the catalogue, filtered by what the user
has typed and by earlier options (the chosen provider, the chosen project). Discord sends
autocomplete before any command check runs, so each source first asks the engine for the
caller's role: members below CloudViewer (and DMs) get no choices. A source never raises;
a failure is logged and shows no choices.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.checks import role_refusal
from bot.client import cloud_bot
from bot.limits import AUTOCOMPLETE_CHOICES, LABEL, truncate
from cloud_engine.core.models import Role
from cloud_engine.errors import EngineError

__all__ = ["commits", "gated", "projects", "regions", "resources", "sessions"]

log = logging.getLogger(__name__)

Choices = list[app_commands.Choice[str]]
T = TypeVar("T")
Source = Callable[[discord.Interaction, str], Coroutine[Any, Any, list[T]]]


async def _may_see(interaction: discord.Interaction) -> bool:
    """At least CloudViewer in this guild (a Discord administrator is synced first, as for commands)."""
    return await role_refusal(interaction, Role.VIEWER) is None


def gated(source: Source[T]) -> Source[T]:
    """No choices for callers below CloudViewer; never raise into discord.py."""

    @functools.wraps(source)
    async def wrapper(interaction: discord.Interaction, current: str) -> list[T]:
        try:
            if not await _may_see(interaction):
                return []
            return await source(interaction, current)
        except Exception:
            log.warning("autocomplete %s failed", source.__name__, exc_info=True)
            return []

    return wrapper


def _take(pairs: list[tuple[str, str]], current: str) -> Choices:
    needle = current.lower().strip()
    hits = [(name, value) for name, value in pairs if needle in name.lower() or needle in value.lower()]
    return [app_commands.Choice(name=truncate(name, LABEL), value=value[:LABEL]) for name, value in hits][
        :AUTOCOMPLETE_CHOICES]


@gated
async def projects(interaction: discord.Interaction, current: str) -> Choices:
    found = await cloud_bot(interaction).engine.list_projects(interaction.guild_id or 0)
    return _take([(f"{p.name} ({p.provider} {p.region})", p.name) for p in found], current)


@gated
async def regions(interaction: discord.Interaction, current: str) -> Choices:
    provider = getattr(interaction.namespace, "provider", None) or "gcp"
    catalog = cloud_bot(interaction).engine.catalog
    return _take([(r, r) for r in catalog.regions(provider)], current)


async def _project_id(interaction: discord.Interaction) -> int | None:
    name = getattr(interaction.namespace, "project", None)
    if not name:
        return None
    try:
        project = await cloud_bot(interaction).engine.find_project(interaction.guild_id or 0, name)
    except EngineError:
        return None
    return project.id


@gated
async def resources(interaction: discord.Interaction, current: str) -> Choices:
    project_id = await _project_id(interaction)
    if project_id is None:
        return []
    found = await cloud_bot(interaction).engine.project_resources(project_id)
    return _take([(f"{r.kind}/{r.name} (${r.cost_monthly:,.2f}/mo)", f"{r.kind}/{r.name}") for r in found], current)


@gated
async def commits(interaction: discord.Interaction, current: str) -> Choices:
    project_id = await _project_id(interaction)
    if project_id is None:
        return []
    rows = await cloud_bot(interaction).engine.history(project_id)
    return _take([(f"{r.commit_sha[:12]} · {r.finished_at.isoformat()[:16]} · session {r.session_id}", r.commit_sha)
                  for r in rows if r.outcome == "APPLIED" and r.commit_sha], current)


@gated
async def sessions(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The caller's own recent sessions (integer option: Discord sends what is typed so far as text)."""
    found = await cloud_bot(interaction).engine.list_sessions(interaction.guild_id or 0, user_id=interaction.user.id,
                                                              limit=50)
    typed = str(current).strip()
    return [app_commands.Choice(name=truncate(f"#{s.id} {s.state.value} · {s.purpose}", LABEL), value=s.id)
            for s in found if typed in str(s.id)][:AUTOCOMPLETE_CHOICES]
