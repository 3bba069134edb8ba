"""The audit log as a hash chain per server (guild), and the checks that prove it was not edited.

Why a chain: an audit log is worth what its integrity is. Each row stores `prev_hash`, the
`row_hash` of the row before it in its guild's chain (GENESIS for the first), and its own
`row_hash`, SHA-256 over that link and every column it holds. Editing a row changes its
hash; deleting or inserting one breaks the next row's link. The link is read and the row
written inside the writer's transaction (BEGIN IMMEDIATE: no other writer, in any process,
runs between), and a unique index on (guild, prev_hash) refuses a second row following the
same one, so concurrent writers can never fork a chain.

Rows written before migration 0010 are chained by a first-run backfill: a guild's at its first
audit write afterwards, every guild's at `audit verify` and `audit export`. Only rows up to
where the log stood at the migration (`audit_chain_legacy`) are ever backfilled; an unchained
row after that was written outside the engine and is reported as a break.

What a chain cannot show: rows cut off at the end of a chain (the last ones deleted), or a log
rewritten by someone who recomputes every hash. `verify` reports each chain's head (last id and
hash); recording it elsewhere (a ticket, a signed export) turns those into breaks too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from cloud_engine.store.database import Database, row_of, rows_of

__all__ = ["GENESIS", "HASHED_COLUMNS", "ChainBreak", "ChainReport", "backfill", "backfill_all", "chain_link",
           "row_digest", "seal", "seal_row", "verify_chain"]

GENESIS = "0" * 64
# The columns a row's hash covers, in this order (with its prev_hash), so the digest never depends on
# how a driver orders a row's keys.
HASHED_COLUMNS = ("id", "ts", "guild_id", "actor_id", "action", "target_type", "target_id", "from_state", "to_state",
                  "detail", "request_id")


def row_digest(row: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) over `prev_hash` and the row's columns as stored."""
    payload = json.dumps([prev_hash, *(row.get(column) for column in HASHED_COLUMNS)], ensure_ascii=False,
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first row of a chain that does not hold, and why."""

    row_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """One guild's chain after `verify_chain`: rows checked, the first break (if any) and the head."""

    guild_id: int | None
    rows: int
    head_id: int | None
    head_hash: str | None
    first_break: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.first_break is None


async def _legacy_last_id(conn: aiosqlite.Connection) -> int:
    row = await row_of(conn, "SELECT MAX(last_id) AS last_id FROM audit_chain_legacy")
    return int(row["last_id"] or 0) if row else 0


async def backfill(conn: aiosqlite.Connection, guild_id: int | None) -> int:
    """Chain a guild's rows from before migration 0010 (in id order, from GENESIS); how many were chained.

    Runs only while the guild's chain has not started, so it never re-chains a row the engine
    chained itself. Call it inside a write transaction.
    """
    started = await row_of(conn, "SELECT 1 AS one FROM audit_log WHERE guild_id IS ? AND row_hash IS NOT NULL LIMIT 1",
                           (guild_id,))
    if started is not None:
        return 0
    legacy = await rows_of(conn, "SELECT * FROM audit_log WHERE guild_id IS ? AND id <= ? AND row_hash IS NULL"
                                 " ORDER BY id", (guild_id, await _legacy_last_id(conn)))
    prev = GENESIS
    for row in legacy:
        digest = row_digest(row, prev)
        await conn.execute("UPDATE audit_log SET prev_hash = ?, row_hash = ? WHERE id = ?", (prev, digest, row["id"]))
        prev = digest
    return len(legacy)


async def backfill_all(db: Database) -> int:
    """`backfill` for every guild in the log, in one transaction; how many rows were chained."""
    async with db.transaction() as conn:
        guilds = await rows_of(conn, "SELECT DISTINCT guild_id FROM audit_log WHERE row_hash IS NULL")
        return sum([await backfill(conn, g["guild_id"]) for g in guilds])


async def chain_link(conn: aiosqlite.Connection, guild_id: int | None) -> str:
    """The hash the guild's next row follows; call it in the transaction that writes that row."""
    if not conn.in_transaction:  # outside a transaction another writer could take the same link
        raise RuntimeError("an audit row is linked inside its writing transaction")
    last = await row_of(conn, "SELECT row_hash FROM audit_log WHERE guild_id IS ? ORDER BY id DESC LIMIT 1", (guild_id,))
    if last is None:
        return GENESIS
    if last["row_hash"] is None and await backfill(conn, guild_id) == 0:
        # The newest row was written outside the engine (verify reports it); follow the newest chained one.
        chained = await row_of(conn, "SELECT row_hash FROM audit_log WHERE guild_id IS ? AND row_hash IS NOT NULL"
                                     " ORDER BY id DESC LIMIT 1", (guild_id,))
        return str(chained["row_hash"]) if chained else GENESIS
    if last["row_hash"] is None:
        return await chain_link(conn, guild_id)  # the guild's old rows are chained now
    return str(last["row_hash"])


async def seal(conn: aiosqlite.Connection, row_id: int) -> str:
    """Compute and store the hash of the row just inserted with its `prev_hash`; returns it."""
    row = await row_of(conn, "SELECT * FROM audit_log WHERE id = ?", (row_id,))
    if row is None:
        raise LookupError(f"no audit row {row_id}")
    return await seal_row(conn, row)


async def seal_row(conn: aiosqlite.Connection, row: dict[str, Any]) -> str:
    """Compute and store the hash of `row`, the audit row just inserted as stored (with its `prev_hash`)."""
    digest = row_digest(row, str(row["prev_hash"]))
    await conn.execute("UPDATE audit_log SET row_hash = ? WHERE id = ?", (digest, row["id"]))
    return digest


def _first_break(rows: list[dict[str, Any]]) -> ChainBreak | None:
    expected, previous_id = GENESIS, None
    for row in rows:
        if row["row_hash"] is None or row["prev_hash"] is None:
            return ChainBreak(row["id"], "not chained: written outside the engine (an inserted row)")
        if row["prev_hash"] != expected:
            before = f"row {previous_id}" if previous_id is not None else "the start of the chain"
            return ChainBreak(row["id"], f"does not follow {before}: a row between them was deleted or inserted")
        if row_digest(row, row["prev_hash"]) != row["row_hash"]:
            return ChainBreak(row["id"], "its content does not match its hash: the row was edited")
        expected, previous_id = row["row_hash"], row["id"]
    return None


async def verify_chain(db: Database, guild_id: int | None = None, *, all_guilds: bool = False) -> list[ChainReport]:
    """Check one guild's chain (or, with `all_guilds`, every guild's); old rows are backfilled first."""
    await backfill_all(db)
    if all_guilds:
        guilds = [r["guild_id"] for r in await db.fetchall("SELECT DISTINCT guild_id FROM audit_log ORDER BY guild_id")]
    else:
        guilds = [guild_id]
    reports = []
    for guild in guilds:
        rows = await db.fetchall("SELECT * FROM audit_log WHERE guild_id IS ? ORDER BY id", (guild,))
        head = rows[-1] if rows else None
        reports.append(ChainReport(guild_id=guild, rows=len(rows), head_id=head["id"] if head else None,
                                   head_hash=head["row_hash"] if head else None, first_break=_first_break(rows)))
    return reports
