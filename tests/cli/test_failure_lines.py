"""How each kind of failure becomes one line and an exit status (2 = bad input, 1 = it failed)."""

from __future__ import annotations

import errno

from cloud_engine.cli.failures import describe
from cloud_engine.errors import InvalidInput, NotFound, TerraformError


def test_terraform_diagnostics_become_one_line_and_a_failure() -> None:
    line, status = describe(TerraformError(phase="plan", detail="Error: bad\n\n  on main.tf line 3:\n"))
    assert (line, status) == ("Terraform plan failed: Error: bad on main.tf line 3:", 1)


def test_wrong_requests_are_bad_input() -> None:
    assert describe(InvalidInput(field="region", rule="not a gcp region"))[1] == 2
    assert describe(NotFound(what="project", key="web"))[1] == 2


def test_a_missing_path_is_bad_input_and_a_full_disk_a_failure() -> None:
    assert describe(FileNotFoundError(errno.ENOENT, "No such file or directory", "/no/x")) == (
        "cannot use /no/x: No such file or directory", 2)
    assert describe(OSError(errno.ENOSPC, "No space left on device", "/data/cloud.db"))[1] == 1


def test_anything_else_is_named_and_points_at_verbose() -> None:
    line, status = describe(KeyError("boom"))
    assert status == 1 and line.startswith("unexpected KeyError") and "--verbose" in line
