"""The FOCUS-shaped cost ledger and the utilisation metrics table, in DuckDB.

Why DuckDB: billing exports run to millions of rows and the questions asked of them are
group-bys over columns, which a columnar engine answers in milliseconds; it also reads CSV
and Parquet natively, so no row is ever parsed by hand. One connection serves the process:
an asyncio lock serialises access and every call runs in a worker thread, so the event loop
never waits on a scan.

Every row carries its scope (`guild_id`, the Discord server that imported it) and every
query of the ledger filters on it: one server never sees another's bills. The tables and
their upgrade from older files live in `ledger_schema`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from cloud_engine.finops.ledger_schema import ensure_schema
from cloud_engine.private_files import private_dir, tighten

T = TypeVar("T")


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    if path != ":memory:":
        private_dir(Path(path).parent)
    conn = duckdb.connect(path)
    # Timestamps are stored as naive UTC; offsets in source files are converted on the way in.
    conn.execute("SET TimeZone = 'UTC'")
    ensure_schema(conn)
    # A fetchone() leaves its result open, and DuckDB then refuses `register` (how connector tables
    # are imported) on the connection: finish with a fully fetched statement.
    conn.execute("SELECT 1").fetchall()
    _tighten_files(path)
    return conn


def _tighten_files(path: str) -> None:
    """Make the ledger file and its write-ahead log the bot user's only (blocking).

    DuckDB creates both with the process umask and has no setting for their mode, and it
    deletes and re-creates the WAL at checkpoints, so this runs after every call that may
    have written. The folder is 0700 already, so nobody else could reach them meanwhile.
    """
    if path != ":memory:":
        for file in (Path(path), Path(f"{path}.wal")):
            tighten(file)


class Ledger:
    """Owns the DuckDB connection; `run(fn)` executes `fn(conn)` in a thread under a lock."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: str) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Ledger:
        """Open or create the ledger file (':memory:' for tests) and ensure its tables exist."""
        path = str(path)
        conn = await asyncio.to_thread(_connect, path)
        return cls(conn, path)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking DuckDB work off the event loop, one caller at a time.

        Why the shield: a thread cannot be interrupted, so if the caller is cancelled (a
        timeout, bot shutdown) the work goes on using the connection. The lock is held until
        that thread has finished, and only then is the cancellation passed on; releasing it
        earlier would let a second caller use the same DuckDB connection concurrently.
        """
        async with self._lock:
            work = asyncio.ensure_future(asyncio.to_thread(self._call, fn, *args))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                while not work.done():  # the thread still owns the connection: keep the lock
                    try:
                        await asyncio.wait([work])
                    except asyncio.CancelledError:
                        continue  # cancelled again while waiting: still wait for the thread
                if not work.cancelled():
                    work.exception()  # the caller is gone; mark a failure of the work as seen
                raise

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(conn, *args)` in the worker thread, then the files it may have created made private."""
        try:
            return fn(self._conn, *args)
        finally:
            _tighten_files(self.path)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)


__all__ = ["Ledger"]
