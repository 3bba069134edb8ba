"""Row ↔ model helpers shared by the repositories."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cloud_engine.errors import NotFound

# SQLite stores integers as signed 64-bit; a larger Python int cannot be bound at all.
SQLITE_INT_MIN, SQLITE_INT_MAX = -(2**63), 2**63 - 1


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def loads(value: str | None, default: Any = None) -> Any:
    return json.loads(value) if value else default


def check_id(value: object, what: str) -> int:
    """`value` as a row id, or NotFound naming `what` when no row could ever have it.

    Why: ids arrive from users (slash-command options, button custom ids), and an int
    outside SQLite's 64-bit range makes the driver raise OverflowError while binding it,
    an unexpected error instead of "no such session". A bool is an int to Python but never
    an id anyone meant.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not SQLITE_INT_MIN <= value <= SQLITE_INT_MAX:
        raise NotFound(what=what, key=value)
    return value
