"""Run the real CLI as a user does: `python main.py ...` in a folder holding a copy of `.env.sample`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAIN = REPO / "main.py"
CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any Cloud Engine or cloud setting, plus `extra`."""
    names = {line.split("=", 1)[0] for line in (REPO / ".env.sample").read_text().splitlines()
             if "=" in line and not line.startswith("#")}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh folder with `.env` copied, unedited, from `.env.sample` (the README's first step)."""
    shutil.copy(REPO / ".env.sample", tmp_path / ".env")
    return tmp_path


@pytest.fixture
def cli(workdir: Path) -> CliRunner:
    def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(MAIN), *args], cwd=workdir, env=clean_env(**env),
                              capture_output=True, text=True, timeout=timeout)

    return run


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The failure's single stderr line; fails the test on a traceback or on extra output."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]
