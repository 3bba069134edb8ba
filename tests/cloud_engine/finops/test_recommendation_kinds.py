"""One vocabulary for recommendation kinds: every kind has its recommender, and outputs keep the bare value."""

from __future__ import annotations

import json

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.models import RecommendationKind
from cloud_engine.finops.recommenders.base import RecommenderContext
from cloud_engine.finops.recommenders.engine import EXCLUSIVE, RECOMMENDERS, RESOURCE_RECOMMENDERS
from cloud_engine.finops.remediate import REFUSED_KINDS
from tests.cloud_engine.finops.conftest import GUILD


def test_every_kind_has_exactly_one_recommender_and_the_registry_holds_no_other() -> None:
    assert set(RECOMMENDERS) == set(RecommendationKind)
    assert all(isinstance(kind, RecommendationKind) for kind in RECOMMENDERS)
    assert set(EXCLUSIVE) == set(RESOURCE_RECOMMENDERS) <= set(RECOMMENDERS)
    assert set(REFUSED_KINDS) <= set(RecommendationKind)


async def test_each_recommender_produces_only_its_own_kind(loaded: FinOpsService) -> None:
    ctx = RecommenderContext.build(await loaded.inventory(guild_id=GUILD))
    for kind, recommend in RECOMMENDERS.items():
        recs = recommend(ctx)
        assert recs, f"the synthetic bill should give the {kind} recommender something to say"
        assert {type(r.kind) for r in recs} == {RecommendationKind}
        assert {r.kind for r in recs} == {kind}


async def test_json_and_text_carry_the_bare_kind(loaded: FinOpsService) -> None:
    result = await loaded.recommendations(guild_id=GUILD)
    dumped = result.model_dump(mode="json")
    kinds = {item["kind"] for item in dumped["items"] + dumped["green_moves"]}
    assert kinds == {k.value for k in RecommendationKind}
    assert all(type(item["kind"]) is str for item in dumped["items"])
    assert all(type(key) is str for key in dumped["by_kind"])
    assert '"kind": "green_region"' in json.dumps(dumped)
    assert "RecommendationKind" not in json.dumps(dumped) + "".join(r.action for r in result.items)
