"""Recommenders on the synthetic patterns, crafted telemetry gaps, and global properties."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_engine.finops import FinOpsService, RecommendationSet
from cloud_engine.finops.models import RecommendationKind
from cloud_engine.finops.recommenders import Thresholds, run_recommenders
from tests.cloud_engine.finops.conftest import GUILD


def by_name(recs: RecommendationSet) -> dict[tuple[str, str], object]:
    return {(r.resource_name, r.kind): r for r in recs.items}


async def test_each_pattern_gets_the_expected_advice(loaded: FinOpsService) -> None:
    recs = by_name(await loaded.recommendations(guild_id=GUILD))
    idle = recs[("aws-legacy-report", RecommendationKind.IDLE)]
    assert idle.status == "ok" and idle.action.startswith("Stop or delete")
    assert idle.monthly_savings == idle.monthly_cost_current and idle.co2e_kg_month_delta < 0
    assert idle.evidence["idle_days"] == 14 and idle.evidence["avg_net_mb_per_day"] <= 5

    sizes = {"aws": ("m5.2xlarge", "m5.xlarge"), "gcp": ("n2-standard-8", "n2-standard-4"),
             "azure": ("Standard_D8s_v5", "Standard_D4s_v5")}
    for provider, (current, target) in sizes.items():
        rec = recs[(f"{provider}-erp-app", RecommendationKind.RIGHTSIZE)]
        assert rec.action == f"Resize {current} → {target}" and rec.suggested_machine_type == target
        assert rec.evidence["projected_p95_cpu"] <= 70 and rec.evidence["projected_p95_memory"] <= 70
        assert 0 < rec.monthly_savings < rec.monthly_cost_current

    for name in ("old-disk", "spare-ip", "lb-legacy", "snap-2025"):
        assert recs[(f"gcp-{name}", RecommendationKind.ORPHANED)].status == "ok"
    for name in ("data-disk", "lb-main", "snap-recent"):
        assert (f"gcp-{name}", RecommendationKind.ORPHANED) not in recs

    schedule = recs[("azure-dev-box", RecommendationKind.SCHEDULE)]
    assert "08:00–20:00 UTC Mon–Fri (12 h × 5 days = 60 h/week)" in schedule.action
    assert schedule.monthly_savings == pytest.approx(schedule.monthly_cost_current * (1 - 60 / 168), abs=0.01)
    assert ("azure-dev-box", RecommendationKind.IDLE) not in recs  # weekend idleness is the schedule's job

    for steady in ("aws-web-1", "aws-batch-etl"):
        assert not any(k == (steady, kind) for k in recs
                       for kind in (RecommendationKind.IDLE, RecommendationKind.RIGHTSIZE, RecommendationKind.SCHEDULE))

    commitments = [r for r in recs.values() if r.kind == RecommendationKind.COMMITMENT]
    assert {r.provider for r in commitments} == {"aws", "gcp", "azure"}
    for rec in commitments:
        assert rec.evidence["break_even_months_one_year"] == pytest.approx(12 * (1 - rec.evidence["discount_one_year"]),
                                                                          abs=0.05)

    result = await loaded.recommendations(guild_id=GUILD)
    # moves are their own list, never in the totals
    assert all(r.kind != RecommendationKind.GREEN_REGION for r in result.items)
    green = {r.resource_name: r for r in result.green_moves}["gcp-web-1"]
    assert green.target_region == "us-west1" and green.co2e_kg_month_delta < 0


async def test_insufficient_telemetry_says_what_to_collect(loaded: FinOpsService) -> None:
    recs = by_name(await loaded.recommendations(guild_id=GUILD))
    no_memory = recs[("aws-cache-1", RecommendationKind.RIGHTSIZE)]
    assert no_memory.status == "insufficient_telemetry" and no_memory.monthly_savings == 0
    assert any("memory" in need and "CloudWatch agent" in need for need in no_memory.needs)
    new = recs[("gcp-new-svc", RecommendationKind.IDLE)]
    assert new.status == "insufficient_telemetry" and any("have 5" in need for need in new.needs)


async def test_no_metrics_at_all_is_insufficient(service: FinOpsService, synthetic_files: tuple[Path, Path]) -> None:
    await service.ingest_focus_file(synthetic_files[0], guild_id=GUILD)
    recs = await service.recommendations(guild_id=GUILD)
    vm_recs = [r for r in recs.items if r.kind in (RecommendationKind.IDLE, RecommendationKind.RIGHTSIZE)]
    assert vm_recs and all(r.status == "insufficient_telemetry" for r in vm_recs)


def check_properties(items: tuple) -> None:
    pairs = Counter((r.resource_id, r.kind) for r in items)
    assert max(pairs.values()) == 1
    spent: dict[str, float] = {}
    for r in items:
        assert r.monthly_savings <= r.monthly_cost_current + 1e-9
        spent[r.resource_id] = spent.get(r.resource_id, 0.0) + max(r.monthly_savings, 0.0)
        assert spent[r.resource_id] <= r.monthly_cost_current + 0.011


async def test_properties_and_determinism(loaded: FinOpsService) -> None:
    first = await loaded.recommendations(guild_id=GUILD)
    second = await loaded.recommendations(guild_id=GUILD)
    assert first == second
    check_properties(first.items)
    assert first.total_monthly_savings == pytest.approx(sum(r.monthly_savings for r in first.items), abs=1e-6)
    assert first.total_co2e_kg_month_delta == pytest.approx(sum(r.co2e_kg_month_delta for r in first.items), abs=1e-6)
    limited = await loaded.recommendations(limit=3, guild_id=GUILD)
    assert limited.items == first.items[:3]


@pytest.fixture
async def inventory(loaded: FinOpsService):
    return await loaded.inventory(guild_id=GUILD)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cpu=st.floats(1, 60), net=st.floats(0.1, 500), min_days=st.integers(1, 14), headroom=st.floats(20, 100),
    reduction=st.floats(0, 0.9), increase=st.floats(0, 0.6), percentile=st.floats(0, 100),
)
def test_properties_hold_for_any_thresholds(inventory, cpu, net, min_days, headroom, reduction, increase,
                                            percentile) -> None:
    thresholds = Thresholds(idle_cpu_pct=cpu, idle_net_mb_per_day=net, idle_min_days=min_days,
                            rightsize_headroom_pct=headroom, green_min_reduction=reduction,
                            green_max_cost_increase=increase, commitment_baseline_percentile=percentile)
    recs = run_recommenders(inventory, thresholds)
    check_properties(tuple(recs))
    assert recs == run_recommenders(inventory, thresholds)
