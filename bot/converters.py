"""Typed slash-command parameters: durations like 2h/30m/1d and comma lists.

Why transformers: the command receives a `timedelta`, and a malformed value is refused by
the tree (TransformerError -> one short reply) before the command body runs.
"""

from __future__ import annotations

import re
from datetime import timedelta

import discord
from discord import app_commands

from cloud_engine.errors import InvalidInput

__all__ = ["Duration", "DurationTransformer", "parse_duration", "policy_params", "split_list"]

_DURATION = re.compile(r"(?P<n>\d+)\s*(?P<unit>[smhdw])", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_DURATION = timedelta(days=90)


def parse_duration(text: str) -> timedelta:
    """'2h', '30m', '1d12h' -> timedelta; at least one minute, at most 90 days."""
    cleaned = text.strip().replace(" ", "")
    parts = list(_DURATION.finditer(cleaned))
    if not cleaned or not parts or "".join(m.group(0) for m in parts) != cleaned:
        raise InvalidInput(field="duration", rule="like 30m, 2h, 1d or 1d12h")
    total = timedelta()
    for match in parts:
        total += timedelta(**{_UNITS[match["unit"].lower()]: int(match["n"])})
    if not timedelta(minutes=1) <= total <= MAX_DURATION:
        raise InvalidInput(field="duration", rule="between 1 minute and 90 days")
    return total


def split_list(text: str | None) -> list[str]:
    """'us-east1, europe-west1' -> ['us-east1', 'europe-west1']."""
    return [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]


class DurationTransformer(app_commands.Transformer):
    async def transform(self, interaction: discord.Interaction, value: str) -> timedelta:
        return parse_duration(value)


Duration = app_commands.Transform[timedelta, DurationTransformer]


def policy_params(*, allowed_regions: str | None = None, denied_regions: str | None = None,
                  max_monthly: float | None = None, max_count: int | None = None, min_role: str | None = None,
                  check: str | None = None, approvals: int | None = None, approver_role: str | None = None,
                  approvers_must_differ: bool | None = None,
                  approver_discord_role: int | None = None) -> dict[str, object]:
    """Slash-command options -> the `params` dict a PolicySpec validates (unset options are left out)."""
    params: dict[str, object] = {}
    if allowed_regions:
        params["allowed"] = split_list(allowed_regions)
    if denied_regions:
        params["denied"] = split_list(denied_regions)
    if max_monthly is not None:
        params["max_monthly_usd"] = max_monthly
    if max_count is not None:
        params["max_count"] = max_count
    if min_role:
        params["min_role"] = min_role
    if check:
        params["check"] = check
    if approvals is not None:
        params["approvals"] = approvals
    if approver_role:
        params["approver_role"] = approver_role
    if approvers_must_differ is not None:
        params["approvers_must_differ"] = approvers_must_differ
    if approver_discord_role is not None:
        params["approver_discord_role"] = approver_discord_role
    return params
