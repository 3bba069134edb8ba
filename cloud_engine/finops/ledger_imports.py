"""Numbering imports: every successful import is one `ledger_imports` row.

Why the ledger numbers its own imports (rather than reusing the SQLite run log's id): the
number is written in the same DuckDB transaction as the rows that carry it, so a row's
`import_id` always names an import that committed, and the restatement history can say
which import replaced which.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

Provenance = tuple[str, str, datetime]  # (source_kind, source_name, fetched_at)


def begin_import(conn: duckdb.DuckDBPyConnection, guild_id: int, target: str, provenance: Provenance) -> int:
    """Record an import inside the caller's open transaction and return its id."""
    row = conn.execute("SELECT COALESCE(max(import_id), 0) + 1 FROM ledger_imports").fetchone()
    import_id = int(row[0]) if row else 1
    conn.execute("INSERT INTO ledger_imports (import_id, guild_id, target, source_kind, source_name, fetched_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)", [import_id, guild_id, target, *provenance])
    return import_id


def record_charges(conn: duckdb.DuckDBPyConnection, import_id: int, first_start: datetime, last_start: datetime,
                   currencies: list[str]) -> None:
    """Note the charge periods and currencies a cost import brought (read by `scope_extent`)."""
    conn.execute("UPDATE ledger_imports SET first_charge_start = ?, last_charge_start = ?, currencies = ? "
                 "WHERE import_id = ?", [first_start, last_start, sorted(currencies), import_id])


def scope_extent(conn: duckdb.DuckDBPyConnection, guild_id: int) -> tuple[datetime | None, datetime | None, list[str]]:
    """First and last charge period start, and every currency, of a scope's cost lines.

    Exact without scanning the ledger: rows are only ever replaced by rows with the same
    identity (period and currency are part of it), so the union over imports is the
    union over the rows they left. An import with `replace_window` also removes rows, but
    only with a period start inside its own first..last, where its own charges stay, so
    the first and last are still held; a currency it left without a row is pruned from
    the scope's imports (`forget_currencies`) in the same transaction.
    """
    rows = conn.execute("SELECT first_charge_start, last_charge_start, currencies FROM ledger_imports "
                        "WHERE guild_id = ? AND target IN ('costs', 'legacy') AND first_charge_start IS NOT NULL",
                        [guild_id]).fetchall()  # a few rows per scope: cheaper to combine here than in SQL
    if not rows:
        return None, None, []
    currencies = sorted({c for _, _, listed in rows for c in listed or [] if c})
    return min(r[0] for r in rows), max(r[1] for r in rows), currencies


def forget_currencies(conn: duckdb.DuckDBPyConnection, guild_id: int, currencies: list[str]) -> None:
    """Drop currencies no cost line of the scope holds any more from its imports' lists (after a removal)."""
    if currencies:
        conn.execute("UPDATE ledger_imports SET currencies = list_filter(currencies, lambda c: NOT list_contains(?, c)) "
                     "WHERE guild_id = ? AND list_has_any(currencies, ?)", [currencies, guild_id, currencies])


__all__ = ["Provenance", "begin_import", "forget_currencies", "record_charges", "scope_extent"]
