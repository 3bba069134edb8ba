"""Shared pieces of file ingestion: size, row and format checks, DuckDB source expressions,
and turning DuckDB's CSV reject rows into an `IngestError` that names row and column.

Why a row check as well as the upload size: the size limit measures compressed bytes, and
a few KiB of Parquet or gzip can hold millions of rows. `check_rows` reads only Parquet
metadata, or streams a CSV once counting lines, and stops at the first byte over a limit.

Identifiers cannot be bound as SQL parameters, so column names are only ever taken from a
file's own header after being matched against our fixed column lists, and are quoted with
`ident`; values and paths are always bound parameters.
"""

from __future__ import annotations

import csv
import gzip
import re
import uuid
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cloud_engine.errors import IngestError

MB = 1024 * 1024
FileFormat = Literal["csv", "parquet"]
NUMERIC_TYPES = ("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
                 "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "REAL")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
DEFAULT_MAX_ROWS = 5_000_000  # FINOPS_MAX_ROWS: a month of a large organisation's daily, per-resource export
# How many times the upload limit a file may hold once decompressed. Billing CSVs gzip about
# 10-30x; a gzip bomb reaches ~1000x, so this bounds the time spent reading one.
MAX_EXPANSION = 100
_CHUNK = 1 << 20
_SPLIT_HINT = "split it into smaller files (for example one per month or per billing account) and import each"


def ident(name: str) -> str:
    """Quote a column name for DuckDB (names come from a file header, matched to our lists)."""
    return '"' + name.replace('"', '""') + '"'


def file_format(name: str) -> FileFormat:
    """Pick the reader from the file name; anything else is rejected before it is opened."""
    lower = name.lower()
    if lower.endswith((".csv", ".csv.gz", ".tsv")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    raise IngestError(detail=f"{Path(name).name}: unsupported file type; expected .csv, .csv.gz or .parquet")


def check_size(size: int, max_bytes: int, name: str) -> None:
    """Reject empty files and files over the configured upload limit, before parsing."""
    if size == 0:
        raise IngestError(detail=f"{name} is empty")
    if size > max_bytes:
        raise IngestError(
            detail=f"{name} is {size / MB:.1f} MB, over the {max_bytes / MB:.0f} MB limit (FINOPS_MAX_UPLOAD_MB)"
        )


def check_path(path: Path, max_bytes: int) -> FileFormat:
    if not path.is_file():
        raise IngestError(detail=f"{path} does not exist or is not a file")
    fmt = file_format(path.name)
    check_size(path.stat().st_size, max_bytes, path.name)
    return fmt


def _too_many_rows(name: str, max_rows: int) -> IngestError:
    return IngestError(detail=f"{name} has more than {max_rows:,} rows, over the FINOPS_MAX_ROWS limit; {_SPLIT_HINT}")


def _too_large(name: str, max_bytes: int) -> IngestError:
    return IngestError(detail=f"{name} holds more than {max_bytes * MAX_EXPANSION / MB:,.0f} MB once decompressed "
                              f"({MAX_EXPANSION}x the {max_bytes / MB:.0f} MB upload limit, FINOPS_MAX_UPLOAD_MB); "
                              f"{_SPLIT_HINT}")


def check_rows(fmt: FileFormat, path: Path, name: str, *, max_rows: int, max_bytes: int) -> None:
    """Reject a file holding more than `max_rows` rows, or expanding past `MAX_EXPANSION` x `max_bytes`,
    before DuckDB reads it.

    Parquet: from the footer alone (row count, uncompressed size). CSV and .csv.gz: one
    streamed pass counting line breaks, so a quoted field spanning lines counts as more
    than one row; that only matters a whole limit's worth of rows away from it.
    """
    if fmt == "parquet":
        _check_parquet_rows(path, name, max_rows=max_rows, max_bytes=max_bytes)
    else:
        _check_csv_rows(path, name, max_rows=max_rows, max_bytes=max_bytes)


def _check_parquet_rows(path: Path, name: str, *, max_rows: int, max_bytes: int) -> None:
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(detail=f"{name} could not be read as Parquet: {exc}") from exc
    if meta.num_rows > max_rows:
        raise _too_many_rows(name, max_rows)
    if sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) > max_bytes * MAX_EXPANSION:
        raise _too_large(name, max_bytes)


def _check_csv_rows(path: Path, name: str, *, max_rows: int, max_bytes: int) -> None:
    compressed = path.name.lower().endswith(".gz")
    limit = max_bytes * MAX_EXPANSION
    lines = size = 0
    last = b"\n"
    try:
        with gzip.open(path, "rb") if compressed else path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
                if lines - 1 > max_rows:  # the first line is the header
                    raise _too_many_rows(name, max_rows)
                if size > limit:
                    raise _too_large(name, max_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        kind = "gzip-compressed CSV" if compressed else "CSV"
        raise IngestError(detail=f"{name} could not be read as {kind}: {exc}") from exc
    if lines - 1 + (last != b"\n") > max_rows:
        raise _too_many_rows(name, max_rows)


def safe_filename(filename: str) -> str:
    """A plain base name for a temp copy of an upload (never a path from the uploader)."""
    base = _SAFE_NAME.sub("_", Path(filename).name).strip("._") or "upload"
    return base[-120:]


@dataclass
class CsvRejects:
    """Unique per-import names for DuckDB's reject tables, dropped afterwards."""

    table: str
    scan: str

    @classmethod
    def new(cls) -> CsvRejects:
        suffix = uuid.uuid4().hex[:10]
        return cls(table=f"rejects_{suffix}", scan=f"reject_scans_{suffix}")

    def raise_first(self, conn: duckdb.DuckDBPyConnection, name: str, expected: dict[str, str] | None = None,
                    header: list[str] | None = None, types: dict[str, str] | None = None) -> None:
        """If any row was rejected while parsing, fail naming the first bad row and column.

        `expected` words what a typed column should hold ({"BilledCost": "a number"}); a
        cast failure in a column not listed is worded as "not a number". `header` (the
        file's column names in order) and `types` (typed column -> DuckDB type) let the
        column be found from the rejected line itself: when a query reads only some of a
        file's columns, DuckDB's reject row can name the wrong one.
        """
        row = conn.execute(
            f"SELECT line, column_name, error_type, error_message, csv_line FROM {ident(self.table)} "  # noqa: S608
            "ORDER BY line LIMIT 1"
        ).fetchone()
        if row is None:
            return
        line, column, error_type, message, raw = row
        data_row = int(line) - 1  # line 1 is the header
        if str(error_type) == "CAST":
            column = _uncastable_column(conn, raw, header, types) or column
            what = (expected or {}).get(str(column), "a number")
            raise IngestError(detail=f"{name}: column {column} has a value that is not {what} at row {data_row} "
                                     f"(file line {line})")
        raise IngestError(detail=f"{name}: row {data_row} (file line {line}) is malformed: {message}")

    def drop(self, conn: duckdb.DuckDBPyConnection) -> None:
        for table in (self.table, self.scan):
            conn.execute(f"DROP TABLE IF EXISTS {ident(table)}")


def _uncastable_column(conn: duckdb.DuckDBPyConnection, raw: object, header: list[str] | None,
                       types: dict[str, str] | None) -> str | None:
    """The first typed column (in file order) whose value on the rejected CSV line does not cast."""
    if not header or not types or not isinstance(raw, str):
        return None
    line = raw.strip("\r\n")
    delimiter = "\t" if "\t" in line and "," not in line else ","
    try:
        values = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return None
    if len(values) != len(header):
        return None
    for column, value in zip(header, values, strict=True):
        duck_type = types.get(column)
        if duck_type is None or not value.strip():
            continue
        ok = conn.execute(f"SELECT TRY_CAST(? AS {duck_type}) IS NOT NULL", [value]).fetchone()  # noqa: S608
        if ok is not None and not ok[0]:
            return column
    return None


def describe(conn: duckdb.DuckDBPyConnection, fmt: FileFormat, path: Path, name: str,
             expected: Collection[str] = ()) -> dict[str, tuple[str, str]]:
    """Column names of a file as {lower-case name: (actual name, DuckDB type)}.

    `expected` (lower-case names the caller looks for): when the file's first line names
    some of them but the columns DuckDB detected name none, its CSV sniffer has misread the
    layout, typically because one row has an extra, unquoted delimiter (it then takes the
    widest row as the header, or falls back to one column). The file is read again with
    the first line as the header to fail naming that row instead of "every column missing".
    """
    try:
        if fmt == "csv":
            rows = conn.execute("DESCRIBE SELECT * FROM read_csv(?, header=true, all_varchar=true)", [str(path)]).fetchall()
        else:
            rows = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        kind = "CSV" if fmt == "csv" else "Parquet"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IngestError(detail=f"{name} could not be read as {kind}: {first}") from exc
    columns = {str(r[0]).lower(): (str(r[0]), str(r[1])) for r in rows}
    if fmt == "csv" and expected and not set(columns) & set(expected):
        header = _first_line_fields(path)
        if {h.strip().lower() for h in header} & set(expected):
            _raise_ragged_row(conn, path, name, header)
    return columns


def _first_line_fields(path: Path) -> list[str]:
    """The fields of a CSV's first line, split as the import expects (',' or, for .tsv, a tab)."""
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    try:
        with (gzip.open(path, "rt", encoding="utf-8-sig", errors="replace") if path.name.lower().endswith(".gz")
              else path.open(encoding="utf-8-sig", errors="replace")) as fh:
            line = fh.readline(_CHUNK)
    except (OSError, EOFError, zlib.error):
        return []
    return next(csv.reader([line], delimiter=delimiter), [])


def _raise_ragged_row(conn: duckdb.DuckDBPyConnection, path: Path, name: str, header: list[str]) -> None:
    """Read with the first line as the header and fail naming the first row that does not fit it."""
    columns: dict[str, str] = {}
    for i, field in enumerate(header):  # DuckDB needs unique, non-empty names here
        base = field or f"column{i}"
        columns[base if base not in columns else f"{base}_{i}"] = "VARCHAR"
    rejects = CsvRejects.new()
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    what = "a tab" if delimiter == "\t" else "a comma"
    try:
        # auto_detect off: the sniffer is what misread the file, so the layout is given outright
        conn.execute("SELECT count(*) FROM read_csv(?, auto_detect=false, header=true, all_varchar=true, delim=?, "
                     "quote='\"', escape='\"', columns=?, store_rejects=true, rejects_table=?, rejects_scan=?)",
                     [str(path), delimiter, columns, rejects.table, rejects.scan]).fetchall()  # runs the scan
        row = conn.execute(f"SELECT line, error_message FROM {ident(rejects.table)} "  # noqa: S608 - generated name
                           "ORDER BY line LIMIT 1").fetchone()
    except duckdb.Error:
        row = None
    finally:
        rejects.drop(conn)
    if row is None:
        raise IngestError(detail=f"{name}: the CSV layout could not be detected from its header line; check that every "
                                 f"row has the same {len(header)} fields as the header and that values containing "
                                 f"{what} are quoted")
    line, message = int(row[0]), str(row[1])
    raise IngestError(detail=f"{name}: row {line - 1} (file line {line}) does not match the header's {len(header)} "
                             f"columns ({message}); quote values that contain {what}")


def is_numeric(duck_type: str) -> bool:
    return duck_type.upper().startswith(NUMERIC_TYPES)


__all__ = [
    "DEFAULT_MAX_ROWS", "MAX_EXPANSION", "MB", "CsvRejects", "FileFormat", "check_path", "check_rows", "check_size",
    "describe", "file_format", "ident", "is_numeric", "safe_filename",
]
