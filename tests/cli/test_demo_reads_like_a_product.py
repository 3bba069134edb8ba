"""`make demo`'s output is for people: aligned tables, sentences, no Python reprs, one CO2e sign."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import CliRunner


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    import shutil
    import subprocess
    import sys

    from tests.cli.conftest import MAIN, REPO, clean_env

    folder = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / ".env.sample", folder / ".env")
    result = subprocess.run([sys.executable, str(MAIN), "demo", "--dir", str(folder / "data")], cwd=folder,
                            env=clean_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # quiet: no log lines around the story
    return result.stdout


def test_no_python_reprs(demo_output: str) -> None:
    assert not re.search(r"\{'|': |\[\{|None\b|True\b|False\b", demo_output)


def test_shows_the_question_terraform_and_its_log(demo_output: str, tmp_path: Path) -> None:
    assert 'Question: "Customer-facing web app' in demo_output
    assert "Terraform says (on the sandbox's null-resource mirror): Plan: " in demo_output
    assert "Apply complete! Resources:" in demo_output
    logs = re.findall(r"Terraform's full (?:plan|apply) log: (\S+)", demo_output)
    assert len(logs) == 4 and all(Path(log).is_file() for log in logs)


def test_recommendations_are_whole_sentences_with_one_co2e_sign(demo_output: str) -> None:
    section = demo_output.split("== Top recommendations", 1)[1]
    actions = [line.strip() for line in section.splitlines() if line.startswith("     ")]
    assert len(actions) == 8 and all(a.endswith(".") for a in actions)
    assert re.search(r"CO2e -\d[\d,]*\.\d kg/month in total", section)
    for amount in re.findall(r"CO2e ([+-]?)\d", section):
        assert amount in "+-" and amount != ""


def test_tables_are_aligned(demo_output: str) -> None:
    block = demo_output.split("Quota reserved for it", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert block[0].split() == ["Quota", "Reserved"]
    assert len({len(line) for line in block}) == 1  # right-aligned numbers end in one column


def test_run_needs_no_extra_setup(cli: CliRunner) -> None:
    """`demo --help` works from any folder holding the copied sample (the README's path)."""
    assert cli("demo", "--help").returncode == 0


def test_shows_drift_reconciled_and_signed_notifications(demo_output: str) -> None:
    section = demo_output.split("== Team:", 1)[1].split("\n== ", 1)[0]
    assert "Drift check: report #1, vm/web-1: create." in section
    assert "1 of 2 approvals (two-admins-for-vms): user 1001; the lobby waits." in section
    assert "approved by users 1001 and 3003, then APPLIED; the next drift check is clean." in section
    received = section.split("The webhook received:", 1)[1].strip().splitlines()
    assert [line.split(":", 1)[0].strip() for line in received] == ["drift_found", "approval_needed",
                                                                    "apply_succeeded"]
    assert all(line.endswith("(signature verified)") for line in received)


def test_every_plan_shows_its_security_scan(demo_output: str) -> None:
    from cloud_engine.iac.scan import find_checkov

    wanted = "Security scan of the GCP configuration (Checkov " if find_checkov() else "Not scanned: checkov is not"
    assert demo_output.count(wanted) == 2  # the two plans the demo prints
