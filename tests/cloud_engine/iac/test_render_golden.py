"""Golden files: one case with all six kinds per provider (and the sandbox), compared after fmt.

Regenerate with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/cloud_engine/iac/test_render_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import hcl2
import pytest

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import TerraformError
from cloud_engine.iac import render, render_formatted, terraform_fmt

TESTDATA = Path(__file__).parent / "testdata"
CASES = ["gcp", "aws", "azure", "sandbox"]


def load_case(name: str) -> dict[str, Any]:
    doc = json.loads((TESTDATA / name / "input.json").read_text("utf-8"))
    doc["resources"] = [ResourceSpec.model_validate(r) for r in doc["resources"]]
    return doc


def render_case(doc: dict[str, Any]) -> dict[str, str]:
    return render(doc["provider"], doc["resources"], project_name=doc["project_name"], region=doc["region"],
                  backend=doc["backend"], shape=doc["shape"])


@pytest.mark.parametrize("name", CASES)
async def test_golden_files_match_after_terraform_fmt(name: str) -> None:
    doc = load_case(name)
    files = await render_formatted(doc["provider"], doc["resources"], project_name=doc["project_name"],
                                   region=doc["region"], backend=doc["backend"], shape=doc["shape"])
    expected_dir = TESTDATA / name / "expected"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_dir.mkdir(parents=True, exist_ok=True)
        for old in expected_dir.glob("*.tf"):
            old.unlink()
        for file_name, text in files.items():
            (expected_dir / file_name).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text("utf-8") for p in sorted(expected_dir.glob("*.tf"))}
    assert sorted(files) == sorted(expected)
    for file_name, text in files.items():
        assert text == expected[file_name], f"{name}/{file_name} differs from its golden file"


@pytest.mark.parametrize("name", CASES)
async def test_writer_output_is_already_fmt_canonical(name: str) -> None:
    doc = load_case(name)
    raw = render_case(doc)
    formatted = await render_formatted(doc["provider"], doc["resources"], project_name=doc["project_name"],
                                       region=doc["region"], backend=doc["backend"], shape=doc["shape"])
    assert raw == formatted


def test_provider_files_are_complete() -> None:
    for name, provider_source in (("gcp", "hashicorp/google"), ("aws", "hashicorp/aws"), ("azure", "hashicorp/azurerm")):
        files = render_case(load_case(name))
        assert {"versions.tf", "providers.tf", "variables.tf", "main.tf", "outputs.tf", "backend.tf"} <= set(files)
        versions = hcl2.loads(files["versions.tf"])["terraform"][0]
        assert versions["required_version"] == '">= 1.0.0"'
        provider_key = {"gcp": "google", "aws": "aws", "azure": "azurerm"}[name]
        assert versions["required_providers"][0][provider_key]["source"] == f'"{provider_source}"'


def test_azure_provider_has_features_block_and_resource_group() -> None:
    files = render_case(load_case("azure"))
    provider = hcl2.loads(files["providers.tf"])["provider"][0]['"azurerm"']
    assert provider["features"] == [{"__is_block__": True}]
    main = hcl2.loads(files["main.tf"])
    groups = [r['"azurerm_resource_group"'] for r in main["resource"] if '"azurerm_resource_group"' in r]
    assert groups[0]['"main"']["name"] == '"rg-shop"'


def test_local_or_missing_backend_writes_no_backend_file() -> None:
    doc = load_case("gcp")
    for backend in (None, {"type": "local"}):
        files = render("gcp", doc["resources"], project_name="shop", backend=backend)
        assert "backend.tf" not in files


async def test_terraform_fmt_failure_raises_with_stderr() -> None:
    with pytest.raises(TerraformError) as exc:
        await terraform_fmt({"ok.tf": "a = 1\n", "bad.tf": "a = \n"})
    assert exc.value.phase == "fmt"
    assert "bad.tf" in exc.value.detail and "Invalid expression" in exc.value.detail


@pytest.mark.parametrize("background", [False, True])
async def test_terraform_fmt_child_gets_no_bot_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       background: bool) -> None:
    """fmt needs no credentials; beside a plan it also runs on one core without Go's GC."""
    monkeypatch.setenv("DISCORD_TOKEN", "do-not-leak")
    monkeypatch.setenv("GROQ_API_KEY", "gsk_do_not_leak")
    seen = tmp_path / "env.txt"
    fake = tmp_path / "terraform"
    fake.write_text(f"#!/bin/sh\nenv > {seen}\n")
    fake.chmod(0o755)
    assert await terraform_fmt({"main.tf": "a = 1\n"}, terraform_bin=str(fake), background=background) == {
        "main.tf": "a = 1\n"}
    env = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert "DISCORD_TOKEN" not in env and "GROQ_API_KEY" not in env
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert (env.get("GOMAXPROCS"), env.get("GOGC")) == (("1", "off") if background else (None, None))


async def test_a_cancelled_fmt_leaves_no_process_behind(tmp_path: Path) -> None:
    """fmt runs beside the plan; when the plan fails first, its task is cancelled and the child must go too."""
    import asyncio

    pid_file = tmp_path / "pid"
    fake = tmp_path / "terraform"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    fake.chmod(0o755)
    task = asyncio.create_task(terraform_fmt({"main.tf": "a = 1\n"}, terraform_bin=str(fake)))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.02)
    pid = int(pid_file.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await asyncio.to_thread(os.path.exists, f"/proc/{pid}"), "the fmt child was killed and reaped"
