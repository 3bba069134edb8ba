"""Connector syncs: now (`/cloud-finops-sync`), on a schedule, and how fresh each source is.

A sync is `FinOpsService.sync_provider` (the same idempotent import as `python main.py ingest
aws|azure|gcp`) over the last `FINOPS_SYNC_DAYS` days. What this module adds:

- **Which server.** One set of cloud credentials belongs to one organisation, so the schedule
  imports into one server only: `FINOPS_SYNC_GUILD_ID`, else `DEV_GUILD_ID`; with neither it
  syncs nothing and the status says so. Importing one account's bill into every server the bot
  is in would show it to all of them. `/cloud-finops-sync` imports into the server it is run in.
- **Which providers.** Those whose settings are all set (`REQUIRED`); the others are "not
  configured", never a failure.
- **When.** The bot's loop ticks every `tick_seconds` (15 minutes, or the interval if shorter) and
  runs a source when its last attempt (from the ingestion log, so restarts keep the rhythm) is at
  least `FINOPS_SYNC_INTERVAL_HOURS` old. A failed attempt is retried at the next interval, or
  sooner with `/cloud-finops-sync`.
- **Freshness.** Per source, from the ingestion log (`finops_ingest_runs`, one row per import,
  failed ones included): the last success, the lag since it, and the last error. The SLO is a lag
  within one interval; `breached` says when it is not.
- **Events.** A failed sync writes the audit row `finops.sync_failed`; each anomaly found after a
  sync, in the days it fetched, writes `finops.anomaly_found` once (the audit log itself is the
  record of what was reported). The notification outbox turns them into `finops_sync_failed` and
  `anomaly_found`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from cloud_engine.data.catalog import CLOUDS
from cloud_engine.errors import EngineError
from cloud_engine.finops.connectors.exports import sync_connector
from cloud_engine.finops.connectors.registry import ConnectorOptions, build_connector
from cloud_engine.finops.errors import MissingCredentials
from cloud_engine.finops.models import Anomaly, IngestReport
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from cloud_engine.store.audit import write_audit

if TYPE_CHECKING:
    from cloud_engine.finops.service import FinOpsService

log = logging.getLogger(__name__)

PROVIDERS: tuple[str, ...] = tuple(sorted(CLOUDS))  # synced in this order (alphabetical, as the status lists them)
SOURCE_KINDS: dict[str, str] = {"aws": "aws_api", "azure": "azure_api", "gcp": "gcp_api"}
# The source kind when the provider's settings name a cost export (connectors/aws_export.py, azure_export.py)
EXPORT_SOURCE_KINDS: dict[str, tuple[str, str]] = {"aws": ("aws_data_export_s3_uri", "aws_export"),
                                                    "azure": ("azure_export_blob_uri", "azure_export")}
# Every setting a provider's scheduled sync needs (GCP reads its billing export from a file)
REQUIRED: dict[str, tuple[str, ...]] = {
    "aws": ("aws_access_key_id", "aws_secret_access_key"),
    "azure": ("azure_tenant_id", "azure_client_id", "azure_client_secret", "azure_subscription_id"),
    "gcp": ("gcp_project_id", "google_application_credentials", "finops_gcp_billing_export"),
}
SYNC_FAILED = "finops.sync_failed"
ANOMALY_FOUND = "finops.anomaly_found"
SYSTEM_ACTOR = 0  # the engine itself (the schedule), as in core/role_map.py
MAX_TICK_S = 900.0
Trigger = Literal["schedule", "command"]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def source_kind(provider: str, settings: Settings) -> str:
    """What the provider's sync imports from: its export when the settings name one, else its API."""
    setting, kind = EXPORT_SOURCE_KINDS.get(provider, ("", ""))
    return kind if setting and getattr(settings, setting) else SOURCE_KINDS[provider]


def missing_settings(provider: str, settings: Settings) -> list[str]:
    """The environment variables `provider`'s sync still needs (empty when it is configured).

    An Azure export read with AZURE_STORAGE_CONNECTION_STRING needs no service principal.
    """
    names = REQUIRED[provider]
    if provider == "azure" and settings.azure_export_blob_uri and settings.azure_storage_connection_string:
        names = ()
    missing = []
    for name in names:
        value = getattr(settings, name)
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        if raw in (None, ""):
            missing.append(name.upper())
    return missing


def require_configured(provider: str, settings: Settings) -> None:
    """`MissingCredentials` naming every variable `provider` lacks, before any network call."""
    if provider not in REQUIRED:
        raise ValueError(f"no connector for {provider!r}; known: {', '.join(PROVIDERS)}")
    missing = missing_settings(provider, settings)
    if missing:
        raise MissingCredentials(provider=provider.upper() if provider != "azure" else "Azure",
                                 variables=", ".join(missing))


def sync_guild(settings: Settings) -> int | None:
    """The one server the schedule imports into: FINOPS_SYNC_GUILD_ID, else DEV_GUILD_ID, else none."""
    return settings.finops_sync_guild_id or settings.dev_guild_id or None


def tick_seconds(settings: Settings) -> float:
    """How often the bot's loop looks for due sources: every 15 minutes, or the interval if shorter."""
    return min(MAX_TICK_S, settings.finops_sync_interval_hours * 3600)


class SyncOutcome(BaseModel):
    """One provider's sync: its import reports (or the error) and the anomalies it reported first."""

    model_config = ConfigDict(frozen=True)

    provider: str
    guild_id: int
    ok: bool
    reports: tuple[IngestReport, ...] = ()
    error: str | None = None
    new_anomalies: tuple[Anomaly, ...] = ()


class SourceStatus(BaseModel):
    """How fresh one provider's data is in one server, from the ingestion log."""

    model_config = ConfigDict(frozen=True)

    provider: str
    source_kind: str
    configured: bool
    missing: tuple[str, ...] = ()
    last_success_at: datetime | None = None
    lag_hours: float | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failing: bool = False  # the newest attempt failed
    breached: bool = False  # lag over one interval (or never synced while scheduled)


class SyncStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    guild_id: int
    interval_hours: float
    scheduled_guild_id: int | None
    scheduled_here: bool
    as_of: datetime
    sources: tuple[SourceStatus, ...]

    @property
    def breached(self) -> tuple[SourceStatus, ...]:
        return tuple(s for s in self.sources if s.breached)


def _ts(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


async def sync_status(db: Database, settings: Settings, *, guild_id: int, now: datetime | None = None) -> SyncStatus:
    """Last success, lag and last error of each provider's connector imports into one server.

    Every import of a source counts, whoever ran it (the schedule, `/cloud-finops-sync`, `python
    main.py ingest`). The SLO applies where the schedule runs (this server is the scheduled one
    and the interval is on): lag over one interval, or a configured source never synced, is a breach.
    """
    now = now or _now()
    interval = settings.finops_sync_interval_hours
    scheduled = sync_guild(settings)
    here = interval > 0 and scheduled == guild_id
    sources = []
    for provider in PROVIDERS:
        kind = source_kind(provider, settings)
        ok = await db.fetchone("SELECT MAX(finished_at) AS at FROM finops_ingest_runs WHERE guild_id = ? "
                               "AND source_kind = ? AND target = 'costs' AND status = 'ok'", (guild_id, kind))
        failed = await db.fetchone("SELECT finished_at AS at, error FROM finops_ingest_runs WHERE guild_id = ? "
                                   "AND source_kind = ? AND status = 'failed' ORDER BY id DESC LIMIT 1",
                                   (guild_id, kind))
        attempt = await db.fetchone("SELECT MAX(started_at) AS at FROM finops_ingest_runs WHERE guild_id = ? "
                                    "AND source_kind = ?", (guild_id, kind))
        success = _ts(ok["at"]) if ok else None
        error_at = _ts(failed["at"]) if failed else None
        lag = round(max(0.0, (now - success).total_seconds()) / 3600, 1) if success else None
        missing = tuple(missing_settings(provider, settings))
        breached = here and not missing and (lag is None or lag > interval)
        sources.append(SourceStatus(
            provider=provider, source_kind=kind, configured=not missing, missing=missing, last_success_at=success,
            lag_hours=lag, last_attempt_at=_ts(attempt["at"]) if attempt else None,
            last_error=str(failed["error"]) if failed and failed["error"] else None, last_error_at=error_at,
            failing=error_at is not None and (success is None or error_at > success), breached=breached))
    return SyncStatus(guild_id=guild_id, interval_hours=interval, scheduled_guild_id=scheduled, scheduled_here=here,
                      as_of=now, sources=tuple(sources))


def _ago(hours: float) -> str:
    return f"{hours:.0f} h" if hours >= 1 else f"{hours * 60:.0f} min"


def source_line(source: SourceStatus, interval_hours: float) -> str:
    """One source in a line: `aws: last success 3 h ago (lag within 24 h)` or what is wrong."""
    if not source.configured and source.last_success_at is None and source.last_error is None:
        return f"{source.provider}: not configured (set {', '.join(source.missing)})"
    parts = []
    if source.lag_hours is None:
        parts.append("never synced")
    else:
        parts.append(f"last success {_ago(source.lag_hours)} ago")
    if source.failing and source.last_error:
        parts.append(f"last attempt failed: {source.last_error[:200]}")
    if source.breached:
        parts.append(f"SLO BREACHED: lag over {interval_hours:g} h")
    return f"{source.provider}: " + "; ".join(parts)


def schedule_line(status: SyncStatus) -> str:
    """Where and how often the schedule runs, as seen from `status.guild_id`."""
    if status.interval_hours <= 0:
        return "schedule off (FINOPS_SYNC_INTERVAL_HOURS=0)"
    if status.scheduled_guild_id is None:
        return "schedule syncs no server (set FINOPS_SYNC_GUILD_ID or DEV_GUILD_ID)"
    if not status.scheduled_here:
        return f"schedule syncs server {status.scheduled_guild_id}, not this one"
    return f"every {status.interval_hours:g} h into this server (SLO: lag within {status.interval_hours:g} h)"


def health_line(status: SyncStatus) -> str:
    """The `/cloud-health` line: the schedule, then each source that is configured or has run here."""
    shown = [s for s in status.sources if s.configured or s.last_success_at or s.last_error]
    sources = "; ".join(source_line(s, status.interval_hours) for s in shown) or "no provider configured"
    return f"{schedule_line(status)} · {sources}"


@dataclass(frozen=True)
class DueSource:
    provider: str
    last_attempt_at: datetime | None


async def due_sources(db: Database, settings: Settings, *, guild_id: int, now: datetime) -> list[DueSource]:
    """Configured providers whose last attempt in `guild_id` is at least one interval old (or never)."""
    interval = timedelta(hours=settings.finops_sync_interval_hours)
    due = []
    for provider in PROVIDERS:
        if missing_settings(provider, settings):
            continue
        row = await db.fetchone("SELECT MAX(started_at) AS at FROM finops_ingest_runs WHERE guild_id = ? "
                                "AND source_kind = ?", (guild_id, source_kind(provider, settings)))
        last = _ts(row["at"]) if row else None
        if last is None or now - last >= interval:
            due.append(DueSource(provider, last))
    return due


async def record_failure(db: Database, *, guild_id: int, provider: str, error: str, trigger: Trigger,
                         actor_id: int, now: datetime, kind: str | None = None) -> None:
    """The audit row that raises `finops_sync_failed` (one per failed sync); `kind`: the source kind tried."""
    async with db.transaction() as conn:
        await write_audit(conn, at=now, guild_id=guild_id, actor_id=actor_id, action=SYNC_FAILED,
                          target_type="finops_source", target_id=provider,
                          detail={"provider": provider, "source_kind": kind or SOURCE_KINDS[provider],
                                  "error": error[:500],
                                  "trigger": trigger})


def anomaly_key(a: Anomaly) -> str:
    return f"{a.provider}|{a.service}|{a.currency or ''}|{a.day.isoformat()}"


async def record_anomalies(db: Database, anomalies: list[Anomaly], *, guild_id: int, actor_id: int,
                           now: datetime) -> list[Anomaly]:
    """Write `finops.anomaly_found` for each anomaly this server was not told of yet; returns those."""
    new: list[Anomaly] = []
    async with db.transaction() as conn:
        for a in anomalies:
            key = anomaly_key(a)
            async with conn.execute("SELECT 1 FROM audit_log WHERE guild_id = ? AND action = ? AND target_id = ?"
                                    " LIMIT 1", (guild_id, ANOMALY_FOUND, key)) as cur:
                if await cur.fetchone() is not None:
                    continue
            await write_audit(conn, at=now, guild_id=guild_id, actor_id=actor_id, action=ANOMALY_FOUND,
                              target_type="finops_anomaly", target_id=key,
                              detail={"provider": a.provider, "service": a.service, "currency": a.currency,
                                      "day": a.day.isoformat(), "amount": a.amount, "expected": a.expected,
                                      "robust_z": a.robust_z, "reason": a.reason})
            new.append(a)
    return new


async def run_sync(service: FinOpsService, provider: str, *, guild_id: int, trigger: Trigger,
                   actor_id: int = SYSTEM_ACTOR, days: int | None = None, today: date | None = None) -> SyncOutcome:
    """One provider's sync into one server, with its events; never raises for a provider's failure.

    Missing settings raise `MissingCredentials` (nothing was attempted: not a failed sync). Any
    other failure, building the connector included, is in the ingestion log and the audit log
    (`finops.sync_failed`), and comes back as `ok=False` with the error.
    """
    settings = service.settings
    require_configured(provider, settings)
    start_day, end_day = _window(days or settings.finops_sync_days, today)
    try:
        connector = build_connector(provider, settings,
                                    ConnectorOptions(billing_export=settings.finops_gcp_billing_export))
    except MissingCredentials:
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        kind = source_kind(provider, settings)
        run_id = await service.repo.start_run(guild_id, "costs", kind, f"{provider}:connector")
        await service.repo.finish_run(run_id, None, error)
        await record_failure(service.db, guild_id=guild_id, provider=provider, error=error, trigger=trigger,
                             actor_id=actor_id, now=_now(), kind=kind)
        return SyncOutcome(provider=provider, guild_id=guild_id, ok=False, error=error)
    try:
        reports = await sync_connector(service, provider, connector, start_day, end_day, guild_id=guild_id)
    except Exception as exc:
        error = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        log.warning("finops sync failed", extra={"provider": provider, "guild": guild_id, "trigger": trigger})
        await record_failure(service.db, guild_id=guild_id, provider=provider, error=error, trigger=trigger,
                             actor_id=actor_id, now=_now(), kind=source_kind(provider, settings))
        return SyncOutcome(provider=provider, guild_id=guild_id, ok=False, error=error)
    report = await service.anomalies(guild_id=guild_id)
    recent = [a for a in report.items if start_day <= a.day < end_day]
    new = await record_anomalies(service.db, recent, guild_id=guild_id, actor_id=actor_id, now=_now())
    return SyncOutcome(provider=provider, guild_id=guild_id, ok=True, reports=tuple(reports),
                       new_anomalies=tuple(new))


def _window(days: int, today: date | None) -> tuple[date, date]:
    """The last `days` days, today included (so the window ends tomorrow), as `ingest aws|azure|gcp` uses."""
    end = (today or datetime.now(UTC).date()) + timedelta(days=1)
    return end - timedelta(days=days), end


async def sync_due(service: FinOpsService, *, now: datetime | None = None) -> list[SyncOutcome]:
    """The scheduled round: every configured provider due in the scheduled server, one after another."""
    settings = service.settings
    guild = sync_guild(settings)
    if settings.finops_sync_interval_hours <= 0 or guild is None:
        return []
    now = now or _now()
    outcomes = []
    for due in await due_sources(service.db, settings, guild_id=guild, now=now):
        outcomes.append(await run_sync(service, due.provider, guild_id=guild, trigger="schedule"))
    return outcomes


__all__ = ["ANOMALY_FOUND", "EXPORT_SOURCE_KINDS", "PROVIDERS", "REQUIRED", "SOURCE_KINDS", "SYNC_FAILED", "SourceStatus", "SyncOutcome",
           "SyncStatus", "due_sources", "health_line", "missing_settings", "record_anomalies", "require_configured",
           "run_sync", "schedule_line", "source_kind", "source_line", "sync_due", "sync_guild", "sync_status", "tick_seconds"]
