"""The loopback webhook receiver and a NotificationService allowed to deliver to it (as a lab sets it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from cloud_engine.core import CloudOrchestrator
from cloud_engine.notify import NotificationService
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.conftest import FakeClock


@dataclass
class Receiver:
    url: str
    fail_first: int = 0
    hits: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        box.hits.append({"body": body, "headers": dict(request.headers)})
        if len(box.hits) <= box.fail_first:
            return web.Response(status=503)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook/{token}", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    box.url = f"http://127.0.0.1:{port}/hook/t0ken"
    yield box
    await runner.cleanup()


@pytest.fixture
async def notes(db: Database, settings: Settings, engine: CloudOrchestrator,
                clock: FakeClock) -> AsyncIterator[NotificationService]:
    lab = settings.model_copy(update={"webhook_allow_private": True, "notify_backoff_s": 0})
    service = NotificationService(db, lab, engine.access, clock)
    yield service
    await service.close()
