"""Drift found with the real Terraform binary: state changed out of band, then reconciled or dismissed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.core.models import State
from cloud_engine.errors import IllegalTransition, PermissionDenied
from cloud_engine.iac.binary import find_terraform, terraform_env
from cloud_engine.notify import NotificationService, NotifyEvent
from tests.conftest import ADMIN, GUILD, USER, VIEWER


async def _applied(engine: CloudOrchestrator, name: str = "web") -> int:
    project = await engine.create_project(GUILD, ADMIN, name=name, provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, ADMIN)
    for vm in ("api-1", "api-2"):
        await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name=vm, machine_type="e2-small"))
    await engine.plan(session.id, ADMIN)
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, ADMIN)).state == State.APPLIED
    return project.id


def _forget_out_of_band(root: Path, resource: str) -> None:
    """What someone with a shell does: `terraform state rm` of one user resource's mirror."""
    state = json.loads((root / "terraform.tfstate").read_text())
    addresses = [f"null_resource.{r['name']}" for r in state["resources"]
                 if r["name"] == resource or r["name"].startswith(f"{resource}__")]
    assert addresses
    binary = find_terraform(None)
    subprocess.run([str(binary.path), "state", "rm", *addresses], cwd=root, env=terraform_env(), check=True,
                   capture_output=True)


async def test_state_changed_out_of_band_is_found_once_and_reconciled(engine: CloudOrchestrator, settings) -> None:
    project_id = await _applied(engine)
    first = await engine.drift.check(GUILD, USER, "web")
    assert first.outcome == "clean" and first.report is None

    _forget_out_of_band(Path(settings.terraform_runs_dir) / str(project_id), "vm__api-2")
    found = await engine.drift.check(GUILD, USER, "web")
    assert found.outcome == "drifted" and found.new and found.report is not None
    assert [(c.resource, c.action) for c in found.report.changes] == [("vm/api-2", "create")]
    again = await engine.drift.check_project(await engine.get_project(project_id))
    assert again.outcome == "drifted" and not again.new and again.report.id == found.report.id  # told once

    session = await engine.drift.reconcile(GUILD, USER, found.report.id)
    assert session.purpose == f"reconcile drift #{found.report.id}"
    planned = await engine.plan(session.id, USER)
    assert planned.state == State.PLAN_READY
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, USER)).state == State.APPLIED
    after = await engine.drift.check(GUILD, USER, "web")
    assert after.outcome == "clean"
    closed = await engine.drift.get(GUILD, found.report.id)
    assert closed.status == "resolved" and closed.closed_reason == "a later check found no drift"
    actions = [r["action"] for r in await engine.db.fetchall("SELECT action FROM audit_log WHERE action LIKE 'drift.%'"
                                                             " ORDER BY id")]
    assert actions == ["drift.found", "drift.reconcile", "drift.resolved"]


async def test_a_dismissed_drift_needs_an_admin_and_a_reason(engine: CloudOrchestrator, settings) -> None:
    project_id = await _applied(engine)
    _forget_out_of_band(Path(settings.terraform_runs_dir) / str(project_id), "vm__api-1")
    found = (await engine.drift.check(GUILD, ADMIN, "web")).report
    assert found is not None
    with pytest.raises(PermissionDenied):
        await engine.drift.dismiss(GUILD, USER, found.id, "resized on purpose")
    done = await engine.drift.dismiss(GUILD, ADMIN, found.id, "removed from state on purpose")
    assert (done.status, done.closed_by, done.closed_reason) == ("dismissed", ADMIN, "removed from state on purpose")
    with pytest.raises(IllegalTransition):
        await engine.drift.reconcile(GUILD, ADMIN, found.id)


async def test_a_project_holding_a_plan_is_not_touched(engine: CloudOrchestrator) -> None:
    project_id = await _applied(engine)
    session = await engine.start_session(project_id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="api-3", machine_type="e2-small"))
    await engine.plan(session.id, ADMIN)
    assert (await engine.drift.check(GUILD, ADMIN, "web")).outcome == "busy"
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, ADMIN)).state == State.APPLIED  # its saved plan is still fresh


async def test_viewers_may_not_run_a_check_and_empty_projects_have_nothing_to_drift(engine: CloudOrchestrator) -> None:
    await engine.create_project(GUILD, ADMIN, name="empty", provider="gcp", region="us-central1")
    with pytest.raises(PermissionDenied):
        await engine.drift.check(GUILD, VIEWER, "empty")
    assert (await engine.drift.check(GUILD, USER, "empty")).outcome == "nothing_applied"
    assert await engine.drift.check_all() == []


async def test_subscribers_hear_of_drift(engine: CloudOrchestrator, settings, db, clock) -> None:
    notes = NotificationService(db, settings, engine.access, clock)
    posted: list[tuple[str, object]] = []

    async def send(channel_id: int, text: str, notice: object = None) -> None:
        posted.append((text, notice))

    await notes.subscribe_channel(GUILD, ADMIN, 7, events=(NotifyEvent.DRIFT_FOUND,))
    project_id = await _applied(engine)
    _forget_out_of_band(Path(settings.terraform_runs_dir) / str(project_id), "vm__api-1")
    [checked] = await engine.drift.check_all()
    await notes.run_once(send)
    [(text, notice)] = posted
    assert text == (f"🔔 Drift in project web: 1 resource(s) no longer match what was applied (vm/api-1: create). "
                    f"Reconcile or dismiss drift report #{checked.report.id}.")
    assert notice["drift_report_id"] == checked.report.id  # the bot adds the buttons from it
