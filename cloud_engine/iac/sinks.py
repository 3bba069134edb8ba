"""Where Terraform's lines go: the OutputSink protocol and the list and file sinks.

Why apart: consumers (the Discord thread streamer, a log file, a test list) only need the
protocol and never the process supervision or masking that feed them.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from cloud_engine.private_files import PRIVATE_FILE_MODE, private_dir

__all__ = ["FileSink", "ListSink", "OutputSink", "close_sinks", "strip_ansi"]

# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and 2-byte escapes.
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(line: str) -> str:
    """Remove terminal escape sequences; `-no-color` misses colours printed by provisioners."""
    if "\x1b" not in line:
        return line
    return _ANSI_RE.sub("", line)


@runtime_checkable
class OutputSink(Protocol):
    """A consumer of already-masked output lines (no trailing newline).

    `write` is awaited in line order for every line of a phase, so a slow sink slows the
    child process down (pipe back-pressure): sinks that talk to rate-limited APIs should
    buffer internally. A sink may also define `async def close(self) -> None`, which
    `close_sinks` calls when its owner is done with it.
    """

    async def write(self, line: str) -> None: ...


async def close_sinks(sinks: Iterable[OutputSink]) -> None:
    """Call `close()` on every sink that has one (the protocol makes it optional)."""
    for sink in sinks:
        close = getattr(sink, "close", None)
        if close is not None:
            await close()


class ListSink:
    """Collects lines in memory, for tests and the CLI."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.closed = False

    async def write(self, line: str) -> None:
        self.lines.append(line)

    async def close(self) -> None:
        self.closed = True


class FileSink:
    """Appends lines to a log file without blocking the event loop.

    Lines are buffered in memory and written by a worker thread in batches, so a
    10 000-line apply costs a handful of thread hops instead of one disk write per line.
    The file is created on first flush with mode 0600 (it can hold provider output).
    """

    def __init__(self, path: Path, *, flush_lines: int = 512) -> None:
        self.path = path
        self._flush_lines = flush_lines
        self._pending: list[str] = []
        self._file: IO[str] | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    async def write(self, line: str) -> None:
        if self.closed:
            raise ValueError(f"write to closed FileSink {self.path}")
        self._pending.append(line)
        if len(self._pending) >= self._flush_lines:
            await self.flush()

    async def flush(self) -> None:
        """Hand the buffered lines to a worker thread and wait until they are written."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            await asyncio.to_thread(self._write_batch, batch)

    def _write_batch(self, batch: list[str]) -> None:
        if self._file is None:
            private_dir(self.path.parent)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
            self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._file.write("".join(f"{line}\n" for line in batch))
        self._file.flush()

    async def close(self) -> None:
        if self.closed:
            return
        await self.flush()
        self.closed = True
        if self._file is not None:
            await asyncio.to_thread(self._file.close)
            self._file = None

