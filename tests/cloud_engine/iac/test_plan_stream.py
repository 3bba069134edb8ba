"""Reading `terraform plan -json` as it streams: what people see and what the engine learns.

The lifecycle test runs the real binary; the unit tests feed messages in the JSON UI
format (captured from Terraform 1.0.3) to cover what a healthy sandbox run never prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud_engine.iac.binary import find_terraform, plugin_dir
from cloud_engine.iac.plan_stream import PlanStreamReader
from cloud_engine.iac.run_results import PhaseTimeouts
from cloud_engine.iac.runner import TerraformRunner

TWO = """
resource "null_resource" "web" {
  triggers = { size = "small" }
}
resource "null_resource" "db" {
  triggers = { engine = "postgres" }
}
"""


def ui(kind: str, message: str, **fields: object) -> str:
    return json.dumps({"@level": "info", "@message": message, "@module": "terraform.ui", "type": kind, **fields})


def planned(addr: str, action: str) -> str:
    rtype, name = addr.split(".")
    resource = {"addr": addr, "module": "", "resource": addr, "resource_type": rtype, "resource_name": name}
    return ui("planned_change", f"{addr}: Plan to {action}", change={"resource": resource, "action": action})


def summary(add: int, change: int, remove: int) -> str:
    return ui("change_summary", f"Plan: {add} to add, {change} to change, {remove} to destroy.",
              changes={"add": add, "change": change, "remove": remove, "operation": "plan"})


@pytest.fixture
def runner(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> TerraformRunner:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(TWO)
    return TerraformRunner(root, binary=find_terraform(), plugin_dir=plugin_dir(tmp_path_factory.mktemp("tfcache")),
                           timeouts=PhaseTimeouts(plan_s=60, apply_s=60, other_s=60, cancel_grace_s=2))


async def test_streamed_plan_describes_creates_deletes_and_still_reads_back_edits(runner: TerraformRunner) -> None:
    await runner.init()
    created = await runner.plan(read_back="when_needed")
    assert sorted((c.address, c.action, c.actions) for c in created.result.changes) == [
        ("null_resource.db", "create", ["create"]), ("null_resource.web", "create", ["create"])]
    assert created.result.terraform_version, "the version message is read"
    assert any(line.startswith("Plan: 2 to add") for line in created.log)
    assert not any(line.startswith("{") for line in created.log), "people see text, never the JSON stream"
    await runner.apply(created.path)

    (runner.workdir / "main.tf").write_text(TWO.replace('"small"', '"large"'))
    edited = await runner.plan(read_back="when_needed")
    web = next(c for c in edited.result.changes if c.address == "null_resource.web")
    assert web.action == "replace" and web.replace_paths == ["triggers"], "a replace is read back for its detail"

    (runner.workdir / "main.tf").write_text("")
    destroyed = await runner.plan(read_back="when_needed")
    assert sorted((c.address, c.action) for c in destroyed.result.changes) == [
        ("null_resource.db", "delete"), ("null_resource.web", "delete")]


async def test_a_broken_configuration_reads_like_terraform_not_json(runner: TerraformRunner) -> None:
    (runner.workdir / "main.tf").write_text('resource "null_resource" "x" {\n  nonsense = 1\n}\n')
    await runner.init()
    with pytest.raises(Exception) as failure:
        await runner.plan(read_back="when_needed")
    detail = str(failure.value)
    assert "Error: Unsupported argument" in detail and "main.tf line 2" in detail
    assert "{" not in detail.split("Error:", 1)[1].splitlines()[0]


def test_diagnostics_show_summary_position_and_detail() -> None:
    reader = PlanStreamReader()
    shown = reader(ui("diagnostic", "Error: Invalid reference", diagnostic={
        "severity": "error", "summary": "Invalid reference", "detail": "A reference must name a resource.\nSee docs.",
        "range": {"filename": "main.tf", "start": {"line": 7, "column": 3}}}))
    assert list(shown) == ["Error: Invalid reference", "  on main.tf line 7", "A reference must name a resource.",
                           "See docs."]


def test_lines_that_are_not_ui_messages_pass_through() -> None:
    reader = PlanStreamReader()
    assert list(reader("panic: runtime error")) == ["panic: runtime error"]
    assert list(reader("{not json")) == ["{not json"]


def test_creates_and_deletes_alone_need_no_read_back() -> None:
    reader = PlanStreamReader()
    for line in (ui("version", "Terraform 1.0.3", terraform="1.0.3"), planned("null_resource.a", "create"),
                 planned("null_resource.b", "delete"), summary(1, 0, 1)):
        reader(line)
    assert not reader.needs_detail
    result = reader.result()
    assert (result.add, result.destroy, result.terraform_version) == (1, 1, "1.0.3")


@pytest.mark.parametrize("lines", [
    [planned("null_resource.a", "update"), summary(0, 1, 0)],
    [planned("null_resource.a", "replace"), summary(1, 0, 1)],
    [planned("null_resource.a", "move"), summary(0, 0, 0)],  # an action this reader does not know
    [planned("null_resource.a", "create"), summary(2, 0, 0)],  # the summary counts a change we did not see
    [planned("null_resource.a", "create")],  # no summary at all: the stream was cut short
])
def test_anything_the_stream_cannot_describe_asks_for_the_plan_file(lines: list[str]) -> None:
    reader = PlanStreamReader()
    for line in lines:
        reader(line)
    assert reader.needs_detail
    with pytest.raises(ValueError):
        reader.result()
