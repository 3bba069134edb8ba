"""Audit log repository: one row for every state change and admin action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.logging_setup import request_id_var
from cloud_engine.secret_text import mask_secrets
from cloud_engine.store.audit_chain import chain_link, seal
from cloud_engine.store.database import Database
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
    async with conn.execute(
        "INSERT INTO audit_log (ts, guild_id, actor_id, action, target_type, target_id, from_state, to_state, detail,"
        " request_id, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (iso(at), guild_id, actor_id, action, target_type, None if target_id is None else str(target_id),
         from_state, to_state, dumps(masked(detail or {})), request_id_var.get(), prev_hash),
    ) as cur:
        row_id = int(cur.lastrowid or 0)
    await seal(conn, row_id)


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


async def recent_audit(db: Database, guild_id: int, *, limit: int = 20, actor_id: int | None = None,
                       action: str | None = None) -> list[dict[str, Any]]:
    """Newest audit rows for a guild, optionally filtered by actor or action."""
    rows = await db.fetchall(
        "SELECT * FROM audit_log WHERE guild_id = ? AND (? IS NULL OR actor_id = ?) AND (? IS NULL OR action = ?)"
        " ORDER BY id DESC LIMIT ?",
        (guild_id, actor_id, actor_id, action, action, limit),
    )
    for row in rows:
        row["detail"] = loads(row["detail"], {})
    return rows
