"""`FinOpsService`: the one facade the bot, the CLI and the advisor call.

It owns the DuckDB ledger and uses the main SQLite `Database` for operational state; every
method is async and returns a pydantic model (or bytes for charts), so callers can render
or `model_dump()` without knowing about DuckDB.

Every method takes a keyword-only `guild_id`, the scope (the Discord server; the CLI uses
DEV_GUILD_ID or 0): imports land in it and every read sees only it. It has no default on
purpose, so a caller that forgets it fails loudly instead of reading another server's bills.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from cloud_engine.core.models import Session
from cloud_engine.errors import EngineError, IngestError, InvalidInput, NotFound
from cloud_engine.finops import analysis
from cloud_engine.finops._files import MB, check_size, file_format, safe_filename
from cloud_engine.finops.chart import render_daily_cost_chart
from cloud_engine.finops.feedback import VERDICTS, FinOpsRepository
from cloud_engine.finops.focus_ingest import ingest_focus_path, ingest_focus_table
from cloud_engine.finops.inventory import Inventory, build_inventory
from cloud_engine.finops.ledger import Ledger
from cloud_engine.finops.metrics_ingest import ingest_metrics_path, ingest_metrics_table
from cloud_engine.finops.models import (
    ActionOutcome,
    AnomalyReport,
    CostSummary,
    DailyServiceCosts,
    FeedbackResult,
    Forecast,
    IngestReport,
    Recommendation,
    RecommendationSet,
)
from cloud_engine.finops.outcomes import ActionsRepository, measure, outcome_of
from cloud_engine.finops.recommenders import Thresholds
from cloud_engine.finops.recommenders.commitment import eligible_services
from cloud_engine.finops.recommenders.engine import run_all
from cloud_engine.finops.recommenders.notes import coverage_notes
from cloud_engine.finops.remediate import RemediationRefusal, remediation_session
from cloud_engine.finops.synthetic import DEFAULT_DAYS, DEFAULT_END, write_synthetic
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from cloud_engine.store.rows import parse_dt

if TYPE_CHECKING:
    from cloud_engine.finops.sync import SyncOutcome, SyncStatus

# A scope's inventory, its recommendations, its green-region moves and its charged days.
Analysed = tuple[Inventory, list[Recommendation], list[Recommendation], int]


class CostConnectorLike(Protocol):
    source_kind: str
    source_name: str

    async def fetch_costs(self, start: date, end: date) -> pa.Table:
        """FOCUS-named cost columns for [start, end)."""

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        """Metric points (resource_id, metric, timestamp, value, unit) for [start, end)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class FinOpsService:
    """Ingest, analyse and recommend over one ledger; see each method for what it returns."""

    def __init__(self, settings: Settings, db: Database, ledger: Ledger, thresholds: Thresholds | None = None) -> None:
        self.settings = settings
        self.db = db
        self.ledger = ledger
        self.repo = FinOpsRepository(db)
        self.actions = ActionsRepository(db)
        self._analysed_by_guild: dict[int, tuple[int, Analysed]] = {}
        self.thresholds = thresholds or Thresholds()

    @classmethod
    async def open(cls, settings: Settings, db: Database, thresholds: Thresholds | None = None) -> FinOpsService:
        """Open the ledger at `settings.finops_db_path` next to an already-open SQLite database."""
        return cls(settings, db, await Ledger.open(settings.finops_db_path), thresholds)

    async def close(self) -> None:
        await self.ledger.close()

    @property
    def max_bytes(self) -> int:
        return self.settings.finops_max_upload_mb * MB

    async def _logged(self, guild_id: int, target: str, kind: str, name: str,
                      work: Callable[[], Awaitable[IngestReport]]) -> IngestReport:
        """Run one import and record it in the scope's ingestion runs log, failed or not."""
        run_id = await self.repo.start_run(guild_id, target, kind, name)
        try:
            report = await work()
        except EngineError as exc:
            await self.repo.finish_run(run_id, None, str(exc))
            raise
        except Exception as exc:
            await self.repo.finish_run(run_id, None, f"{type(exc).__name__}: {exc}")
            raise
        await self.repo.finish_run(run_id, report)
        return report

    async def _with_upload(self, data: bytes, filename: str, kinds: tuple[str, ...], wrong_kind: str,
                           work: Callable[[Path, str], Awaitable[IngestReport]]) -> IngestReport:
        """Size- and type-check uploaded bytes before writing them, then import a private temp copy."""
        name = safe_filename(filename)
        if file_format(name) not in kinds:
            raise IngestError(detail=f"{name}: {wrong_kind}")
        check_size(len(data), self.max_bytes, name)
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="finops-upload-"))
        try:
            target = tmp / name
            await asyncio.to_thread(target.write_bytes, data)
            return await work(target, name)
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)

    # ---- ingestion -------------------------------------------------------------------------
    async def ingest_focus_file(self, path: str | Path, *, guild_id: int, source_kind: str = "focus_file",
                                source_name: str | None = None, replace_window: bool = False) -> IngestReport:
        """Import a FOCUS CSV/Parquet export into one scope; re-importing changes nothing, a corrected
        export restates the charges it corrects (see `reconcile`).

        `replace_window=True` (opt-in): the file is the complete, re-issued export for its
        period, so this scope's stored charges in the file's window, of the providers and
        billing accounts it lists, that it no longer lists are removed (`rows_removed`).
        """
        p = Path(path)
        return await self._logged(guild_id, "costs", source_kind, source_name or p.name, lambda: self.ledger.run(
            lambda conn: ingest_focus_path(conn, p, guild_id=guild_id, max_bytes=self.max_bytes,
                                           source_kind=source_kind, source_name=source_name, fetched_at=_now(),
                                           replace_window=replace_window, max_rows=self.settings.finops_max_rows)))

    async def ingest_focus_bytes(self, data: bytes, filename: str, *, guild_id: int,
                                 replace_window: bool = False) -> IngestReport:
        """Import an uploaded export: size-checked before anything is written or parsed (`replace_window`: as
        `ingest_focus_file`)."""
        return await self._with_upload(data, filename, ("csv", "parquet"), "a FOCUS export must be CSV or Parquet",
                                       lambda path, name: self.ingest_focus_file(path, guild_id=guild_id,
                                                                                 source_name=name,
                                                                                 replace_window=replace_window))

    async def ingest_metrics_file(self, path: str | Path, *, guild_id: int,
                                  source_name: str | None = None) -> IngestReport:
        """Import a metrics CSV into one scope; points already held keep their first value."""
        p = Path(path)
        return await self._logged(guild_id, "metrics", "metrics_file", source_name or p.name, lambda: self.ledger.run(
            lambda conn: ingest_metrics_path(conn, p, guild_id=guild_id, max_bytes=self.max_bytes, fetched_at=_now(),
                                             source_name=source_name, max_rows=self.settings.finops_max_rows)))

    async def ingest_metrics_bytes(self, data: bytes, filename: str, *, guild_id: int) -> IngestReport:
        """Import an uploaded metrics CSV: size- and type-checked before anything is written or parsed."""
        return await self._with_upload(data, filename, ("csv",), "metrics must be a CSV (resource_id, metric, "
                                       "timestamp, value, unit)", lambda path, name: self.ingest_metrics_file(
                                           path, guild_id=guild_id, source_name=name))

    async def ingest_synthetic(self, out_dir: str | Path, *, guild_id: int, days: int = DEFAULT_DAYS,
                               end: date = DEFAULT_END, seed: int = 42) -> tuple[IngestReport, IngestReport]:
        """Generate the synthetic data set into `out_dir` and import both files into one scope."""
        focus, metrics = await asyncio.to_thread(write_synthetic, out_dir, days=days, end=end, seed=seed)
        costs = await self.ingest_focus_file(focus, guild_id=guild_id, source_kind="synthetic")
        return costs, await self.ingest_metrics_file(metrics, guild_id=guild_id)

    async def ingest_connector(self, connector: CostConnectorLike, start: date, end: date, *, guild_id: int,
                               resource_ids: list[str] | None = None) -> tuple[IngestReport, IngestReport | None]:
        """Pull costs (and metrics for `resource_ids`) from a provider connector into one scope.

        The fetch is part of the logged run: a provider that refuses or fails shows up in
        the ingestion log like a bad file does.
        """
        kind, name = connector.source_kind, connector.source_name

        async def costs_run() -> IngestReport:
            table = await connector.fetch_costs(start, end)
            return await self.ledger.run(lambda conn: ingest_focus_table(
                conn, table, guild_id=guild_id, source_kind=kind, source_name=name, fetched_at=_now()))

        async def metrics_run() -> IngestReport:
            points = await connector.fetch_metrics(resource_ids or [], start, end)
            return await self.ledger.run(lambda conn: ingest_metrics_table(
                conn, points, guild_id=guild_id, source_kind=kind, source_name=name, fetched_at=_now()))

        costs = await self._logged(guild_id, "costs", kind, name, costs_run)
        if not resource_ids:
            return costs, None
        return costs, await self._logged(guild_id, "metrics", kind, name, metrics_run)

    async def metered_ids(self, provider: str, start: date, *, guild_id: int) -> list[str]:
        """The scope's resource ids of `provider` charged since `start` that its metrics API meters (VMs)."""
        from cloud_engine.finops.connectors.registry import METERED

        since = datetime.combine(start, datetime.min.time())
        rows = await self.ledger.run(lambda conn: conn.execute(
            "SELECT DISTINCT resource_id FROM cost_lines WHERE guild_id = ? AND provider = ? "
            "AND resource_id IS NOT NULL AND charge_period_start >= ? ORDER BY resource_id",
            [guild_id, provider, since]).fetchall())
        pattern = METERED.get(provider)
        return [str(r[0]) for r in rows if pattern is not None and pattern.search(str(r[0]))]

    async def sync_provider(self, provider: str, connector: CostConnectorLike, start: date, end: date, *,
                            guild_id: int) -> tuple[IngestReport, IngestReport | None]:
        """Import `provider`'s costs for [start, end), then utilisation for the machines those costs name.

        Which ids are asked for: the scope's resource ids of that provider charged since
        `start` that the connector can meter (`connectors.registry.METERED`, virtual
        machines). A provider whose costs carry no resource ids (AWS Cost Explorer groups by
        service and region) gets no metrics call; the recommenders then say what is missing.
        """
        costs, _ = await self.ingest_connector(connector, start, end, guild_id=guild_id)
        metered = await self.metered_ids(provider, start, guild_id=guild_id)
        if not metered:
            return costs, None
        kind, name = connector.source_kind, connector.source_name

        async def metrics_run() -> IngestReport:
            points = await connector.fetch_metrics(metered, start, end)
            return await self.ledger.run(lambda conn: ingest_metrics_table(
                conn, points, guild_id=guild_id, source_kind=kind, source_name=name, fetched_at=_now()))

        return costs, await self._logged(guild_id, "metrics", kind, name, metrics_run)

    async def sync_now(self, provider: str, *, guild_id: int, actor_id: int,
                       trigger: Literal["schedule", "command"] = "command") -> SyncOutcome:
        """Run `provider`'s connector now into one scope (`/cloud-finops-sync`): see `sync.run_sync`.

        Missing settings raise `MissingCredentials` before anything runs; a provider's failure is
        returned (`ok=False`) after it was logged and audited as `finops.sync_failed`.
        """
        from cloud_engine.finops.sync import run_sync

        return await run_sync(self, provider, guild_id=guild_id, trigger=trigger, actor_id=actor_id)

    async def sync_due(self, now: datetime | None = None) -> list[SyncOutcome]:
        """The scheduled round (the bot's loop): every configured provider due in the scheduled server."""
        from cloud_engine.finops.sync import sync_due

        return await sync_due(self, now=now)

    async def sync_status(self, *, guild_id: int, now: datetime | None = None) -> SyncStatus:
        """Last success, lag and last error of each provider's syncs into one scope."""
        from cloud_engine.finops.sync import sync_status

        return await sync_status(self.db, self.settings, guild_id=guild_id, now=now)

    async def recent_runs(self, *, guild_id: int, limit: int = 20) -> list[dict[str, object]]:
        """The scope's latest imports, failed ones included, newest first."""
        return await self.repo.recent_runs(guild_id, limit)

    # ---- analysis --------------------------------------------------------------------------
    async def cost_summary(self, by: str = "service", start: date | None = None, end: date | None = None,
                           tag_key: str = "env", *, guild_id: int) -> CostSummary:
        return await self.ledger.run(analysis.cost_summary, guild_id, by, start, end, tag_key)

    async def daily_costs(self, start: date | None = None, end: date | None = None, *,
                          guild_id: int) -> DailyServiceCosts:
        return await self.ledger.run(analysis.daily_service_costs, guild_id, start, end)

    async def daily_cost_chart(self, start: date | None = None, end: date | None = None, *, guild_id: int) -> bytes:
        return await render_daily_cost_chart(await self.daily_costs(start, end, guild_id=guild_id))

    async def forecast(self, as_of: date | None = None, *, guild_id: int) -> Forecast | None:
        return await self.ledger.run(analysis.forecast, guild_id, as_of)

    async def anomalies(self, start: date | None = None, end: date | None = None, *, guild_id: int) -> AnomalyReport:
        return await self.ledger.run(analysis.anomalies, guild_id, start, end)

    # ---- recommendations -------------------------------------------------------------------
    async def inventory(self, *, guild_id: int) -> Inventory:
        eligible = eligible_services()
        return await self.ledger.run(build_inventory, guild_id, eligible)

    async def _analysed(self, guild_id: int) -> Analysed:
        """The scope's inventory and what the recommenders make of it, computed once per state of the ledger.

        Why a cache: recommendations change only when an import changes the ledger, yet the
        bot asks again on every page, Explain and verdict, and the metric scans dominate
        (~0.25 s for 500 resources). Every change to the ledger happens inside an import,
        which takes the next `ledger_imports` id, so the highest id names the ledger's state;
        an import racing this read only makes the next call compute again.
        """
        generation = await self.ledger.run(lambda conn: conn.execute(
            "SELECT COALESCE(max(import_id), 0) FROM ledger_imports").fetchall()[0][0])
        cached = self._analysed_by_guild.get(guild_id)
        if cached is not None and cached[0] == generation:
            return cached[1]
        inventory = await self.inventory(guild_id=guild_id)
        recs, moves = await asyncio.to_thread(run_all, inventory, self.thresholds)
        days = await self.ledger.run(lambda conn: conn.execute(
            "SELECT count(DISTINCT CAST(charge_period_start AS DATE)) FROM cost_lines WHERE guild_id = ?",
            [guild_id]).fetchall()[0][0])
        result: Analysed = (inventory, recs, moves, int(days))
        self._analysed_by_guild[guild_id] = (int(generation), result)
        return result

    async def recommendations(self, include_suppressed: bool = False, limit: int | None = None, *,
                              guild_id: int) -> RecommendationSet:
        """Deterministic recommendations from one scope's data, minus those it marked noisy recently (unless asked)."""
        inventory, recs, moves, days = await self._analysed(guild_id)
        suppressed = set() if include_suppressed else await self.repo.suppressed_ids(guild_id)
        visible = [r for r in recs if r.id not in suppressed]
        green = tuple(m for m in moves if m.id not in suppressed)
        hidden = len(recs) + len(moves) - len(visible) - len(green)
        if limit is not None:
            visible = visible[:limit]
        return RecommendationSet(
            as_of=inventory.as_of, items=tuple(visible),
            total_monthly_savings=round(sum(r.monthly_savings for r in visible), 2),
            total_co2e_kg_month_delta=round(sum(r.co2e_kg_month_delta for r in visible), 3),
            suppressed=hidden, by_kind=dict(sorted(Counter(r.kind for r in visible).items())),
            notes=coverage_notes(inventory, self.thresholds, int(days)), green_moves=green,
            acted=tuple(await self.outcomes(guild_id=guild_id)),
        )

    # ---- closing the loop (cloud_engine/finops/outcomes.py) ------------------------------
    async def act(self, engine: Any, rec: Recommendation, *, guild_id: int, user_id: int,
                  now: datetime | None = None) -> Session | RemediationRefusal:
        """Open the deployment that carries `rec` out ("Act") and remember what it promised, to measure it later."""
        outcome = await remediation_session(engine, rec, guild_id=guild_id, user_id=user_id)
        if not isinstance(outcome, RemediationRefusal):
            await self.actions.record(guild_id, rec, outcome.id, user_id, now or datetime.now(UTC))
        return outcome

    async def outcomes(self, *, guild_id: int, limit: int = 25) -> list[ActionOutcome]:
        """The server's acted-on recommendations, newest first, each with the saving its bills show so far."""
        rows = await self.actions.actions(guild_id, limit)
        found: list[ActionOutcome] = []
        for row in rows:
            applied = parse_dt(row["applied_at"]) if row["applied_at"] else None
            measured = None if applied is None else await self.ledger.run(
                measure, guild_id, row["provider"], row["resource_id"], applied.date())
            found.append(outcome_of(row, measured))
        return found

    async def record_feedback(self, rec_id: str, user_id: str | int, verdict: str, *, guild_id: int) -> FeedbackResult:
        """Record a verdict on one of this scope's current recommendations (suppressed ones included).

        Why check the id against the scope's own list: ids name a resource and an action, so an
        id from another server's list, or a stale one, would otherwise store feedback about a
        resource this server has never billed.
        """
        if verdict not in VERDICTS:
            raise InvalidInput(field="verdict", rule=f"must be one of {', '.join(VERDICTS)}")
        _, recs, moves, _ = await self._analysed(guild_id)  # every current id, suppressed ones included
        if rec_id not in {r.id for r in (*recs, *moves)}:
            raise NotFound(what="recommendation in this server", key=rec_id)
        return await self.repo.record_feedback(guild_id, rec_id, user_id, verdict,
                                               suppress_days=self.settings.finops_noisy_suppress_days)


__all__ = ["CostConnectorLike", "FinOpsService"]
