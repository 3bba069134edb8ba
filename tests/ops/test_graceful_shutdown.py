"""SIGTERM in `run`: no new runs, a running apply finishes within the grace period, else it is interrupted."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest

from cloud_engine.cli.run import BotRunner
from cloud_engine.errors import IllegalTransition
from cloud_engine.ops.shutdown import RunGate
from cloud_engine.settings import Settings


class Engine:
    """The two calls the gate wraps, plus `cancel` as the orchestrator offers it."""

    def __init__(self, apply_seconds: float) -> None:
        self.apply_seconds = apply_seconds
        self.finished: list[int] = []
        self.cancelled: list[tuple[int, int, str]] = []
        self.events = type("Bus", (), {"subscribe": lambda self, cb: (lambda: None)})()
        self._tasks: dict[int, asyncio.Task[Any]] = {}

    async def _apply(self, session_id: int) -> str:
        await asyncio.sleep(self.apply_seconds)
        self.finished.append(session_id)
        return "APPLIED"

    def start_plan(self, session_id: int, user_id: int, **kwargs: Any) -> asyncio.Task[str]:
        return asyncio.get_running_loop().create_task(self._apply(session_id))

    def start_apply(self, session_id: int, user_id: int, **kwargs: Any) -> asyncio.Task[str]:
        task = asyncio.get_running_loop().create_task(self._apply(session_id))
        self._tasks[session_id] = task
        return task

    async def cancel(self, session_id: int, user_id: int, *, reason: str) -> None:
        self.cancelled.append((session_id, user_id, reason))
        self._tasks[session_id].cancel()


async def test_a_closed_gate_refuses_new_runs() -> None:
    engine = Engine(0)
    gate = RunGate(engine)
    assert await gate.drain(1) == []
    with pytest.raises(IllegalTransition, match="stopping"):
        engine.start_apply(1, 7)
    gate.restore()
    await engine.start_apply(2, 7)  # the engine's own method is back
    assert engine.finished == [2]


async def test_a_running_apply_finishes_within_the_grace_period() -> None:
    engine = Engine(0.2)
    gate = RunGate(engine)
    task = engine.start_apply(5, 7)
    assert gate.running == [5]
    assert await gate.drain(5) == []
    assert task.result() == "APPLIED" and engine.finished == [5] and engine.cancelled == []


async def test_an_apply_past_the_grace_period_is_interrupted_through_the_engine() -> None:
    engine = Engine(30)
    gate = RunGate(engine)
    task = engine.start_apply(9, 7)
    assert await gate.drain(0.1) == [9]
    assert task.cancelled()
    [(session_id, user_id, reason)] = engine.cancelled
    assert (session_id, user_id) == (9, 7)
    assert reason.startswith("interrupted by shutdown") and "0.1s" in reason


class ServingBot:
    """Stands in for discord.py's client: logs in, then serves until closed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.http = type("Http", (), {"http_trace": None})()
        self.tree = None
        self.logged_in = asyncio.Event()
        self._closed = asyncio.Event()
        self.closed_while_running: list[int] = []

    async def __aenter__(self) -> ServingBot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def login(self, token: str) -> None:
        self.logged_in.set()

    @property
    def engine(self) -> Engine:
        return self._engine

    async def connect(self, *, reconnect: bool) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        if not self._closed.is_set():
            self.closed_while_running = list(self._engine._tasks)
            self._closed.set()


async def test_sigterm_lets_the_apply_finish_then_closes_the_bot() -> None:
    engine = Engine(0.3)
    bot = ServingBot(engine)
    runner = BotRunner(Settings(_env_file=None, shutdown_grace_s=10), "token", bot_factory=lambda s: bot)
    serving = asyncio.create_task(runner.run())
    await bot.logged_in.wait()
    await asyncio.sleep(0)
    apply = engine.start_apply(3, 7)  # through the gate the runner installed
    asyncio.get_running_loop().call_soon(lambda: signal.raise_signal(signal.SIGTERM))
    assert await asyncio.wait_for(serving, 10) == 0
    assert apply.result() == "APPLIED" and engine.finished == [3]
    assert bot._closed.is_set()
    assert runner.gate.closed


async def test_with_the_real_engine_a_running_apply_ends_applied_and_new_runs_are_refused(engine: Any) -> None:
    from cloud_engine.core import ResourceSpec, State
    from tests.conftest import ADMIN, GUILD, USER

    project = await engine.create_project(GUILD, USER, name="drain", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="bucket", name="logs"))
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    gate = RunGate(engine)
    try:
        running = engine.start_apply(session.id, USER)
        assert await gate.drain(120) == []
        assert running.result().state == State.APPLIED
        other = await engine.start_session(project.id, USER)
        with pytest.raises(IllegalTransition, match="stopping"):
            engine.start_plan(other.id, USER)
    finally:
        gate.restore()
