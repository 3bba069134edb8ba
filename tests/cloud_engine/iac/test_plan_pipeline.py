"""The deployer's plan pipeline: fmt and the shown provider HCL run beside the plan.

What must hold whatever runs concurrently: the files committed are exactly the files
planned (so the plan is never stale on arrival), and a render error anywhere fails the
plan instead of leaving half a root.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec, State
from cloud_engine.iac import terraform_deployer as deployer_module
from cloud_engine.iac.background import BACKGROUND_NICE, background_argv, in_background_thread
from tests.conftest import ADMIN, GUILD, USER

BUCKET = ResourceSpec(kind="bucket", name="assets")


@pytest.fixture
async def project(engine: CloudOrchestrator):
    return await engine.create_project(GUILD, USER, name="pipe", provider="gcp", region="us-central1")


async def test_when_fmt_rewrites_generated_files_the_formatted_files_are_planned_and_applied(
        engine: CloudOrchestrator, project, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    real = deployer_module.TerraformDeployer._render_planned

    def badly_laid_out(self, *args, **kwargs):  # simulate a writer whose layout fmt disagrees with
        return {name: text.replace("  triggers = {", "  triggers    =    {") for name, text in
                real(self, *args, **kwargs).items()}

    monkeypatch.setattr(deployer_module.TerraformDeployer, "_render_planned", badly_laid_out)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, BUCKET)
    session = await engine.plan(session.id, USER)
    assert session.state == State.PLAN_READY, session.error
    root = Path(settings.terraform_runs_dir) / str(project.id)
    assert "triggers    =" not in (root / "main.tf").read_text(), "the root holds fmt's layout"
    await engine.approve(session.id, ADMIN)
    applied = await engine.apply(session.id, USER)
    assert applied.state == State.APPLIED, f"the plan of the formatted files is not stale: {applied.error}"


async def test_a_render_error_in_the_shown_provider_hcl_fails_the_plan(
        engine: CloudOrchestrator, project, monkeypatch: pytest.MonkeyPatch) -> None:
    from cloud_engine.errors import TerraformError

    def broken(provider: str, *args, **kwargs):
        if provider != "sandbox":
            raise TerraformError(phase="render", detail="main.tf does not parse")
        return real_render(provider, *args, **kwargs)

    real_render = deployer_module.render
    monkeypatch.setattr(deployer_module, "render", broken)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, BUCKET)
    session = await engine.plan(session.id, USER)
    assert session.state == State.FAILED and "does not parse" in (session.error or "")


async def test_the_shown_provider_hcl_is_rendered_only_once_terraform_plan_is_running(
        engine: CloudOrchestrator, project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering it earlier held the GIL while the plan was being started, delaying the plan."""
    running_plans: list[list[int | None]] = []

    def watching(provider: str, *args, **kwargs):
        if provider != "sandbox":
            running_plans.append([runner.current_pid for runner in engine.deployer._runners.values()])
        return real_render(provider, *args, **kwargs)

    real_render = deployer_module.render
    monkeypatch.setattr(deployer_module, "render", watching)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, BUCKET)
    session = await engine.plan(session.id, USER)
    assert session.state == State.PLAN_READY, session.error
    assert len(running_plans) == 1 and len(running_plans[0]) == 1 and running_plans[0][0] is not None
    assert "google_storage_bucket" in (Path(engine.settings.terraform_runs_dir) / str(project.id)
                                       / "gcp.main.hcl").read_text()


async def test_background_thread_returns_results_and_raises_errors_at_low_priority() -> None:
    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert await in_background_thread(priority) >= min(BACKGROUND_NICE, 19)
    with pytest.raises(ZeroDivisionError):
        await in_background_thread(lambda: 1 / 0)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < BACKGROUND_NICE, "the caller is untouched"


def test_background_commands_run_through_nice() -> None:
    assert background_argv(["terraform", "fmt"])[-2:] == ["terraform", "fmt"]
    assert background_argv(["terraform", "fmt"])[1:3] == ["-n", str(BACKGROUND_NICE)]
