"""The advisor's response cache in the main SQLite database (table `ai_cache`, migration 0003).

Why cache validated model replies rather than final answers: guild quotas, policies and
knowledge change, so guardrails, pricing and citation checks run again on every hit; only
the slow, paid part (the model call) is skipped. Keys are sha256 over a canonical JSON of
everything that decides the reply, so equal questions hit regardless of spacing or case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cloud_engine.store import Database


def cache_key(*, kind: str, provider: str, model: str, prompt_version: str, inputs: Any) -> str:
    """sha256 of a canonical JSON of the reply's inputs."""
    payload = json.dumps({"kind": kind, "provider": provider, "model": model, "prompt_version": prompt_version,
                          "inputs": inputs}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AdviceCache:
    """Get/put of reply text with a TTL; a TTL of 0 hours disables caching."""

    def __init__(self, db: Database, ttl_hours: int, *, clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.ttl = timedelta(hours=ttl_hours)
        self.clock = clock or (lambda: datetime.now(UTC))

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0)

    async def get(self, key: str) -> str | None:
        """The cached reply for `key` if present and not expired."""
        if not self.enabled:
            return None
        row = await self.db.fetchone("SELECT response FROM ai_cache WHERE key = ? AND expires_at > ?",
                                     (key, self.clock().isoformat()))
        return row["response"] if row else None

    async def put(self, key: str, *, provider: str, model: str, prompt_version: str, response: str) -> None:
        """Store (or refresh) a validated reply."""
        if not self.enabled:
            return
        now = self.clock()
        await self.db.execute(
            "INSERT INTO ai_cache (key, provider, model, prompt_version, response, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET response = excluded.response,"
            " created_at = excluded.created_at, expires_at = excluded.expires_at",
            (key, provider, model, prompt_version, response, now.isoformat(), (now + self.ttl).isoformat()),
        )

    async def purge_expired(self) -> int:
        """Delete expired rows; returns how many."""
        return await self.db.execute("DELETE FROM ai_cache WHERE expires_at <= ?", (self.clock().isoformat(),))
