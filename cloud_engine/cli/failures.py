"""Every failure a CLI user can meet, as one line on stderr and an exit status.

Why one place: a traceback tells a newcomer nothing they can act on, and a script calling
the CLI needs to tell "you asked for something wrong" (exit 2) from "it did not work"
(exit 1). `main` sends every exception here; only `--verbose` adds the traceback, through
the log, for someone debugging.
"""

from __future__ import annotations

import errno
import re
import sqlite3
import sys
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from cloud_engine.errors import AdvisorError, EngineError, ProjectLocked, TerraformError
from cloud_engine.settings import SettingsInvalid

BAD_INPUT = 2
FAILED = 1
INTERRUPTED = 130

# Engine errors that mean "it did not work" rather than "the request was wrong" (so do those
# marked `retryable`, such as a busy database).
_FAILURES: tuple[type[EngineError], ...] = (TerraformError, AdvisorError, ProjectLocked)
# Path errors that come from a path the user typed (a missing folder, a file for a folder).
_BAD_PATH_ERRNOS = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG}

class CliFailure(Exception):
    """A failure a command reports itself: its one-line text and exit status."""

    def __init__(self, message: str, status: int = FAILED) -> None:
        self.status = status
        super().__init__(message)


def describe(exc: BaseException) -> tuple[str, int]:
    """The one line and exit status for `exc` (never a traceback); multi-line texts are joined."""
    message, status = _describe(exc)
    return " ".join(part.strip() for part in message.splitlines() if part.strip()), status


def _describe(exc: BaseException) -> tuple[str, int]:
    if isinstance(exc, CliFailure):
        return str(exc), exc.status
    if isinstance(exc, SettingsInvalid):
        return (f"invalid setting {'; '.join(exc.problems)} (set it in the environment or .env; "
                f"see .env.sample)", BAD_INPUT)
    if isinstance(exc, EngineError):
        failed = isinstance(exc, _FAILURES) or getattr(exc, "retryable", False)
        return str(exc), FAILED if failed else BAD_INPUT
    if isinstance(exc, ValidationError):
        return "; ".join(validation_lines(exc)), BAD_INPUT
    if isinstance(exc, OSError):
        return _os_line(exc)
    if (store := _store_line(exc)) is not None:
        return store, FAILED
    return f"unexpected {type(exc).__name__}: {exc} (run again with --verbose for the traceback)", FAILED


def validation_lines(exc: ValidationError, model: type[BaseModel] | None = None) -> list[str]:
    """`use case must be 3 to 1000 characters`-style sentences from a pydantic error, without its URL."""
    lines = []
    for error in exc.errors():
        field = " ".join(str(part) for part in error.get("loc", ())).replace("_", " ") or "value"
        limits = _length_limits(model, error.get("loc", ()))
        if error.get("type") in ("string_too_short", "string_too_long") and limits is not None:
            low, high = limits
            given = error.get("input")
            got = f" (got {len(given)})" if isinstance(given, str) else ""
            lines.append(f"{field} must be {low} to {high} characters{got}")
        else:
            lines.append(f"{field}: {str(error.get('msg', 'is invalid')).removeprefix('Value error, ')}")
    return lines


def _length_limits(model: type[BaseModel] | None, loc: Iterable[Any]) -> tuple[int, int] | None:
    """A string field's (min_length, max_length), read from the model so the text follows the schema."""
    parts = list(loc)
    if model is None or len(parts) != 1 or parts[0] not in model.model_fields:
        return None
    low = high = None
    for item in model.model_fields[str(parts[0])].metadata:
        low = getattr(item, "min_length", low)
        high = getattr(item, "max_length", high)
    return (low or 0, high) if high is not None else None


def _store_line(exc: BaseException) -> str | None:
    """SQLite and DuckDB failures users can act on: a file in use, or one that cannot be opened."""
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        pid = re.search(r"PID (\d+)", str(exc))
        holder = f" (process {pid.group(1)}, a running bot?)" if pid else " (a running bot?)"
        return (f"the FinOps ledger (FINOPS_DB_PATH) is in use by another process{holder}; DuckDB allows one "
                "process at a time: stop it, or use the FinOps slash commands in Discord meanwhile")
    if duckdb is not None and isinstance(exc, duckdb.Error):
        return f"the FinOps ledger (FINOPS_DB_PATH) failed: {str(exc).splitlines()[0]}"
    if isinstance(exc, sqlite3.Error):
        return f"the database (DATABASE_PATH) failed: {exc}"
    return None


def _os_line(exc: OSError) -> tuple[str, int]:
    """`cannot write /no/such/dir/c.png: No such file or directory` (exit 2 for a path the user gave)."""
    where = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or str(exc)
    status = BAD_INPUT if exc.errno in _BAD_PATH_ERRNOS else FAILED
    return f"cannot use{where}: {reason}", status
