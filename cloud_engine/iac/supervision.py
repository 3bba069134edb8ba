"""Child-process supervision: a line stream over a child's output, and stopping its process group.

Why: every line a child process prints must be split, stripped of colour codes and masked
before anything else sees it, then fanned out to sinks; and a cancel must reach the whole
process group (SIGINT, then SIGTERM, then SIGKILL). Independent of Terraform, so the runner,
the CLI and the benchmark drive arbitrary argv through exactly the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from cloud_engine.errors import TerraformError
from cloud_engine.iac.masking import Masker, _split_lines
from cloud_engine.iac.sinks import OutputSink
from cloud_engine.private_files import CHILD_UMASK, PRIVATE_FILE_MODE

__all__ = ["LineStream"]

_READ_CHUNK = 64 * 1024
_POLL_S = 0.01


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
        cancel_wait: asyncio.Future[Any] = asyncio.ensure_future(self._cancel.wait())
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
        self, reader: asyncio.StreamReader, cancel_wait: asyncio.Future[Any], deadline: float | None
    ) -> bytes | None:
        """The next chunk of output, or None once cancel was requested or the deadline passed."""
        if self._stop_requested(deadline):
            return None
        read: asyncio.Future[Any] = asyncio.ensure_future(reader.read(_READ_CHUNK))
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            await asyncio.wait({read, cancel_wait}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not read.done():
                await _cancel_read(read)
        return read.result() if not read.cancelled() else None

    async def _exit_unless_stopped(
        self, proc: asyncio.subprocess.Process, cancel_wait: asyncio.Future[Any], deadline: float | None
    ) -> bool:
        """Wait for the child to exit after its output closed; False if told to stop first."""
        if proc.returncode is not None:
            return True
        if self._stop_requested(deadline):
            return False
        exited: asyncio.Future[Any] = asyncio.ensure_future(proc.wait())
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
        read: asyncio.Future[Any] = asyncio.ensure_future(reader.read(_READ_CHUNK))
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

