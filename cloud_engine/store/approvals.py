"""Approvals repository: `plan_approvals`, one row per approver of one plan of a session.

Why apart from sessions: an approval belongs to a plan (its fingerprint), not to the session
row, and the count that decides APPROVED is taken in the transaction that records it
(cloud_engine/core/approvals.py says what counts).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.store.database import Source, read_all, write
from cloud_engine.store.rows import dumps, iso

__all__ = ["delete_approvals", "insert_approval", "plan_approval_rows"]


async def plan_approval_rows(src: Source, session_id: int, fingerprint: str) -> list[dict[str, Any]]:
    """The approvals of one plan of the session, oldest first."""
    return await read_all(src, "SELECT approver_id, approver_role, approved_at, discord_roles FROM plan_approvals"
                               " WHERE session_id = ? AND plan_fingerprint = ? ORDER BY approved_at, rowid",
                          (session_id, fingerprint))


async def insert_approval(conn: aiosqlite.Connection, session_id: int, fingerprint: str, approver_id: int,
                          role: str, now: datetime, discord_roles: Collection[int]) -> bool:
    """One approval; False when this approver had already approved this plan."""
    return await write(conn, "INSERT INTO plan_approvals (session_id, plan_fingerprint, approver_id, approver_role,"
                             " approved_at, discord_roles) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       (session_id, fingerprint, approver_id, role, iso(now), dumps(sorted(discord_roles)))) == 1


async def delete_approvals(conn: aiosqlite.Connection, session_id: int) -> int:
    """Forget every approval of the session's plans; how many there were."""
    return await write(conn, "DELETE FROM plan_approvals WHERE session_id = ?", (session_id,))
