"""Audit export: a guild's chained audit rows as JSON Lines or CSV, optionally within a byte budget.

Why here: the CLI (`main.py audit export`) and `/cloud-audit export:` write the same file.
Each line carries the row's `prev_hash` and `row_hash`, so anyone can check the chain of an
export against `main.py audit verify`. Known secrets are masked again on the way out: rows
written before a secret was known (or before masking existed) never leave unmasked; such a
row's hash then no longer matches its exported text, which is the safe side to err on.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from cloud_engine.errors import InvalidInput
from cloud_engine.secret_text import mask_secrets
from cloud_engine.store.audit import export_rows, masked
from cloud_engine.store.audit_chain import backfill_all
from cloud_engine.store.database import Database
from cloud_engine.store.rows import loads

__all__ = ["EXPORT_COLUMNS", "AuditExport", "ExportFormat", "export_audit", "parse_since", "render_export"]

ExportFormat = Literal["jsonl", "csv"]
EXPORT_COLUMNS = ("id", "ts", "guild_id", "actor_id", "action", "target_type", "target_id", "from_state", "to_state",
                  "detail", "request_id", "prev_hash", "row_hash")
_TEXT_COLUMNS = ("action", "target_type", "target_id", "from_state", "to_state", "request_id")


@dataclass(frozen=True)
class AuditExport:
    """An export's bytes and what they hold: `rows` of the `total` that matched (fewer when cut to a budget)."""

    data: bytes
    format: ExportFormat
    rows: int
    total: int
    first_id: int | None
    last_id: int | None
    next_since: str | None  # the timestamp of the first row left out, to continue from

    @property
    def truncated(self) -> bool:
        return self.rows < self.total

    @property
    def filename(self) -> str:
        return f"audit-{self.first_id or 0}-{self.last_id or 0}.{self.format}"


def parse_since(text: str) -> datetime:
    """`YYYY-MM-DD` (midnight UTC) or an ISO date and time (UTC when it names no zone); InvalidInput otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field="since", rule="a date YYYY-MM-DD or an ISO date and time, e.g. 2026-11-02") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    out = {column: row.get(column) for column in EXPORT_COLUMNS}
    out["detail"] = masked(loads(row.get("detail"), {}))
    for column in _TEXT_COLUMNS:
        if isinstance(value := out[column], str):
            out[column] = mask_secrets(value)
    return out


def _line(row: dict[str, Any], fmt: ExportFormat) -> str:
    if fmt == "jsonl":
        return json.dumps(row, ensure_ascii=False, sort_keys=False, default=str) + "\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        [json.dumps(row[c], sort_keys=True) if c == "detail" else "" if row[c] is None else row[c]
         for c in EXPORT_COLUMNS])
    return buffer.getvalue()


def render_export(rows: list[dict[str, Any]], fmt: ExportFormat, *, max_bytes: int | None = None) -> AuditExport:
    """`rows` (oldest first) as one file; with `max_bytes`, the oldest rows that fit, and where to go on from."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown export format {fmt!r}")
    parts: list[bytes] = [(",".join(EXPORT_COLUMNS) + "\n").encode()] if fmt == "csv" else []
    size = sum(map(len, parts))
    kept: list[dict[str, Any]] = []
    for row in rows:
        clean = _clean(row)
        encoded = _line(clean, fmt).encode("utf-8")
        if max_bytes is not None and size + len(encoded) > max_bytes:
            break
        parts.append(encoded)
        size += len(encoded)
        kept.append(clean)
    left_out = rows[len(kept)] if len(kept) < len(rows) else None
    return AuditExport(data=b"".join(parts), format=fmt, rows=len(kept), total=len(rows),
                       first_id=kept[0]["id"] if kept else None, last_id=kept[-1]["id"] if kept else None,
                       next_since=str(left_out["ts"]) if left_out else None)


async def export_audit(db: Database, fmt: ExportFormat, *, guild_id: int | None = None, all_guilds: bool = False,
                       since: datetime | None = None, max_bytes: int | None = None) -> AuditExport:
    """One guild's audit rows (or every guild's) from `since` on, chained first if they predate the chain."""
    await backfill_all(db)
    rows = await export_rows(db, guild_id=guild_id, all_guilds=all_guilds, since=since)
    return render_export(rows, fmt, max_bytes=max_bytes)
