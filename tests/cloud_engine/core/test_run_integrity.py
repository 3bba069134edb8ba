"""Locks, quota reservations and audit rows stay right when runs fail oddly or users race each other.

Each test drives the orchestrator with a scripted deployer (the Terraform side is covered
by test_lifecycle.py) and a real SQLite database, and interleaves user actions at the
awaits where a real Discord server could interleave them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cloud_engine.core import CloudOrchestrator, IllegalTransition, PermissionDenied, ResourceSpec, State
from cloud_engine.core.deployer import ApplyArtifact, PlanArtifact
from cloud_engine.core.policies import PolicySpec
from cloud_engine.core.records import QuotaUsage
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.iac.plan import PlanResult
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER

OTHER_GUILD = 2


class ScriptedDeployer:
    """Plans and applies instantly, or raises what the test sets, or waits for the test."""

    def __init__(self) -> None:
        self.plan_error: BaseException | None = None
        self.apply_error: BaseException | None = None
        self.apply_gate: asyncio.Event | None = None
        self.applying = asyncio.Event()
        self.planned: list[list[ResourceSpec]] = []
        self.cancelled: list[int] = []

    async def plan(self, project: Any, desired: Any, *, session_id: int, sinks: Any = (),
                   allow_world_admin: Any = frozenset()) -> PlanArtifact:
        self.planned.append(list(desired))
        if self.plan_error is not None:
            raise self.plan_error
        return PlanArtifact(result=PlanResult(), fingerprint=f"fp-{len(self.planned)}")

    async def apply(self, project: Any, *, session_id: int, fingerprint: str, commit_message: str,
                    sinks: Any = ()) -> ApplyArtifact:
        self.applying.set()
        if self.apply_gate is not None:
            await self.apply_gate.wait()
            raise RuntimeError("interrupted")  # what a stopped apply looks like to the engine
        if self.apply_error is not None:
            raise self.apply_error
        return ApplyArtifact(commit_sha="a" * 40, state_json="{}")

    async def cancel(self, session_id: int) -> bool:
        if self.apply_gate is None:
            return False
        self.cancelled.append(session_id)
        self.apply_gate.set()
        return True


@pytest.fixture
async def scripted(db, settings, clock) -> tuple[CloudOrchestrator, ScriptedDeployer]:
    deployer = ScriptedDeployer()
    engine = CloudOrchestrator(db, settings, deployer=deployer, clock=clock)
    await engine.grant(GUILD, ADMIN, ADMIN, "CloudAdmin")
    for user, role in ((USER, "CloudUser"), (OTHER, "CloudUser"), (VIEWER, "CloudViewer")):
        await engine.grant(GUILD, ADMIN, user, role)
    return engine, deployer


@pytest.fixture
async def project(scripted):
    engine, _ = scripted
    return await engine.create_project(GUILD, USER, name="runs", provider="gcp", region="us-central1")


def vm(name: str, **extra: Any) -> ResourceSpec:
    return ResourceSpec(kind="vm", name=name, **{"machine_type": "e2-small", **extra})


async def instances(engine: CloudOrchestrator) -> QuotaUsage:
    return {q.name: q for q in await engine.quota_usage(GUILD)}["compute.instances"]


async def lock_holder(engine: CloudOrchestrator, project_id: int) -> int | None:
    row = await engine.db.fetchone("SELECT session_id FROM project_locks WHERE project_id = ?", (project_id,))
    return row["session_id"] if row else None


async def test_editing_a_planned_session_gives_back_its_reservation_and_lock(scripted, project) -> None:
    engine, _ = scripted
    await engine.set_quota(GUILD, ADMIN, "compute.instances", 2)
    for _ in range(3):  # each cycle used to leave one more instance reserved for ever
        session = await engine.start_session(project.id, USER)
        await engine.add_resource(session.id, USER, vm("web"))
        assert (await engine.plan(session.id, USER)).state == State.PLAN_READY
        await engine.add_resource(session.id, USER, vm("web", machine_type="e2-medium"))  # back to DRAFT
        assert (await engine.get_session(session.id)).reservations == {}
        assert await lock_holder(engine, project.id) is None, "an edited session has no plan to protect"
        assert (await engine.validate(session.id, USER)).ok
        assert (await instances(engine)).reserved == 1
        await engine.cancel(session.id, USER)
        assert (await instances(engine)).reserved == 0


async def test_validate_checks_a_resource_added_while_it_started(scripted, project) -> None:
    engine, deployer = scripted
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="no-eu", type="region", params={"denied": ["europe-west1"]}))
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, vm("a"))
    real_editable = engine._editable
    raced: list[bool] = []

    async def add_during_validate(session_id: int, user_id: int):
        seen = await real_editable(session_id, user_id)
        if not raced:  # validate has read the session; the Add lands before its state changes
            raced.append(True)
            await engine.add_resource(session.id, USER, vm("b", region="europe-west1"))
        return seen

    engine._editable = add_during_validate  # type: ignore[method-assign]
    result = await engine.validate(session.id, USER)
    engine._editable = real_editable  # type: ignore[method-assign]
    assert raced and not result.ok
    assert any("europe-west1" in v.message for v in result.violations)
    assert deployer.planned == []


async def test_cancel_while_plan_starts_leaves_no_lock(scripted, project) -> None:
    engine, deployer = scripted
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, vm("a"))
    await engine.validate(session.id, USER)
    real_editable = engine._editable
    cancelled: list[bool] = []

    async def cancel_after_read(session_id: int, user_id: int):
        seen = await real_editable(session_id, user_id)
        if seen[0].state == State.PLANNING and not cancelled:
            cancelled.append(True)
            await engine.cancel(session_id, USER)
        return seen

    engine._editable = cancel_after_read  # type: ignore[method-assign]
    with pytest.raises(IllegalTransition):
        await engine.plan(session.id, USER)
    engine._editable = real_editable  # type: ignore[method-assign]
    assert (await engine.get_session(session.id)).state == State.CANCELLED
    assert await lock_holder(engine, project.id) is None and deployer.planned == []
    other = await engine.start_session(project.id, OTHER)
    await engine.add_resource(other.id, OTHER, vm("b"))
    assert (await engine.plan(other.id, OTHER)).state == State.PLAN_READY


@pytest.mark.parametrize("phase", ["plan", "apply"])
async def test_an_unexpected_error_fails_the_run_and_frees_everything(scripted, project, phase: str) -> None:
    engine, deployer = scripted
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, vm("a"))
    if phase == "plan":
        deployer.plan_error = KeyError("resource_changes")
        ended = await engine.plan(session.id, USER)
    else:
        await engine.plan(session.id, USER)
        await engine.approve(session.id, ADMIN)
        deployer.apply_error = ValueError("unexpected JSON from terraform")
        ended = await engine.start_apply(session.id, USER)
    assert ended.state == State.FAILED
    assert "internal error" in (ended.error or "") and ("KeyError" in ended.error or "ValueError" in ended.error)
    assert await lock_holder(engine, project.id) is None
    assert (await instances(engine)).reserved == 0


async def test_stopping_an_apply_records_who_and_why(scripted, project) -> None:
    engine, deployer = scripted
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, vm("a"))
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    deployer.apply_gate = asyncio.Event()
    task = engine.start_apply(session.id, USER)
    await deployer.applying.wait()
    await engine.admin_cancel(session.id, ADMIN, reason="prod incident, stop now")
    ended = await task
    assert ended.state == State.FAILED and "prod incident, stop now" in (ended.error or "")
    assert f"by user {ADMIN}" in (ended.error or "")
    rows = await engine.audit(GUILD, ADMIN, action="cancel_requested")
    assert [(r.actor_id, r.detail["reason"]) for r in rows] == [(ADMIN, "prod incident, stop now")]


async def test_an_applying_session_nothing_applies_can_be_failed(scripted, project) -> None:
    """E.g. left over by a crash the start-up recovery did not see: cancel fails it and frees the lock."""
    engine, _ = scripted
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, vm("a"))
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    await engine.db.execute("UPDATE deployment_sessions SET state = 'APPLYING' WHERE id = ?", (session.id,))
    ended = await engine.admin_cancel(session.id, ADMIN)
    assert ended.state == State.FAILED and "no apply was running" in (ended.error or "")
    assert await lock_holder(engine, project.id) is None
    assert (await instances(engine)).reserved == 0


async def test_a_guild_whose_admin_grant_expired_is_not_claimable_by_anyone(scripted, clock) -> None:
    engine, _ = scripted
    from datetime import timedelta

    await engine.grant(OTHER_GUILD, ADMIN, ADMIN, "CloudAdmin")  # bootstrap: the guild had no admin
    await engine.grant(OTHER_GUILD, ADMIN, OTHER, "CloudAdmin", duration=timedelta(hours=1))
    await engine.revoke(OTHER_GUILD, OTHER, ADMIN)
    clock.advance(hours=2)  # the last admin grant has now expired
    with pytest.raises(PermissionDenied):
        await engine.grant(OTHER_GUILD, VIEWER, VIEWER, "CloudAdmin")
    with pytest.raises(PermissionDenied):
        await engine.set_quota(OTHER_GUILD, VIEWER, "compute.instances", 99)
    await engine.grant(3, VIEWER, VIEWER, "CloudAdmin")  # a guild that never had an admin is still claimable


async def test_approval_is_for_the_plan_the_approver_read(scripted, project) -> None:
    engine, _ = scripted
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, vm("a"))
    await engine.plan(session.id, USER)
    real_role = engine.role
    replanned: list[bool] = []

    async def replan_meanwhile(guild_id: int, user_id: int):
        if user_id == ADMIN and not replanned:  # the author edits and re-plans while the admin decides
            replanned.append(True)
            await engine.add_resource(session.id, USER, vm("b"))
            await engine.plan(session.id, USER)
        return await real_role(guild_id, user_id)

    engine.role = replan_meanwhile  # type: ignore[method-assign]
    with pytest.raises(IllegalTransition, match="review it again"):
        await engine.approve(session.id, ADMIN)
    engine.role = real_role  # type: ignore[method-assign]
    assert (await engine.get_session(session.id)).state == State.PLAN_READY
    assert (await engine.approve(session.id, ADMIN)).state == State.APPROVED


async def test_expiry_spares_a_session_used_after_it_was_picked(scripted, project, clock) -> None:
    engine, _ = scripted
    session = await engine.start_session(project.id, USER)
    clock.advance(days=2)
    real_get_project = engine.get_project
    came_back: list[bool] = []

    async def used_meanwhile(project_id: int):
        if not came_back:  # expiry picked the session; the user comes back at that moment
            came_back.append(True)
            await engine.add_resource(session.id, USER, vm("late"))
        return await real_get_project(project_id)

    engine.get_project = used_meanwhile  # type: ignore[method-assign]
    assert await engine.expire_idle() == []
    engine.get_project = real_get_project  # type: ignore[method-assign]
    assert (await engine.get_session(session.id)).state == State.DRAFT


@pytest.mark.parametrize("commit", ["%%%%%%%", "abc_def", "zzzzzzz", "a" * 41])
async def test_rollback_takes_only_a_hex_commit(scripted, project, commit: str) -> None:
    engine, _ = scripted
    with pytest.raises(InvalidInput):
        await engine.rollback(project.id, USER, commit)
    with pytest.raises(NotFound):
        await engine.rollback(project.id, USER, "abcdef0")


async def test_purpose_is_checked_like_other_free_text(scripted, project) -> None:
    engine, _ = scripted
    with pytest.raises(InvalidInput):
        await engine.start_session(project.id, USER, purpose="x" * 300)
    with pytest.raises(InvalidInput):
        await engine.start_session(project.id, USER, purpose="line one\nline two")
    assert (await engine.start_session(project.id, USER, purpose="  ")).purpose == "deploy"


async def _applied(engine: CloudOrchestrator, project: Any, *specs: ResourceSpec,
                   remove: tuple[tuple[str, str], ...] = ()) -> str:
    session = await engine.start_session(project.id, USER)
    for spec in specs:
        await engine.add_resource(session.id, USER, spec)
    for kind, name in remove:
        await engine.remove_resource(session.id, ADMIN, kind, name)
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    done = await engine.apply(session.id, USER)
    assert done.state == State.APPLIED, done.error
    row = await engine.db.fetchone("SELECT commit_sha FROM deployment_history WHERE session_id = ?", (session.id,))
    return row["commit_sha"]


async def test_a_rollback_the_user_may_not_finish_leaves_no_session_behind(scripted, project) -> None:
    """Going back before a resource existed destroys it: a CloudUser is refused before any session opens."""
    engine, deployer = scripted
    first = await _applied(engine, project, vm("a"))
    deployer_commit = "b" * 40
    deployer.apply = _commit_as(deployer.apply, deployer_commit)  # type: ignore[method-assign]
    await _applied(engine, project, vm("a", machine_type="e2-medium"), vm("b"))
    before = await engine.db.fetchone("SELECT COUNT(*) AS n FROM deployment_sessions")
    with pytest.raises(PermissionDenied):
        await engine.rollback(project.id, USER, first[:12])
    after = await engine.db.fetchone("SELECT COUNT(*) AS n FROM deployment_sessions")
    assert after["n"] == before["n"]
    session = await engine.rollback(project.id, ADMIN, first[:12])
    assert sorted((r.name, r.action) for r in session.resources) == [("a", "upsert"), ("b", "delete")]


async def test_a_rollback_to_where_the_project_is_is_refused(scripted, project) -> None:
    engine, _ = scripted
    current = await _applied(engine, project, vm("a"))
    with pytest.raises(InvalidInput, match="already at"):
        await engine.rollback(project.id, ADMIN, current)


def _commit_as(apply: Any, sha: str) -> Any:
    async def wrapped(*args: Any, **kwargs: Any) -> ApplyArtifact:
        artifact = await apply(*args, **kwargs)
        return artifact.model_copy(update={"commit_sha": sha})
    return wrapped


async def test_count_and_cost_policies_judge_the_whole_project_not_one_session(scripted, project) -> None:
    """Deploying three VMs one per session must meet the same 'at most two' policy as three at once."""
    engine, _ = scripted
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="max-two-vms", type="quota", pattern="vm/*",
                                                     params={"max_count": 2}))
    await _applied(engine, project, vm("a"))
    await _applied(engine, project, vm("b"))
    third = await engine.start_session(project.id, USER)
    await engine.add_resource(third.id, USER, vm("c"))
    result = await engine.validate(third.id, USER)
    assert not result.ok and [v.policy for v in result.violations] == ["max-two-vms"]
    edit = await engine.start_session(project.id, USER)  # changing one of the two is still fine
    await engine.add_resource(edit.id, USER, vm("a", machine_type="e2-medium"))
    assert (await engine.validate(edit.id, USER)).ok


async def test_the_budget_is_checked_again_when_the_plan_starts(scripted, project) -> None:
    """Two sessions that each fit the budget alone cannot both be applied."""
    engine, _ = scripted
    budgeted = await engine.create_project(GUILD, USER, name="budgeted", provider="gcp", region="us-central1",
                                           budget_monthly=40)
    first = await engine.start_session(budgeted.id, USER)
    second = await engine.start_session(budgeted.id, USER)
    for session, name in ((first, "a"), (second, "b")):
        await engine.add_resource(session.id, USER, vm(name, machine_type="e2-medium"))
        result = await engine.validate(session.id, USER)
        assert result.ok and 20 < result.cost_monthly <= 40, result.cost_monthly  # one fits, two do not
    await engine.plan(first.id, USER)
    await engine.approve(first.id, ADMIN)
    assert (await engine.apply(first.id, USER)).state == State.APPLIED
    refused = await engine.plan(second.id, USER)
    assert refused.state == State.FAILED and "over its budget" in (refused.error or "")
    assert await lock_holder(engine, budgeted.id) is None


async def test_a_refused_attempt_spends_no_budget_alert(scripted, project) -> None:
    engine, _ = scripted
    budgeted = await engine.create_project(GUILD, USER, name="alerts", provider="gcp", region="us-central1",
                                           budget_monthly=10)
    session = await engine.start_session(budgeted.id, USER)
    await engine.add_resource(session.id, USER, vm("big", machine_type="e2-standard-4"))
    assert not (await engine.validate(session.id, USER)).ok
    assert await engine.budget_alerts(budgeted.id) == []


@pytest.mark.parametrize("field", ["budget_monthly", "alert_thresholds"])
async def test_non_numeric_project_settings_are_refused_by_name(scripted, field: str) -> None:
    engine, _ = scripted
    value: Any = "lots" if field == "budget_monthly" else ["half"]
    with pytest.raises(InvalidInput, match=field):
        await engine.create_project(GUILD, USER, name="odd", provider="gcp", region="us-central1", **{field: value})


async def test_a_grant_expiry_without_a_time_zone_is_refused(scripted) -> None:
    from datetime import datetime

    engine, _ = scripted
    with pytest.raises(InvalidInput, match="expires_at"):
        await engine.grant(GUILD, ADMIN, OTHER, "CloudUser", expires_at=datetime(2030, 1, 1))  # noqa: DTZ001


async def test_just_in_time_access_returns_to_the_standing_role(scripted, clock) -> None:
    """A CloudUser given CloudAdmin for an hour is a CloudUser again after it, not locked out."""
    from datetime import timedelta

    from cloud_engine.core import Role

    engine, _ = scripted
    await engine.grant(GUILD, ADMIN, USER, "CloudAdmin", duration=timedelta(hours=1))
    assert await engine.role(GUILD, USER) == Role.ADMIN
    await engine.grant(GUILD, ADMIN, USER, "CloudAdmin", duration=timedelta(hours=2))  # extended, still a JIT
    clock.advance(hours=3)
    assert await engine.role(GUILD, USER) == Role.USER
    await engine.grant(GUILD, ADMIN, USER, "CloudViewer")  # a grant without expiry replaces the standing role
    await engine.grant(GUILD, ADMIN, USER, "CloudAdmin", duration=timedelta(minutes=5))
    clock.advance(minutes=10)
    assert await engine.role(GUILD, USER) == Role.VIEWER
