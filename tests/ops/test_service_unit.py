"""deploy/cloud-engine.service parses: systemd's own verifier where present, else the keys it must have."""

from __future__ import annotations

import configparser
import getpass
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "cloud-engine.service"


def parsed() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_has_what_running_the_bot_needs() -> None:
    unit = parsed()
    service = unit["Service"]
    assert service["ExecStart"].endswith("main.py run")
    assert service["ExecStartPre"].endswith("main.py db migrate")
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 120  # above the default SHUTDOWN_GRACE_S
    assert service["RestartPreventExitStatus"] == "2"  # a bad setting is not retried forever
    assert service["UMask"] == "0077"
    assert "network-online.target" in unit["Unit"]["After"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_verifies_the_unit(tmp_path: Path) -> None:
    user = getpass.getuser()
    text = UNIT.read_text().replace("/opt/cloud-engine", str(REPO))
    text = text.replace("User=cloud-engine", f"User={user}").replace("Group=cloud-engine", f"Group={user}")
    local = tmp_path / "cloud-engine.service"
    local.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert str(local) not in result.stderr, result.stderr  # no warning about a line of the unit
