"""Import FOCUS 1.0–1.3 cost rows (CSV, Parquet, or a connector's Arrow table) into the ledger.

How an import stays fast, all-or-nothing and idempotent:
1. the file is sized and typed before it is opened, then read by DuckDB (never by hand).
   CSV columns are read with their ledger types (costs as DOUBLE, periods as TIMESTAMPTZ),
   so a value that does not parse is a reject row naming its column and line;
2. one transaction inserts the normalised rows straight into the ledger under a new
   `import_id` (one pass over the file, no staging copy), then checks them with one
   aggregate: required values present, BillingCurrency an ISO 4217 code, ChargePeriodEnd not
   before ChargePeriodStart, Tags a JSON object, SkuPriceDetails valid JSON.
   Any failure rolls the transaction back; only then is the file read a second time into
   a numbered scratch table to name the rule, column and first bad row (`IngestError`).
   The ledger is never touched by a rejected file;
3. `reconcile` folds split lines of one charge and restates or keeps charges the scope
   already holds (see that module for why). It skips its joins when the batch provably has
   no repeated identity and the scope holds nothing in the batch's charge periods, which is
   the usual case for a new month's export. With `replace_window` (files only, opt-in) it
   also removes the stored charges of the file's window that a re-issued export dropped.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cloud_engine.errors import IngestError
from cloud_engine.finops._files import (
    DEFAULT_MAX_ROWS,
    CsvRejects,
    check_path,
    check_rows,
    describe,
    ident,
    is_numeric,
)
from cloud_engine.finops.focus_columns import (
    COLUMNS,
    IDENTITY,
    PROVIDER_COLUMNS,
    PROVIDER_PATTERNS,
    REQUIRED_NAMES,
    focus_version,
    is_contract_commitment_dataset,
)
from cloud_engine.finops.iso4217 import ISO_4217
from cloud_engine.finops.ledger_imports import Provenance, begin_import, record_charges
from cloud_engine.finops.models import IngestReport
from cloud_engine.finops.reconcile import reconcile

SCRATCH = "focus_check"
_SQL_TYPE = {"text": "VARCHAR", "number": "DOUBLE", "timestamp": "TIMESTAMP", "json": "VARCHAR"}
_CSV_TYPE = {"number": "DOUBLE", "timestamp": "TIMESTAMPTZ"}
_CSV_WORDS = {"number": "a number", "timestamp": "a timestamp"}
LEDGER_COLUMNS = ("provider", "provider_name", *(c.ledger_name for c in COLUMNS))
_EXPECTED = frozenset({*(c.focus_name.lower() for c in COLUMNS), *(p.lower() for p in PROVIDER_COLUMNS)})


def _column_expr(actual: str | None, duck_type: str, col_type: str, *, identifying: bool, typed: bool) -> str:
    """SQL that normalises one source column to its ledger type (NULL when absent).

    `typed`: the reader already produced the ledger type (CSV), so no cast is needed and
    empty fields are already NULL. Elsewhere empty identity text becomes NULL, so an
    exporter writing '' and one writing nothing name the same charge.
    """
    if actual is None:
        return f"CAST(NULL AS {_SQL_TYPE[col_type]})"
    q = ident(actual)
    if col_type == "number":
        return q if typed or is_numeric(duck_type) else f"TRY_CAST({q} AS DOUBLE)"
    if col_type == "timestamp":
        return f"CAST({q} AS TIMESTAMP)" if typed else f"CAST(TRY_CAST({q} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if col_type == "json":
        if duck_type.upper().startswith(("MAP", "STRUCT")):
            return f"CAST(to_json({q}) AS VARCHAR)"
        return f"NULLIF(TRIM(CAST({q} AS VARCHAR)), '')"
    if typed:
        return q
    return f"NULLIF(CAST({q} AS VARCHAR), '')" if identifying else f"CAST({q} AS VARCHAR)"


def _provider_expr() -> str:
    cases = " ".join(f"WHEN lower(provider_name) LIKE '{pattern}' THEN '{key}'" for pattern, key in PROVIDER_PATTERNS)
    return f"CASE {cases} ELSE lower(provider_name) END"


def _resolve_columns(columns: dict[str, tuple[str, str]], name: str) -> list[str]:
    """Fail naming every missing required column; return the provider columns present."""
    actual_names = [actual for actual, _ in columns.values()]
    if is_contract_commitment_dataset(actual_names):
        raise IngestError(detail=f"{name} is a FOCUS 1.3 Contract Commitment dataset (one row per commitment, no "
                                 "charges); import the Cost and Usage export instead")
    missing = [c.focus_name for c in COLUMNS if c.required and c.focus_name.lower() not in columns]
    providers = [columns[p.lower()][0] for p in PROVIDER_COLUMNS if p.lower() in columns]
    if not providers:
        missing.append("ProviderName (FOCUS 1.0-1.2) or ServiceProviderName (FOCUS 1.3)")
    if missing:
        found = ", ".join(actual for actual, _ in list(columns.values())[:12])
        raise IngestError(detail=f"{name} is missing required column(s) {', '.join(missing)}; found: {found}. "
                                 f"A FOCUS export needs {', '.join(REQUIRED_NAMES)}.")
    return providers


def _normalised(source: str, columns: dict[str, tuple[str, str]], providers: list[str], *, typed: bool) -> str:
    """SELECT of the ledger columns (provider first) from `source`, in `LEDGER_COLUMNS` order."""
    select = []
    for c in COLUMNS:
        actual, duck_type = columns.get(c.focus_name.lower(), (None, ""))
        select.append(f"{_column_expr(actual, duck_type, c.type, identifying=c.identifying, typed=typed)} AS {c.ledger_name}")
    provider_name = "COALESCE(" + ", ".join(f"NULLIF(CAST({ident(p)} AS VARCHAR), '')" for p in providers) + ")"
    return (f"SELECT {_provider_expr()} AS provider, n.* FROM (SELECT {provider_name} AS provider_name, "  # noqa: S608
            f"{', '.join(select)} FROM {source}) n")


_CURRENCIES = ", ".join(f"'{code}'" for code in sorted(ISO_4217))  # a fixed list of 3-letter codes

# (condition on a row, what is wrong, the ledger column whose value the error quotes or None)
_CHECKS: tuple[tuple[str, str, str | None], ...] = (
    ("provider_name IS NULL", "ProviderName/ServiceProviderName is empty", None),
    ("billed_cost IS NULL", "BilledCost is empty or not a number", None),
    ("effective_cost IS NULL", "EffectiveCost is empty or not a number", None),
    ("charge_period_start IS NULL", "ChargePeriodStart is empty or not a timestamp", None),
    ("charge_period_end IS NULL", "ChargePeriodEnd is empty or not a timestamp", None),
    ("charge_period_end < charge_period_start", "ChargePeriodEnd is before ChargePeriodStart",
     "CAST(charge_period_end AS VARCHAR) || ' < ' || CAST(charge_period_start AS VARCHAR)"),
    (f"billing_currency IS NOT NULL AND billing_currency NOT IN ({_CURRENCIES})",
     "BillingCurrency is not an ISO 4217 currency code", "billing_currency"),
    # NaN and infinity parse as DOUBLE but would turn every sum of the scope into NaN/inf
    *((f"NOT isfinite({c.ledger_name})", f"{c.focus_name} is NaN or infinite, not a finite number", None)
      for c in COLUMNS if c.type == "number"),
    # json_type fails on invalid JSON, so it runs only where json_valid holds (a CASE branch, never reordered)
    ("tags IS NOT NULL AND CASE WHEN json_valid(tags) THEN json_type(tags) <> 'OBJECT' ELSE true END",
     "Tags is not a JSON object", None),
    ("sku_price_details IS NOT NULL AND NOT json_valid(sku_price_details)", "SkuPriceDetails is not valid JSON", None),
)


CSV_NULLS = ("", "NULL")


class _Rejected(Exception):
    """The fast path found a problem; the import was rolled back and must be diagnosed."""


def _read_error(name: str, kind: str, exc: duckdb.Error) -> IngestError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return IngestError(detail=f"{name} could not be read as {kind}: {first}")


class _Source:
    """One input: its reader SQL (with a `{rejects}` slot) and parameters, and how to name it in errors."""

    def __init__(self, sql: str, params: list[Any], kind: str, columns: dict[str, tuple[str, str]],
                 csv_types: dict[str, str] | None = None, cast_types: dict[str, str] | None = None) -> None:
        self.sql, self.params, self.kind, self.columns = sql, params, kind, columns
        self.csv_types = csv_types  # actual column name -> what it should hold ("a number"), for CSV reject messages
        self.cast_types = cast_types  # actual column name -> the DuckDB type the CSV reader casts it to
        self.rejects = CsvRejects.new() if csv_types is not None else None

    def reader(self) -> tuple[str, list[Any]]:
        """The reader SQL and its parameters; CSV readers also keep their reject rows."""
        if self.rejects is None:
            return self.sql.format(rejects=""), list(self.params)
        return (self.sql.format(rejects=", store_rejects=true, rejects_table=?, rejects_scan=?"),
                [*self.params, self.rejects.table, self.rejects.scan])

    def raise_rejects(self, conn: duckdb.DuckDBPyConnection, name: str) -> None:
        if self.rejects is not None:
            self.rejects.raise_first(conn, name, self.csv_types or {}, header=[a for a, _ in self.columns.values()],
                                     types=self.cast_types)

    def drop(self, conn: duckdb.DuckDBPyConnection) -> None:
        if self.rejects is not None:
            self.rejects.drop(conn)


def _insert_and_check(conn: duckdb.DuckDBPyConnection, src: _Source, providers: list[str], name: str,
                      provenance: Provenance, guild_id: int, replace_window: bool) -> IngestReport:
    """The fast path: insert, check, reconcile and commit in one transaction."""
    reader, params = src.reader()
    select = _normalised(reader, src.columns, providers, typed=src.csv_types is not None)
    # Row order is not needed here (checks are aggregates, folding does not depend on it) and
    # dropping it lets both cores append in parallel; the diagnosis pass reads in file order.
    conn.execute("SET preserve_insertion_order = false")
    try:
        return _write_batch(conn, select, params, src, providers, name, provenance, guild_id, replace_window)
    finally:
        conn.execute("RESET preserve_insertion_order")


def _write_batch(conn: duckdb.DuckDBPyConnection, select: str, params: list[Any], src: _Source, providers: list[str],
                 name: str, provenance: Provenance, guild_id: int, replace_window: bool) -> IngestReport:
    """One transaction: number the import, insert, check, reconcile, commit (or roll all of it back)."""
    conn.execute("BEGIN TRANSACTION")
    try:
        import_id = begin_import(conn, guild_id, "costs", provenance)
        try:
            conn.execute(
                f"INSERT INTO cost_lines (guild_id, import_id, {', '.join(LEDGER_COLUMNS)}, source_kind, source_name, "  # noqa: S608
                f"fetched_at) SELECT ?, ?, s.*, ?, ?, ? FROM ({select}) s",
                [guild_id, import_id, *provenance, *params])
        except duckdb.Error as exc:  # a NOT NULL column, or a read error: diagnosed after the rollback
            raise _Rejected(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        src.raise_rejects(conn, name)
        flags = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond, _, _ in _CHECKS)
        row = conn.execute(
            f"SELECT count(*), count(DISTINCT hash({', '.join(IDENTITY)})), min(charge_period_start), "  # noqa: S608
            "max(charge_period_start), max(charge_period_end), "
            "list(DISTINCT billing_currency) FILTER (WHERE billing_currency IS NOT NULL), "
            f"{flags} FROM cost_lines WHERE import_id = ?",
            [import_id]).fetchone()
        assert row is not None
        lines, distinct, first_start, last_start, last_end = int(row[0]), int(row[1]), row[2], row[3], row[4]
        if lines == 0:
            raise IngestError(detail=f"{name} has a header but no data rows")
        if any(row[6:]):
            raise _Rejected("a row breaks a FOCUS rule")
        record_charges(conn, import_id, first_start, last_start, row[5] or [])
        counts = reconcile(conn, import_id=import_id, guild_id=guild_id, lines=lines, distinct_hint=distinct,
                           first_start=first_start, last_start=last_start, replace_window=replace_window)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    kind, source_name, fetched_at = provenance
    return IngestReport(
        target="costs", guild_id=guild_id, source_kind=kind, source_name=source_name, fetched_at=fetched_at,
        rows_read=lines, rows_added=counts.added, rows_restated=counts.restated, rows_unchanged=counts.unchanged,
        rows_merged=counts.merged, rows_removed=counts.removed, period_start=first_start, period_end=last_end,
        focus_version_hint=focus_version(actual for actual, _ in src.columns.values()),
    )


def _diagnose(conn: duckdb.DuckDBPyConnection, src: _Source, providers: list[str], name: str, reason: str) -> None:
    """Read the source again into a numbered scratch table and raise naming the first bad row."""
    diag = _Source(src.sql, src.params, src.kind, src.columns, src.csv_types, src.cast_types)
    reader, params = diag.reader()
    try:
        try:
            conn.execute(f"CREATE OR REPLACE TEMP TABLE {SCRATCH} AS "  # noqa: S608 - fixed expressions
                         f"{_normalised(reader, src.columns, providers, typed=src.csv_types is not None)}", params)
        except duckdb.Error as exc:
            raise _read_error(name, src.kind, exc) from exc
        diag.raise_rejects(conn, name)
        firsts = ", ".join(f"min(CASE WHEN {cond} THEN rowid END)" for cond, _, _ in _CHECKS)
        row = conn.execute(f"SELECT {firsts} FROM {SCRATCH}").fetchone()  # noqa: S608 - fixed checks
        for (_, message, quoted), first in zip(_CHECKS, row or (), strict=True):
            if first is not None:
                value = ""
                if quoted is not None:
                    got = conn.execute(f"SELECT {quoted} FROM {SCRATCH} WHERE rowid = ?",  # noqa: S608 - fixed
                                       [first]).fetchone()
                    value = f" ({got[0]})" if got and got[0] is not None else ""
                raise IngestError(detail=f"{name}: {message}{value} at row {int(first) + 1}")
    finally:
        diag.drop(conn)
        conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
    raise IngestError(detail=f"{name} could not be imported: {reason}")


def _import(conn: duckdb.DuckDBPyConnection, src: _Source, name: str, provenance: Provenance,
            guild_id: int, *, replace_window: bool = False) -> IngestReport:
    providers = _resolve_columns(src.columns, name)
    try:
        return _insert_and_check(conn, src, providers, name, provenance, guild_id, replace_window)
    except _Rejected as rejected:
        _diagnose(conn, src, providers, name, str(rejected))
        raise  # unreachable: _diagnose always raises
    finally:
        src.drop(conn)


def ingest_focus_path(conn: duckdb.DuckDBPyConnection, path: Path, *, guild_id: int, max_bytes: int,
                      source_kind: str = "focus_file", source_name: str | None = None,
                      fetched_at: datetime, replace_window: bool = False,
                      max_rows: int = DEFAULT_MAX_ROWS) -> IngestReport:
    """Validate and import one FOCUS CSV/Parquet file into `guild_id`'s ledger (blocking; via `Ledger.run`).

    `max_rows` (FINOPS_MAX_ROWS): a file holding more rows is rejected before it is read.

    `replace_window`: the file is the complete, re-issued export for its charge periods, so
    the scope's stored charges in its window (first to last ChargePeriodStart) of the
    providers and billing accounts it lists, and missing from it, are removed (see `reconcile`).
    """
    name = source_name or path.name
    fmt = check_path(path, max_bytes)
    check_rows(fmt, path, name, max_rows=max_rows, max_bytes=max_bytes)
    columns = describe(conn, fmt, path, name, _EXPECTED)
    provenance = (source_kind, name, fetched_at)
    if fmt == "parquet":
        return _import(conn, _Source("read_parquet(?)", [str(path)], "Parquet", columns), name, provenance, guild_id,
                       replace_window=replace_window)
    typed = {actual: c.type for c in COLUMNS if c.type in _CSV_TYPE
             for actual, _ in [columns.get(c.focus_name.lower(), (None, ""))] if actual is not None}
    cast_types = {actual: _CSV_TYPE[t] for actual, t in typed.items()}
    # An empty cell is null, and so is a bare NULL: the FinOps Foundation's own FOCUS 1.0 sample writes
    # nulls that way, and read as text "NULL" would become a commitment id or a resource name.
    src = _Source("read_csv(?, header=true, all_varchar=true, nullstr=?, types=?{rejects})",
                  [str(path), list(CSV_NULLS), cast_types], "CSV",
                  {k: (a, "DOUBLE" if typed.get(a) == "number" else "VARCHAR") for k, (a, _) in columns.items()},
                  csv_types={actual: _CSV_WORDS[t] for actual, t in typed.items()}, cast_types=cast_types)
    return _import(conn, src, name, provenance, guild_id, replace_window=replace_window)


def ingest_focus_table(conn: duckdb.DuckDBPyConnection, table: pa.Table, *, guild_id: int, source_kind: str,
                       source_name: str, fetched_at: datetime) -> IngestReport:
    """Import FOCUS-named columns produced by a connector (same validation and reconciliation as files)."""
    columns = {f.name.lower(): (f.name, _arrow_duck_type(f.type)) for f in table.schema}
    _resolve_columns(columns, source_name)
    if table.num_rows == 0:
        return IngestReport(target="costs", guild_id=guild_id, source_kind=source_kind, source_name=source_name,
                            fetched_at=fetched_at, rows_read=0)
    view = "focus_incoming"
    conn.execute("SELECT 1").fetchall()  # an earlier fetchone() left a result open: register refuses
    conn.register(view, table)
    try:
        return _import(conn, _Source(view, [], "Arrow", columns), source_name, (source_kind, source_name, fetched_at),
                       guild_id)
    finally:
        conn.unregister(view)


def _arrow_duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "DOUBLE"
    if pa.types.is_map(arrow_type):
        return "MAP"
    if pa.types.is_struct(arrow_type):
        return "STRUCT"
    return "VARCHAR"


__all__ = ["LEDGER_COLUMNS", "ingest_focus_path", "ingest_focus_table"]
