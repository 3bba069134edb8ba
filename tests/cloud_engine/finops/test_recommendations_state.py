"""Recommendations follow the ledger: computed once per state of it, again after any import."""

from __future__ import annotations

from pathlib import Path

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.models import RecommendationKind
from tests.cloud_engine.finops.conftest import GUILD


async def test_an_import_changes_the_next_list_and_nothing_else_does(service: FinOpsService,
                                                                     synthetic_files: tuple[Path, Path]) -> None:
    focus, metrics = synthetic_files
    await service.ingest_focus_file(focus, guild_id=GUILD)
    bill_only = await service.recommendations(guild_id=GUILD)
    assert bill_only == await service.recommendations(guild_id=GUILD)  # same ledger, same answer
    assert any("utilisation metrics" in note for note in bill_only.notes)

    await service.ingest_metrics_file(metrics, guild_id=GUILD)
    with_metrics = await service.recommendations(guild_id=GUILD)
    assert not any("utilisation metrics" in note for note in with_metrics.notes)
    def sized(recs) -> set[str]:  # recommendations the metrics let a recommender decide
        return {r.kind for r in recs.items if r.status == "ok"}

    assert {RecommendationKind.IDLE, RecommendationKind.RIGHTSIZE} <= sized(with_metrics) - sized(bill_only)

    other_scope = await service.recommendations(guild_id=GUILD + 1)  # another server's list is its own
    assert other_scope.items == () and other_scope.as_of is None
