"""`FinOpsService`: the one facade the bot, the CLI and the advisor call.

It owns the DuckDB ledger and uses the main SQLite `Database` for operational state; every
method is async and returns a pydantic model (or bytes for charts), so callers can render
or `model_dump()` without knowing about DuckDB.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from cloud_engine.errors import EngineError
from cloud_engine.finops import analysis
from cloud_engine.finops._files import MB, check_size, file_format, safe_filename
from cloud_engine.finops.chart import render_daily_cost_chart
from cloud_engine.finops.feedback import FinOpsRepository
from cloud_engine.finops.focus_ingest import ingest_focus_path, ingest_focus_table
from cloud_engine.finops.inventory import Inventory, build_inventory
from cloud_engine.finops.ledger import Ledger
from cloud_engine.finops.metrics_ingest import ingest_metrics_path, ingest_metrics_table
from cloud_engine.finops.models import (
    AnomalyReport,
    CostSummary,
    DailyServiceCosts,
    FeedbackResult,
    Forecast,
    IngestReport,
    RecommendationSet,
)
from cloud_engine.finops.recommenders import Thresholds, run_recommenders
from cloud_engine.finops.recommenders.commitment import eligible_services
from cloud_engine.finops.synthetic import DEFAULT_DAYS, DEFAULT_END, write_synthetic
from cloud_engine.settings import Settings
from cloud_engine.store import Database


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

    async def _logged(self, target: str, kind: str, name: str,
                      work: Callable[[], Awaitable[IngestReport]]) -> IngestReport:
        """Run one import and record it in the ingestion runs log, failed or not."""
        run_id = await self.repo.start_run(target, kind, name)
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

    # ---- ingestion -------------------------------------------------------------------------
    async def ingest_focus_file(self, path: str | Path, *, source_kind: str = "focus_file",
                                source_name: str | None = None) -> IngestReport:
        """Import a FOCUS CSV/Parquet export; idempotent (re-importing adds 0 rows)."""
        p = Path(path)
        return await self._logged("costs", source_kind, source_name or p.name, lambda: self.ledger.run(
            lambda conn: ingest_focus_path(conn, p, max_bytes=self.max_bytes, source_kind=source_kind,
                                           source_name=source_name, fetched_at=_now())))

    async def ingest_focus_bytes(self, data: bytes, filename: str) -> IngestReport:
        """Import an uploaded export: size-checked before anything is written or parsed."""
        name = safe_filename(filename)
        file_format(name)
        check_size(len(data), self.max_bytes, name)
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="finops-upload-"))
        try:
            target = tmp / name
            await asyncio.to_thread(target.write_bytes, data)
            return await self.ingest_focus_file(target, source_name=name)
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)

    async def ingest_metrics_file(self, path: str | Path) -> IngestReport:
        p = Path(path)
        return await self._logged("metrics", "metrics_file", p.name, lambda: self.ledger.run(
            lambda conn: ingest_metrics_path(conn, p, max_bytes=self.max_bytes, fetched_at=_now())))

    async def ingest_synthetic(self, out_dir: str | Path, *, days: int = DEFAULT_DAYS, end: date = DEFAULT_END,
                               seed: int = 42) -> tuple[IngestReport, IngestReport]:
        """Generate the synthetic data set into `out_dir` and import both files."""
        focus, metrics = await asyncio.to_thread(write_synthetic, out_dir, days=days, end=end, seed=seed)
        costs = await self.ingest_focus_file(focus, source_kind="synthetic")
        return costs, await self.ingest_metrics_file(metrics)

    async def ingest_connector(self, connector: CostConnectorLike, start: date, end: date,
                               resource_ids: list[str] | None = None) -> tuple[IngestReport, IngestReport | None]:
        """Pull costs (and metrics for `resource_ids`) from a provider connector into the ledger."""
        table = await connector.fetch_costs(start, end)
        costs = await self._logged("costs", connector.source_kind, connector.source_name, lambda: self.ledger.run(
            lambda conn: ingest_focus_table(conn, table, source_kind=connector.source_kind,
                                            source_name=connector.source_name, fetched_at=_now())))
        if not resource_ids:
            return costs, None
        points = await connector.fetch_metrics(resource_ids, start, end)
        metrics = await self._logged("metrics", connector.source_kind, connector.source_name, lambda: self.ledger.run(
            lambda conn: ingest_metrics_table(conn, points, source_kind=connector.source_kind,
                                              source_name=connector.source_name, fetched_at=_now())))
        return costs, metrics

    # ---- analysis --------------------------------------------------------------------------
    async def cost_summary(self, by: str = "service", start: date | None = None, end: date | None = None,
                           tag_key: str = "env") -> CostSummary:
        return await self.ledger.run(analysis.cost_summary, by, start, end, tag_key)

    async def daily_costs(self, start: date | None = None, end: date | None = None) -> DailyServiceCosts:
        return await self.ledger.run(analysis.daily_service_costs, start, end)

    async def daily_cost_chart(self, start: date | None = None, end: date | None = None) -> bytes:
        return await render_daily_cost_chart(await self.daily_costs(start, end))

    async def forecast(self, as_of: date | None = None) -> Forecast | None:
        return await self.ledger.run(analysis.forecast, as_of)

    async def anomalies(self, start: date | None = None, end: date | None = None) -> AnomalyReport:
        return await self.ledger.run(analysis.anomalies, start, end)

    # ---- recommendations -------------------------------------------------------------------
    async def inventory(self) -> Inventory:
        eligible = eligible_services()
        return await self.ledger.run(build_inventory, eligible)

    async def recommendations(self, include_suppressed: bool = False, limit: int | None = None) -> RecommendationSet:
        """Deterministic recommendations, minus those marked noisy recently (unless asked)."""
        inventory = await self.inventory()
        recs = await asyncio.to_thread(run_recommenders, inventory, self.thresholds)
        suppressed = set() if include_suppressed else await self.repo.suppressed_ids()
        visible = [r for r in recs if r.id not in suppressed]
        hidden = len(recs) - len(visible)
        if limit is not None:
            visible = visible[:limit]
        return RecommendationSet(
            as_of=inventory.as_of, items=tuple(visible),
            total_monthly_savings=round(sum(r.monthly_savings for r in visible), 2),
            total_co2e_kg_month_delta=round(sum(r.co2e_kg_month_delta for r in visible), 3),
            suppressed=hidden, by_kind=dict(sorted(Counter(r.kind for r in visible).items())),
        )

    async def record_feedback(self, rec_id: str, user_id: str | int, verdict: str) -> FeedbackResult:
        return await self.repo.record_feedback(rec_id, user_id, verdict,
                                               suppress_days=self.settings.finops_noisy_suppress_days)


__all__ = ["CostConnectorLike", "FinOpsService"]
