"""Retries for model calls: ours, not the SDKs', so counts and waits are known and testable.

Both SDKs are built with their own retries off (`max_retries=0`, one-attempt
`HttpRetryOptions`). Here a call is retried only on HTTP 429 and 5xx, with exponential
backoff plus jitter. The server's own delay sets the minimum wait: Groq's `Retry-After`
header, or Gemini's `RetryInfo.retryDelay` in the 429 body ("37s"). Waiting less than the
server asked would only burn the remaining attempts on more 429s.

Everything (attempts and waits) fits in one total budget (`total_budget_s`, 45 s): when the
next wait would cross it, the call gives up at once and the advisor falls back to the rules
engine, so a Discord user never waits much longer than that. Each attempt's own deadline is
also cut to what is left of the budget. Timeouts are not retried, for the same reason.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

T = TypeVar("T")
TOTAL_BUDGET_S = 45.0
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


class RetryableStatus(Exception):
    """An HTTP status worth retrying, with the server's requested delay (seconds) if it sent one."""

    def __init__(self, status: int, retry_after: float | None, cause: BaseException) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.cause = cause


class BudgetSpent(Exception):
    """The total retry budget ran out before the call succeeded; `last` is the final failure."""

    def __init__(self, last: RetryableStatus, spent_s: float, wanted_s: float) -> None:
        super().__init__(f"retry budget spent ({spent_s:.1f}s, server asked for {wanted_s:.1f}s more)")
        self.last = last
        self.spent_s = spent_s
        self.wanted_s = wanted_s


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; tests pass zero delays and a recording `sleep`."""

    attempts: int = 3
    initial_s: float = 0.5
    max_s: float = 8.0
    jitter_s: float = 0.5
    max_retry_after_s: float = TOTAL_BUDGET_S
    total_budget_s: float = TOTAL_BUDGET_S
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    clock: Callable[[], float] = field(default=time.monotonic)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with additive jitter for the given (1-based) failed attempt."""
        base = min(self.max_s, self.initial_s * (2 ** max(0, attempt - 1)))
        return float(base + (random.uniform(0, self.jitter_s) if self.jitter_s > 0 else 0.0))  # noqa: S311 - jitter only

    def wait_for(self, attempt: int, retry_after: float | None) -> float:
        """The wait before the next attempt: backoff, raised to the server's delay when given."""
        wait = self.backoff(attempt)
        return max(wait, retry_after) if retry_after is not None else wait


def is_retryable_status(status: int) -> bool:
    """429 (rate limited) and 5xx (server trouble) are transient; other 4xx are our bug."""
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_retry_info(body: Any) -> float | None:
    """Seconds from a Google API error body's `RetryInfo.retryDelay` ("37s", "1.5s"), or None.

    The body looks like {"error": {"code": 429, "details": [{"@type": ".../google.rpc.RetryInfo",
    "retryDelay": "37s"}, ...]}}; the SDK hands us either the whole body or its "error" part.
    """
    if not isinstance(body, Mapping):
        return None
    error = body.get("error", body)
    details = error.get("details") if isinstance(error, Mapping) else None
    if not isinstance(details, list):
        return None
    for item in details:
        if isinstance(item, Mapping) and item.get("@type") == _RETRY_INFO:
            match = _DURATION_RE.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


async def call_with_retries(fn: Callable[[float], Awaitable[T]], policy: RetryPolicy) -> T:
    """Run `fn(seconds_left)`, retrying `RetryableStatus` failures within the policy's budget.

    Raises the last `RetryableStatus` after the final attempt or when the server asks for a
    delay over `max_retry_after_s`, and `BudgetSpent` when the next wait would cross the budget.
    Time spent counts each attempt (by `policy.clock`) plus each wait asked of `policy.sleep`,
    so an injected sleep that returns at once still spends the budget.
    """
    spent = 0.0
    attempts = max(1, policy.attempts)
    for attempt in range(1, attempts + 1):
        started = policy.clock()
        try:
            return await fn(max(0.0, policy.total_budget_s - spent))
        except RetryableStatus as exc:
            spent += max(0.0, policy.clock() - started)
            if attempt == attempts or (exc.retry_after is not None and exc.retry_after > policy.max_retry_after_s):
                raise
            wait = policy.wait_for(attempt, exc.retry_after)
            if spent + wait >= policy.total_budget_s:
                raise BudgetSpent(exc, spent, wait) from None
            await policy.sleep(wait)
            spent += wait
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
