"""A bill from a provider the price catalogue does not know must not break recommendations.

Any CloudUser can upload such a file (ProviderName "Oracle"); a KeyError in one recommender
used to break /cloud-recommend for the whole server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from cloud_engine.finops.inventory import Inventory, ResourceProfile
from cloud_engine.finops.models import RecommendationKind
from cloud_engine.finops.recommenders import run_recommenders


def _profile(resource_id: str, kind: str, **extra: object) -> ResourceProfile:
    seen = datetime(2026, 10, 1, tzinfo=UTC)
    return ResourceProfile(resource_id=resource_id, resource_name=resource_id, provider="oracle", region="us-ashburn-1",
                           service="Block Volume", resource_type=kind, sub_account=None, tags=dict(extra.pop("tags", {})),
                           kind=kind, machine_type=extra.pop("machine_type", None), monthly_cost=120.0, first_seen=seen,
                           last_seen=datetime(2026, 11, 20, tzinfo=UTC))


def test_unknown_provider_resources_are_recommended_on_or_skipped_never_crash() -> None:
    inventory = Inventory(as_of=date(2026, 11, 20), metrics_end=None, service_daily={}, resources=[
        _profile("vol-1", "disk", tags={"state": "unattached"}),
        _profile("vm-1", "vm", machine_type="VM.Standard.E4.Flex"),
    ])
    recs = run_recommenders(inventory)
    orphan = [r for r in recs if r.resource_id == "vol-1" and r.kind == RecommendationKind.ORPHANED]
    assert orphan and orphan[0].monthly_savings == 120.0  # the bill says what it costs; no catalogue needed
    assert all(r.provider == "oracle" for r in recs)
