"""Graceful shutdown of `run`: refuse new plans and applies, let running ones finish, then interrupt.

Why a gate around the engine's `start_plan`/`start_apply` rather than a flag inside the
orchestrator: every Discord-started run goes through those two calls (bot/runs.py), so
wrapping them on the running engine is enough to stop new work and to know which runs are
in flight, without the engine having to know it is being shut down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from cloud_engine.errors import IllegalTransition

log = logging.getLogger(__name__)

INTERRUPT_REASON = "interrupted by shutdown: the bot was stopped and the grace period of {grace:g}s ran out"


class RunGate:
    """Tracks runs started through the engine and, once closed, refuses new ones."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.closed = False
        self._runs: dict[asyncio.Task[Any], tuple[int, int]] = {}
        self._originals: dict[str, Callable[..., asyncio.Task[Any]]] = {}
        for name in ("start_plan", "start_apply"):
            original = getattr(engine, name)
            self._originals[name] = original
            setattr(engine, name, self._gated(original))

    def _gated(self, start: Callable[..., asyncio.Task[Any]]) -> Callable[..., asyncio.Task[Any]]:
        def gated(session_id: int, user_id: int, **kwargs: Any) -> asyncio.Task[Any]:
            if self.closed:
                raise IllegalTransition(state="SHUTTING_DOWN", event="start a run while the bot is stopping")
            task = start(session_id, user_id, **kwargs)
            self._runs[task] = (session_id, user_id)
            task.add_done_callback(lambda t: self._runs.pop(t, None))
            return task

        return gated

    @property
    def running(self) -> list[int]:
        """Session ids of runs still in flight."""
        return [sid for task, (sid, _) in self._runs.items() if not task.done()]

    async def drain(self, grace_s: float) -> list[int]:
        """Close the gate, wait up to `grace_s` for runs, then interrupt the rest; returns those interrupted."""
        self.closed = True
        pending = [task for task in self._runs if not task.done()]
        if pending:
            log.info("waiting for running plans and applies", extra={"sessions": self.running, "grace_s": grace_s})
            await asyncio.wait(pending, timeout=grace_s)
        interrupted = []
        for task, (session_id, user_id) in list(self._runs.items()):
            if task.done():
                continue
            interrupted.append(session_id)
            try:
                await self.engine.cancel(session_id, user_id, reason=INTERRUPT_REASON.format(grace=grace_s))
            except Exception:
                log.exception("could not interrupt a run through the engine; cancelling its task",
                              extra={"session_id": session_id})
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if interrupted:
            log.warning("runs interrupted by shutdown", extra={"sessions": interrupted})
        return interrupted

    def restore(self) -> None:
        """Put the engine's own methods back (tests reuse engines)."""
        for name in self._originals:
            vars(self.engine).pop(name, None)
