"""The whole lifecycle through a real Terraform binary on the sandbox target.

Plan, approve, apply, edit (in place vs replace from the plan JSON), destroy, rollback,
two sessions on one project serialising on the project lock, a stale plan refused, a
cancelled apply and a restart mid-apply freeing the lock.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from cloud_engine.core import (
    CloudOrchestrator,
    IllegalTransition,
    PermissionDenied,
    ProjectLocked,
    ResourceSpec,
    State,
)
from cloud_engine.iac.binary import find_terraform
from tests.conftest import ADMIN, GUILD, OTHER, USER

VM = ResourceSpec(kind="vm", name="web-1", machine_type="e2-small", tags={"env": "dev"})
BUCKET = ResourceSpec(kind="bucket", name="assets")


async def _deploy(engine: CloudOrchestrator, project_id: int, user: int, *specs: ResourceSpec, approver: int = ADMIN):
    session = await engine.start_session(project_id, user)
    for spec in specs:
        await engine.add_resource(session.id, user, spec)
    session = await engine.plan(session.id, user)
    assert session.state == State.PLAN_READY, session.error
    await engine.approve(session.id, approver)
    return await engine.apply(session.id, user)


@pytest.fixture
async def project(engine: CloudOrchestrator):
    return await engine.create_project(GUILD, USER, name="life", provider="gcp", region="us-central1", budget_monthly=500)


async def _lock_holder(engine: CloudOrchestrator, project_id: int) -> int | None:
    row = await engine.db.fetchone("SELECT session_id FROM project_locks WHERE project_id = ?", (project_id,))
    return row["session_id"] if row else None


async def test_plan_approve_apply_records_everything(engine, project, settings) -> None:
    session = await _deploy(engine, project.id, USER, VM, BUCKET)
    assert session.state == State.APPLIED, session.error
    assert {(r.kind, r.name) for r in await engine.project_resources(project.id)} == {("vm", "web-1"), ("bucket", "assets")}
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}
    assert usage["compute.instances"].used == 1 and usage["compute.instances"].reserved == 0
    assert usage["storage.buckets"].used == 1
    assert await _lock_holder(engine, project.id) is None
    history = await engine.history(project.id)
    assert history[0].outcome == "APPLIED" and len(history[0].commit_sha) == 40
    log = await engine.deployer.history(project)
    assert f"session {session.id} by user {USER}" in log[0].message
    root = Path(settings.terraform_runs_dir) / str(project.id)
    assert (root / "gcp.main.hcl").is_file(), "the real provider HCL is kept beside the sandbox mirror"
    assert "google_compute_instance" in (root / "gcp.main.hcl").read_text()
    snapshot = await engine.db.fetchone("SELECT state_json FROM state_snapshots WHERE session_id = ?", (session.id,))
    assert "null_resource" in snapshot["state_json"]


async def test_edit_shows_update_in_place_vs_replace_from_the_plan(engine, project) -> None:
    await _deploy(engine, project.id, USER, VM)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, VM.model_copy(update={"machine_type": "e2-medium"}))
    session = await engine.plan(session.id, USER)
    changes = {c["name"]: c for c in session.plan_summary["changes"]}
    assert changes["web-1"]["action"] == "update"
    assert "machine_type" in changes["web-1"]["changed"]
    await engine.cancel(session.id, USER)

    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, VM.model_copy(update={"image": "ubuntu-2404-lts"}))
    session = await engine.plan(session.id, USER)
    changes = {c["name"]: c for c in session.plan_summary["changes"]}
    assert changes["web-1"]["action"] == "replace"
    assert "image" in changes["web-1"]["forced_by"]


async def test_destroy_needs_admin_and_removes_the_resource(engine, project) -> None:
    await _deploy(engine, project.id, USER, VM, BUCKET)
    session = await engine.start_session(project.id, USER)
    with pytest.raises(PermissionDenied, match="destroy"):
        await engine.remove_resource(session.id, USER, "bucket", "assets")
    await engine.cancel(session.id, USER)
    session = await engine.start_session(project.id, ADMIN)
    await engine.remove_resource(session.id, ADMIN, "bucket", "assets")
    session = await engine.plan(session.id, ADMIN)
    assert session.plan_summary["destroy"] >= 1
    assert [c["action"] for c in session.plan_summary["changes"]] == ["delete"]
    await engine.approve(session.id, ADMIN)
    session = await engine.apply(session.id, ADMIN)
    assert session.state == State.APPLIED
    assert [(r.kind, r.name) for r in await engine.project_resources(project.id)] == [("vm", "web-1")]
    usage = {q.name: q for q in await engine.quota_usage(GUILD)}
    assert usage["storage.buckets"].used == 0


async def test_rollback_to_the_first_commit_goes_through_approval(engine, project) -> None:
    first = await _deploy(engine, project.id, ADMIN, VM)
    await _deploy(engine, project.id, ADMIN, VM.model_copy(update={"machine_type": "e2-medium"}), BUCKET)
    sha = (await engine.history(project.id))[-1].commit_sha
    assert (await engine.history(project.id))[-1].session_id == first.id
    rollback = await engine.rollback(project.id, ADMIN, sha[:10])
    assert rollback.purpose.startswith("rollback to") and rollback.state == State.DRAFT
    rollback = await engine.plan(rollback.id, ADMIN)
    actions = {(c["kind"], c["name"]): c["action"] for c in rollback.plan_summary["changes"]}
    assert actions == {("vm", "web-1"): "update", ("bucket", "assets"): "delete"}
    with pytest.raises(IllegalTransition):
        await engine.apply(rollback.id, ADMIN)  # not approved yet
    await engine.approve(rollback.id, ADMIN)
    rollback = await engine.apply(rollback.id, ADMIN)
    assert rollback.state == State.APPLIED
    assert [r.spec.machine_type for r in await engine.project_resources(project.id)] == ["e2-small"]


async def test_two_sessions_on_one_project_serialise(engine, project) -> None:
    first = await engine.start_session(project.id, USER)
    await engine.add_resource(first.id, USER, VM)
    second = await engine.start_session(project.id, OTHER)
    await engine.add_resource(second.id, OTHER, BUCKET)
    first = await engine.plan(first.id, USER)
    assert first.state == State.PLAN_READY
    with pytest.raises(ProjectLocked) as err:
        await engine.plan(second.id, OTHER)
    assert err.value.holder == first.id and err.value.holder_user == USER
    loser = await engine.get_session(second.id)
    assert loser.state == State.DRAFT and loser.reservations == {}, "the loser goes back to DRAFT, holding nothing"
    assert "busy" in (loser.error or "") or str(first.id) in (loser.error or "")
    await engine.approve(first.id, ADMIN)
    assert (await engine.apply(first.id, USER)).state == State.APPLIED
    second = await engine.plan(second.id, OTHER)
    assert second.state == State.PLAN_READY
    # the second plan is for the whole project: it keeps the first session's VM
    assert {c["name"] for c in second.plan_summary["changes"]} == {"assets"}


async def test_stale_plan_is_refused_and_frees_the_lock(engine, project, settings) -> None:
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, VM)
    session = await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    root = Path(settings.terraform_runs_dir) / str(project.id)
    (root / "extra.tf").write_text('resource "null_resource" "sneaky" {}\n')
    session = await engine.apply(session.id, USER)
    assert session.state == State.FAILED
    assert "stale" in session.error and ".tf files" in session.error
    assert await _lock_holder(engine, project.id) is None
    assert {q.name: q.reserved for q in await engine.quota_usage(GUILD)}["compute.instances"] == 0


@pytest.fixture
def slow_terraform(tmp_path: Path) -> str:
    """A TERRAFORM_BIN that is the real binary, but whose apply starts with a long pause."""
    real = find_terraform().path
    script = tmp_path / "slow-terraform"
    script.write_text(f'#!/bin/sh\nif [ "$1" = "apply" ]; then sleep 60; fi\nexec "{real}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


async def test_cancel_mid_apply_fails_the_session_and_frees_the_lock(db, settings, clock, slow_terraform) -> None:
    settings = settings.model_copy(update={"terraform_bin": slow_terraform, "terraform_cancel_grace_s": 1.0})
    engine = CloudOrchestrator(db, settings, clock=clock)
    await engine.grant(GUILD, ADMIN, ADMIN, "CloudAdmin")
    project = await engine.create_project(GUILD, ADMIN, name="slow", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, VM)
    await engine.plan(session.id, ADMIN)
    await engine.approve(session.id, ADMIN)
    task = engine.start_apply(session.id, ADMIN)
    for _ in range(100):
        await asyncio.sleep(0.05)
        if (await engine.get_session(session.id)).state == State.APPLYING and engine.deployer._runners:
            break
    await asyncio.sleep(0.3)
    await engine.cancel(session.id, ADMIN)
    result = await asyncio.wait_for(task, timeout=20)
    assert result.state == State.FAILED and "cancelled" in result.error
    assert await _lock_holder(engine, project.id) is None
    assert await engine.project_resources(project.id) == []


async def test_restart_mid_apply_is_marked_honestly(engine, project, db, settings, clock) -> None:
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, VM)
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    # the process dies right after APPLYING was recorded: simulate by writing that state directly
    await db.execute("UPDATE deployment_sessions SET state = 'APPLYING' WHERE id = ?", (session.id,))
    restarted = CloudOrchestrator(db, settings, clock=clock)
    recovered = await restarted.recover_interrupted()
    assert [(s.id, s.state, s.error) for s in recovered] == [(session.id, State.FAILED, "interrupted by restart")]
    assert await _lock_holder(restarted, project.id) is None
    assert {q.name: q.reserved for q in await restarted.quota_usage(GUILD)}["compute.instances"] == 0


async def test_allow_world_admin_policy_reaches_the_generated_hcl(engine, project) -> None:
    from cloud_engine.core import FirewallRule, PolicySpec

    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="bastion", type="security", pattern="firewall/*/bastion",
                                                     params={"check": "allow_world_admin"}))
    ssh = ResourceSpec(kind="firewall", name="bastion", rules=[FirewallRule(ports=[22], sources=["0.0.0.0/0"])])
    session = await _deploy(engine, project.id, USER, ssh)
    assert session.state == State.APPLIED, session.error


async def test_an_apply_whose_commit_fails_stays_applied_with_a_warning(engine, project, settings) -> None:
    """Terraform has changed the cloud: a git failure afterwards must not make the engine forget it."""
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, VM)
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    lock = Path(settings.terraform_runs_dir) / str(project.id) / ".git" / "index.lock"
    lock.write_text("")  # another git process, or one that died holding the index
    session = await engine.apply(session.id, USER)
    assert session.state == State.APPLIED
    assert "not committed" in (session.error or "")
    assert {(r.kind, r.name) for r in await engine.project_resources(project.id)} == {("vm", "web-1")}
    assert await _lock_holder(engine, project.id) is None
    rows = await engine.audit(GUILD, ADMIN, action="session.apply_succeeded")
    assert rows and "not committed" in rows[0].detail.get("warning", "")
    lock.unlink()
    again = await engine.start_session(project.id, USER)
    await engine.add_resource(again.id, USER, BUCKET)
    again = await engine.plan(again.id, USER)
    assert again.plan_summary and again.plan_summary["destroy"] == 0, "the applied VM is still wanted"


async def test_restart_stops_terraform_a_dead_bot_left_running(engine, project, db, settings, clock) -> None:
    """Terraform runs in its own session, so it outlives a killed bot: recovery stops it before freeing the lock."""
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, VM)
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    await db.execute("UPDATE deployment_sessions SET state = 'APPLYING' WHERE id = ?", (session.id,))
    root = Path(settings.terraform_runs_dir) / str(project.id)
    orphan = await asyncio.create_subprocess_exec(  # a Terraform the dead bot started: waits for input forever
        find_terraform().path, "console", cwd=root, start_new_session=True,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    bystander = await asyncio.create_subprocess_exec(  # an operator's process in the root is not Terraform's
        "sleep", "60", cwd=root, start_new_session=True)
    try:
        restarted = CloudOrchestrator(db, settings, clock=clock)
        recovered = await restarted.recover_interrupted()
        assert [s.id for s in recovered] == [session.id]
        assert "was still running and was stopped" in (recovered[0].error or "")
        assert await asyncio.wait_for(orphan.wait(), 5) is not None
        assert bystander.returncode is None
        assert await _lock_holder(restarted, project.id) is None
    finally:
        for proc in (orphan, bystander):
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_a_cancel_between_phases_stops_the_apply_before_terraform_starts(engine, project, monkeypatch) -> None:
    """No child runs while the saved plan is checked; a cancel then must still stop the apply."""
    from cloud_engine.iac.runner import TerraformRunner

    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, VM)
    await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    checking, release = asyncio.Event(), asyncio.Event()
    real_check = TerraformRunner.check_fresh

    async def slow_check(self, *args, **kwargs):
        checking.set()
        await release.wait()
        return await real_check(self, *args, **kwargs)

    monkeypatch.setattr(TerraformRunner, "check_fresh", slow_check)
    task = engine.start_apply(session.id, USER)
    await checking.wait()
    cancelling = asyncio.create_task(engine.cancel(session.id, USER, reason="wrong project"))
    await asyncio.sleep(0.05)
    release.set()
    await cancelling
    ended = await task
    assert ended.state == State.FAILED and "cancelled" in (ended.error or "") and "wrong project" in ended.error
    assert await engine.project_resources(project.id) == []
    assert await _lock_holder(engine, project.id) is None
