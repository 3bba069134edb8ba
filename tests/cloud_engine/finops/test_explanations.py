"""Recommendations explain themselves: notes say what could not run and what to import; green-region
moves are a list of their own, judged after rightsize, so CO2e is counted once per resource."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_engine.cli import main
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.models import RecommendationKind
from cloud_engine.finops.recommenders import green_region
from cloud_engine.finops.recommenders.base import RecommenderContext
from tests.cloud_engine.finops.conftest import GUILD
from tests.cloud_engine.finops.test_cli import env  # noqa: F401 - the CLI's temporary stores


async def test_a_bill_without_metrics_says_which_recommenders_could_not_run(
        service: FinOpsService, synthetic_files: tuple[Path, Path]) -> None:
    await service.ingest_focus_file(synthetic_files[0], guild_id=GUILD)
    recs = await service.recommendations(guild_id=GUILD)
    [note] = [n for n in recs.notes if "metrics" in n]
    assert "idle, rightsize and schedule could not run for the 27 virtual machines" in note
    assert "python main.py ingest metrics METRICS.csv" in note and "ingest aws|azure|gcp" in note


async def test_a_bill_without_resource_ids_says_so(service: FinOpsService, tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,"
                    "ProviderName,BillingCurrency\n" + "".join(
                        f"5,5,2026-11-{d:02d}T00:00:00Z,2026-11-{d + 1:02d}T00:00:00Z,Amazon EC2,,us-east-1,AWS,USD\n"
                        for d in range(1, 4)))
    await service.ingest_focus_file(path, guild_id=GUILD)
    recs = await service.recommendations(guild_id=GUILD)
    assert recs.items == ()
    assert any("no ResourceId values" in n and "AWS Data Exports" in n for n in recs.notes)
    assert any("commitment coverage needs 14 days of cost history; this server's ledger holds 3" in n
               for n in recs.notes)


async def test_partial_telemetry_is_counted_in_the_notes(loaded: FinOpsService) -> None:
    notes = (await loaded.recommendations(guild_id=GUILD)).notes
    assert any(n.startswith("3 of 27 virtual machines have fewer than 7 days of CPU metrics") for n in notes)
    assert any(n.startswith("3 virtual machines report no memory metric") for n in notes)


async def test_green_moves_are_apart_and_built_on_the_rightsize(loaded: FinOpsService) -> None:
    recs = await loaded.recommendations(guild_id=GUILD)
    assert recs.green_moves and all(m.kind == RecommendationKind.GREEN_REGION for m in recs.green_moves)
    assert recs.total_monthly_savings == pytest.approx(sum(r.monthly_savings for r in recs.items), abs=0.01)
    resize = {r.resource_id: r for r in recs.items if r.kind == RecommendationKind.RIGHTSIZE and r.status == "ok"}
    both = [m for m in recs.green_moves if m.resource_id in resize]
    assert both, "the oversized GCP VM is both rightsized and moved"
    inventory = await loaded.inventory(guild_id=GUILD)
    alone = {m.resource_id: m for m in green_region.recommend(RecommenderContext.build(inventory))}
    for move in both:
        assert move.evidence["machine_type"] == resize[move.resource_id].suggested_machine_type
        assert move.monthly_cost_current == resize[move.resource_id].monthly_cost_current
        # judged on the smaller machine: the move's share of CO2e is smaller than moving the old size
        assert abs(move.co2e_kg_month_delta) < abs(alone[move.resource_id].co2e_kg_month_delta)


def test_the_cli_prints_notes_and_moves_apart(env: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                              synthetic_files: tuple[Path, Path]) -> None:
    assert main(["ingest", "focus", str(synthetic_files[0]), "--guild", "3"]) == 0
    capsys.readouterr()
    assert main(["recommend", "--guild", "3"]) == 0
    out = capsys.readouterr().out
    assert "note: no utilisation metrics are imported" in out
    assert main(["ingest", "metrics", str(synthetic_files[1]), "--guild", "3"]) == 0
    capsys.readouterr()
    assert main(["recommend", "--guild", "3"]) == 0
    out = capsys.readouterr().out
    assert "green-region moves (not in the savings total" in out and "[green_region]" in out
