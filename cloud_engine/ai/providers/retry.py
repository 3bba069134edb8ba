"""Retries for model calls: ours, not the SDKs', so counts and waits are known and testable.

Both SDKs are built with their own retries off (`max_retries=0`, one-attempt
`HttpRetryOptions`). Here a call is retried only on HTTP 429 and 5xx, with exponential
backoff plus jitter; a `Retry-After` header, when the server sends one, sets the minimum
wait. A server asking us to wait longer than `max_retry_after_s` is not waited for: the
advisor falls back to the rules engine instead of keeping a Discord user waiting.
Timeouts are not retried, for the same reason.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

T = TypeVar("T")


class RetryableStatus(Exception):
    """An HTTP status worth retrying, with the server's Retry-After (seconds) if it sent one."""

    def __init__(self, status: int, retry_after: float | None, cause: BaseException) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.cause = cause


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; tests pass zero delays and a recording `sleep`."""

    attempts: int = 3
    initial_s: float = 0.5
    max_s: float = 8.0
    jitter_s: float = 0.5
    max_retry_after_s: float = 20.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with additive jitter for the given (1-based) failed attempt."""
        base = min(self.max_s, self.initial_s * (2 ** max(0, attempt - 1)))
        return base + (random.uniform(0, self.jitter_s) if self.jitter_s > 0 else 0.0)  # noqa: S311 - jitter only


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


class _Wait:
    """tenacity wait strategy: backoff, raised to the server's Retry-After when given."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, state: RetryCallState) -> float:
        wait = self.policy.backoff(state.attempt_number)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return wait


def _worth_retrying(policy: RetryPolicy) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        if not isinstance(exc, RetryableStatus):
            return False
        return exc.retry_after is None or exc.retry_after <= policy.max_retry_after_s

    return check


async def call_with_retries(fn: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Run `fn`, retrying `RetryableStatus` failures per `policy`; the last failure is re-raised."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        wait=_Wait(policy),
        retry=retry_if_exception(_worth_retrying(policy)),
        sleep=policy.sleep,
        reraise=True,
    )
    return await retrying(fn)
