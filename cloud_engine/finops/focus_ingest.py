"""Import FOCUS 1.0–1.2 cost rows (CSV, Parquet, or a connector's Arrow table) into the ledger.

How an import stays idempotent and all-or-nothing:
1. the file is sized and typed before it is opened, then read by DuckDB (never by hand)
   into a temporary staging table with every column normalised (UTC timestamps, doubles);
2. every problem (missing column, non-numeric cost, unparsable timestamp, bad Tags JSON,
   empty file) raises `IngestError` naming the column and first bad data row, before the
   ledger is touched;
3. each row gets `row_hash` = sha256 of its identifying columns (the FOCUS dimensions plus
   its amounts; display-only columns such as ResourceName and Tags are excluded), and one
   INSERT adds only hashes the ledger lacks, so re-importing a file or an overlapping window
   adds nothing. Exact repeats inside one file count as one row (reported as skipped).
   A restated amount for the same charge hashes differently and is added as a new row.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cloud_engine.errors import IngestError
from cloud_engine.finops._files import CsvRejects, check_path, describe, ident, is_numeric
from cloud_engine.finops.focus_columns import COLUMNS, PROVIDER_COLUMNS, PROVIDER_PATTERNS, REQUIRED_NAMES
from cloud_engine.finops.models import IngestReport

STAGING = "focus_staging"
LEDGER_COLUMNS = (
    "row_hash", "provider", "provider_name", *(c.ledger_name for c in COLUMNS), "source_kind", "source_name", "fetched_at",
)
_SQL_TYPE = {"text": "VARCHAR", "number": "DOUBLE", "timestamp": "TIMESTAMP", "json": "VARCHAR"}


def _column_expr(actual: str | None, duck_type: str, col_type: str) -> str:
    """SQL that normalises one source column to its ledger type (NULL when absent)."""
    if actual is None:
        return f"CAST(NULL AS {_SQL_TYPE[col_type]})"
    q = ident(actual)
    if col_type == "number":
        return q if is_numeric(duck_type) else f"TRY_CAST({q} AS DOUBLE)"
    if col_type == "timestamp":
        return f"CAST(TRY_CAST({q} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if col_type == "json" and duck_type.upper().startswith(("MAP", "STRUCT")):
        return f"CAST(to_json({q}) AS VARCHAR)"
    return f"NULLIF(TRIM(CAST({q} AS VARCHAR)), '')" if col_type == "json" else f"CAST({q} AS VARCHAR)"


def _provider_expr() -> str:
    cases = " ".join(f"WHEN lower(provider_name) LIKE '{pattern}' THEN '{key}'" for pattern, key in PROVIDER_PATTERNS)
    return f"CASE {cases} ELSE lower(provider_name) END"


def _resolve_columns(columns: dict[str, tuple[str, str]], name: str) -> list[str]:
    """Fail naming every missing required column; return the provider columns present."""
    missing = [c.focus_name for c in COLUMNS if c.required and c.focus_name.lower() not in columns]
    providers = [columns[p.lower()][0] for p in PROVIDER_COLUMNS if p.lower() in columns]
    if not providers:
        missing.append("ProviderName (FOCUS 1.0/1.1) or ServiceProviderName (FOCUS 1.2)")
    if missing:
        found = ", ".join(actual for actual, _ in list(columns.values())[:12])
        raise IngestError(detail=f"{name} is missing required column(s) {', '.join(missing)}; found: {found}. "
                                 f"A FOCUS export needs {', '.join(REQUIRED_NAMES)}.")
    return providers


def _first_non_numeric(conn: duckdb.DuckDBPyConnection, source: str, params: list[Any], actual: str) -> int | None:
    q = ident(actual)
    row = conn.execute(
        f"SELECT rn FROM (SELECT row_number() OVER () AS rn, {q} AS v FROM {source}) "  # noqa: S608 - quoted header name
        "WHERE v IS NOT NULL AND TRY_CAST(v AS DOUBLE) IS NULL ORDER BY rn LIMIT 1",
        params,
    ).fetchone()
    return int(row[0]) if row else None


def _stage(conn: duckdb.DuckDBPyConnection, source: str, params: list[Any], columns: dict[str, tuple[str, str]],
           providers: list[str], provenance: tuple[str, str, datetime], name: str) -> None:
    """Create the normalised, hashed staging table from `source` (a read_csv/read_parquet/view)."""
    for col in COLUMNS:
        present = columns.get(col.focus_name.lower())
        if col.type == "number" and present and not is_numeric(present[1]):
            bad = _first_non_numeric(conn, source, params, present[0])
            if bad is not None:
                raise IngestError(detail=f"{name}: column {col.focus_name} has a value that is not a number at row {bad}")
    select = [
        f"{_column_expr(columns[c.focus_name.lower()][0] if c.focus_name.lower() in columns else None, columns.get(c.focus_name.lower(), ('', ''))[1], c.type)} AS {c.ledger_name}"
        for c in COLUMNS
    ]
    provider_name = "COALESCE(" + ", ".join(f"CAST({ident(p)} AS VARCHAR)" for p in providers) + ")"
    identity = ["provider_name"] + [c.ledger_name for c in COLUMNS if c.identifying]
    hash_input = "concat_ws(chr(31), " + ", ".join(f"COALESCE(CAST({c} AS VARCHAR), '')" for c in identity) + ")"
    conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
    conn.execute(
        f"CREATE TEMP TABLE {STAGING} AS "  # noqa: S608 - expressions built from fixed column lists
        f"SELECT sha256({hash_input}) AS row_hash, {_provider_expr()} AS provider, n.*, "
        "CAST(? AS VARCHAR) AS source_kind, CAST(? AS VARCHAR) AS source_name, CAST(? AS TIMESTAMP) AS fetched_at "
        f"FROM (SELECT {provider_name} AS provider_name, {', '.join(select)} FROM {source}) n",
        [*provenance, *params],
    )


_CHECKS = (
    ("provider_name IS NULL", "ProviderName/ServiceProviderName is empty"),
    ("billed_cost IS NULL", "BilledCost is empty or not a number"),
    ("effective_cost IS NULL", "EffectiveCost is empty or not a number"),
    ("charge_period_start IS NULL", "ChargePeriodStart is empty or not a timestamp"),
    ("charge_period_end IS NULL", "ChargePeriodEnd is empty or not a timestamp"),
    ("tags IS NOT NULL AND (NOT json_valid(tags) OR json_type(tags) <> 'OBJECT')", "Tags is not a JSON object"),
    ("sku_price_details IS NOT NULL AND NOT json_valid(sku_price_details)", "SkuPriceDetails is not valid JSON"),
)


def _validate_staging(conn: duckdb.DuckDBPyConnection, name: str) -> int:
    """Return the staged row count, or fail on the first row breaking a FOCUS rule."""
    mins = ", ".join(f"min(CASE WHEN {cond} THEN rowid END)" for cond, _ in _CHECKS)
    row = conn.execute(f"SELECT count(*), {mins} FROM {STAGING}").fetchone()  # noqa: S608 - fixed checks
    assert row is not None
    count = int(row[0])
    if count == 0:
        raise IngestError(detail=f"{name} has a header but no data rows")
    for (_, message), first in zip(_CHECKS, row[1:], strict=True):
        if first is not None:
            raise IngestError(detail=f"{name}: {message} at row {int(first) + 1}")
    return count


def insert_new_rows(conn: duckdb.DuckDBPyConnection, staging: str, table: str, columns: tuple[str, ...]) -> int:
    """Insert staged rows whose hash the table lacks (first of any in-file repeats); returns rows added."""
    cols = ", ".join(columns)
    repeats = conn.execute(f"SELECT count(*) - count(DISTINCT hash(row_hash)) FROM {staging}").fetchone()  # noqa: S608
    dedupe = " QUALIFY row_number() OVER (PARTITION BY row_hash ORDER BY s.rowid) = 1" if repeats and repeats[0] else ""
    conn.execute("BEGIN TRANSACTION")
    try:
        added = conn.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {staging} s "  # noqa: S608 - fixed table/column names
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.row_hash = s.row_hash){dedupe}"
        ).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(added[0]) if added else 0


def _finish(conn: duckdb.DuckDBPyConnection, name: str, provenance: tuple[str, str, datetime],
            providers: list[str]) -> IngestReport:
    read = _validate_staging(conn, name)
    period = conn.execute(f"SELECT min(charge_period_start), max(charge_period_end) FROM {STAGING}").fetchone()  # noqa: S608
    added = insert_new_rows(conn, STAGING, "cost_lines", LEDGER_COLUMNS)
    conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
    kind, source_name, fetched_at = provenance
    return IngestReport(
        target="costs", source_kind=kind, source_name=source_name, fetched_at=fetched_at,
        rows_read=read, rows_added=added, rows_skipped=read - added,
        period_start=period[0] if period else None, period_end=period[1] if period else None,
        focus_version_hint="1.2+" if any(p.lower() == "serviceprovidername" for p in providers) else "1.0/1.1",
    )


def ingest_focus_path(conn: duckdb.DuckDBPyConnection, path: Path, *, max_bytes: int,
                      source_kind: str = "focus_file", source_name: str | None = None,
                      fetched_at: datetime) -> IngestReport:
    """Validate and import one FOCUS CSV/Parquet file (blocking; call via `Ledger.run`)."""
    name = source_name or path.name
    fmt = check_path(path, max_bytes)
    columns = describe(conn, fmt, path, name)
    providers = _resolve_columns(columns, name)
    provenance = (source_kind, name, fetched_at)
    if fmt == "parquet":
        _stage(conn, "read_parquet(?)", [str(path)], columns, providers, provenance, name)
        return _finish(conn, name, provenance, providers)
    rejects = CsvRejects.new()
    numeric = {columns[c.focus_name.lower()][0]: "DOUBLE" for c in COLUMNS
               if c.type == "number" and c.focus_name.lower() in columns}
    try:
        try:
            _stage(conn, "read_csv(?, header=true, all_varchar=true, types=?, store_rejects=true, rejects_table=?, "
                   "rejects_scan=?)", [str(path), numeric, rejects.table, rejects.scan],
                   {k: (a, "DOUBLE" if a in numeric else "VARCHAR") for k, (a, _) in columns.items()},
                   providers, provenance, name)
        except duckdb.Error as exc:
            raise IngestError(detail=f"{name} could not be read as CSV: {str(exc).splitlines()[0]}") from exc
        rejects.raise_first(conn, name)
        return _finish(conn, name, provenance, providers)
    finally:
        rejects.drop(conn)
        conn.execute(f"DROP TABLE IF EXISTS {STAGING}")


def ingest_focus_table(conn: duckdb.DuckDBPyConnection, table: pa.Table, *, source_kind: str, source_name: str,
                       fetched_at: datetime) -> IngestReport:
    """Import FOCUS-named columns produced by a connector (same validation and hashing as files)."""
    view = "focus_incoming"
    conn.register(view, table)
    try:
        columns = {f.name.lower(): (f.name, _arrow_duck_type(f.type)) for f in table.schema}
        providers = _resolve_columns(columns, source_name)
        provenance = (source_kind, source_name, fetched_at)
        if table.num_rows == 0:
            return IngestReport(target="costs", source_kind=source_kind, source_name=source_name,
                                fetched_at=fetched_at, rows_read=0, rows_added=0, rows_skipped=0)
        _stage(conn, view, [], columns, providers, provenance, source_name)
        return _finish(conn, source_name, provenance, providers)
    finally:
        conn.unregister(view)
        conn.execute(f"DROP TABLE IF EXISTS {STAGING}")


def _arrow_duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "DOUBLE"
    if pa.types.is_map(arrow_type):
        return "MAP"
    if pa.types.is_struct(arrow_type):
        return "STRUCT"
    return "VARCHAR"


__all__ = ["LEDGER_COLUMNS", "ingest_focus_path", "ingest_focus_table"]
