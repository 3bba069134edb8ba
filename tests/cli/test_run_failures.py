"""`main.py run` against a Discord it cannot use: unreachable, a refused token, a missing intent.

The first two run the real CLI in a subprocess whose discord.py talks to a loopback address
instead of discord.com; the intent, which Discord reports on the gateway, is raised by a
stand-in bot handed to the same runner.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest

from cloud_engine.cli.failures import CliFailure
from cloud_engine.cli.run import BotRunner
from cloud_engine.settings import Settings
from tests.cli.conftest import MAIN, clean_env, one_line_error

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.not-a-real-token-just-a-shape-abcdefg"
RUN_AGAINST = (
    "import runpy, sys, discord.http\n"
    "discord.http.Route.BASE = sys.argv.pop(1)\n"
    "sys.argv[0] = {main!r}\n"
    "runpy.run_path({main!r}, run_name='__main__')\n"
)


def run_against(base: str, workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = RUN_AGAINST.format(main=str(MAIN))
    return subprocess.run([sys.executable, "-c", code, base, "run"], cwd=workdir, capture_output=True, text=True,
                          timeout=60, env=clean_env(DISCORD_TOKEN=TOKEN, **env))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def refusing_discord() -> Iterator[str]:
    """A loopback 'Discord' that answers every request 401 Unauthorized, as discord.com does a bad token."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"message": "401: Unauthorized", "code": 0}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v10"
    server.shutdown()
    server.server_close()


def test_unreachable_discord_is_retried_with_backoff_then_one_line(workdir: Path) -> None:
    result = run_against(f"http://127.0.0.1:{free_port()}/api/v10", workdir,
                         DISCORD_CONNECT_ATTEMPTS="3", DISCORD_CONNECT_BACKOFF_S="0.1")
    assert result.returncode == 1
    retries = [line for line in result.stderr.splitlines() if line.startswith("Discord is unreachable (")]
    assert len(retries) == 2
    assert "retrying in 0.1s (attempt 1 of 3)" in retries[0]
    assert "retrying in 0.2s (attempt 2 of 3)" in retries[1]  # the wait doubles
    final = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert final == [final[0]] and "unreachable after 3 attempts" in final[0]
    assert "Traceback" not in result.stderr


def test_a_refused_token_is_one_line_naming_the_fix(workdir: Path, refusing_discord: str) -> None:
    result = run_against(refusing_discord, workdir, LOG_LEVEL="ERROR")
    assert result.returncode == 2
    line = one_line_error(result)
    assert "DISCORD_TOKEN" in line and "Reset Token" in line
    assert TOKEN not in result.stderr


class IntentRefusingBot:
    """Logs in, then the gateway closes with 4014 as Discord does when an intent is not enabled."""

    def __init__(self, settings: Settings) -> None:
        self.http = type("Http", (), {"http_trace": None})()
        self.tree = None
        self.closed = False

    async def __aenter__(self) -> IntentRefusingBot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def login(self, token: str) -> None:
        pass

    @property
    def engine(self) -> object:
        return type("Engine", (), {"start_plan": lambda *a, **k: None, "start_apply": lambda *a, **k: None})()

    async def connect(self, *, reconnect: bool) -> None:
        raise discord.PrivilegedIntentsRequired(None)

    async def close(self) -> None:
        self.closed = True


async def test_missing_privileged_intent_names_the_portal_switch() -> None:
    runner = BotRunner(Settings(_env_file=None), TOKEN, bot_factory=IntentRefusingBot)
    with pytest.raises(CliFailure) as failure:
        await runner.run()
    assert failure.value.status == 2
    assert "Privileged Gateway Intents" in str(failure.value) and "Developer Portal" in str(failure.value)
    assert runner.bot.closed


def test_metrics_and_healthz_answer_while_connecting_and_sigterm_stops_cleanly(workdir: Path) -> None:
    import signal
    import time

    import httpx

    port = free_port()
    code = RUN_AGAINST.format(main=str(MAIN))
    env = clean_env(DISCORD_TOKEN=TOKEN, DISCORD_CONNECT_ATTEMPTS="50", DISCORD_CONNECT_BACKOFF_S="1",
                    METRICS_PORT=str(port), LOG_LEVEL="WARNING")
    process = subprocess.Popen([sys.executable, "-c", code, f"http://127.0.0.1:{free_port()}/api/v10", "run"],
                               cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, "the metrics endpoint never answered"
        assert health.status_code == 503 and health.json()["status"] == "starting"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        assert "cloud_engine_ready 0.0" in metrics
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "SIGTERM received" in stderr and "Traceback" not in stderr
