"""`/metrics` and `/healthz` on a loopback port, fed by the engine's EventBus, Discord HTTP and the ledger log."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx
import pytest
from aiohttp import web

from cloud_engine.core.events import EventBus, SessionEvent
from cloud_engine.ops.http import OpsServer
from cloud_engine.ops.metrics import Metrics
from cloud_engine.store import Database

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event(session_id: int, name: str, from_state: str, to_state: str, at: datetime) -> SessionEvent:
    return SessionEvent(session_id, 1, 1, name, from_state, to_state, 7, at)


async def scrape(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


@pytest.fixture
async def served() -> tuple[Metrics, int, dict[str, str]]:
    metrics, port, health = Metrics(), free_port(), {"status": "starting"}

    async def check() -> dict[str, str]:
        return dict(health)

    server = OpsServer(metrics, check, host="127.0.0.1", port=port)
    await server.start()
    yield metrics, port, health
    await server.stop()


async def test_runs_by_phase_outcome_and_duration_from_engine_events(served: tuple[Metrics, int, dict]) -> None:
    metrics, port, _ = served
    bus = EventBus()
    bus.subscribe(metrics.on_event)
    bus.publish(event(1, "validation_passed", "VALIDATING", "PLANNING", T0))
    bus.publish(event(1, "plan_succeeded", "PLANNING", "PLAN_READY", T0 + timedelta(seconds=12)))
    bus.publish(event(1, "apply", "APPROVED", "APPLYING", T0 + timedelta(seconds=20)))
    bus.publish(event(1, "apply_failed", "APPLYING", "FAILED", T0 + timedelta(seconds=80)))
    await bus.drain()
    text = (await scrape(port, "/metrics")).text
    assert 'cloud_engine_runs_total{outcome="plan_succeeded",phase="plan"} 1.0' in text
    assert 'cloud_engine_runs_total{outcome="apply_failed",phase="apply"} 1.0' in text
    assert 'cloud_engine_run_duration_seconds_sum{outcome="apply_failed",phase="apply"} 60.0' in text
    assert 'cloud_engine_run_duration_seconds_bucket{le="15.0",outcome="plan_succeeded",phase="plan"} 1.0' in text


async def test_commands_refusals_and_advisor_counts(served: tuple[Metrics, int, dict]) -> None:
    metrics, port, _ = served
    metrics.command("cloud-deploy")
    metrics.command("cloud-deploy")
    metrics.refusal("cloud-grant", "PermissionDenied")
    metrics.advisor_answer("groq", "auto", models_configured=True)
    metrics.advisor_answer("rules", "auto", models_configured=True)
    metrics.advisor_answer("rules", "auto", models_configured=False)  # no key set: not a fallback
    text = (await scrape(port, "/metrics")).text
    assert 'cloud_engine_commands_total{command="cloud-deploy"} 2.0' in text
    assert 'cloud_engine_refusals_total{command="cloud-grant",reason="PermissionDenied"} 1.0' in text
    assert 'cloud_engine_advisor_answers_total{provider="rules"} 2.0' in text
    assert "cloud_engine_advisor_fallbacks_total 1.0" in text


async def test_discord_requests_and_429s_through_the_http_trace(served: tuple[Metrics, int, dict]) -> None:
    metrics, port, _ = served
    hits = {"n": 0}

    async def api(request: web.Request) -> web.Response:
        hits["n"] += 1
        return web.json_response({"retry_after": 0.01}, status=429 if hits["n"] == 1 else 200)

    app = web.Application()
    app.router.add_route("*", "/api/v10/channels/1/messages", api)
    runner = web.AppRunner(app)
    await runner.setup()
    fake_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", fake_port).start()
    try:
        async with aiohttp.ClientSession(trace_configs=[metrics.http_trace()]) as session:
            for _ in range(2):
                async with session.post(f"http://127.0.0.1:{fake_port}/api/v10/channels/1/messages") as response:
                    await response.read()
    finally:
        await runner.cleanup()
    text = (await scrape(port, "/metrics")).text
    assert 'cloud_engine_discord_api_requests_total{method="POST",status="429"} 1.0' in text
    assert 'cloud_engine_discord_api_requests_total{method="POST",status="200"} 1.0' in text
    assert "cloud_engine_discord_rate_limited_total 1.0" in text


async def test_ingestion_lag_per_source_from_the_ingest_log(served: tuple[Metrics, int, dict], tmp_path: Path) -> None:
    metrics, port, _ = served
    db = await Database.open(tmp_path / "cloud.db")
    try:
        for kind, finished, status in (("focus_file", "2026-11-02T08:00:00", "ok"),
                                       ("focus_file", "2026-11-02T08:30:00", "failed"),
                                       ("gcp", "2026-11-01T09:00:00", "ok")):
            await db.execute("INSERT INTO finops_ingest_runs (guild_id, target, source_kind, source_name, started_at,"
                             " finished_at, status) VALUES (1, 'costs', ?, 'x', ?, ?, ?)",
                             (kind, finished, finished, status))
        await metrics.refresh_ingest_lag(db, now=T0)
    finally:
        await db.close()
    text = (await scrape(port, "/metrics")).text
    assert 'cloud_engine_finops_ingest_lag_seconds{source="focus_file",target="costs"} 3600.0' in text
    assert 'cloud_engine_finops_ingest_lag_seconds{source="gcp",target="costs"} 86400.0' in text


async def test_healthz_is_503_until_ready_then_200(served: tuple[Metrics, int, dict]) -> None:
    _, port, health = served
    starting = await scrape(port, "/healthz")
    assert starting.status_code == 503 and starting.json()["status"] == "starting"
    health.update(status="ok", discord="connected")
    ready = await scrape(port, "/healthz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "discord": "connected"}


async def test_binds_loopback_only() -> None:
    async def check() -> dict[str, str]:
        return {"status": "ok"}

    port = free_port()
    server = OpsServer(Metrics(), check, host="127.0.0.1", port=port)
    await server.start()
    try:
        assert server.addresses == [("127.0.0.1", port)]
    finally:
        await server.stop()


async def test_the_real_bot_counts_commands_and_refusals() -> None:
    from types import SimpleNamespace

    from discord import app_commands

    from bot.bot import create_bot
    from cloud_engine.cli.run import _count_commands
    from cloud_engine.settings import Settings

    bot = create_bot(Settings(_env_file=None), extensions=())
    answered: list[BaseException] = []

    async def original(interaction: object, error: BaseException) -> None:
        answered.append(error)

    bot.tree.on_error = original  # type: ignore[method-assign]
    metrics = Metrics()
    _count_commands(bot, metrics)
    interaction = SimpleNamespace(command=SimpleNamespace(qualified_name="cloud-grant"), data={}, type=2)
    for listener in bot.extra_events["on_interaction"]:
        await listener(interaction)
    refusal = app_commands.CheckFailure("not an admin")
    await bot.tree.on_error(interaction, refusal)  # type: ignore[arg-type]
    text = metrics.render().decode()
    assert 'cloud_engine_commands_total{command="cloud-grant"} 1.0' in text
    assert 'cloud_engine_refusals_total{command="cloud-grant",reason="CheckFailure"} 1.0' in text
    assert answered == [refusal]  # the bot's own error reply still runs
    await bot.close()
