"""Held locks can be listed and released by an admin: the holder ends honestly, and never under a live run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloud_engine.core import CloudOrchestrator, IllegalTransition, PermissionDenied, ResourceSpec, State
from cloud_engine.core.deployer import ApplyArtifact, PlanArtifact
from cloud_engine.core.locks import acquire_project_lock
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.iac.plan import PlanResult
from cloud_engine.store.rows import iso
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER


class GatedDeployer:
    """Plans at once; applies only when the test opens the gate (a cancel opens it too)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.applying = asyncio.Event()

    async def plan(self, project: Any, desired: Any, *, session_id: int, sinks: Any = (),
                   allow_world_admin: Any = frozenset()) -> PlanArtifact:
        return PlanArtifact(result=PlanResult(), fingerprint="fp")

    async def apply(self, project: Any, *, session_id: int, fingerprint: str, commit_message: str,
                    sinks: Any = ()) -> ApplyArtifact:
        self.applying.set()
        await self.gate.wait()
        return ApplyArtifact(commit_sha="a" * 40, state_json="{}")

    async def cancel(self, session_id: int) -> bool:
        self.gate.set()
        return True


@pytest.fixture
async def gated(db, settings, clock) -> tuple[CloudOrchestrator, GatedDeployer]:
    deployer = GatedDeployer()
    engine = CloudOrchestrator(db, settings, deployer=deployer, clock=clock)
    await engine.grant(GUILD, ADMIN, ADMIN, "CloudAdmin")
    for user, role in ((USER, "CloudUser"), (OTHER, "CloudUser"), (VIEWER, "CloudViewer")):
        await engine.grant(GUILD, ADMIN, user, role)
    return engine, deployer


async def _planned(engine: CloudOrchestrator, name: str = "web") -> tuple[int, int]:
    project = await engine.create_project(GUILD, USER, name=name, provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="vm-1", machine_type="e2-small"))
    assert (await engine.plan(session.id, USER)).state == State.PLAN_READY
    return project.id, session.id


async def _lock_of(engine: CloudOrchestrator, project_id: int) -> int | None:
    row = await engine.db.fetchone("SELECT session_id FROM project_locks WHERE project_id = ?", (project_id,))
    return row["session_id"] if row else None


async def test_held_locks_are_listed_with_holder_since_and_state(gated, clock) -> None:
    engine, _ = gated
    assert await engine.list_locks(GUILD, VIEWER) == []
    _, session_id = await _planned(engine)
    [lock] = await engine.list_locks(GUILD, VIEWER)
    assert (lock.project, lock.session_id, lock.holder_id, lock.state, lock.running) == (
        "web", session_id, USER, State.PLAN_READY, False)
    assert lock.since == clock.now


async def test_an_admin_unlock_cancels_the_holder_with_the_reason_and_audits_it(gated) -> None:
    engine, _ = gated
    project_id, session_id = await _planned(engine)
    with pytest.raises(PermissionDenied):
        await engine.unlock(GUILD, USER, "web", "mine now")
    with pytest.raises(InvalidInput):
        await engine.unlock(GUILD, ADMIN, "web", "   ")
    result = await engine.unlock(GUILD, ADMIN, "web", "left overnight, blocking the hotfix")
    assert (result.previous_state, result.state, result.holder_id) == (State.PLAN_READY, State.CANCELLED, USER)
    session = await engine.get_session(session_id)
    assert session.state == State.CANCELLED and "left overnight, blocking the hotfix" in (session.error or "")
    assert session.reservations == {} and await _lock_of(engine, project_id) is None
    [row] = await engine.audit(GUILD, ADMIN, action="unlock")
    assert row.actor_id == ADMIN and row.detail["reason"] == "left overnight, blocking the hotfix"
    assert (row.from_state, row.to_state, row.detail["session"]) == ("PLAN_READY", "CANCELLED", session_id)
    [moved] = await engine.audit(GUILD, ADMIN, action="session.cancel")
    assert moved.actor_id == ADMIN and moved.target_id == str(session_id)
    with pytest.raises(NotFound):
        await engine.unlock(GUILD, ADMIN, "web", "again")


async def test_unlock_is_refused_while_terraform_applies_and_the_refusal_is_audited(gated) -> None:
    engine, deployer = gated
    project_id, session_id = await _planned(engine)
    await engine.approve(session_id, ADMIN)
    task = engine.start_apply(session_id, USER)
    await deployer.applying.wait()
    [lock] = await engine.list_locks(GUILD, ADMIN)
    assert lock.state == State.APPLYING and lock.running
    with pytest.raises(IllegalTransition, match="Terraform is running"):
        await engine.unlock(GUILD, ADMIN, "web", "stuck?")
    assert await _lock_of(engine, project_id) == session_id
    [refused] = await engine.audit(GUILD, ADMIN, action="refused")
    assert refused.detail["attempted"] == "unlock" and refused.actor_id == ADMIN
    deployer.gate.set()
    assert (await task).state == State.APPLIED


async def test_an_apply_nobody_runs_any_more_ends_failed(gated, db, settings, clock) -> None:
    engine, _ = gated
    project_id, session_id = await _planned(engine)
    await engine.approve(session_id, ADMIN)
    # As a process that died mid-apply leaves it: APPLYING, lock held, a heartbeat long stale.
    stale = iso(datetime.now(UTC) - timedelta(minutes=5))
    await db.execute("UPDATE deployment_sessions SET state = 'APPLYING', run_heartbeat_at = ? WHERE id = ?",
                     (stale, session_id))
    other = CloudOrchestrator(db, settings, deployer=GatedDeployer(), clock=clock)  # the admin's process
    [lock] = await other.list_locks(GUILD, ADMIN)
    assert lock.state == State.APPLYING and not lock.running
    result = await other.unlock(GUILD, ADMIN, "web", "bot host died")
    assert result.state == State.FAILED
    session = await engine.get_session(session_id)
    assert session.state == State.FAILED and "unlocked by an admin: bot host died" in (session.error or "")
    assert await _lock_of(engine, project_id) is None


async def test_a_plan_started_elsewhere_is_waited_for_until_its_timeout(gated, db, clock) -> None:
    engine, _ = gated
    project = await engine.create_project(GUILD, USER, name="web", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="bucket", name="assets-1"))
    assert (await engine.validate(session.id, USER)).ok
    async with db.transaction() as conn:  # another process took the lock and started Terraform plan
        await acquire_project_lock(conn, project_id=project.id, project_name="web", session_id=session.id,
                                   user_id=USER, now=clock.now)
        await conn.execute("UPDATE deployment_sessions SET run_heartbeat_at = ? WHERE id = ?", (iso(clock.now), session.id))
    with pytest.raises(IllegalTransition):
        await engine.unlock(GUILD, ADMIN, "web", "too soon")
    clock.advance(hours=1)  # past TERRAFORM_PLAN_TIMEOUT_S: that plan has ended, whatever became of its process
    result = await engine.unlock(GUILD, ADMIN, "web", "plan process gone")
    assert (result.previous_state, result.state) == (State.PLANNING, State.FAILED)
    assert "plan process gone" in ((await engine.get_session(session.id)).error or "")


async def test_a_lock_left_behind_by_a_finished_session_is_just_removed(gated, db, clock) -> None:
    engine, _ = gated
    project_id, session_id = await _planned(engine)
    await engine.cancel(session_id, USER)
    await db.execute("INSERT INTO project_locks (project_id, session_id, user_id, acquired_at) VALUES (?, ?, ?, ?)",
                     (project_id, session_id, USER, iso(clock.now)))
    result = await engine.unlock(GUILD, ADMIN, "web", "left behind")
    assert not result.session_ended and result.state == State.CANCELLED
    assert await _lock_of(engine, project_id) is None
    assert (await engine.get_session(session_id)).error == "cancelled by user", "the ended session is not rewritten"
