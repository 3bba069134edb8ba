"""Per-user sliding-window limit on deploy/apply actions.

In memory on purpose: it protects Discord and Terraform from bursts, and a restart that
forgets the last minute of history is harmless.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from cloud_engine.errors import RateLimited

WINDOW = timedelta(minutes=1)


class RateLimiter:
    def __init__(self, per_minute: int, *, clock: Callable[[], datetime]) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._hits: defaultdict[tuple[int, int, str], deque[datetime]] = defaultdict(deque)

    def check(self, guild_id: int, user_id: int, action: str) -> None:
        """Count one `action` by the user, or raise RateLimited with the seconds until a slot frees."""
        now = self.clock()
        hits = self._hits[(guild_id, user_id, action)]
        while hits and now - hits[0] >= WINDOW:
            hits.popleft()
        if len(hits) >= self.per_minute:
            retry = (hits[0] + WINDOW - now).total_seconds()
            raise RateLimited(limit=self.per_minute, action=action, retry_after=max(retry, 1.0))
        hits.append(now)
