"""Closing the loop: a recommendation acted on through the lobby shows the saving its bills realised.

The VM is deployed and resized through the real workflow (sandbox Terraform); the bills
before and after are FOCUS files imported into the real ledger.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.core.models import State
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.models import ActionOutcome, RecommendationKind
from cloud_engine.finops.remediate import RemediationRefusal
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.finops.test_remediate import rec
from tests.conftest import ADMIN, GUILD, FakeClock

HEADER = "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,ProviderName," \
         "BillingCurrency\n"
ERP = "arn:aws:ec2:us-east-1:123456789012:instance/erp-app"
OTHER = "arn:aws:ec2:us-east-1:123456789012:instance/build-box"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, database_path=str(tmp_path / "cloud.db"), terraform_runs_dir=tmp_path / "runs",
                    finops_db_path=":memory:", groq_api_key=None, gemini_api_key=None, scan_plans=False)


@pytest.fixture
async def finops(settings: Settings, db: Database) -> AsyncIterator[FinOpsService]:
    service = await FinOpsService.open(settings, db)
    yield service
    await service.close()


def bill(first: date, days: int, per_day: dict[str, float]) -> bytes:
    lines = [f"{cost},{cost},{d}T00:00:00Z,{d + timedelta(days=1)}T00:00:00Z,EC2,{rid},us-east-1,AWS,USD\n"
             for d in (first + timedelta(days=i) for i in range(days)) for rid, cost in per_day.items() if cost]
    return (HEADER + "".join(lines)).encode()


async def ship(engine: CloudOrchestrator, session_id: int) -> None:
    await engine.plan(session_id, ADMIN)
    await engine.approve(session_id, ADMIN)
    assert (await engine.apply(session_id, ADMIN)).state == State.APPLIED


async def deployed_erp(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="erp", provider="aws", region="us-east-1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="erp-app", machine_type="m5.2xlarge"))
    await ship(engine, session.id)


async def acted(finops: FinOpsService) -> ActionOutcome:
    [outcome] = (await finops.recommendations(guild_id=GUILD)).acted
    return outcome


async def test_a_resize_shows_its_realised_saving_once_bills_cover_both_sides(engine: CloudOrchestrator,
                                                                              finops: FinOpsService,
                                                                              clock: FakeClock) -> None:
    await deployed_erp(engine)
    applied_day = clock.now.date()
    await finops.ingest_focus_bytes(bill(applied_day - timedelta(days=10), 10, {ERP: 9.2, OTHER: 3.0}), "before.csv",
                                    guild_id=GUILD)
    session = await finops.act(engine, rec(), guild_id=GUILD, user_id=ADMIN, now=clock.now)
    assert not isinstance(session, RemediationRefusal), session
    waiting = await acted(finops)
    assert (waiting.status, waiting.session_id, waiting.promised_monthly) == ("open", session.id, 140.0)
    assert waiting.note == f"deployment #{session.id} is DRAFT; the saving is measured after it is applied"

    await ship(engine, session.id)
    applied = await acted(finops)
    assert applied.status == "waiting_for_bills" and applied.applied_at is not None
    assert "10 billed day(s) before and 0 after (at least 3 each)" in applied.note

    # The apply day is billed at the old and the new size; it is left out of both sides.
    await finops.ingest_focus_bytes(bill(applied_day, 6, {ERP: 4.6, OTHER: 3.0}), "after.csv", guild_id=GUILD)
    measured = await acted(finops)
    assert (measured.status, measured.days_before, measured.days_after) == ("measured", 10, 5)
    assert (measured.daily_before, measured.daily_after) == (9.2, 4.6)
    assert measured.realised_monthly == round((9.2 - 4.6) * 730 / 24, 2) == 139.92
    assert measured.note.startswith("realised 139.92 USD/month of the 140.00 USD promised: 9.20 USD/day over 10 "
                                    "day(s) before, 4.60 USD/day over 5 after")


async def test_a_removed_resource_costs_nothing_on_billed_days_and_unbilled_days_never_count(
        engine: CloudOrchestrator, finops: FinOpsService, clock: FakeClock) -> None:
    await deployed_erp(engine)
    day = clock.now.date()
    await finops.ingest_focus_bytes(bill(day - timedelta(days=20), 20, {ERP: 6.0, OTHER: 3.0}), "before.csv",
                                    guild_id=GUILD)
    session = await finops.act(engine, rec(RecommendationKind.IDLE, action="Stop or delete", monthly_savings=182.5),
                               guild_id=GUILD, user_id=ADMIN, now=clock.now)
    assert not isinstance(session, RemediationRefusal), session
    await ship(engine, session.id)
    # Only two days imported after the removal: not enough to claim anything yet.
    await finops.ingest_focus_bytes(bill(day + timedelta(days=1), 2, {OTHER: 3.0}), "after-1.csv", guild_id=GUILD)
    assert (await acted(finops)).status == "waiting_for_bills"
    await finops.ingest_focus_bytes(bill(day + timedelta(days=3), 2, {OTHER: 3.0}), "after-2.csv", guild_id=GUILD)
    removed = await acted(finops)
    assert (removed.days_before, removed.daily_before) == (14, 6.0)  # the nearest 14 billed days before
    assert (removed.days_after, removed.daily_after, removed.realised_monthly) == (4, 0.0, 182.5)


async def test_a_cancelled_deployment_realised_nothing_and_the_act_is_audited(engine: CloudOrchestrator,
                                                                             finops: FinOpsService, db: Database,
                                                                             clock: FakeClock) -> None:
    await deployed_erp(engine)
    session = await finops.act(engine, rec(), guild_id=GUILD, user_id=ADMIN, now=clock.now)
    assert not isinstance(session, RemediationRefusal), session
    await engine.cancel(session.id, ADMIN, reason="not this quarter")
    outcome = await acted(finops)
    assert (outcome.status, outcome.realised_monthly) == ("not_applied", None)
    assert outcome.note == f"deployment #{session.id} ended cancelled without an apply: nothing changed"
    [row] = await db.fetchall("SELECT actor_id, target_id, detail FROM audit_log WHERE action = 'finops.act'")
    assert (row["actor_id"], row["target_id"]) == (ADMIN, str(session.id)) and '"promised_monthly": 140.0' in row["detail"]
    assert '"kind": "rightsize"' in row["detail"]  # the kind is stored as its bare value, in the audit and the row
    assert await db.fetchall("SELECT kind, typeof(kind) AS t FROM finops_actions") == [{"kind": "rightsize", "t": "text"}]
    assert outcome.kind is RecommendationKind.RIGHTSIZE  # and read back as the enum


async def test_a_refused_act_records_nothing(engine: CloudOrchestrator, finops: FinOpsService) -> None:
    refusal = await finops.act(engine, rec(name="legacy-report"), guild_id=GUILD, user_id=ADMIN)
    assert isinstance(refusal, RemediationRefusal) and refusal.code == "unmanaged"
    assert await finops.outcomes(guild_id=GUILD) == []
