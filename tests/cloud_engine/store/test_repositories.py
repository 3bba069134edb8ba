"""The typed records the repositories hand back: fields read from the rows, nothing left as a dict."""

from __future__ import annotations

from datetime import timedelta

from cloud_engine.core import Role
from cloud_engine.core.records import AuditEntry, Grant, GuildStats, QuotaUsage, UserActivity
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER


async def test_grants_list_expired_ones_inactive_with_the_standing_role(engine, clock) -> None:
    granted = await engine.grant(GUILD, ADMIN, USER, "CloudAdmin", duration=timedelta(hours=1))
    assert isinstance(granted, Grant)
    assert (granted.role, granted.standing_role, granted.expires_at) == (Role.ADMIN, Role.USER,
                                                                       clock.now + timedelta(hours=1))
    clock.advance(hours=2)
    grants = {g.user_id: g for g in await engine.list_grants(GUILD, ADMIN)}
    assert grants[USER].active is False and grants[USER].standing_role is Role.USER
    assert grants[USER].granted_by == ADMIN and grants[USER].granted_at == clock.now - timedelta(hours=2)
    assert grants[VIEWER] == Grant(guild_id=GUILD, user_id=VIEWER, role=Role.VIEWER, expires_at=None, granted_by=ADMIN,
                                   granted_at=grants[VIEWER].granted_at, standing_role=None, active=True)
    assert list(grants) == [VIEWER, OTHER, ADMIN, USER], "by role name descending, then user"


async def test_quota_usage_knows_what_is_free(engine) -> None:
    await engine.set_quota(GUILD, ADMIN, "compute.instances", 3)
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}
    assert usage["compute.instances"] == QuotaUsage(name="compute.instances", limit_value=3, used=0, reserved=0)
    assert usage["compute.instances"].free == 3


async def test_stats_and_audit_entries_are_typed(engine) -> None:
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1")
    await engine.start_session(project.id, USER)
    stats = await engine.stats(GUILD)
    assert isinstance(stats, GuildStats)
    assert (stats.projects, stats.resources, stats.monthly_cost, stats.by_state) == (1, 0, 0.0, {"DRAFT": 1})
    assert stats.by_user == [UserActivity(user_id=USER, sessions=1, applied=0)]
    [created] = await engine.audit(GUILD, ADMIN, action="create_project")
    assert isinstance(created, AuditEntry)
    assert (created.actor_id, created.target_type, created.target_id) == (USER, "project", str(project.id))
    assert created.detail["name"] == "web" and created.row_hash and created.ts.startswith("2026-11-02T09:00")
