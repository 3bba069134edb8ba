"""Export connectors: cost files a cloud writes to storage, imported one file at a time.

Why per file, not one table like the API connectors: the ledger keeps provenance per row
(`source_name`), and an export's rows should name the file they came from
(`aws-data-export:s3://bucket/key`, `azure-export:container/blob`), so a wrong figure can be
traced to the object that holds it. Each file is downloaded to a private temp directory
and imported by `FinOpsService.ingest_focus_file` (the same checks, size and row limits and
restatement as an upload), so re-reading an export that did not change adds nothing and a
refreshed one restates what changed. After the files, utilisation is fetched for the
machines those costs name, as `FinOpsService.sync_provider` does for the API connectors.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pyarrow as pa

from cloud_engine.errors import EngineError
from cloud_engine.finops.connectors.base import CostConnector
from cloud_engine.finops.errors import ConnectorError
from cloud_engine.finops.metrics_ingest import ingest_metrics_table
from cloud_engine.finops.models import IngestReport
from cloud_engine.secret_text import mask_secrets

if TYPE_CHECKING:
    from cloud_engine.finops.service import FinOpsService


@dataclass(frozen=True)
class ExportFile:
    """One data file of an export: where it is, what to call it in the ledger, and its size."""

    key: str  # the object key (S3) or blob name (Azure) inside its bucket or container
    source_name: str  # per-row provenance: aws-data-export:s3://bucket/key, azure-export:container/blob
    size: int


@runtime_checkable
class ExportConnector(Protocol):
    """A connector that lists an export's files instead of answering with one table."""

    source_kind: str
    source_name: str
    meters: bool  # whether fetch_metrics can answer (Azure Monitor needs the service principal)

    async def list_files(self, start: date, end: date) -> list[ExportFile]:
        """The data files of the export's periods that overlap [start, end), from their manifests."""

    async def download(self, file: ExportFile, directory: Path) -> Path:
        """The file as a FOCUS CSV/Parquet under `directory` (converted when the export is not FOCUS)."""

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        """Utilisation points for the resources over [start, end)."""


def months(start: date, end: date) -> list[date]:
    """First days of the calendar months that overlap [start, end) (billing periods are months)."""
    first, out = date(start.year, start.month, 1), []
    while first < end:
        out.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def one_line(text: str, secrets: Iterable[str] = ()) -> str:
    """The first line of an SDK's message, with every known secret (and `secrets`) masked: errors are shown and logged."""
    first = (str(text).strip().splitlines() or [""])[0]
    return mask_secrets(first, extra=[s for s in secrets if s])[:400]


def manifest_json(raw: bytes | str, *, provider: str, where: str, kind: str) -> Any:
    """An export's manifest parsed, or ConnectorError naming the file and what it should have been (`kind`)."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConnectorError(provider=provider, operation="manifest", detail=(
            f"{where} is not JSON ({one_line(str(exc))}); is it {kind}?")) from exc


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"


async def _failed_run(service: FinOpsService, guild_id: int, target: str, kind: str, name: str,
                      exc: BaseException) -> None:
    run_id = await service.repo.start_run(guild_id, target, kind, name)
    await service.repo.finish_run(run_id, None, _error_text(exc))


async def import_export(service: FinOpsService, connector: ExportConnector, start: date, end: date, *,
                        guild_id: int) -> list[IngestReport]:
    """Import every file of the export's periods overlapping [start, end) into one scope, one import per file."""
    try:
        files = await connector.list_files(start, end)
    except Exception as exc:  # nothing was imported, but the ingestion log (freshness) must show the failure
        await _failed_run(service, guild_id, "costs", connector.source_kind, connector.source_name, exc)
        raise
    reports: list[IngestReport] = []
    tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="finops-export-"))
    try:
        for n, file in enumerate(files):
            target = tmp / str(n)
            await asyncio.to_thread(target.mkdir, mode=0o700)
            try:
                path = await connector.download(file, target)
            except Exception as exc:
                await _failed_run(service, guild_id, "costs", connector.source_kind, file.source_name, exc)
                raise
            reports.append(await service.ingest_focus_file(path, guild_id=guild_id, source_kind=connector.source_kind,
                                                           source_name=file.source_name))
            await asyncio.to_thread(shutil.rmtree, target, True)
    finally:
        await asyncio.to_thread(shutil.rmtree, tmp, True)
    return reports


async def import_metrics(service: FinOpsService, provider: str, connector: ExportConnector, start: date, end: date,
                         *, guild_id: int) -> IngestReport | None:
    """Utilisation for the scope's machines of `provider` charged since `start` (None when there are none)."""
    metered = await service.metered_ids(provider, start, guild_id=guild_id) if connector.meters else []
    if not metered:
        return None
    kind, name = connector.source_kind, connector.source_name
    run_id = await service.repo.start_run(guild_id, "metrics", kind, name)
    try:
        points = await connector.fetch_metrics(metered, start, end)
        report = await service.ledger.run(lambda conn: ingest_metrics_table(
            conn, points, guild_id=guild_id, source_kind=kind, source_name=name, fetched_at=_now()))
    except Exception as exc:
        await service.repo.finish_run(run_id, None, _error_text(exc))
        raise
    await service.repo.finish_run(run_id, report)
    return report


async def sync_connector(service: FinOpsService, provider: str, connector: CostConnector | ExportConnector,
                         start: date, end: date, *, guild_id: int) -> list[IngestReport]:
    """One provider's sync into one scope, whatever kind of connector it is: costs first, then metrics."""
    if isinstance(connector, ExportConnector):
        reports = await import_export(service, connector, start, end, guild_id=guild_id)
        metrics = await import_metrics(service, provider, connector, start, end, guild_id=guild_id)
        return reports if metrics is None else [*reports, metrics]
    costs, metrics_report = await service.sync_provider(provider, connector, start, end, guild_id=guild_id)
    return [costs] if metrics_report is None else [costs, metrics_report]


__all__ = ["ExportConnector", "ExportFile", "import_export", "import_metrics", "months", "one_line",
           "sync_connector"]
