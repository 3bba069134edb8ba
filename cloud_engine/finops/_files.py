"""Shared pieces of file ingestion: size and format checks, DuckDB source expressions,
and turning DuckDB's CSV reject rows into an `IngestError` that names row and column.

Identifiers cannot be bound as SQL parameters, so column names are only ever taken from a
file's own header after being matched against our fixed column lists, and are quoted with
`ident`; values and paths are always bound parameters.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from cloud_engine.errors import IngestError

MB = 1024 * 1024
FileFormat = Literal["csv", "parquet"]
NUMERIC_TYPES = ("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
                 "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "REAL")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


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

    def raise_first(self, conn: duckdb.DuckDBPyConnection, name: str, expected: dict[str, str] | None = None) -> None:
        """If any row was rejected while parsing, fail naming the first bad row and column.

        `expected` words what a typed column should hold ({"BilledCost": "a number"}); a
        cast failure in a column not listed is worded as "not a number".
        """
        row = conn.execute(
            f"SELECT line, column_name, error_type, error_message FROM {ident(self.table)} "  # noqa: S608 - generated name
            "ORDER BY line LIMIT 1"
        ).fetchone()
        if row is None:
            return
        line, column, error_type, message = row
        data_row = int(line) - 1  # line 1 is the header
        if str(error_type) == "CAST":
            what = (expected or {}).get(str(column), "a number")
            raise IngestError(detail=f"{name}: column {column} has a value that is not {what} at row {data_row} "
                                     f"(file line {line})")
        raise IngestError(detail=f"{name}: row {data_row} (file line {line}) is malformed: {message}")

    def drop(self, conn: duckdb.DuckDBPyConnection) -> None:
        for table in (self.table, self.scan):
            conn.execute(f"DROP TABLE IF EXISTS {ident(table)}")


def describe(conn: duckdb.DuckDBPyConnection, fmt: FileFormat, path: Path, name: str) -> dict[str, tuple[str, str]]:
    """Column names of a file as {lower-case name: (actual name, DuckDB type)}."""
    try:
        if fmt == "csv":
            rows = conn.execute("DESCRIBE SELECT * FROM read_csv(?, header=true, all_varchar=true)", [str(path)]).fetchall()
        else:
            rows = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        kind = "CSV" if fmt == "csv" else "Parquet"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IngestError(detail=f"{name} could not be read as {kind}: {first}") from exc
    return {str(r[0]).lower(): (str(r[0]), str(r[1])) for r in rows}


def is_numeric(duck_type: str) -> bool:
    return duck_type.upper().startswith(NUMERIC_TYPES)


__all__ = [
    "MB", "CsvRejects", "FileFormat", "check_path", "check_size", "describe", "file_format", "ident",
    "is_numeric", "safe_filename",
]
