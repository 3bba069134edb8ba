"""Stream thousands of output lines into a Discord channel or thread without meeting a 429.

Why this shape: Discord allows about five sends/edits per channel every five seconds, and
Terraform prints thousands of lines. The streamer keeps ONE live tail message and edits it
at most once per cadence; a new message starts only when the tail would pass 2000
characters; each message is its own ```text block, so nothing is ever split inside a
fence. When more output arrives between two updates than one message holds, the newest
lines are shown and the rest is counted as "not shown live": the full log is attached as a
file at the end, so nothing is lost. Calls are paced under the channel budget and a 429
(if one still happens) is honoured with its retry-after. The streamer never raises into
the Terraform runner: a broken channel only stops the live view.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.chunking import neutralize_fences
from bot.limits import EDIT_CADENCE_S, MESSAGE, MESSAGES_PER_WINDOW, RATE_WINDOW_S, safe, truncate

__all__ = ["CallBudget", "Messageable", "StreamResult", "ThreadSink", "retry_after_of", "stream_lines"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
_OPEN = "```text\n"
_CLOSE = "\n```"
_SKIP_NOTE = "*… {n} line(s) not shown live (full log attached at the end)*\n"
_SKIP_RESERVE = len(_SKIP_NOTE.format(n=10**9))
_HEADER_MAX = 120
DEFAULT_MAX_MESSAGES = 15
DEFAULT_MAX_RETRIES = 5


class Messageable(Protocol):
    """What the streamer needs from a channel or thread: discord.py's `send`."""

    async def send(self, content: str | None = None, **kwargs: Any) -> Any:
        """Post a message; the returned object must offer `async edit(content=...)`."""


@dataclass
class StreamResult:
    """What one stream cost and produced; `full_log` is exactly the lines received."""

    api_calls: int = 0
    messages: int = 0
    edits: int = 0
    retries_429: int = 0
    duration: float = 0.0
    lines: int = 0
    skipped_lines: int = 0
    failed_calls: int = 0
    full_log: str = ""


class CallBudget:
    """Sliding-window pacer: at most `calls` API calls per `window` seconds on one channel.

    Set one below Discord's 5/5 s so the summary and the odd retry still fit.
    """

    def __init__(self, calls: int = MESSAGES_PER_WINDOW - 1, window: float = RATE_WINDOW_S, *,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.calls, self.window, self._clock, self._sleep = calls, window, clock, sleep
        self._stamps: deque[float] = deque()

    async def acquire(self) -> None:
        while True:
            now = self._clock()
            while self._stamps and self._stamps[0] <= now - self.window:
                self._stamps.popleft()
            if len(self._stamps) < self.calls:
                self._stamps.append(now)
                return
            await self._sleep(self._stamps[0] + self.window - now + 1e-3)


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds to wait if `exc` is a rate limit (discord.RateLimited or an HTTP 429), else None."""
    if isinstance(exc, discord.RateLimited):
        return float(exc.retry_after)
    if isinstance(exc, discord.HTTPException) and exc.status == 429:
        headers = getattr(exc.response, "headers", None) or {}
        try:
            return float(headers.get("Retry-After", 1.0))
        except (TypeError, ValueError):
            return 1.0
    return None


class _LiveTail:
    """The message being edited, the lines it shows and the lines waiting for the next update."""

    def __init__(self, channel: Messageable, title: str, result: StreamResult, budget: CallBudget, sleep: Sleep,
                 max_messages: int, max_retries: int) -> None:
        self.channel, self.result, self.budget, self.sleep = channel, result, budget, sleep
        self.title = truncate(safe(title), _HEADER_MAX - 20)
        self.max_messages, self.max_retries = max_messages, max_retries
        self.message: Any = None
        self.shown: list[str] = []
        self.pending: list[str] = []
        self.broken = False
        self.header = ""

    def add(self, line: str) -> None:
        self.pending.append(neutralize_fences(line))

    def _next_header(self) -> str:
        part = self.result.messages
        return f"**{self.title}**" + (f" · part {part + 1}" if part else "") + "\n"

    def _render(self, lines: list[str], skipped: int, header: str) -> str:
        note = _SKIP_NOTE.format(n=skipped) if skipped else ""
        return header + note + _OPEN + "\n".join(lines) + _CLOSE

    def _budget_chars(self) -> int:
        return MESSAGE - _HEADER_MAX - _SKIP_RESERVE - len(_OPEN) - len(_CLOSE)

    def _fit_tail(self, lines: list[str]) -> tuple[list[str], int]:
        """The newest lines that fit one message, and how many older ones did not."""
        room, kept = self._budget_chars(), []
        width = room - 1
        for line in reversed(lines):
            line = truncate(line, width)
            if room - (len(line) + 1) < 0:
                break
            kept.append(line)
            room -= len(line) + 1
        kept.reverse()
        return kept, len(lines) - len(kept)

    def _fits(self, lines: list[str]) -> bool:
        return sum(len(line) + 1 for line in lines) <= self._budget_chars() and all(
            len(line) < self._budget_chars() for line in lines)

    async def flush(self) -> None:
        """At most one API call: extend the tail in place, or start the next message."""
        if not self.pending or self.broken:
            return
        combined = self.shown + self.pending
        if self.message is not None and self._fits(combined):
            if await self._edit(self._render(combined, 0, self.header)):
                self.shown, self.pending = combined, []
            return
        if self.message is None or self.result.messages < self.max_messages:
            lines, skipped = self._fit_tail(self.pending)
            header = self._next_header()
            message = await self._call(lambda: self.channel.send(self._render(lines, skipped, header)))
            if message is not None:
                self.message, self.header = message, header
                self.result.messages += 1
                self.shown, self.pending = lines, []
                self.result.skipped_lines += skipped
            return
        lines, skipped = self._fit_tail(combined)
        if await self._edit(self._render(lines, skipped, self.header)):
            self.result.skipped_lines += max(skipped - (len(self.shown)), 0)
            self.shown, self.pending = lines, []

    async def _edit(self, content: str) -> bool:
        message = self.message
        done = await self._call(lambda: message.edit(content=content))
        if done is not None:
            self.result.edits += 1
            return True
        return False

    async def _call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        """One Discord call under the budget; 429s are waited out and retried, other errors end the live view."""
        for _ in range(self.max_retries + 1):
            await self.budget.acquire()
            self.result.api_calls += 1
            try:
                outcome = await make()
            except (discord.HTTPException, discord.RateLimited) as exc:
                wait = retry_after_of(exc)
                if wait is None:
                    log.warning("stream call failed; live view stopped", extra={"status": getattr(exc, "status", None)})
                    self.result.failed_calls += 1
                    self.broken = True
                    return None
                self.result.retries_429 += 1
                await self.sleep(wait)
                continue
            return outcome if outcome is not None else True
        self.result.failed_calls += 1
        return None


async def stream_lines(channel: Messageable, lines: AsyncIterator[str], *, title: str,
                       cadence: float = EDIT_CADENCE_S, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep,
                       budget: CallBudget | None = None, max_messages: int = DEFAULT_MAX_MESSAGES,
                       max_retries: int = DEFAULT_MAX_RETRIES, attach_log: bool = True,
                       log_filename: str = "output.log") -> StreamResult:
    """Consume `lines` into `channel` as a live tail, then post a summary with the full log attached."""
    result = StreamResult()
    budget = budget or CallBudget(clock=clock, sleep=sleep)
    tail = _LiveTail(channel, title, result, budget, sleep, max_messages, max_retries)
    full: list[str] = []
    started = clock()
    next_flush = started
    iterator = aiter(lines)
    pending_next: asyncio.Future[str] | None = None
    try:
        while True:
            if pending_next is None:
                pending_next = asyncio.ensure_future(anext(iterator))
            timeout = max(next_flush - clock(), 0.0) if tail.pending else None
            done, _ = await asyncio.wait({pending_next}, timeout=timeout)
            if not done:
                await tail.flush()
                next_flush = clock() + cadence
                continue
            future, pending_next = pending_next, None
            try:
                line = future.result()
            except StopAsyncIteration:
                break
            full.append(line)
            tail.add(line)
            if clock() >= next_flush:
                await tail.flush()
                next_flush = clock() + cadence
    finally:
        if pending_next is not None and not pending_next.done():
            pending_next.cancel()
    await tail.flush()
    result.lines = len(full)
    result.full_log = "\n".join(full) + ("\n" if full else "")
    result.duration = clock() - started
    summary = (f"**{tail.title}** finished: {result.lines} line(s) in {result.duration:.1f}s"
               + (f"; {result.skipped_lines} not shown live" if result.skipped_lines else ""))
    if attach_log and not tail.broken:
        payload = result.full_log.encode("utf-8")
        sent = await tail._call(lambda: channel.send(
            summary, file=discord.File(io.BytesIO(payload), filename=log_filename)))
        if sent is not None:
            result.messages += 1
    return result


class ThreadSink:
    """An engine `OutputSink` that feeds `stream_lines` from a queue, so the runner never waits on Discord.

    `start()` launches the streaming task; `result()` closes the sink and returns its StreamResult.
    """

    def __init__(self, channel: Messageable, *, title: str, **stream_kwargs: Any) -> None:
        self.channel, self.title, self._kwargs = channel, title, stream_kwargs
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task: asyncio.Task[StreamResult] | None = None
        self.closed = False

    async def write(self, line: str) -> None:
        if not self.closed:
            self._queue.put_nowait(line)

    async def _lines(self) -> AsyncIterator[str]:
        while (line := await self._queue.get()) is not None:
            yield line

    def start(self) -> asyncio.Task[StreamResult]:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                stream_lines(self.channel, self._lines(), title=self.title, **self._kwargs), name=f"stream:{self.title}")
        return self._task

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    async def result(self) -> StreamResult:
        task = self.start()
        await self.close()
        return await task
