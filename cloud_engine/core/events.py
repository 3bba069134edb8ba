"""In-process publish/subscribe for session state changes.

The lobby (Discord) and the CLI subscribe; the orchestrator publishes after each committed
transition. Subscribers run as tasks so a slow or failing UI never blocks the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionEvent:
    session_id: int
    project_id: int
    guild_id: int
    event: str
    from_state: str | None
    to_state: str | None
    actor_id: int | None
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[SessionEvent], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Register `callback`; returns a function that unsubscribes it."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def publish(self, event: SessionEvent) -> None:
        for callback in list(self._subscribers):
            task = asyncio.get_running_loop().create_task(self._deliver(callback, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, callback: Subscriber, event: SessionEvent) -> None:
        try:
            await callback(event)
        except Exception:
            log.exception("event subscriber failed", extra={"session_id": event.session_id, "event": event.event})

    async def drain(self) -> None:
        """Wait for in-flight deliveries (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
