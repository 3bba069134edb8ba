"""Low-priority helpers for work that runs beside a Terraform plan but is not waited on first.

Why: a plan's wall time is what a user waits for. Rendering the provider HCL shown next
to a sandbox plan and `terraform fmt` are needed before the plan is reported, but not
before it starts; run beside it at normal priority on a 2-core machine they slowed the
plan by a third. At a lower CPU priority (nice) they use what the plan leaves idle
(Terraform waits on its provider plugins much of the time) and still finish first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["BACKGROUND_NICE", "background_argv", "in_background_thread"]

T = TypeVar("T")
BACKGROUND_NICE = 15


def background_argv(argv: Sequence[str]) -> list[str]:
    """`argv` run through `nice` when the system has it (it always has on Linux); else unchanged."""
    nice = shutil.which("nice")
    return [nice, "-n", str(BACKGROUND_NICE), *argv] if nice else list(argv)


async def in_background_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking `fn` in its own thread at a lower CPU priority; await its result.

    A dedicated thread rather than `asyncio.to_thread`: a thread cannot raise its own
    priority back, so lowering one from the shared pool would slow every later task.
    Cancelling the awaiting task does not stop `fn`; its result is then dropped.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[Any], None], value: Any) -> None:
        if not done.cancelled():
            outcome(value)

    def work() -> None:
        with contextlib.suppress(OSError, AttributeError):  # not permitted or not Linux: run at normal priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, which re-raises it
            loop.call_soon_threadsafe(settle, done.set_exception, exc)
        else:
            loop.call_soon_threadsafe(settle, done.set_result, result)

    threading.Thread(target=work, name=f"background-{getattr(fn, '__name__', 'work')}", daemon=True).start()
    return await done
