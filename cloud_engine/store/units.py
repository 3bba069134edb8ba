"""Units: a transaction's (or a group of reads') statements driven on the database thread at once.

Why: every statement awaited on aiosqlite is a round trip to its worker thread and back (a
queue hand-off, a wake-up of the event loop), and a writer holds the lock for all of its
transaction's round trips, so under load the writer's queue, not SQLite, set every caller's
latency. A unit is a coroutine whose only awaits are its statements: the same code a
`transaction()` block holds, repositories unchanged. It is sent to the connection's thread
once and driven there to its end, each `await conn.execute(...)` a direct sqlite3 call on an
`OnThread` twin, so a validation's two transactions cost the writer two round trips instead
of fifteen (bench/bench_core.py). A unit that awaits anything else (a sleep, a lock, another
service, another database) is a bug and fails loudly, rolled back, instead of blocking the thread.

This leans on aiosqlite 0.22's private `_execute` (how it sends a call to its thread),
`_connection` and `_iter_chunk_size`, pinned in requirements.txt; tests/cloud_engine/store/
test_units.py fails on an upgrade that changes them. `Database.atomic` and `Database.read`
are the public seam.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast

import aiosqlite

__all__ = ["OnThread", "UnitCall", "drive", "run_unit", "send_to_thread"]

T = TypeVar("T")
UnitCall = Callable[[aiosqlite.Connection], Coroutine[Any, Any, Any]]


class OnThread(aiosqlite.Connection):
    """An aiosqlite connection's own sqlite3 connection, for code already running on its worker thread.

    It is an `aiosqlite.Connection` (every repository takes one, and runs unchanged inside a
    unit), but it queues nothing: `_execute`, through which aiosqlite sends every call and every
    cursor method to the thread, calls straight through. Built over aiosqlite 0.22's private
    `_execute`/`_connection`/`_iter_chunk_size` (pinned in requirements.txt); no thread of its
    own, so `__init__` does not call aiosqlite's, and closing stays with the owning connection.
    """

    def __init__(self, owner: aiosqlite.Connection) -> None:  # not aiosqlite's: no worker thread, see above
        self._running = True
        self._connection = owner._conn
        self._iter_chunk_size = owner._iter_chunk_size

    def __del__(self) -> None:
        """The sqlite3 connection is its owner's to close."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)


def drive(unit: Coroutine[Any, Any, T]) -> T:
    """Run `unit` to its end on this thread; it may await only statements on an `OnThread` connection."""
    try:
        unit.send(None)
    except StopIteration as done:
        return cast("T", done.value)
    unit.close()
    raise RuntimeError("a database unit awaited something other than its statements")


def run_unit(twin: OnThread, begin: str, unit: UnitCall) -> Any:
    """On the worker thread: `begin`, drive the unit on `twin`, COMMIT (ROLLBACK if it raised)."""
    raw = twin._conn
    raw.execute(begin)
    try:
        result = drive(unit(twin))
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:  # SQLite ends the transaction itself on some errors
            raw.execute("ROLLBACK")
        raise
    return result


async def send_to_thread(owner: aiosqlite.Connection, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` on `owner`'s worker thread, queued behind its statements, in one round trip."""
    send: Callable[..., Awaitable[Any]] = owner._execute  # unannotated in aiosqlite
    return await send(fn, *args)
