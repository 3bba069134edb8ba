"""The one way the scanner tests find Checkov: skipped locally without it, a failure in CI (`make test` installs it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloud_engine.iac.scan import find_checkov


def require_checkov() -> Path:
    found = find_checkov()
    if found is None:
        message = "checkov is not installed: run `make checkov` (it creates .venv-checkov) or set CHECKOV_BIN"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found
