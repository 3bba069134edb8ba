"""Two locks, one module.

The durable project lock is a row in `project_locks` (survives restarts), held by a
session from the start of its plan to the end of its apply, and released on failure,
cancel, expiry and the startup sweep. The execution lock is an in-process asyncio.Lock
per project root, so two Terraform processes never share one working directory.
The lock rows' statements live in store/locks.py; this module decides what holding one means.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime

import aiosqlite

from cloud_engine.errors import ProjectLocked
from cloud_engine.store import locks as store


async def acquire_project_lock(conn: aiosqlite.Connection, *, project_id: int, project_name: str,
                               session_id: int, user_id: int, now: datetime) -> None:
    """Take the project's lock for `session_id` (re-entrant for the holder) or raise ProjectLocked."""
    holder, holder_user = await store.insert_or_holder(conn, project_id=project_id, session_id=session_id,
                                                       user_id=user_id, now=now)
    if holder != session_id:
        raise ProjectLocked(project=project_name, holder=holder, holder_user=holder_user)


async def release_project_lock(conn: aiosqlite.Connection, *, project_id: int, session_id: int) -> None:
    """Release the lock if this session holds it (no-op otherwise)."""
    await store.release(conn, project_id=project_id, session_id=session_id)


class WorkdirLocks:
    """asyncio.Lock per project root directory."""

    def __init__(self) -> None:
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def for_project(self, project_id: int) -> asyncio.Lock:
        return self._locks[project_id]
