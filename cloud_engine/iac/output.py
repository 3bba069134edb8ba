"""Terraform output plumbing: child-process line streams, ANSI stripping, masking and sinks.

Why one module: every line a child process prints must pass through the same three steps
(split into lines, strip colour codes, mask secrets) *before* anything else sees it, and
then fan out to any number of consumers (the Discord thread streamer, a log file, a test
list). Keeping the pipeline here, independent of Terraform, lets the runner, the CLI and
the benchmark drive arbitrary argv through exactly the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from cloud_engine.errors import TerraformError
from cloud_engine.logging_setup import MASK, secret_free_cut, secret_literals
from cloud_engine.private_files import CHILD_UMASK, PRIVATE_FILE_MODE, private_dir
from cloud_engine.secret_text import escaped_spans, known_secrets, mask_secrets

__all__ = [
    "FileSink",
    "LineMasker",
    "LineStream",
    "ListSink",
    "Masker",
    "OutputSink",
    "close_sinks",
    "strip_ansi",
]

# CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and 2-byte escapes.
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")  # PEM and PGP
_PEM_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")
_READ_CHUNK = 64 * 1024
_POLL_S = 0.01
_MAX_LINE_BYTES = 256 * 1024
# How far around a cut of an over-long line secrets are looked for (at least the longest literal).
_CUT_WINDOW = 8 * 1024
_MAX_ESCAPED_CHAR = 12  # the longest JSON form of one character: a surrogate pair, \ud83d\ude00


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


class Masker:
    """Hides secrets in output: registered secrets, credential-shaped strings and extra literals.

    The extra literals are what only the caller knows: provider credentials passed in the
    child's environment and values of sensitive Terraform variables. `add` may be called
    while a phase runs (e.g. after a plan reveals sensitive values). Terraform prints JSON,
    so each secret is also hidden in its JSON-escaped forms (`\\/`, `\\u002f`, `\\"`, ...).
    """

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self._extra: set[str] = set()
        self.add(extra)

    def add(self, values: Iterable[str]) -> None:
        """Remember more literal values to hide (shorter than 4 characters are ignored).

        A multi-line value also adds each of its lines, because output is masked line by line.
        """
        self._extra.update(s for v in values if isinstance(v, str) for s in secret_literals(v) if len(s) >= 4)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._extra)

    def __call__(self, text: str) -> str:
        return mask_secrets(text, extra=self._extra)

    def safe_cut(self, text: str, index: int) -> int:
        """The largest position <= `index` where cutting `text` splits no secret this masker hides."""
        literals = self._extra | known_secrets()
        while True:
            index = secret_free_cut(text, index, extra=literals)
            starts = [start for start, end in escaped_spans(text, literals) if start < index < end]
            if not starts:
                return index
            index = min(starts)

    @property
    def cut_window(self) -> int:
        """Bytes to see on each side of a cut to be sure no secret straddles it (escaped forms included)."""
        return max(_CUT_WINDOW, *(_MAX_ESCAPED_CHAR * len(v) for v in self._extra | known_secrets()), 0)

    def line_masker(self) -> LineMasker:
        """A stateful per-stream masker that also hides multi-line private keys."""
        return LineMasker(self)


class LineMasker:
    """Masks one stream line by line, remembering whether it is inside a PEM private key.

    `mask_secrets` hides a PEM block when it sees all of it; a line stream only ever shows
    one line, so the key body lines after `-----BEGIN ... PRIVATE KEY-----` would leak
    without this state.
    """

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._in_key = False

    def __call__(self, line: str) -> str:
        line = strip_ansi(line)
        head = ""
        if self._in_key:
            end = _PEM_END.search(line)
            if end is None:
                return MASK
            self._in_key = False
            head, line = MASK, line[end.end() :]
        return head + self._mask_outside_key(line)

    def _mask_outside_key(self, line: str) -> str:
        """Mask text that starts outside a key; the last BEGIN decides if the next line is inside one.

        Earlier keys on the line are whole (BEGIN..END) and `mask_secrets` hides them; only a
        BEGIN with no END after it leaves the stream inside a key.
        """
        begins = list(_PEM_BEGIN.finditer(line)) if "-----BEGIN " in line else []
        if begins and _PEM_END.search(line, begins[-1].end()) is None:
            self._in_key = True
            return self._masker(line[: begins[-1].start()]) + MASK
        return self._masker(line)

    def safe_cut(self, text: str, index: int) -> int:
        """See `Masker.safe_cut`."""
        return self._masker.safe_cut(text, index)

    @property
    def cut_window(self) -> int:
        """See `Masker.cut_window`."""
        return self._masker.cut_window


class LineStream:
    """Runs one argv and yields its output as clean lines, in order, fanned out to sinks.

    Each line is ANSI-stripped and masked before it is yielded or written to any sink.
    The child runs in its own session (process group), so signals reach everything it
    started (Terraform provider plugins, provisioner shells). Cancellation and timeouts
    escalate SIGINT -> (grace) -> SIGTERM -> (grace) -> SIGKILL to the whole group; output
    printed while shutting down (e.g. Terraform's "Interrupt received") is still streamed.
    The child is always reaped before iteration ends, including when the consumer stops
    early or its task is cancelled.

    With `stdout_path`, stdout goes to that file (for machine-readable JSON, which must
    not be streamed) and only stderr is streamed. With `transform`, each raw line becomes
    the zero or more display lines it returns (e.g. Terraform's `-json` UI messages turned
    back into readable text) before masking; the transform sees the unmasked line.
    `on_spawn` is called once the child exists, for work that should start beside it
    rather than compete with the steps before it.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        phase: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        grace_s: float = 10.0,
        masker: Masker | None = None,
        sinks: Sequence[OutputSink] = (),
        stdout_path: Path | None = None,
        keep_lines: bool = True,
        transform: Callable[[str], Sequence[str]] | None = None,
        on_spawn: Callable[[], None] | None = None,
    ) -> None:
        if not argv:
            raise ValueError("argv must not be empty")
        self.argv = list(argv)
        self.phase = phase
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.timeout_s = timeout_s
        self.grace_s = grace_s
        self._mask = (masker or Masker()).line_masker()
        self.sinks = list(sinks)
        self.stdout_path = stdout_path
        self.transform = transform
        self.on_spawn = on_spawn
        self.lines: list[str] | None = [] if keep_lines else None
        self.returncode: int | None = None
        self.pid: int | None = None
        self.duration_s: float = 0.0
        self._cancel = asyncio.Event()
        self._started = False
        self._iterator: AsyncGenerator[str, None] | None = None
        self._stop_reason: str | None = None

    @property
    def running(self) -> bool:
        return self.pid is not None and self.returncode is None

    def cancel(self) -> bool:
        """Ask the child to stop: SIGINT now, escalation is done by the streaming task.

        Returns False if the child is not running (not started yet or already exited).
        """
        if not self.running:
            return False
        self._cancel.set()
        _signal_group(self.pid, signal.SIGINT)
        return True

    async def run(self) -> int:
        """Stream to the sinks until the child exits; return its exit code."""
        async for _ in self:
            pass
        assert self.returncode is not None
        return self.returncode

    def __aiter__(self) -> AsyncIterator[str]:
        if self._iterator is None:
            self._iterator = self._iterate()
        return self._iterator

    async def __aenter__(self) -> AsyncIterator[str]:
        """`async with stream as lines:` guarantees the child is reaped even on `break`."""
        return self.__aiter__()

    async def __aexit__(self, *exc_info: object) -> None:
        if self._iterator is not None:
            await self._iterator.aclose()

    async def _iterate(self) -> AsyncGenerator[str, None]:
        if self._started:
            raise RuntimeError("a LineStream can be iterated only once")
        self._started = True
        started = time.monotonic()
        deadline = None if self.timeout_s is None else started + self.timeout_s
        proc = await self._spawn()
        self.pid = proc.pid
        if self.on_spawn is not None:
            self.on_spawn()
        reader = proc.stderr if self.stdout_path is not None else proc.stdout
        assert reader is not None
        cancel_wait = asyncio.ensure_future(self._cancel.wait())
        shutdown: asyncio.Task[None] | None = None
        pending = b""
        try:
            while True:
                if shutdown is None:
                    chunk = await self._read_unless_stopped(reader, cancel_wait, deadline)
                    if chunk is None:
                        shutdown = self._begin_shutdown(proc)
                        continue
                else:
                    chunk = await self._read_during_shutdown(reader, shutdown)
                if not chunk:
                    break
                complete, pending = _split_lines(pending + chunk, self._mask)
                for raw in complete:
                    for line in await self._emit(raw):
                        yield line
            if pending:
                for line in await self._emit(pending):
                    yield line
            if shutdown is None and not await self._exit_unless_stopped(proc, cancel_wait, deadline):
                shutdown = self._begin_shutdown(proc)
            if shutdown is not None:
                await shutdown
            await proc.wait()
            await _kill_stragglers(proc.pid)
        finally:
            cancel_wait.cancel()
            if proc.returncode is None:
                await self._abandon(proc, reader, shutdown)
            self.returncode = proc.returncode
            self.duration_s = time.monotonic() - started
        if self._stop_reason is not None:
            raise TerraformError(phase=self.phase, detail=self._stop_reason)

    def _stop_requested(self, deadline: float | None) -> bool:
        return self._cancel.is_set() or (deadline is not None and time.monotonic() >= deadline)

    def _begin_shutdown(self, proc: asyncio.subprocess.Process) -> asyncio.Task[None]:
        if self._cancel.is_set():
            self._stop_reason = "cancelled"
        else:
            self._stop_reason = f"timed out after {self.timeout_s:g} s"
        return asyncio.create_task(self._escalate(proc, sigint_sent=self._cancel.is_set()))

    async def _read_unless_stopped(
        self, reader: asyncio.StreamReader, cancel_wait: asyncio.Future[bool], deadline: float | None
    ) -> bytes | None:
        """The next chunk of output, or None once cancel was requested or the deadline passed."""
        if self._stop_requested(deadline):
            return None
        read = asyncio.ensure_future(reader.read(_READ_CHUNK))
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            await asyncio.wait({read, cancel_wait}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not read.done():
                await _cancel_read(read)
        return read.result() if not read.cancelled() else None

    async def _exit_unless_stopped(
        self, proc: asyncio.subprocess.Process, cancel_wait: asyncio.Future[bool], deadline: float | None
    ) -> bool:
        """Wait for the child to exit after its output closed; False if told to stop first."""
        if proc.returncode is not None:
            return True
        if self._stop_requested(deadline):
            return False
        exited = asyncio.ensure_future(proc.wait())
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        await asyncio.wait({exited, cancel_wait}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if exited.done():
            return True
        exited.cancel()
        return False

    async def _spawn(self) -> asyncio.subprocess.Process:
        stdout_file: IO[bytes] | None = None
        if self.stdout_path is not None:
            fd = os.open(self.stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
            stdout_file = os.fdopen(fd, "wb")
        try:
            return await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stdout_file if stdout_file is not None else asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE if stdout_file is not None else asyncio.subprocess.STDOUT,
                start_new_session=True,
                umask=CHILD_UMASK,  # what the child writes (state, backups, lock file) is the bot user's only
            )
        except OSError as exc:
            raise TerraformError(
                phase=self.phase, detail=f"cannot start {self.argv[0]}: {exc.strerror}"
            ) from exc
        finally:
            if stdout_file is not None:
                stdout_file.close()  # the child holds its own copy of the descriptor

    async def _emit(self, raw: bytes) -> list[str]:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        shown = [self._mask(line) for line in (self.transform(text) if self.transform else (text,))]
        for line in shown:
            if self.lines is not None:
                self.lines.append(line)
            for sink in self.sinks:
                await sink.write(line)
        return shown

    async def _read_during_shutdown(
        self, reader: asyncio.StreamReader, shutdown: asyncio.Task[None]
    ) -> bytes:
        """Keep draining while the group is signalled, so a full pipe cannot block its exit.

        Once the leader is gone, a grandchild that escaped the group could still hold the
        pipe open; give it one grace period, then stop reading.
        """
        read = asyncio.ensure_future(reader.read(_READ_CHUNK))
        try:
            await asyncio.wait({read, shutdown}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                await asyncio.wait({read}, timeout=self.grace_s)
        finally:
            if not read.done():
                await _cancel_read(read)
        return read.result() if not read.cancelled() else b""

    async def _escalate(self, proc: asyncio.subprocess.Process, *, sigint_sent: bool) -> None:
        """SIGINT, then SIGTERM and SIGKILL after a grace period each, to the whole group."""
        if not sigint_sent:
            _signal_group(proc.pid, signal.SIGINT)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(proc.wait()), self.grace_s)
            if proc.returncode is not None:
                break
            _signal_group(proc.pid, sig)
        await proc.wait()
        await _kill_stragglers(proc.pid)

    async def _abandon(
        self,
        proc: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        shutdown: asyncio.Task[None] | None,
    ) -> None:
        """The consumer stopped early or was cancelled: shut the group down and reap it.

        Output printed meanwhile still reaches the sinks (the log keeps the shutdown
        messages). A second cancellation while waiting falls through to SIGKILL.
        """
        drain = asyncio.ensure_future(self._drain_to_sinks(reader))
        if shutdown is None:
            shutdown = asyncio.ensure_future(self._escalate(proc, sigint_sent=self._cancel.is_set()))
        try:
            await shutdown
            # The group is gone: let the drain read what is left up to end of file (a final
            # error message, often), bounded in case an escaped grandchild holds the pipe.
            await asyncio.wait({drain}, timeout=self.grace_s)
        except asyncio.CancelledError:
            shutdown.cancel()
            _signal_group(proc.pid, signal.SIGKILL)
            await asyncio.shield(proc.wait())
            raise
        finally:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain

    async def _drain_to_sinks(self, reader: asyncio.StreamReader) -> None:
        """Send what the child prints while shutting down to the sinks, to end of file.

        The last line often has no newline (a final error message) and is sent too.
        """
        pending = b""
        while chunk := await reader.read(_READ_CHUNK):
            complete, pending = _split_lines(pending + chunk, self._mask)
            for raw in complete:
                await self._emit(raw)
        if pending:
            await self._emit(pending)


def _split_lines(data: bytes, masker: LineMasker) -> tuple[list[bytes], bytes]:
    """Complete lines and the unfinished rest; an over-long rest is cut into a line of its own.

    The cap bounds memory when a child prints megabytes without a newline. Splitting on
    b"\n" never cuts a UTF-8 character (its bytes are all >= 0x80); a cut of an over-long
    rest falls on a character boundary and outside any secret, since each piece is masked
    on its own. The cut waits until `masker.cut_window` bytes follow it, so a secret
    straddling it is seen whole.
    """
    *complete, rest = data.split(b"\n")
    if len(rest) <= _MAX_LINE_BYTES:
        return complete, rest
    window = masker.cut_window
    while len(rest) > _MAX_LINE_BYTES + window:
        cut = _secret_free_cut(rest, _MAX_LINE_BYTES, window, masker)
        complete.append(rest[:cut])
        rest = rest[cut:]
    return complete, rest


def _secret_free_cut(data: bytes, limit: int, window: int, masker: LineMasker) -> int:
    """A byte offset <= `limit` on a UTF-8 character boundary that splits no secret.

    Only `window` bytes either side of `limit` are decoded and searched; surrogateescape
    keeps invalid bytes, so the text maps back to exactly the same bytes.
    """
    cut = _char_start(data, limit)
    low = _char_start(data, max(1, cut - window))
    text = data[low : _char_start(data, cut + window)].decode("utf-8", "surrogateescape")
    index = len(data[low:cut].decode("utf-8", "surrogateescape"))
    safe = masker.safe_cut(text, index)
    return low + len(text[:safe].encode("utf-8", "surrogateescape"))


def _char_start(data: bytes, index: int) -> int:
    """`index`, moved back to the first byte of the UTF-8 character it falls in."""
    for _ in range(3):  # a character has at most 3 continuation bytes
        if 0 < index < len(data) and data[index] & 0xC0 == 0x80:
            index -= 1
    return index


async def _cancel_read(read: asyncio.Future[bytes]) -> None:
    """Cancel a pending read and let it unwind, so the reader accepts the next read."""
    read.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.shield(asyncio.wait({read}))


async def _kill_stragglers(pgid: int, wait_s: float = 2.0) -> None:
    """SIGKILL what is left of the group (plugins still exiting) and wait until it is gone.

    Waiting makes "the phase is over" mean "nothing of it still runs"; the wait is
    bounded because an orphan zombie is reaped by init, not by us.
    """
    _signal_group(pgid, signal.SIGKILL)
    for _ in range(int(wait_s / _POLL_S)):  # no event exists for "group empty": poll
        if not _group_exists(pgid):
            return
        await asyncio.sleep(_POLL_S)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int | None, sig: signal.Signals) -> None:
    """Signal a process group, ignoring one that is already gone."""
    if pgid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
