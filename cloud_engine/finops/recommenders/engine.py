"""Run every recommender over one inventory and make the results consistent.

Per resource, idle / orphaned / rightsize / schedule are alternatives (you would not both
stop and shrink a VM), so only the one saving most is kept, and "insufficient telemetry"
notes are dropped when another of those already has an answer. A resource's kept savings
never add up to more than it costs. Green-region moves are computed after that, on the
rightsized machine where a rightsize was kept, and never for resources that should be
stopped or deleted; they are returned apart (`run_all`) so that a move, which usually
costs money, is never netted into savings. Commitments run last, on spend the others leave alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

from cloud_engine.finops.inventory import Inventory
from cloud_engine.finops.models import Recommendation, RecommendationKind
from cloud_engine.finops.recommenders import commitment, green_region, idle, orphaned, rightsize, schedule
from cloud_engine.finops.recommenders.base import RecommenderContext, Thresholds

Recommender = Callable[[RecommenderContext], list[Recommendation]]
# The per-resource alternatives, in the order they run (ties keep this order).
RESOURCE_RECOMMENDERS: Mapping[RecommendationKind, Recommender] = {
    idle.KIND: idle.recommend, rightsize.KIND: rightsize.recommend, orphaned.KIND: orphaned.recommend,
    schedule.KIND: schedule.recommend,
}
# Every kind and the recommender that produces it. Called with the context alone, green
# region and commitment look at the whole inventory; `run_all` instead hands them what the
# resource recommenders kept (the rightsize a move builds on, the spend a commitment skips).
RECOMMENDERS: Mapping[RecommendationKind, Recommender] = {
    **RESOURCE_RECOMMENDERS, green_region.KIND: green_region.recommend, commitment.KIND: commitment.recommend,
}
# The alternatives in tie-break order: with equal savings, the earlier kind is kept.
EXCLUSIVE: tuple[RecommendationKind, ...] = (
    RecommendationKind.IDLE, RecommendationKind.ORPHANED, RecommendationKind.RIGHTSIZE, RecommendationKind.SCHEDULE,
)
_STOPPED = frozenset({RecommendationKind.IDLE, RecommendationKind.ORPHANED})
_PRIORITY = {kind: i for i, kind in enumerate(EXCLUSIVE)}


def _resolve(recs: list[Recommendation]) -> list[Recommendation]:
    by_resource: dict[str, list[Recommendation]] = defaultdict(list)
    for rec in recs:
        by_resource[rec.resource_id].append(rec)
    kept: list[Recommendation] = []
    for items in by_resource.values():
        ok_exclusive = [r for r in items if r.kind in EXCLUSIVE and r.status == "ok"]
        best = max(ok_exclusive, key=lambda r: (r.monthly_savings, -_PRIORITY[r.kind]), default=None)
        chosen = [rec for rec in items if not (rec.kind in EXCLUSIVE and best is not None and rec is not best)]
        chosen.sort(key=lambda r: -r.monthly_savings)
        cost = max((r.monthly_cost_current for r in chosen), default=0.0)
        total = 0.0
        for rec in chosen:
            if total + max(rec.monthly_savings, 0.0) > cost + 1e-9:
                continue
            total += max(rec.monthly_savings, 0.0)
            kept.append(rec)
    return kept


def sort_key(rec: Recommendation) -> tuple[int, float, str]:
    return (0 if rec.status == "ok" else 1, -rec.monthly_savings, rec.id)


def run_all(inventory: Inventory, thresholds: Thresholds | None = None,
            ) -> tuple[list[Recommendation], list[Recommendation]]:
    """(savings recommendations, green-region moves) for an inventory, each de-conflicted and sorted."""
    ctx = RecommenderContext.build(inventory, thresholds)
    recs = _resolve([rec for fn in RESOURCE_RECOMMENDERS.values() for rec in fn(ctx)])
    acted_on = {r.resource_id for r in recs if r.status == "ok" and r.kind in EXCLUSIVE}
    stopped = {r.resource_id for r in recs if r.status == "ok" and r.kind in _STOPPED}
    resized = {r.resource_id: r for r in recs if r.status == "ok" and r.kind == RecommendationKind.RIGHTSIZE}
    moves = [m for m in green_region.recommend(ctx, after=resized) if m.resource_id not in stopped]
    recs += commitment.recommend(ctx, exclude=acted_on)
    return sorted(recs, key=sort_key), sorted(moves, key=sort_key)


def run_recommenders(inventory: Inventory, thresholds: Thresholds | None = None) -> list[Recommendation]:
    """Every recommendation, green-region moves included (after the others), in a deterministic order."""
    recs, moves = run_all(inventory, thresholds)
    return recs + moves


__all__ = ["EXCLUSIVE", "RECOMMENDERS", "RESOURCE_RECOMMENDERS", "Recommender", "run_all", "run_recommenders",
           "sort_key"]
