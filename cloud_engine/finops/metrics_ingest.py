"""Import utilisation metrics (CSV: resource_id, metric, timestamp, value, unit).

Accepted metrics and units (units are case-insensitive; aliases in brackets):
- cpu, memory: percent [%] of the resource's capacity, 0–100 (memory = used, not available)
- network_in, network_out: bytes [b, byte] transferred in the sample interval
- disk_read, disk_write: bytes [b, byte] or ops [count, iops] in the sample interval;
  the unit is stored as given, and recommenders only compare these with zero.
Any sample interval works (hourly is typical); recommenders aggregate per day.
A point is identified by its scope (guild_id), resource_id, metric and timestamp in UTC:
re-importing, or an overlapping export, adds nothing and keeps the first value seen
(reported as unchanged); repeats inside one file keep their first line (reported as
merged). Why not restate like costs: a monitoring agent's sample is a measurement, not a
bill, and a later export of the same instant is a copy rather than a correction.
Staging, validation and the insert run in one transaction, so a bad file adds nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from cloud_engine.errors import IngestError
from cloud_engine.finops._files import DEFAULT_MAX_ROWS, CsvRejects, check_path, check_rows, describe, ident
from cloud_engine.finops.ledger_imports import Provenance, begin_import
from cloud_engine.finops.models import IngestReport

REQUIRED = ("resource_id", "metric", "timestamp", "value", "unit")
UNITS: dict[str, dict[str, str]] = {
    "cpu": {"percent": "percent", "%": "percent"},
    "memory": {"percent": "percent", "%": "percent"},
    "network_in": {"bytes": "bytes", "byte": "bytes", "b": "bytes"},
    "network_out": {"bytes": "bytes", "byte": "bytes", "b": "bytes"},
    "disk_read": {"bytes": "bytes", "byte": "bytes", "b": "bytes", "ops": "ops", "count": "ops", "iops": "ops"},
    "disk_write": {"bytes": "bytes", "byte": "bytes", "b": "bytes", "ops": "ops", "count": "ops", "iops": "ops"},
}
METRIC_COLUMNS = ("resource_id", "metric", "ts", "value", "unit", "source_kind", "source_name", "fetched_at")
STAGING = "metrics_staging"


def _unit_case(metric: str, unit: str) -> str:
    """CASE expression mapping (metric, unit alias) to the canonical unit; literals from `UNITS` only."""
    whens = " ".join(
        f"WHEN {metric} = '{m}' AND {unit} = '{alias}' THEN '{canonical}'"
        for m, aliases in UNITS.items() for alias, canonical in aliases.items()
    )
    return f"CASE {whens} END"


def _required_columns(names: list[str], name: str) -> dict[str, str]:
    """{required column: its actual name}, matched case-insensitively as the FOCUS import does.

    Why keep the actual name: a header may say Resource_ID or Timestamp, and the staging
    SELECT quotes the column exactly as the file spells it.
    """
    actual = {n.lower(): n for n in reversed(names)}  # the first of two spellings wins
    missing = [c for c in REQUIRED if c not in actual]
    if missing:
        raise IngestError(detail=f"{name} is missing required column(s) {', '.join(missing)}; "
                                 f"metrics need the columns {', '.join(REQUIRED)} (in any letter case)")
    return {c: actual[c] for c in REQUIRED}


def _stage(conn: duckdb.DuckDBPyConnection, source: str, params: list[object], provenance: Provenance,
           names: dict[str, str]) -> None:
    """Normalise the source into the staging table; `names` maps each required column to the source's spelling."""
    col = {c: f"r.{ident(actual)}" for c, actual in names.items()}
    metric = f"lower(TRIM(CAST({col['metric']} AS VARCHAR)))"
    unit = _unit_case(metric, f"lower(TRIM(CAST({col['unit']} AS VARCHAR)))")
    conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
    conn.execute(
        f"CREATE TEMP TABLE {STAGING} AS "  # noqa: S608 - source is one of our fixed reader expressions
        "SELECT n.*, "
        "CAST(? AS VARCHAR) AS source_kind, CAST(? AS VARCHAR) AS source_name, CAST(? AS TIMESTAMP) AS fetched_at "
        f"FROM (SELECT NULLIF(TRIM(CAST({col['resource_id']} AS VARCHAR)), '') AS resource_id, "
        f" {metric} AS metric, "
        f" CAST(TRY_CAST({col['timestamp']} AS TIMESTAMPTZ) AS TIMESTAMP) AS ts, "
        f" TRY_CAST({col['value']} AS DOUBLE) AS value, {unit} AS unit FROM {source} r) n",
        [*provenance, *params],
    )


_CHECKS = (
    ("resource_id IS NULL", "resource_id is empty"),
    (f"metric NOT IN ({', '.join(repr(m) for m in UNITS)}) OR metric IS NULL",
     f"metric must be one of {', '.join(UNITS)}"),
    ("ts IS NULL", "timestamp is empty or not a timestamp"),
    ("value IS NULL OR isnan(value)", "value is empty or not a number"),
    ("isinf(value)", "value is infinite, not a finite number"),
    ("unit IS NULL", "unit does not fit the metric (cpu/memory: percent; network_*: bytes; disk_*: bytes or ops)"),
    ("metric IN ('cpu', 'memory') AND (value < 0 OR value > 100)", "a percent value is outside 0–100"),
    ("value < 0", "value is negative"),
)


def _insert_points(conn: duckdb.DuckDBPyConnection, guild_id: int, provenance: Provenance, read: int,
                   first: datetime, last: datetime) -> tuple[int, int, int]:
    """Add the staged points the scope lacks, in one transaction; returns (added, unchanged, merged)."""
    key = "resource_id, metric, ts"
    row = conn.execute(f"SELECT count(DISTINCT hash({key})) FROM {STAGING}").fetchone()  # noqa: S608
    if row and int(row[0]) < read:  # maybe repeats (or a hash collision): count exactly
        row = conn.execute(f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {STAGING})").fetchone()  # noqa: S608
        merged = read - int(row[0]) if row else 0
    else:
        merged = 0
    cols = ", ".join(METRIC_COLUMNS)
    dedupe = f" QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY s.rowid) = 1" if merged else ""
    conn.execute("BEGIN TRANSACTION")
    try:
        import_id = begin_import(conn, guild_id, "metrics", provenance)
        held = conn.execute("SELECT 1 FROM metric_points WHERE guild_id = ? AND ts BETWEEN ? AND ? LIMIT 1",
                            [guild_id, first, last]).fetchone()
        absent = (" WHERE NOT EXISTS (SELECT 1 FROM metric_points t WHERE t.guild_id = ? AND t.resource_id = s.resource_id "
                  "AND t.metric = s.metric AND t.ts = s.ts)") if held else ""
        added_row = conn.execute(
            f"INSERT INTO metric_points (guild_id, import_id, {cols}) SELECT ?, ?, {cols} FROM {STAGING} s"  # noqa: S608
            f"{absent}{dedupe}", [guild_id, import_id, *([guild_id] if held else [])]).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    added = int(added_row[0]) if added_row else 0
    return added, read - merged - added, merged


def _finish(conn: duckdb.DuckDBPyConnection, name: str, provenance: Provenance, guild_id: int) -> IngestReport:
    mins = ", ".join(f"min(CASE WHEN {cond} THEN rowid END)" for cond, _ in _CHECKS)
    row = conn.execute(f"SELECT count(*), min(ts), max(ts), {mins} FROM {STAGING}").fetchone()  # noqa: S608
    assert row is not None
    read = int(row[0])
    if read == 0:
        raise IngestError(detail=f"{name} has a header but no data rows")
    for (_, message), first in zip(_CHECKS, row[3:], strict=True):
        if first is not None:
            raise IngestError(detail=f"{name}: {message} at row {int(first) + 1}")
    added, unchanged, merged = _insert_points(conn, guild_id, provenance, read, row[1], row[2])
    kind, source_name, fetched_at = provenance
    return IngestReport(target="metrics", guild_id=guild_id, source_kind=kind, source_name=source_name,
                        fetched_at=fetched_at, rows_read=read, rows_added=added, rows_unchanged=unchanged,
                        rows_merged=merged, period_start=row[1], period_end=row[2])


def ingest_metrics_path(conn: duckdb.DuckDBPyConnection, path: Path, *, guild_id: int, max_bytes: int,
                        fetched_at: datetime, source_kind: str = "metrics_file",
                        source_name: str | None = None, max_rows: int = DEFAULT_MAX_ROWS) -> IngestReport:
    """Validate and import a metrics CSV into `guild_id`'s ledger (blocking; call via `Ledger.run`).

    `max_rows` (FINOPS_MAX_ROWS): a file holding more rows is rejected before it is read.
    """
    name = source_name or path.name
    if check_path(path, max_bytes) != "csv":
        raise IngestError(detail=f"{name}: metrics must be a CSV with columns {', '.join(REQUIRED)}")
    check_rows("csv", path, name, max_rows=max_rows, max_bytes=max_bytes)
    names = _required_columns([actual for actual, _ in describe(conn, "csv", path, name, REQUIRED).values()], name)
    rejects = CsvRejects.new()
    try:
        try:
            _stage(conn, "read_csv(?, header=true, all_varchar=true, store_rejects=true, rejects_table=?, rejects_scan=?)",
                   [str(path), rejects.table, rejects.scan], (source_kind, name, fetched_at), names)
        except duckdb.Error as exc:
            raise IngestError(detail=f"{name} could not be read as CSV: {str(exc).splitlines()[0]}") from exc
        rejects.raise_first(conn, name)
        return _finish(conn, name, (source_kind, name, fetched_at), guild_id)
    finally:
        rejects.drop(conn)
        conn.execute(f"DROP TABLE IF EXISTS {STAGING}")


def ingest_metrics_table(conn: duckdb.DuckDBPyConnection, table: pa.Table, *, guild_id: int, source_kind: str,
                         source_name: str, fetched_at: datetime) -> IngestReport:
    """Import metric points produced by a connector (columns as in the CSV)."""
    if table.num_rows == 0:
        return IngestReport(target="metrics", guild_id=guild_id, source_kind=source_kind, source_name=source_name,
                            fetched_at=fetched_at, rows_read=0)
    names = _required_columns(table.column_names, source_name)
    view = "metrics_incoming"
    conn.execute("SELECT 1").fetchall()  # an earlier fetchone() left a result open: register refuses
    conn.register(view, table)
    try:
        _stage(conn, view, [], (source_kind, source_name, fetched_at), names)
        return _finish(conn, source_name, (source_kind, source_name, fetched_at), guild_id)
    finally:
        conn.unregister(view)
        conn.execute(f"DROP TABLE IF EXISTS {STAGING}")


__all__ = ["UNITS", "ingest_metrics_path", "ingest_metrics_table"]
