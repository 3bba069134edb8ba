"""The one SQLite database, opened through aiosqlite.

Why a single connection with an asyncio lock: SQLite allows one writer at a time, and
sharing one connection between tasks would let two tasks' statements interleave inside
one transaction. `transaction()` serialises writers in-process (BEGIN IMMEDIATE also
guards against other processes); reads outside a transaction take the same lock so they
never observe another task's half-written transaction.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_in_tx: contextvars.ContextVar[Database | None] = contextvars.ContextVar("in_tx", default=None)


def _dict_factory(cursor: Any, row: Sequence[Any]) -> dict[str, Any]:
    return {col[0]: row[i] for i, col in enumerate(cursor.description)}


class Database:
    """Async facade over one aiosqlite connection; all SQL takes parameters, never f-strings."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database, enable WAL and foreign keys, and migrate."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = _dict_factory
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
        if path != ":memory:":
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
        db = cls(conn, path)
        if migrate:
            await db.migrate()
        return db

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
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
        """One write transaction; nested use joins the outer one."""
        if _in_tx.get() is self:
            yield self.conn
            return
        async with self._lock:
            token = _in_tx.set(self)
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")
            finally:
                _in_tx.reset(token)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[None]:
        if _in_tx.get() is self:
            yield
            return
        async with self._lock:
            yield

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        async with self._reading(), self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        async with self._reading(), self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one write statement in its own (or the current) transaction; returns lastrowid or rowcount."""
        async with self.transaction() as conn, conn.execute(sql, params) as cur:
            return cur.lastrowid if sql.lstrip().upper().startswith("INSERT") else cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)
