"""The one SQLite database, opened through aiosqlite.

Why one writer connection with an asyncio lock: SQLite allows one writer at a time, and
sharing one connection between tasks would let two tasks' statements interleave inside
one transaction. `transaction()` serialises writers in-process (BEGIN IMMEDIATE also
guards against other processes).

Why a second, read-only connection for a file database: reads outside a transaction used to
take the writer's lock (on the shared connection they would otherwise see another task's
half-written transaction), so under load every read queued behind every write. In WAL mode
a separate connection reads the last committed state without waiting for the writer, and
never sees an open transaction; reads inside a transaction still go to the writer, so a
read-then-write sees its own rows. An in-memory database is private to its connection, so
it keeps the one connection and reads under the lock.

`atomic` and `read` run a whole transaction's (or a group of reads') statements in one round
trip to the connection's thread (store/units.py says how and why).

Another process holding the write lock past `busy_timeout` surfaces as `Busy` (an
EngineError the user can retry), never as the driver's "database is locked".
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

import aiosqlite

from cloud_engine.errors import Busy
from cloud_engine.private_files import create_private_file, private_dir, tighten
from cloud_engine.store.units import OnThread, UnitCall, run_unit, send_to_thread

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
T = TypeVar("T")


class _Bound(NamedTuple):
    """The connection this task's statements on `db` use while it holds a transaction or runs in a unit."""

    db: Database
    conn: aiosqlite.Connection
    writable: bool


_bound: contextvars.ContextVar[_Bound | None] = contextvars.ContextVar("db_bound", default=None)
_SIDE_FILES = ("-wal", "-shm", "-journal")
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _dict_factory(cursor: Any, row: Sequence[Any]) -> dict[str, Any]:
    return {col[0]: row[i] for i, col in enumerate(cursor.description)}


Params = Sequence[Any] | dict[str, Any]


# Why one round trip per statement: every call into aiosqlite is a hop to its worker thread and
# back (a queue put, a wake-up of the event loop). `async with conn.execute(...) as cur` plus a
# fetch is three hops; under a hundred concurrent sessions those hops, not SQLite, were most of
# a validation's time (bench/bench_core.py). Reads here fetch in the same hop; writes keep
# the cursor's counts, which sqlite3 fills in as the statement runs (a finished write holds no
# statement open, so the cursor needs no closing hop).


async def rows_of(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    """Every row of a query as dicts (the connection's row factory makes dicts), in one round trip."""
    return cast("list[dict[str, Any]]", list(await conn.execute_fetchall(sql, params)))


async def row_of(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> dict[str, Any] | None:
    """The first row of a query, or None; for queries by key or with a LIMIT (all rows are fetched)."""
    rows = await rows_of(conn, sql, params)
    return rows[0] if rows else None


async def write(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Run one INSERT, UPDATE or DELETE in one round trip; the number of rows it changed."""
    cur = await conn.execute(sql, params)
    return int(cur.rowcount)


async def insert(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Run one INSERT in one round trip; the id of the row it added (0 when it added none)."""
    cur = await conn.execute(sql, params)
    return int(cur.lastrowid or 0) if cur.rowcount > 0 else 0


async def one_row(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> dict[str, Any]:
    """The row a query must return (a row the caller just wrote or holds a lock on)."""
    row = await row_of(conn, sql, params)
    if row is None:
        raise LookupError(f"no row for {sql.split(' WHERE', 1)[0]}")
    return row


def is_busy(error: BaseException) -> bool:
    """Whether `error` is SQLite giving up on a lock another connection holds (busy or locked)."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES  # extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary in the low byte
    return str(error).startswith(("database is locked", "database table is locked", "database is busy"))


@contextmanager
def _busy_as_engine_error() -> Iterator[None]:
    """Turn SQLite's lock timeout into `Busy`; every other error passes through unchanged."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise Busy() from exc
        raise


class Database:
    """Async facade over one aiosqlite connection; all SQL takes parameters, never f-strings."""

    def __init__(self, conn: aiosqlite.Connection, path: str, reader: aiosqlite.Connection | None = None) -> None:
        self.conn = conn
        self.path = path
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database, enable WAL and foreign keys, and migrate."""
        path = str(path)
        if path != ":memory:":
            await asyncio.to_thread(_prepare_private_file, Path(path))
        conn = await _connect(path)
        if path != ":memory:":
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
        db = cls(conn, path)
        if migrate:
            await db.migrate()
        if path != ":memory:":
            db._reader = await _connect(path)
            await db._reader.execute("PRAGMA query_only = ON")  # a read-only seam: a write here is a bug
        return db

    async def close(self) -> None:
        """Close the connections; safe to call twice."""
        if self._reader is not None:
            await self._reader.close()
        await self.conn.close()

    async def migrate(self) -> list[int]:
        """Apply numbered migrations not yet recorded in `schema_version`; returns those applied."""
        async with self._lock:
            await self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
            )
            async with self.conn.execute("SELECT version FROM schema_version") as cur:
                done = {row["version"] for row in await cur.fetchall()}
            applied = []
            for file in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
                version = int(file.name[:4])
                if version in done:
                    continue
                sql = await asyncio.to_thread(file.read_text, "utf-8")
                # executescript commits any open transaction first, so the script carries its own.
                await self.conn.executescript(
                    "BEGIN IMMEDIATE;\n" + sql + "\nINSERT INTO schema_version(version, name) VALUES ("
                    + str(version) + ", '" + file.stem.replace("'", "") + "');\nCOMMIT;"
                )
                applied.append(version)
                log.info("migration applied", extra={"version": version, "migration": file.stem})
            return applied

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT MAX(version) AS v FROM schema_version")
        return int(row["v"] or 0) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; nested use joins the outer one (or the unit it runs in)."""
        if (joined := self._joined(write=True)) is not None:
            yield joined
            return
        async with self._lock:
            token = _bound.set(_Bound(self, self.conn, True))
            try:
                with _busy_as_engine_error():
                    try:
                        await self.conn.execute("BEGIN IMMEDIATE")
                    except asyncio.CancelledError:
                        # The BEGIN was queued to aiosqlite's thread and may still run after this
                        # task was cancelled; a ROLLBACK queued behind it ends that transaction, or
                        # the next writer on this connection would meet "transaction within a transaction".
                        await asyncio.shield(self._rollback_queued())
                        raise
                    try:
                        yield self.conn
                    except BaseException:
                        await self._rollback()
                        raise
                    try:
                        await self.conn.execute("COMMIT")
                    except BaseException:
                        await self._rollback()
                        raise
            finally:
                _bound.reset(token)

    async def atomic(self, body: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
        """`await body(conn, *args, **kwargs)` as one write transaction, one round trip to the writer's thread.

        `body` is the same code a `transaction()` block would hold (repositories take `conn`);
        it must await nothing but statements (see the module's docstring). Inside an open
        transaction or unit it joins that one, as `transaction()` does. Once queued, the unit
        runs to its end (commit or rollback) even if the awaiting task is cancelled meanwhile:
        it is one item on the thread's queue, so no other statement can run inside it.
        """
        if (joined := self._joined(write=True)) is not None:
            return await body(joined, *args, **kwargs)
        async with self._lock:
            with _busy_as_engine_error():
                result = await self._on_thread(self.conn, True, "BEGIN IMMEDIATE",
                                               lambda conn: body(conn, *args, **kwargs))
        return cast("T", result)

    async def read(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
        """`await fn(*args, **kwargs)`, its reads through this Database one snapshot, in one round trip.

        `fn` reads as it would anyway (`db.fetchone`, repositories given the Database); here each
        of its reads is a direct call on the reader's thread, inside one read transaction, so
        the rows it reads belong together (a session and its resources, never half of an edit).
        Inside an open transaction or unit it simply runs there.
        """
        if self._joined(write=False) is not None:
            return await fn(*args, **kwargs)
        # An in-memory database has only the writer, so its reads take the writer's lock.
        async with self._lock if self._reader is None else contextlib.nullcontext():
            with _busy_as_engine_error():
                result = await self._on_thread(self._reader or self.conn, False, "BEGIN",
                                               lambda _conn: fn(*args, **kwargs))
        return cast("T", result)

    def _joined(self, *, write: bool) -> aiosqlite.Connection | None:
        """The connection of the transaction or unit this task is inside on this Database, or None.

        A write inside a read unit is a bug: its reader is read-only, and a read unit holds no lock.
        """
        bound = _bound.get()
        if bound is None or bound.db is not self:
            return None
        if write and not bound.writable:
            raise RuntimeError("a write inside a read unit")
        return bound.conn

    async def _on_thread(self, owner: aiosqlite.Connection, writable: bool, begin: str, unit: UnitCall) -> Any:
        """Send one unit to `owner`'s worker thread and await its result.

        The unit runs in a copy of this task's context, so the request id reaches its audit rows
        and its logs, with an on-thread twin of `owner` (three attributes, no thread: made per
        unit) bound for every nested read and write on this Database.
        """
        return await send_to_thread(owner, contextvars.copy_context().run, self._unit, OnThread(owner), writable,
                                    begin, unit)

    def _unit(self, twin: OnThread, writable: bool, begin: str, unit: UnitCall) -> Any:
        """On the worker thread: bind the twin for this Database's nested reads and writes, then run the unit."""
        _bound.set(_Bound(self, twin, writable))
        return run_unit(twin, begin, unit)

    async def _rollback(self) -> None:
        """End the open transaction, if SQLite has not already ended it (some errors roll back themselves)."""
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def _rollback_queued(self) -> None:
        with contextlib.suppress(sqlite3.OperationalError):  # "no transaction is active": the BEGIN never ran
            await self.conn.execute("ROLLBACK")

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection a read uses: the open transaction's or unit's, else the reader, else the locked writer."""
        if (joined := self._joined(write=False)) is not None:
            yield joined
            return
        if self._reader is not None:
            with _busy_as_engine_error():
                yield self._reader
            return
        async with self._lock:
            with _busy_as_engine_error():
                yield self.conn

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        async with self._reading() as conn:
            return await row_of(conn, sql, params)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        async with self._reading() as conn:
            return await rows_of(conn, sql, params)

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one write statement in its own (or the current) transaction; returns lastrowid or rowcount."""
        async with self.transaction() as conn:
            cur = await conn.execute(sql, params)
            return int(cur.lastrowid or 0) if sql.lstrip().upper().startswith("INSERT") else int(cur.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)


Source = Database | aiosqlite.Connection


async def read_one(src: Source, sql: str, params: Params = ()) -> dict[str, Any] | None:
    """`fetchone` on a Database (outside any transaction: its reader), `row_of` on the connection of an open one.

    Why both: repositories serve callers that read on their own and callers that read inside
    the transaction they hold (a read-then-write must see its own transaction's rows).
    """
    return await src.fetchone(sql, params) if isinstance(src, Database) else await row_of(src, sql, params)


async def read_all(src: Source, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    """Every row, as `read_one` reads one."""
    return await src.fetchall(sql, params) if isinstance(src, Database) else await rows_of(src, sql, params)


async def _connect(path: str) -> aiosqlite.Connection:
    """One connection as the engine uses them: autocommit, dict rows, foreign keys, a 5 s busy timeout."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = _dict_factory  # type: ignore[assignment]  # aiosqlite types it as a Row class; a function is what sqlite3 takes
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _prepare_private_file(path: Path) -> None:
    """Create the database's folder (0700) and the empty file (0600) before SQLite opens it.

    SQLite creates a new database with the process umask, and gives its -wal and -shm
    files the database file's own mode, so pre-creating the file private makes all three
    private whatever the umask. An existing file, and any -wal, -shm or -journal file a
    crashed process left, is tightened the same way.
    """
    if path.parent.resolve() != Path.cwd().resolve():  # the working folder itself is not the engine's to restrict
        private_dir(path.parent)
    create_private_file(path)
    for suffix in _SIDE_FILES:  # left behind by a process that did not close the database
        tighten(path.with_name(path.name + suffix))
