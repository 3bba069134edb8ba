"""Audit log repository: one row for every state change and admin action.

Why every read is here: the log is a hash chain (store/audit_chain.py), so only this module
and the chain's own checks touch `audit_log`; services read typed `AuditEntry`s, and the
export reads the rows exactly as stored (its lines carry the text each hash covers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core.records import AuditEntry
from cloud_engine.logging_setup import request_id_var
from cloud_engine.secret_text import mask_secrets
from cloud_engine.store.audit_chain import chain_link, seal_row
from cloud_engine.store.database import Database, one_row
from cloud_engine.store.rows import dumps, iso, loads


async def write_audit(
    conn: aiosqlite.Connection, *, at: datetime, guild_id: int | None, actor_id: int | None, action: str,
    target_type: str | None = None, target_id: str | int | None = None, from_state: str | None = None,
    to_state: str | None = None, detail: dict[str, Any] | None = None,
) -> None:
    """Insert an audit row on `conn`, inside the caller's transaction so both commit together.

    Every string in `detail` is masked first: details carry reasons, errors and texts users
    typed, and the audit log keeps them for good. The row joins its guild's hash chain
    (store/audit_chain.py): its link is read and its hash written in this same transaction,
    so concurrent writers never fork the chain.
    """
    prev_hash = await chain_link(conn, guild_id)
    # RETURNING hands back the row as stored, so it is sealed without reading it again.
    row = await one_row(
        conn, "INSERT INTO audit_log (ts, guild_id, actor_id, action, target_type, target_id, from_state, to_state,"
        " detail, request_id, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (iso(at), guild_id, actor_id, action, target_type, None if target_id is None else str(target_id),
         from_state, to_state, dumps(masked(detail or {})), request_id_var.get(), prev_hash))
    await seal_row(conn, row)


def masked(value: Any) -> Any:
    """`value` with known secrets hidden in every string it holds, at any depth (keys are the engine's own)."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [masked(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_secrets(str(value))  # what `dumps` would write for it (an exception, a path), masked


def entry_of(row: dict[str, Any]) -> AuditEntry:
    """An audit row as an AuditEntry, its detail decoded."""
    return AuditEntry(id=int(row["id"]), ts=str(row["ts"]), guild_id=row["guild_id"], actor_id=row["actor_id"],
                      action=str(row["action"]), target_type=row["target_type"], target_id=row["target_id"],
                      from_state=row["from_state"], to_state=row["to_state"], detail=loads(row["detail"], {}),
                      request_id=row["request_id"], prev_hash=row.get("prev_hash"), row_hash=row.get("row_hash"))


async def recent_audit(db: Database, guild_id: int, *, limit: int = 20, actor_id: int | None = None,
                       action: str | None = None) -> list[AuditEntry]:
    """Newest audit rows for a guild, optionally filtered by actor or action."""
    rows = await db.fetchall(
        "SELECT * FROM audit_log WHERE guild_id = ? AND (? IS NULL OR actor_id = ?) AND (? IS NULL OR action = ?)"
        " ORDER BY id DESC LIMIT ?",
        (guild_id, actor_id, actor_id, action, action, limit),
    )
    return [entry_of(row) for row in rows]


async def export_rows(db: Database, *, guild_id: int | None, all_guilds: bool, since: datetime | None) -> list[dict[str, Any]]:
    """One guild's audit rows (or every guild's) from `since` on, oldest first, as stored (for the export's lines)."""
    since_text = None if since is None else iso(since)
    return await db.fetchall("SELECT * FROM audit_log WHERE (? OR guild_id IS ?) AND (? IS NULL OR ts >= ?) ORDER BY id",
                             (all_guilds, guild_id, since_text, since_text))
