"""The local operations endpoint: `/metrics` (Prometheus text format) and `/healthz`.

Why aiohttp in the bot's own event loop: discord.py already depends on it, and serving from
the loop lets `/healthz` check the live database connection the bot uses, without a thread.
It binds to METRICS_HOST (127.0.0.1 by default): put a reverse proxy or a scraper on the same
host in front of it rather than exposing it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from cloud_engine.ops.metrics import Metrics

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


class OpsServer:
    """Serves `/metrics` and `/healthz`; `/healthz` is 200 when every check says ok, else 503."""

    def __init__(self, metrics: Metrics, health: HealthCheck, *, host: str, port: int) -> None:
        self.metrics = metrics
        self.health = health
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("metrics endpoint listening", extra={"url": f"http://{self.host}:{self.port}/metrics"})

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where it listens, as (host, port) pairs (empty before `start`)."""
        return [tuple(a[:2]) for a in self._runner.addresses] if self._runner is not None else []

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            checks = await self.health()
        except Exception as exc:
            checks = {"status": "failing", "error": f"{type(exc).__name__}: {exc}"}
        status = 200 if checks.get("status") == "ok" else 503
        return web.Response(status=status, text=json.dumps(checks), content_type="application/json")
