"""Facts for /cloud-health, gathered without blocking the event loop.

psutil's CPU sampling sleeps, so it runs in a worker thread; the database answers a ping;
the Terraform binary is looked up the way the runner finds it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import psutil

from cloud_engine.errors import ConfigurationError
from cloud_engine.finops.sync import health_line, sync_status
from cloud_engine.iac.binary import find_terraform

if TYPE_CHECKING:
    from bot.bot import CloudBot

__all__ = ["collect"]


def _process_stats() -> dict[str, Any]:
    proc = psutil.Process()
    return {"cpu_percent": psutil.cpu_percent(interval=0.2), "memory_percent": psutil.virtual_memory().percent,
            "bot_rss_mb": round(proc.memory_info().rss / 2**20, 1)}


async def collect(bot: CloudBot, guild_id: int | None = None) -> dict[str, Any]:
    """Uptime, host load, bot memory, database ping, Terraform binary, and the server's undelivered notifications
    and FinOps sync freshness (cloud_engine/finops/sync.py)."""
    stats = await asyncio.to_thread(_process_stats)
    started = time.monotonic()
    try:
        await bot.engine.db.fetchone("SELECT 1 AS ok")
        db_ok = f"ok ({(time.monotonic() - started) * 1000:.1f} ms)"
    except Exception as exc:
        db_ok = f"failed: {type(exc).__name__}"
    try:
        binary = await asyncio.to_thread(find_terraform, bot.settings.terraform_bin)
        terraform = f"{binary.flavor} at {binary.path}"
    except ConfigurationError:
        terraform = ""
    uptime = timedelta(seconds=int(time.monotonic() - bot.started_at))
    extra: dict[str, Any] = {}
    if guild_id is not None:
        dead = await (await bot.services.notifications()).dead_letters(guild_id)
        extra["notifications"] = (f"{len(dead)} undelivered after every retry (/cloud-notify list)" if dead
                                  else "all delivered")
        extra["FinOps_sync"] = health_line(await sync_status(bot.engine.db, bot.settings, guild_id=guild_id))
    return {**extra, "uptime": str(uptime), "cpu": f"{stats['cpu_percent']:.0f}%", "memory": f"{stats['memory_percent']:.0f}%",
            "bot_memory": f"{stats['bot_rss_mb']} MB", "db_ok": db_ok, "terraform": terraform or "not found",
            "latency": f"{bot.latency * 1000:.0f} ms" if bot.latency == bot.latency and bot.latency != float("inf") else "—"}
