"""`main.py run`: start the Discord bot, and keep every way it can fail to start to one line.

The only CLI module that touches Discord, and only through `importlib` once `run` starts, so
no `cloud_engine` module imports discord or bot/ (the engine stays usable without them, and
tests/cogs/test_cog_tree.py holds it to that).

What it adds around discord.py's own reconnecting gateway loop:
- logging in is retried with exponential backoff while Discord is unreachable, saying so
  on stderr each time (discord.py retries the gateway, not the first login);
- a refused token and a missing privileged intent end with one line naming the fix;
- SIGTERM (and Ctrl-C) stop taking new plans and applies, let running ones finish within
  SHUTDOWN_GRACE_S, interrupt the rest (their sessions say so), then close and flush logs;
- with METRICS_PORT set, `/metrics` and `/healthz` on METRICS_HOST:METRICS_PORT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from typing import Any

from cloud_engine.cli.failures import BAD_INPUT, FAILED, CliFailure
from cloud_engine.errors import ConfigurationError
from cloud_engine.settings import Settings

log = logging.getLogger(__name__)

INGEST_LAG_REFRESH_S = 60.0
MAX_BACKOFF_S = 300.0
PORTAL_INTENTS = ("Discord Developer Portal -> your application -> Bot -> Privileged Gateway Intents")


def discord_token(settings: Settings) -> str:
    """The bot token, or ConfigurationError naming DISCORD_TOKEN when it is unset or blank."""
    secret = settings.discord_token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        raise ConfigurationError(variable="DISCORD_TOKEN")
    return token


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from cloud_engine.cli import log_level

    parser = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    parser.add_argument("--log-level", type=log_level, default=None, help="override LOG_LEVEL")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    token = discord_token(settings)  # fails before any Discord import or connection
    runner = BotRunner(settings, token)
    return await runner.run()


class BotRunner:
    """One `run`: connect (retrying), serve until stopped, shut down gracefully."""

    def __init__(self, settings: Settings, token: str, *, bot_factory: Any = None) -> None:
        self.settings = settings
        self.token = token
        self.bot_factory = bot_factory
        self.stopping = asyncio.Event()
        self.bot: Any = None
        self.gate: Any = None
        self.metrics: Any = None
        self.server: Any = None
        self._unsubscribe: Any = None
        self._logged_in = False

    async def run(self) -> int:
        discord = importlib.import_module("discord")
        self._install_signal_handlers()
        await self._start_ops_server()
        try:
            return await self._connect_with_retries(discord)
        finally:
            if self.server is not None:
                await self.server.stop()

    # ---- connecting ---------------------------------------------------------------------------
    async def _connect_with_retries(self, discord: Any) -> int:
        import aiohttp

        network_errors = (OSError, aiohttp.ClientError, asyncio.TimeoutError, discord.GatewayNotFound,
                          discord.DiscordServerError)
        attempts = self.settings.discord_connect_attempts
        delay = self.settings.discord_connect_backoff_s
        attempt = 0
        while not self.stopping.is_set():
            attempt += 1
            self._logged_in = False
            try:
                await self._serve_once()
                return 0
            except discord.LoginFailure:
                raise CliFailure("Discord refused DISCORD_TOKEN (invalid token); copy a new one from the Developer "
                                 "Portal -> your application -> Bot -> Reset Token", BAD_INPUT) from None
            except discord.PrivilegedIntentsRequired:
                raise CliFailure("Discord refused the connection: a privileged intent this bot asks for is off; "
                                 f"turn it on under {PORTAL_INTENTS}", BAD_INPUT) from None
            except network_errors as exc:
                if self._logged_in:  # it had been serving: a new outage, counted afresh
                    attempt, delay = 1, self.settings.discord_connect_backoff_s
                reason = _reason(exc)
                if attempt >= attempts:
                    raise CliFailure(f"Discord is unreachable after {attempts} attempts ({reason}); check this "
                                     "host's network, DNS and proxy, then start again", FAILED) from None
                print(f"Discord is unreachable ({reason}); retrying in {delay:g}s (attempt {attempt} of {attempts})",
                      file=sys.stderr, flush=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
        return 0

    async def _serve_once(self) -> None:
        """Log in (opening the engine in setup_hook), connect, and serve until stopped or failed."""
        self.bot = self._new_bot()
        async with self.bot:
            await self.bot.login(self.token)
            self._logged_in = True
            self._wire_engine()
            connect = asyncio.create_task(self.bot.connect(reconnect=True), name="discord gateway")
            stop = asyncio.create_task(self.stopping.wait(), name="stop signal")
            lag = asyncio.create_task(self._refresh_ingest_lag(), name="ingest lag") if self.metrics else None
            try:
                await asyncio.wait({connect, stop}, return_when=asyncio.FIRST_COMPLETED)
                if stop.done() and not connect.done():
                    await self._shutdown()
                await asyncio.gather(connect, return_exceptions=True)
                if not self.stopping.is_set():
                    connect.result()  # re-raise what ended the gateway loop
            finally:
                for task in (stop, lag):
                    if task is not None:
                        task.cancel()
                await asyncio.gather(*(t for t in (stop, lag) if t is not None), return_exceptions=True)
                if self._unsubscribe is not None:
                    self._unsubscribe()
                    self._unsubscribe = None
                if self.metrics is not None:
                    self.metrics.ready.set(0)
                if self.gate is not None:
                    self.gate.restore()

    def _new_bot(self) -> Any:
        factory = self.bot_factory or importlib.import_module("bot.bot").create_bot
        bot = factory(self.settings)
        if self.metrics is not None:
            bot.http.http_trace = self.metrics.http_trace()  # read when discord.py opens its HTTP session
            if bot.tree is not None:
                _count_commands(bot, self.metrics)
        return bot

    def _wire_engine(self) -> None:
        from cloud_engine.ops.shutdown import RunGate

        self.gate = RunGate(self.bot.engine)
        if self.metrics is not None:
            services = _services_of(self.bot)
            if services is not None:
                services.metrics = self.metrics
            self._unsubscribe = self.bot.engine.events.subscribe(self.metrics.on_event)
            self.metrics.ready.set(1)

    # ---- stopping -----------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # Event loops without signal support (Windows, a loop off the main thread) raise these;
            # there SIGINT still arrives as KeyboardInterrupt, which main() turns into one line.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.request_stop, signum)

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        if not self.stopping.is_set():
            print(f"{signal.Signals(signum).name} received: finishing running applies (at most "
                  f"{self.settings.shutdown_grace_s:g}s), then stopping", file=sys.stderr, flush=True)
        self.stopping.set()

    async def _shutdown(self) -> None:
        """No new runs; running ones get the grace period; then the bot closes (engine and logs flushed)."""
        interrupted = await self.gate.drain(self.settings.shutdown_grace_s) if self.gate is not None else []
        if interrupted:
            print(f"interrupted {len(interrupted)} run(s) still going after the grace period: sessions "
                  f"{', '.join(f'#{s}' for s in interrupted)}", file=sys.stderr, flush=True)
        await self.bot.close()
        for handler in logging.getLogger().handlers:
            handler.flush()

    # ---- operations endpoint ------------------------------------------------------------------
    async def _start_ops_server(self) -> None:
        if self.settings.metrics_port is None:
            return
        from cloud_engine.ops.http import OpsServer
        from cloud_engine.ops.metrics import Metrics

        self.metrics = Metrics()
        self.server = OpsServer(self.metrics, self.health, host=self.settings.metrics_host,
                                port=self.settings.metrics_port)
        try:
            await self.server.start()
        except OSError as exc:
            self.server = None
            raise CliFailure(f"cannot serve metrics on {self.settings.metrics_host}:{self.settings.metrics_port} "
                             f"({exc.strerror or exc}); choose another METRICS_PORT or unset it", BAD_INPUT) from None

    async def health(self) -> dict[str, Any]:
        """What `/healthz` reports: ok once connected with a database that answers."""
        bot = self.bot
        if self.stopping.is_set():
            return {"status": "stopping"}
        services = _services_of(bot)
        if bot is None or not bot.is_ready() or services is None:
            return {"status": "starting", "discord": "connecting"}
        await services.db.fetchone("SELECT 1")
        return {"status": "ok", "discord": "connected", "database": "ok",
                "running_sessions": self.gate.running if self.gate is not None else []}

    async def _refresh_ingest_lag(self) -> None:
        while True:
            services = _services_of(self.bot)
            if services is not None:
                try:
                    await self.metrics.refresh_ingest_lag(services.db)
                except Exception:
                    log.warning("could not read the ingestion log for metrics", exc_info=True)
            await asyncio.sleep(INGEST_LAG_REFRESH_S)


def _count_commands(bot: Any, metrics: Any) -> None:
    """Count slash commands as they arrive and, through the tree's error hook, the ones refused."""

    async def on_interaction(interaction: Any) -> None:
        command = getattr(interaction, "command", None)
        data = getattr(interaction, "data", None) or {}
        if command is not None:
            metrics.command(command.qualified_name)
        elif getattr(interaction, "type", None) == 2 or str(getattr(interaction, "type", "")).endswith(
                "application_command"):
            metrics.command(str(data.get("name", "unknown")))

    bot.add_listener(on_interaction, "on_interaction")
    on_error = bot.tree.on_error

    async def counted_error(interaction: Any, error: BaseException) -> None:
        command = getattr(interaction, "command", None)
        cause = getattr(error, "original", None) or error
        metrics.refusal(command.qualified_name if command is not None else "unknown", type(cause).__name__)
        await on_error(interaction, error)

    bot.tree.on_error = counted_error


def _services_of(bot: Any) -> Any:
    """The bot's engine services, or None before setup_hook opened them (the bot raises then)."""
    try:
        return None if bot is None else bot.services
    except RuntimeError:
        return None


def _reason(exc: BaseException) -> str:
    """A short cause: `Cannot connect to host discord.com:443` rather than the whole chain."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
