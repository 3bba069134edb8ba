""""Act" on a recommendation: which project resource it targets and the session it opens."""

from __future__ import annotations

import json
from typing import Any

from cloud_engine.core.models import State
from cloud_engine.finops.models import Recommendation, RecommendationKind, Risk
from cloud_engine.finops.remediate import RemediationRefusal, remediation_session
from tests.conftest import ADMIN, GUILD, USER


def rec(kind: RecommendationKind = RecommendationKind.RIGHTSIZE, name: str = "erp-app", **extra: Any) -> Recommendation:
    fields: dict[str, Any] = {
        "id": f"{kind}-{name}", "resource_id": f"arn:aws:ec2:us-east-1:123456789012:instance/{name}",
        "resource_name": name, "provider": "aws", "region": "us-east-1", "kind": kind,
        "action": "Resize m5.2xlarge → m5.xlarge", "evidence": {"p95_cpu": 20.0}, "monthly_cost_current": 280.0,
        "monthly_savings": 140.0, "co2e_kg_month_delta": -3.0, "confidence": 0.9,
        "risk": Risk(level="low", reason="restart"), "suggested_machine_type": "m5.xlarge",
    }
    return Recommendation(**{**fields, **extra})


async def managed_vm(engine, db, name: str = "erp-app") -> int:
    """An aws project whose applied configuration holds one m5.2xlarge VM called `name`."""
    project = await engine.create_project(GUILD, ADMIN, name="erp", provider="aws", region="us-east-1")
    spec = {"kind": "vm", "name": name, "machine_type": "m5.2xlarge", "image": "ubuntu-2204-lts"}
    await db.execute("INSERT INTO project_resources (project_id, kind, name, spec, cost_monthly, session_id, updated_at)"
                     " VALUES (?, 'vm', ?, ?, 280.0, NULL, '2026-11-01T00:00:00')", (project.id, name, json.dumps(spec)))
    return project.id


async def test_rightsize_opens_a_session_editing_the_machine_type(engine, db) -> None:
    project_id = await managed_vm(engine, db)
    session = await remediation_session(engine, rec(), guild_id=GUILD, user_id=USER)
    assert not isinstance(session, RemediationRefusal), session
    assert (session.project_id, session.state, session.user_id) == (project_id, State.DRAFT, USER)
    [change] = session.resources
    assert (change.kind, change.name, change.action, change.spec.machine_type) == ("vm", "erp-app", "upsert", "m5.xlarge")
    assert "Resize" in session.purpose


async def test_matching_uses_the_last_segment_of_the_resource_id(engine, db) -> None:
    await managed_vm(engine, db)
    session = await remediation_session(engine, rec(resource_name="ERP App (prod)"), guild_id=GUILD, user_id=USER)
    assert not isinstance(session, RemediationRefusal), session


async def test_unmanaged_resources_are_refused(engine, db) -> None:
    await managed_vm(engine, db)
    refusal = await remediation_session(engine, rec(name="legacy-report"), guild_id=GUILD, user_id=USER)
    assert isinstance(refusal, RemediationRefusal) and refusal.code == "unmanaged"
    assert "not managed by a Cloud Engine project" in refusal.reason
    assert await engine.list_sessions(GUILD) == []


async def test_other_provider_projects_do_not_match(engine, db) -> None:
    await managed_vm(engine, db)
    refusal = await remediation_session(engine, rec(provider="gcp"), guild_id=GUILD, user_id=USER)
    assert isinstance(refusal, RemediationRefusal) and refusal.code == "unmanaged"


async def test_cleanup_by_a_cloud_user_is_refused_for_permissions(engine, db) -> None:
    await managed_vm(engine, db)
    refusal = await remediation_session(engine, rec(RecommendationKind.IDLE, action="Stop or delete"), guild_id=GUILD,
                                        user_id=USER)
    assert isinstance(refusal, RemediationRefusal) and refusal.code == "refused"
    assert "CloudAdmin" in refusal.reason
    assert await engine.list_sessions(GUILD) == []


async def test_cleanup_by_an_admin_marks_the_resource_for_removal(engine, db) -> None:
    await managed_vm(engine, db)
    session = await remediation_session(engine, rec(RecommendationKind.IDLE, action="Stop or delete"), guild_id=GUILD,
                                        user_id=ADMIN)
    assert not isinstance(session, RemediationRefusal), session
    assert [(r.kind, r.name, r.action) for r in session.resources] == [("vm", "erp-app", "delete")]


async def test_schedules_and_commitments_are_not_sessions(engine, db) -> None:
    await managed_vm(engine, db)
    commitment = await remediation_session(engine, rec(RecommendationKind.COMMITMENT), guild_id=GUILD, user_id=USER)
    schedule = await remediation_session(engine, rec(RecommendationKind.SCHEDULE), guild_id=GUILD, user_id=USER)
    assert isinstance(commitment, RemediationRefusal) and "billing console" in commitment.reason
    assert isinstance(schedule, RemediationRefusal) and schedule.code == "not_actionable"


async def test_insufficient_telemetry_is_refused(engine, db) -> None:
    await managed_vm(engine, db)
    refusal = await remediation_session(engine, rec(status="insufficient_telemetry", needs=("memory (percent)",)),
                                        guild_id=GUILD, user_id=USER)
    assert isinstance(refusal, RemediationRefusal) and "memory (percent)" in refusal.reason
