"""Prometheus metrics of a running bot, in their own registry.

What is counted and where it comes from, so nothing in the engine has to know about
Prometheus: runs by phase, outcome and duration from the engine's EventBus; Discord API
requests and 429s from an aiohttp trace on discord.py's HTTP session; slash commands and
refusals from the command tree (bot/bot.py); FinOps ingestion lag per source from the
`finops_ingest_runs` table; advisor answers by provider, and fallbacks to the rules engine,
from the answers the advisor returns (`counting_advisor`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from cloud_engine.core.events import SessionEvent

log = logging.getLogger(__name__)

RUN_STATES = {"PLANNING": "plan", "APPLYING": "apply"}
RUN_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class Metrics:
    """Every metric `/metrics` serves; one instance per process (tests make their own)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.commands = Counter("cloud_engine_commands", "Slash commands received, by command name",
                                ["command"], registry=r)
        self.refusals = Counter("cloud_engine_refusals", "Commands refused or failed, by command and reason",
                                ["command", "reason"], registry=r)
        self.runs = Counter("cloud_engine_runs", "Plans and applies finished, by phase and outcome",
                            ["phase", "outcome"], registry=r)
        self.run_seconds = Histogram("cloud_engine_run_duration_seconds", "Plan and apply wall time",
                                     ["phase", "outcome"], buckets=RUN_BUCKETS, registry=r)
        self.discord_requests = Counter("cloud_engine_discord_api_requests", "Discord REST calls, by method and status",
                                        ["method", "status"], registry=r)
        self.discord_rate_limited = Counter("cloud_engine_discord_rate_limited",
                                            "Discord REST answers with status 429", registry=r)
        self.ingest_lag = Gauge("cloud_engine_finops_ingest_lag_seconds",
                                "Seconds since the last successful FinOps import, by target and source kind",
                                ["target", "source"], registry=r)
        self.advisor_answers = Counter("cloud_engine_advisor_answers", "Advisor answers, by the provider that wrote them",
                                       ["provider"], registry=r)
        self.advisor_fallbacks = Counter("cloud_engine_advisor_fallbacks",
                                         "Answers the rules engine wrote although a model was asked for", registry=r)
        self.ready = Gauge("cloud_engine_ready", "1 while the bot is connected to Discord", registry=r)
        self._started: dict[int, datetime] = {}

    def render(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)

    # ---- engine events ------------------------------------------------------------------------
    async def on_event(self, event: SessionEvent) -> None:
        """EventBus subscriber: a run starts on entering PLANNING/APPLYING and ends on leaving it."""
        if event.to_state in RUN_STATES:
            self._started[event.session_id] = event.at
            return
        phase = RUN_STATES.get(event.from_state or "")
        if phase is None:
            return
        outcome = event.event
        self.runs.labels(phase, outcome).inc()
        started = self._started.pop(event.session_id, None)
        if started is not None:
            self.run_seconds.labels(phase, outcome).observe(max(0.0, (event.at - started).total_seconds()))

    # ---- Discord ------------------------------------------------------------------------------
    def http_trace(self) -> aiohttp.TraceConfig:
        """An aiohttp trace counting every Discord REST answer and its 429s."""
        trace = aiohttp.TraceConfig()

        async def on_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
            status = params.response.status
            self.discord_requests.labels(params.method, str(status)).inc()
            if status == 429:
                self.discord_rate_limited.inc()

        async def on_error(session: Any, context: Any, params: aiohttp.TraceRequestExceptionParams) -> None:
            self.discord_requests.labels(params.method, "error").inc()

        trace.on_request_end.append(on_end)
        trace.on_request_exception.append(on_error)
        return trace

    def command(self, name: str) -> None:
        self.commands.labels(name or "unknown").inc()

    def refusal(self, name: str, reason: str) -> None:
        self.refusals.labels(name or "unknown", reason).inc()

    # ---- FinOps -------------------------------------------------------------------------------
    async def refresh_ingest_lag(self, db: Any, now: datetime | None = None) -> None:
        """Set the lag gauge from the newest successful import of each target and source kind."""
        rows = await db.fetchall(
            "SELECT target, source_kind, MAX(finished_at) AS last FROM finops_ingest_runs"
            " WHERE status = 'ok' AND finished_at IS NOT NULL GROUP BY target, source_kind")
        now = now or datetime.now(UTC)
        for row in rows:
            last = datetime.fromisoformat(str(row["last"]))
            if last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            self.ingest_lag.labels(row["target"], row["source_kind"]).set(max(0.0, (now - last).total_seconds()))

    # ---- advisor ------------------------------------------------------------------------------
    def advisor_answer(self, provider: str, requested_model: str, *, models_configured: bool) -> None:
        """Count who wrote an answer; the rules engine answering although a model could have is a fallback."""
        self.advisor_answers.labels(provider).inc()
        if provider == "rules" and requested_model != "rules" and models_configured:
            self.advisor_fallbacks.inc()
