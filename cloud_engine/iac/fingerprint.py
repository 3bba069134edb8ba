"""The stale-plan guard: what a saved plan was computed from, and reading it again now.

Why: apply only ever applies a saved plan, and only if nothing it was computed from (the
.tf files, the state, the plan file itself) has changed since; the approver approved
*that* plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from cloud_engine.errors import TerraformError

__all__ = ["PlanFingerprint", "config_digest", "file_sha256", "fingerprint_path", "read_local_state"]


_CONFIG_PATTERNS = ("*.tf", "*.tf.json", "*.tfvars", "*.tfvars.json")


class PlanFingerprint(BaseModel):
    """What a saved plan was computed from; any difference at apply time makes it stale.

    Serialisable (`model_dump_json`) so the engine can keep it with the deployment row;
    the runner also writes it next to the plan file.
    """

    model_config = ConfigDict(frozen=True)

    config_sha256: str
    state_serial: int | None
    state_lineage: str | None
    plan_sha256: str

    def stale_reason(self, current: PlanFingerprint) -> str | None:
        """Why a plan with this fingerprint may not be applied now, or None if it may."""
        if current.plan_sha256 != self.plan_sha256:
            return "the plan file changed since it was made"
        if current.config_sha256 != self.config_sha256:
            return "the configuration (.tf files) changed since the plan"
        if (current.state_lineage, current.state_serial) != (self.state_lineage, self.state_serial):
            return f"the state changed since the plan (serial {self.state_serial} -> {current.state_serial})"
        return None


async def config_digest(root: Path) -> str:
    """sha256 over the names and contents of the root's Terraform configuration files."""
    return await asyncio.to_thread(_config_digest_sync, root)


def _config_digest_sync(root: Path) -> str:
    digest = hashlib.sha256()
    files = sorted({p for pattern in _CONFIG_PATTERNS for p in root.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


async def file_sha256(path: Path) -> str:
    def digest() -> str:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    return await asyncio.to_thread(digest)


def read_local_state(root: Path) -> dict[str, Any]:
    """The local backend's state for the selected workspace; `{}` when there is none yet.

    An empty file counts as none, as it does for Terraform: the first apply creates
    `terraform.tfstate` with 0 bytes before writing it, and a Terraform killed in between
    left a file that, rejected here, failed every later plan and apply. (Whitespace-only
    counts as none here too; Terraform itself refuses that one with its own error.)
    """
    workspace = "default"
    with contextlib.suppress(OSError):
        workspace = (root / ".terraform" / "environment").read_text(encoding="utf-8").strip() or "default"
    path = (
        root / "terraform.tfstate"
        if workspace == "default"
        else root / "terraform.tfstate.d" / workspace / "terraform.tfstate"
    )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise TerraformError(phase="state", detail=f"{path.name} is not valid JSON ({exc})") from None
    return data if isinstance(data, dict) else {}


def fingerprint_path(plan_path: Path) -> Path:
    return plan_path.with_name(plan_path.name + ".fingerprint.json")

