"""Per-server ledger: what one Discord server imports, only that server sees and acts on."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.models import RecommendationKind
from tests.cloud_engine.finops.conftest import GUILD

OTHER = 2


async def test_another_server_sees_nothing_of_this_servers_bill(loaded: FinOpsService) -> None:
    mine = await loaded.cost_summary(by="provider", guild_id=GUILD)
    assert mine.total_effective_cost > 0 and {g.key for g in mine.groups} == {"aws", "gcp", "azure"}
    theirs = await loaded.cost_summary(by="provider", guild_id=OTHER)
    assert (theirs.total_effective_cost, theirs.total_billed_cost, theirs.groups) == (0, 0, ())
    assert theirs.start is None and theirs.currency is None
    assert await loaded.forecast(guild_id=OTHER) is None
    assert (await loaded.anomalies(guild_id=OTHER)).items == ()
    assert (await loaded.daily_costs(guild_id=OTHER)).series == {}
    assert (await loaded.inventory(guild_id=OTHER)).resources == []
    recs = await loaded.recommendations(guild_id=OTHER)
    assert (recs.items, recs.total_monthly_savings) == ((), 0)
    assert await loaded.recent_runs(guild_id=OTHER) == []
    assert len(await loaded.recent_runs(guild_id=GUILD)) == 2  # costs and metrics


async def test_one_file_lands_in_each_server_that_imports_it(service: FinOpsService,
                                                            synthetic_files: tuple[Path, Path]) -> None:
    focus, _ = synthetic_files
    first = await service.ingest_focus_file(focus, guild_id=GUILD)
    other = await service.ingest_focus_file(focus, guild_id=OTHER)
    assert first.rows_added == other.rows_added == first.rows_read > 0  # not "already present"
    again = await service.ingest_focus_file(focus, guild_id=OTHER)
    assert (again.rows_added, again.rows_restated, again.rows_unchanged) == (0, 0, again.rows_read)
    a = await service.cost_summary(guild_id=GUILD)
    b = await service.cost_summary(guild_id=OTHER)
    assert a.total_billed_cost == b.total_billed_cost and a.groups == b.groups


async def test_a_restatement_in_one_server_leaves_the_other_alone(service: FinOpsService, tmp_path: Path) -> None:
    header = "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,ProviderName," \
             "BillingCurrency\n"
    line = "{cost},{cost},2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Amazon EC2,i-1,us-east-1,AWS,USD\n"
    (tmp_path / "nov.csv").write_text(header + line.format(cost=10))
    (tmp_path / "nov-corrected.csv").write_text(header + line.format(cost=12))
    for guild in (GUILD, OTHER):
        await service.ingest_focus_file(tmp_path / "nov.csv", guild_id=guild)
    report = await service.ingest_focus_file(tmp_path / "nov-corrected.csv", guild_id=OTHER)
    assert (report.rows_added, report.rows_restated) == (0, 1)
    assert (await service.cost_summary(guild_id=GUILD)).total_billed_cost == 10
    assert (await service.cost_summary(guild_id=OTHER)).total_billed_cost == 12


async def test_metrics_are_scoped_too(service: FinOpsService, synthetic_files: tuple[Path, Path]) -> None:
    focus, metrics = synthetic_files
    await service.ingest_focus_file(focus, guild_id=GUILD)
    await service.ingest_metrics_file(metrics, guild_id=OTHER)  # telemetry imported in the wrong server
    inventory = await service.inventory(guild_id=GUILD)
    assert inventory.resources and inventory.metrics_end is None
    assert all(not r.daily for r in inventory.resources)
    recs = await service.recommendations(guild_id=GUILD)
    assert not any(r.kind in (RecommendationKind.IDLE, RecommendationKind.RIGHTSIZE) and r.status == "ok"
                   for r in recs.items)


async def test_metrics_upload_is_checked_before_it_is_written(service: FinOpsService) -> None:
    data = b"resource_id,metric,timestamp,value,unit\nvm-1,cpu,2026-11-01T00:00:00Z,12.5,percent\n"
    report = await service.ingest_metrics_bytes(data, "../../tmp/cpu.csv", guild_id=OTHER)
    assert (report.target, report.guild_id, report.rows_added, report.source_name) == ("metrics", OTHER, 1, "cpu.csv")
    assert (await service.recent_runs(guild_id=OTHER))[0]["source_name"] == "cpu.csv"
    service.settings = service.settings.model_copy(update={"finops_max_upload_mb": 1})
    with pytest.raises(IngestError, match="over the 1 MB limit"):
        await service.ingest_metrics_bytes(b"x" * (1024 * 1024 + 1), "big.csv", guild_id=OTHER)
    with pytest.raises(IngestError, match="metrics must be a CSV"):
        await service.ingest_metrics_bytes(data, "points.parquet", guild_id=OTHER)
    with pytest.raises(IngestError, match="is empty"):
        await service.ingest_metrics_bytes(b"", "empty.csv", guild_id=OTHER)
    assert len(await service.recent_runs(guild_id=OTHER)) == 1  # refused before any import started
