"""Row ↔ model helpers shared by the repositories."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def loads(value: str | None, default: Any = None) -> Any:
    return json.loads(value) if value else default
