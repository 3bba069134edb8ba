"""Terraform's state is the truth: whatever ends a run, the engine's records follow the state.

Real SQLite and the real Terraform binary on the sandbox target. After every kind of end
(success, cancel at several moments, SIGKILL of the bot at each moment of plan and apply,
then restart recovery) three things hold: the recorded resources are exactly those in
`terraform.tfstate`, quota use equals what exists with nothing left reserved, and the next
ordinary user's session plans no destruction it did not ask for.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_engine.core import CloudOrchestrator, IllegalTransition, PermissionDenied, ResourceSpec, State
from cloud_engine.core.deployer import ApplyArtifact, PlanArtifact
from cloud_engine.errors import InvalidInput, NotFound, QuotaExceeded
from cloud_engine.iac.plan import PlanResult
from cloud_engine.store import Database
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[3]


def run_child(settings, session_id: int, phase: str, point: str) -> subprocess.CompletedProcess[str]:
    """The crash child on this test's database and runs directory (see crash_child.py)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(CHILD), settings.database_path, str(settings.terraform_runs_dir),
                           settings.finops_db_path, str(session_id), str(ADMIN), phase, point],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def vm(name: str, machine_type: str = "e2-small") -> ResourceSpec:
    return ResourceSpec(kind="vm", name=name, machine_type=machine_type)


def state_keys(root: Path) -> set[tuple[str, str]]:
    """The user resources (kind, name) that have any null_resource in the mirror's state."""
    path = root / "terraform.tfstate"
    raw = path.read_text("utf-8") if path.is_file() else ""
    data = json.loads(raw) if raw.strip() else {}
    return {tuple(r["name"].split("__")[:2]) for r in data.get("resources", [])
            if r["type"] == "null_resource" and r.get("instances")}


async def assert_consistent(engine: CloudOrchestrator, project_id: int, root: Path) -> set[tuple[str, str]]:
    recorded = {(r.kind, r.name) for r in await engine.project_resources(project_id)}
    in_state = state_keys(root)
    assert recorded == in_state, "the engine records exactly what Terraform's state holds"
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}
    assert usage["compute.instances"].used == sum(1 for k, _ in in_state if k == "vm")
    assert usage["compute.instances"].reserved == 0
    assert usage["storage.buckets"].used == sum(1 for k, _ in in_state if k == "bucket")
    assert await engine.db.fetchone("SELECT * FROM project_locks WHERE project_id = ?", (project_id,)) is None
    return recorded


async def next_session_destroys_nothing(engine: CloudOrchestrator, project_id: int, root: Path) -> None:
    """An ordinary user adds one VM; the plan keeps everything that exists and another user may approve it."""
    session = await engine.start_session(project_id, USER)
    await engine.add_resource(session.id, USER, vm("after"))
    session = await engine.plan(session.id, USER)
    assert session.state == State.PLAN_READY, session.error
    assert session.plan_summary["destroy"] == 0 and session.plan_summary["replace"] == 0
    assert not session.needs_approval
    await engine.approve(session.id, OTHER)
    assert (await engine.apply(session.id, USER)).state == State.APPLIED
    await assert_consistent(engine, project_id, root)


@pytest.fixture
async def project(engine: CloudOrchestrator):
    for name, limit in (("compute.instances", 100), ("compute.cpus", 1000), ("compute.ram_gb", 4000)):
        await engine.set_quota(GUILD, ADMIN, name, limit)
    return await engine.create_project(GUILD, ADMIN, name="truth", provider="gcp", region="us-central1")


@pytest.fixture
def root(project, settings) -> Path:
    return Path(settings.terraform_runs_dir) / str(project.id)


async def _deploy(engine: CloudOrchestrator, project_id: int, *specs: ResourceSpec) -> None:
    session = await engine.start_session(project_id, ADMIN)
    for spec in specs:
        await engine.add_resource(session.id, ADMIN, spec)
    session = await engine.plan(session.id, ADMIN)
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, ADMIN)).state == State.APPLIED


async def _approved_session(engine: CloudOrchestrator, project_id: int) -> int:
    """An admin's session that creates three VMs, edits one, and destroys the bucket."""
    session = await engine.start_session(project_id, ADMIN)
    for name in ("c", "d", "e"):
        await engine.add_resource(session.id, ADMIN, vm(name))
    await engine.add_resource(session.id, ADMIN, vm("a", "e2-medium"))
    await engine.remove_resource(session.id, ADMIN, "bucket", "bkt")
    planned = await engine.plan(session.id, ADMIN)
    assert planned.state == State.PLAN_READY, planned.error
    await engine.approve(session.id, ADMIN)
    return session.id


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 1.0])
async def test_a_cancel_at_any_moment_leaves_records_equal_to_the_state(engine, project, root, delay) -> None:
    await _deploy(engine, project.id, vm("a"), ResourceSpec(kind="bucket", name="bkt"))
    session_id = await _approved_session(engine, project.id)
    task = engine.start_apply(session_id, ADMIN)
    await asyncio.sleep(delay)
    try:
        await engine.cancel(session_id, ADMIN, reason="stop")
    except IllegalTransition:
        pass  # it had already ended
    ended = await task
    recorded = await assert_consistent(engine, project.id, root)
    if ended.state == State.APPLIED:
        assert recorded == {("vm", n) for n in "acde"}
    else:
        assert ended.state == State.FAILED
        assert "stop" in (ended.error or "") or "cancel" in (ended.error or "")
        assert "changes were made" in (ended.error or "") or recorded == {("vm", "a"), ("bucket", "bkt")}
    await next_session_destroys_nothing(engine, project.id, root)


@pytest.mark.parametrize("point", ["during_apply", "after_terraform_apply", "before_db_write"])
async def test_a_bot_killed_at_any_moment_of_an_apply_is_reconciled_on_restart(
        engine, project, root, db, settings, clock, point) -> None:
    await _deploy(engine, project.id, vm("a"), ResourceSpec(kind="bucket", name="bkt"))
    session_id = await _approved_session(engine, project.id)
    child = await asyncio.to_thread(run_child, settings, session_id, "apply", point)
    assert child.returncode == -9, child.stderr[-2000:]
    restarted = CloudOrchestrator(db, settings, clock=clock)
    recovered = await restarted.recover_interrupted()
    assert [s.id for s in recovered] == [session_id]
    recorded = await assert_consistent(restarted, project.id, root)
    if point != "during_apply":  # Terraform had finished: the apply happened, whatever came after
        assert recovered[0].state == State.APPLIED, recovered[0].error
        assert recorded == {("vm", n) for n in "acde"}
        assert "interrupted by restart" in (recovered[0].error or ""), "the warning says what happened"
        history = await restarted.history(project.id)
        assert history[0].outcome == "APPLIED" and history[0].commit_sha
    await next_session_destroys_nothing(restarted, project.id, root)


async def test_a_bot_killed_during_a_plan_leaves_the_next_plan_free_to_run(
        engine, project, root, db, settings, clock) -> None:
    await _deploy(engine, project.id, vm("a"))
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, vm("c"))
    child = await asyncio.to_thread(run_child, settings, session.id, "plan", "during_plan")
    assert child.returncode == -9, child.stderr[-2000:]
    restarted = CloudOrchestrator(db, settings, clock=clock)
    recovered = await restarted.recover_interrupted()
    assert [(s.id, s.state) for s in recovered] == [(session.id, State.FAILED)]
    await assert_consistent(restarted, project.id, root)
    await next_session_destroys_nothing(restarted, project.id, root)  # no "Error acquiring the state lock"


async def test_a_plan_that_destroys_what_nobody_asked_for_needs_an_admin(engine, project, root) -> None:
    """Records and state disagree (the engine lost a resource): the plan is judged, not the request."""
    await _deploy(engine, project.id, vm("a"), vm("lost"))
    await engine.db.execute("DELETE FROM project_resources WHERE project_id = ? AND name = 'lost'", (project.id,))
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, vm("new"))
    session = await engine.plan(session.id, USER)
    assert session.state == State.PLAN_READY and session.plan_summary["destroy"] == 1
    assert session.needs_approval
    named = [v for v in session.violations if v["policy"] == "builtin:plan-destroys-unrequested"]
    assert [v["resource"] for v in named] == ["vm/lost"] and "did not ask" in named[0]["message"]
    with pytest.raises(PermissionDenied):
        await engine.approve(session.id, OTHER)
    assert (await engine.approve(session.id, ADMIN)).state == State.APPROVED


class GatedDeployer:
    """Applies only when released; a cancel releases it (or, with `deaf`, is ignored)."""

    def __init__(self, *, deaf: bool = False) -> None:
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.deaf = deaf

    async def plan(self, project, desired, *, session_id, sinks=(), allow_world_admin=frozenset()) -> PlanArtifact:
        return PlanArtifact(result=PlanResult(), fingerprint="fp")

    async def apply(self, project, *, session_id, fingerprint, commit_message, sinks=()) -> ApplyArtifact:
        self.started.set()
        await self.gate.wait()
        raise RuntimeError("interrupted")

    async def cancel(self, session_id: int) -> bool:
        if not self.deaf:
            self.gate.set()
        return True


async def _applying_in(engine: CloudOrchestrator, deployer: GatedDeployer, project_id: int) -> tuple[int, asyncio.Task]:
    session = await engine.start_session(project_id, USER)
    await engine.add_resource(session.id, USER, vm("x"))
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    task = engine.start_apply(session.id, USER)
    await deployer.started.wait()
    return session.id, task


async def test_a_cancel_from_another_process_reaches_the_running_apply(db, settings, clock, engine, project) -> None:
    deployer = GatedDeployer()
    runner = CloudOrchestrator(db, settings, clock=clock, deployer=deployer)
    other_db = await Database.open(settings.database_path)
    try:
        elsewhere = CloudOrchestrator(other_db, settings, clock=clock, deployer=GatedDeployer())
        session_id, task = await _applying_in(runner, deployer, project.id)
        ended = await elsewhere.cancel(session_id, ADMIN, reason="from the CLI")
        assert ended.state == State.FAILED and "from the CLI" in (ended.error or "")
        assert (await task).state == State.FAILED
    finally:
        await other_db.close()


async def test_a_cancel_that_cannot_stop_the_run_says_so(db, settings, clock, engine, project) -> None:
    deployer = GatedDeployer(deaf=True)
    runner = CloudOrchestrator(db, settings.model_copy(update={"terraform_cancel_grace_s": 0.1}), clock=clock,
                               deployer=deployer)
    other_db = await Database.open(settings.database_path)
    try:
        elsewhere = CloudOrchestrator(other_db, settings.model_copy(update={"terraform_cancel_grace_s": 0.1}),
                                      clock=clock, deployer=GatedDeployer())
        session_id, task = await _applying_in(runner, deployer, project.id)
        with pytest.raises(IllegalTransition, match="not stopped"):
            await elsewhere.cancel(session_id, ADMIN, reason="from the CLI")
        assert (await runner.get_session(session_id)).state == State.APPLYING, "nothing pretends it stopped"
        deployer.gate.set()
        assert (await task).state == State.FAILED
    finally:
        await other_db.close()


async def test_racing_adds_never_pass_the_session_cap(engine, project) -> None:
    session = await engine.start_session(project.id, ADMIN)
    results = await asyncio.gather(
        *(engine.add_resource(session.id, ADMIN, ResourceSpec(kind="bucket", name=f"bkt{i}")) for i in range(120)),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, InvalidInput) and "at most 50" in str(r) for r in refused)
    assert len((await engine.get_session(session.id)).resources) == 50


async def test_an_edit_whose_resource_was_deleted_meanwhile_needs_quota_again(engine, project) -> None:
    await engine.set_quota(GUILD, ADMIN, "compute.instances", 2)
    await _deploy(engine, project.id, vm("a"), vm("b"))
    edit = await engine.start_session(project.id, USER)
    await engine.add_resource(edit.id, USER, vm("a").model_copy(update={"tags": {"team": "web"}}))
    assert (await engine.validate(edit.id, USER)).ok  # same size: nothing to reserve
    removal = await engine.start_session(project.id, ADMIN)
    await engine.remove_resource(removal.id, ADMIN, "vm", "a")
    await engine.plan(removal.id, ADMIN)
    await engine.approve(removal.id, ADMIN)
    assert (await engine.apply(removal.id, ADMIN)).state == State.APPLIED
    await _deploy(engine, project.id, vm("c"))  # takes the freed unit
    with pytest.raises(QuotaExceeded):
        await engine.plan(edit.id, USER)  # the edit would now re-create vm/a: a third instance
    edit = await engine.get_session(edit.id)
    assert edit.state == State.DRAFT and edit.reservations == {}
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}["compute.instances"]
    assert (usage.used, usage.reserved) == (2, 0)


async def test_rollback_checks_permission_before_revealing_anything(engine, project) -> None:
    await _deploy(engine, project.id, vm("a"))
    commit = (await engine.history(project.id))[0].commit_sha
    for outsider in (VIEWER, 999):
        for sha in (commit, "deadbeef"):
            with pytest.raises(PermissionDenied):
                await engine.rollback(project.id, outsider, sha)


async def test_booleans_and_impossible_ids_are_refused_plainly(engine, project) -> None:
    with pytest.raises(InvalidInput):
        await engine.create_project(GUILD, ADMIN, name="flag", provider="gcp", region="us-central1",
                                    budget_monthly=True)
    with pytest.raises(InvalidInput):
        await engine.set_quota(GUILD, ADMIN, "compute.instances", True)
    for bad in (2**70, -(2**70), True):
        with pytest.raises(NotFound):
            await engine.get_session(bad)
        with pytest.raises(NotFound):
            await engine.get_project(bad)
