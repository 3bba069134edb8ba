"""The FOCUS-shaped cost ledger and the utilisation metrics table, in DuckDB.

Why DuckDB: billing exports run to millions of rows and the questions asked of them are
group-bys over columns, which a columnar engine answers in milliseconds; it also reads CSV
and Parquet natively, so no row is ever parsed by hand. One connection serves the process:
an asyncio lock serialises access and every call runs in a worker thread, so the event loop
never waits on a scan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS cost_lines (
        row_hash VARCHAR NOT NULL,
        provider VARCHAR NOT NULL,
        provider_name VARCHAR,
        billing_account_id VARCHAR,
        sub_account_id VARCHAR,
        sub_account_name VARCHAR,
        service_name VARCHAR,
        service_category VARCHAR,
        resource_id VARCHAR,
        resource_name VARCHAR,
        resource_type VARCHAR,
        region_id VARCHAR,
        charge_category VARCHAR,
        charge_description VARCHAR,
        charge_period_start TIMESTAMP NOT NULL,
        charge_period_end TIMESTAMP NOT NULL,
        billed_cost DOUBLE NOT NULL,
        effective_cost DOUBLE NOT NULL,
        list_cost DOUBLE,
        billing_currency VARCHAR,
        consumed_quantity DOUBLE,
        consumed_unit VARCHAR,
        pricing_unit VARCHAR,
        sku_id VARCHAR,
        sku_price_details VARCHAR,
        tags VARCHAR,
        source_kind VARCHAR NOT NULL,
        source_name VARCHAR NOT NULL,
        fetched_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS metric_points (
        row_hash VARCHAR NOT NULL,
        resource_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        value DOUBLE NOT NULL,
        unit VARCHAR NOT NULL,
        source_kind VARCHAR NOT NULL,
        source_name VARCHAR NOT NULL,
        fetched_at TIMESTAMP NOT NULL
    )
    """,
)


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(path)
    # Timestamps are stored as naive UTC; offsets in source files are converted on the way in.
    conn.execute("SET TimeZone = 'UTC'")
    for statement in SCHEMA:
        conn.execute(statement)
    return conn


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
        """Run blocking DuckDB work off the event loop, one caller at a time."""
        async with self._lock:
            return await asyncio.to_thread(fn, self._conn, *args)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)


__all__ = ["Ledger"]
