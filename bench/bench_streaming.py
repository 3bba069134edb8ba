"""Benchmark: a 10 000-line Terraform apply streamed through a channel that enforces Discord's budget.

Run: `.venv/bin/python bench/bench_streaming.py`. The channel (tests/fakes/discord.py) allows
5 sends+edits per 5 s and raises a real 429 HTTPException beyond that; time is virtual, so
a 10-minute apply takes about a second. Goal: no 429, and at most one edit per 1.5 s of
run plus one new message per ~1900 characters of overflow.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.streaming import stream_lines  # noqa: E402
from tests.fakes.discord import RateLimitedChannel, VirtualClock  # noqa: E402

LINES = 10_000
RUN_SECONDS = 600.0
OVERFLOW_CHARS = 1900


async def apply_output(clock: VirtualClock, n: int = LINES, run_s: float = RUN_SECONDS) -> AsyncIterator[str]:
    """Terraform-like apply output, emitted in bursts across `run_s` simulated seconds."""
    per_burst = 25
    for i in range(n):
        if i % per_burst == 0:
            await clock.sleep(run_s * per_burst / n)
        r = i // 4
        yield (f'null_resource.vm_web_{r % 200}: Still creating... [{(i % 60) * 10}s elapsed]' if i % 4 else
               f'null_resource.vm_web_{r % 200}: Creating... triggers = {{ "machine_type" = "e2-small", "n" = "{r}" }}')


async def run() -> dict[str, float]:
    clock = VirtualClock()
    channel = RateLimitedChannel(clock)
    started = time.perf_counter()
    result = await stream_lines(channel, apply_output(clock), title="terraform apply · bench", clock=clock,
                                sleep=clock.sleep)
    wall = time.perf_counter() - started
    total_chars = len(result.full_log)
    budget = result.duration / 1.5 + max(total_chars - OVERFLOW_CHARS, 0) / OVERFLOW_CHARS + 2
    return {"lines": float(result.lines), "api_calls": float(result.api_calls), "messages": float(result.messages),
            "edits": float(result.edits), "retries_429": float(result.retries_429),
            "channel_rejections_429": float(channel.rejected), "simulated_run_s": round(result.duration, 1),
            "wall_s": round(wall, 3), "lines_not_shown_live": float(result.skipped_lines),
            "call_budget": round(budget, 1),
            "goal_met": float(channel.rejected == 0 and result.api_calls <= budget)}


def main() -> int:
    stats = asyncio.run(run())
    for key, value in stats.items():
        print(f"{key:>24}: {value:g}")
    return 0 if stats["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
