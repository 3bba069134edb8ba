"""Background work that must keep running whatever happens to one iteration.

Why not discord.ext.tasks: a loop there stops on the first unhandled exception unless each
body remembers to catch; here the catch is the loop's job, and sleep is injectable so tests
drive it without waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["periodic"]

log = logging.getLogger(__name__)


async def periodic(interval_s: float, job: Callable[[], Awaitable[Any]], *, name: str,
                   sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
    """Run `job` every `interval_s` seconds until cancelled; a failing run is logged and the loop goes on."""
    while True:
        await sleep(interval_s)
        try:
            result = await job()
            if result:
                log.info("%s: %s", name, result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job %s failed; will retry", name)
