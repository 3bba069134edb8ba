"""Approval rules as policy: N distinct approvers of a Cloud role, the author excluded, voided by a new plan, race-safe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from cloud_engine.core import (
    CloudOrchestrator,
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
    PolicySpec,
    ResourceSpec,
)
from cloud_engine.core.models import State
from cloud_engine.core.policies import check_approval_params
from cloud_engine.store import Database
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER
from tests.fakes.deployers import InstantDeployer

ADMIN2 = 110
ADMIN3 = 120
VM = ResourceSpec(kind="vm", name="vm-1", machine_type="e2-small")


async def _engine(db: Database, settings: Any, clock: Any, *, same: bool = False) -> CloudOrchestrator:
    engine = CloudOrchestrator(db, settings, deployer=InstantDeployer(same=same), clock=clock)
    for user, role in ((ADMIN, "CloudAdmin"), (ADMIN2, "CloudAdmin"), (ADMIN3, "CloudAdmin"), (USER, "CloudUser"),
                       (OTHER, "CloudUser"), (VIEWER, "CloudViewer")):
        await engine.grant(GUILD, ADMIN, user, role)
    return engine


@pytest.fixture
async def eng(db, settings, clock) -> CloudOrchestrator:
    return await _engine(db, settings, clock)


async def _policy(engine: CloudOrchestrator, name: str = "two-admins", **params: Any) -> None:
    """A cost policy every VM crosses, asking for approval instead of refusing."""
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name=name, type="cost", pattern="vm/*", action="require_approval",
                                                     params={"max_monthly_usd": 0, **params}))


async def _planned(engine: CloudOrchestrator, author: int = USER, *, must_differ: bool = False) -> int:
    project = await engine.create_project(GUILD, author, name="web", provider="gcp", region="us-central1",
                                          approver_must_differ=must_differ)
    session = await engine.start_session(project.id, author)
    await engine.add_resource(session.id, author, VM)
    planned = await engine.plan(session.id, author)
    assert planned.state == State.PLAN_READY, planned.error
    return session.id


async def _actions(engine: CloudOrchestrator, prefix: str = "session.") -> list[str]:
    return [r.action for r in reversed(await engine.audit(GUILD, ADMIN, limit=50)) if r.action.startswith(prefix)]


async def test_two_cloud_admins_are_needed_and_each_counts_once(eng) -> None:
    await _policy(eng, approvals=2)
    session_id = await _planned(eng)
    after = await eng.approve(session_id, ADMIN)
    assert after.state == State.PLAN_READY and after.approved_by is None
    status = await eng.approval_status(session_id)
    [progress] = status.progress
    assert (progress.counted, progress.missing, progress.rule.role.value) == ((ADMIN,), 1, "CloudAdmin")
    assert progress.rule.must_differ, "from two approvals on, the author never counts"
    with pytest.raises(IllegalTransition, match="already approved"):
        await eng.approve(session_id, ADMIN)
    with pytest.raises(PermissionDenied) as refused:
        await eng.approve(session_id, OTHER)  # a CloudUser does not count for a CloudAdmin rule
    assert refused.value.data["required"] == "CloudAdmin"
    done = await eng.approve(session_id, ADMIN2)
    assert done.state == State.APPROVED and done.approved_by == ADMIN2
    [partial] = await eng.audit(GUILD, ADMIN, action="session.approval")
    assert partial.actor_id == ADMIN and partial.detail["missing"] == {"two-admins": 1}
    [approved] = await eng.audit(GUILD, ADMIN, action="session.approve")
    assert approved.detail["approvers"] == [ADMIN, ADMIN2] and approved.to_state == "APPROVED"
    assert (await eng.apply(session_id, USER)).state == State.APPLIED


async def test_the_author_never_counts_where_approvers_must_differ(eng) -> None:
    await _policy(eng, approvals=2)
    session_id = await _planned(eng, author=ADMIN)
    with pytest.raises(PermissionDenied, match="your own plan"):
        await eng.approve(session_id, ADMIN)
    await eng.approve(session_id, ADMIN2)
    assert (await eng.approve(session_id, ADMIN3)).state == State.APPROVED


async def test_a_rule_may_let_the_author_count(eng) -> None:
    await _policy(eng, approvals=2, approvers_must_differ=False)
    session_id = await _planned(eng, author=ADMIN)
    assert (await eng.approve(session_id, ADMIN)).state == State.PLAN_READY
    assert (await eng.approve(session_id, ADMIN2)).state == State.APPROVED


async def test_the_project_setting_excludes_the_author_even_when_the_rule_would_not(eng) -> None:
    await _policy(eng, approvals=2, approvers_must_differ=False)
    session_id = await _planned(eng, author=ADMIN, must_differ=True)
    with pytest.raises(PermissionDenied, match="your own plan"):
        await eng.approve(session_id, ADMIN)


async def test_approvers_of_a_cloud_user_rule(eng) -> None:
    await _policy(eng, approvals=2, approver_role="CloudUser")
    session_id = await _planned(eng)
    with pytest.raises(PermissionDenied):
        await eng.approve(session_id, VIEWER)
    with pytest.raises(PermissionDenied, match="your own plan"):
        await eng.approve(session_id, USER)
    await eng.approve(session_id, OTHER)
    assert (await eng.approve(session_id, ADMIN)).state == State.APPROVED  # a CloudAdmin is at least a CloudUser


async def test_every_rule_must_be_met_and_one_approver_may_count_for_several(eng) -> None:
    await _policy(eng, "two-users", approvals=2, approver_role="CloudUser")
    await _policy(eng, "one-admin")
    session_id = await _planned(eng)
    await eng.approve(session_id, OTHER)
    status = await eng.approval_status(session_id)
    assert [(p.rule.source, p.counted, p.met) for p in status.progress] == [
        ("two-users", (OTHER,), False), ("one-admin", (), False)]
    assert (await eng.approve(session_id, ADMIN)).state == State.APPROVED


async def test_a_policy_without_approval_params_keeps_one_cloud_admin(eng) -> None:
    await _policy(eng, "review")
    session_id = await _planned(eng)
    with pytest.raises(PermissionDenied, match="require_approval") as refused:
        await eng.approve(session_id, OTHER)
    assert refused.value.data["required"] == "CloudAdmin"
    assert (await eng.approve(session_id, ADMIN)).state == State.APPROVED
    [row] = await eng.audit(GUILD, ADMIN, action="session.approve")
    assert row.detail == {} and await eng.audit(GUILD, ADMIN, action="session.approval") == []


async def test_without_any_policy_one_other_cloud_user_approves_as_before(eng) -> None:
    session_id = await _planned(eng, must_differ=True)
    with pytest.raises(PermissionDenied, match="your own plan"):
        await eng.approve(session_id, USER)
    assert (await eng.approve(session_id, OTHER)).state == State.APPROVED
    assert (await eng.approval_status(session_id)).plain


@pytest.mark.parametrize("same_fingerprint", [False, True])
async def test_a_new_plan_voids_earlier_approvals(db, settings, clock, same_fingerprint) -> None:
    engine = await _engine(db, settings, clock, same=same_fingerprint)
    await _policy(engine, approvals=2)
    session_id = await _planned(engine)
    await engine.approve(session_id, ADMIN)
    await engine.add_resource(session_id, USER, ResourceSpec(kind="bucket", name="logs"))  # an edit: back to DRAFT
    assert (await engine.plan(session_id, USER)).state == State.PLAN_READY
    [progress] = (await engine.approval_status(session_id)).progress
    assert progress.counted == ()
    [voided] = await engine.audit(GUILD, ADMIN, action="session.approvals_voided")
    assert voided.detail["approvals"] == 1
    assert (await engine.approve(session_id, ADMIN2)).state == State.PLAN_READY, "ADMIN's old approval is gone"


async def test_a_rejected_plan_loses_its_approvals(eng) -> None:
    await _policy(eng, approvals=2)
    session_id = await _planned(eng)
    await eng.approve(session_id, ADMIN)
    assert (await eng.reject(session_id, ADMIN2, "wrong size")).state == State.DRAFT
    assert await eng.approval_status(session_id) is None
    assert await eng.db.fetchall("SELECT * FROM plan_approvals WHERE session_id = ?", (session_id,)) == []


async def test_two_approvers_at_once_both_count_and_approve_once(eng, settings, clock) -> None:
    await _policy(eng, approvals=2)
    session_id = await _planned(eng)
    other_db = await Database.open(settings.database_path)  # the second approver in another process
    try:
        elsewhere = await _engine(other_db, settings, clock)
        results = await asyncio.gather(eng.approve(session_id, ADMIN), elsewhere.approve(session_id, ADMIN2),
                                       return_exceptions=True)
    finally:
        await other_db.close()
    assert not [r for r in results if isinstance(r, BaseException)], results
    session = await eng.get_session(session_id)
    assert session.state == State.APPROVED
    assert sorted((await eng.approval_status(session_id)).approver_ids) == [ADMIN, ADMIN2]
    assert (await _actions(eng)).count("session.approve") == 1
    assert (await _actions(eng)).count("session.approval") == 1


async def test_two_single_approvers_at_once_leave_one_approval(eng, settings, clock) -> None:
    session_id = await _planned(eng)
    other_db = await Database.open(settings.database_path)
    try:
        elsewhere = await _engine(other_db, settings, clock)
        results = await asyncio.gather(eng.approve(session_id, ADMIN), elsewhere.approve(session_id, OTHER),
                                       return_exceptions=True)
    finally:
        await other_db.close()
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], IllegalTransition), results
    session = await eng.get_session(session_id)
    winner = ADMIN if not isinstance(results[0], BaseException) else OTHER
    assert session.state == State.APPROVED and session.approved_by == winner
    assert (await eng.approval_status(session_id)).approver_ids == (winner,)
    assert (await _actions(eng)).count("session.approve") == 1


@pytest.mark.parametrize("order", ["approve first", "reject first"])
async def test_the_last_approval_and_a_reject_at_once_leave_one_outcome(eng, settings, clock, order) -> None:
    await _policy(eng, approvals=2)
    session_id = await _planned(eng)
    await eng.approve(session_id, ADMIN)
    other_db = await Database.open(settings.database_path)
    try:
        elsewhere = await _engine(other_db, settings, clock)
        approve, reject = eng.approve(session_id, ADMIN2), elsewhere.reject(session_id, ADMIN3, "not this week")
        results = await asyncio.gather(*([approve, reject] if order == "approve first" else [reject, approve]),
                                       return_exceptions=True)
    finally:
        await other_db.close()
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], IllegalTransition), results
    session = await eng.get_session(session_id)
    stored = await eng.db.fetchall("SELECT approver_id FROM plan_approvals WHERE session_id = ?", (session_id,))
    if session.state == State.APPROVED:
        assert sorted(r["approver_id"] for r in stored) == [ADMIN, ADMIN2] and await eng.rejection(session_id) is None
        assert "session.reject" not in await _actions(eng)
    else:
        assert session.state == State.DRAFT and stored == [] and session.approved_by is None
        assert (await eng.rejection(session_id)).reason == "not this week"
        assert "session.approve" not in await _actions(eng)


def test_approval_params_are_validated() -> None:
    for bad in (0, 6, True, "2"):
        with pytest.raises(ValidationError, match="approvals"):
            PolicySpec(name="p", type="cost", action="require_approval", params={"max_monthly_usd": 1, "approvals": bad})
    with pytest.raises(ValidationError, match="only a require_approval policy"):
        PolicySpec(name="p", type="cost", action="deny", params={"max_monthly_usd": 1, "approvals": 2})
    with pytest.raises(ValidationError, match="approver_role"):
        PolicySpec(name="p", type="cost", action="require_approval",
                   params={"max_monthly_usd": 1, "approver_role": "CloudViewer"})
    with pytest.raises(InvalidInput) as bad_input:
        check_approval_params("warn", {"approver_role": "CloudAdmin"})
    assert bad_input.value.data["field"] == "approver_role"
    check_approval_params("require_approval", {"approvals": 5, "approver_role": "CloudUser"})


FINOPS_ROLE = 777_000_000_000_000_001


async def test_a_discord_role_rule_counts_only_members_holding_it_when_they_approve(eng) -> None:
    await _policy(eng, name="finops-signs", approver_discord_role=FINOPS_ROLE, approvals=2)
    session_id = await _planned(eng, author=ADMIN)
    with pytest.raises(PermissionDenied) as refused:  # a CloudAdmin without the role does not count
        await eng.approve(session_id, ADMIN2, discord_role_ids=[1, 2])
    assert f"the Discord role <@&{FINOPS_ROLE}>" in refused.value.message
    await eng.approve(session_id, USER, discord_role_ids=[FINOPS_ROLE])  # CloudUser suffices with the role
    status = await eng.approval_status(session_id)
    assert status is not None and not status.complete and status.progress[0].counted == (USER,)
    with pytest.raises(PermissionDenied):  # the API and CLI send no Discord roles: nobody counts by role there
        await eng.approve(session_id, OTHER)
    after = await eng.approve(session_id, OTHER, discord_role_ids=[5, FINOPS_ROLE])
    assert after.state == State.APPROVED


async def test_who_may_reject_is_who_may_approve_discord_role_included(eng) -> None:
    await _policy(eng, name="finops-signs", approver_discord_role=FINOPS_ROLE)
    session_id = await _planned(eng, author=ADMIN)
    with pytest.raises(PermissionDenied):
        await eng.reject(session_id, OTHER, "not now")
    assert (await eng.reject(session_id, OTHER, "not now", discord_role_ids=[FINOPS_ROLE])).state == State.DRAFT


def test_a_discord_role_must_be_a_role_id_on_a_require_approval_policy() -> None:
    with pytest.raises(InvalidInput) as bad:
        check_approval_params("require_approval", {"approver_discord_role": "@finops"})
    assert bad.value.message.startswith("Invalid approver_discord_role: a Discord role id")
    with pytest.raises(InvalidInput):
        check_approval_params("warn", {"approver_discord_role": FINOPS_ROLE})
