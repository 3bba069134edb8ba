"""`terraform fmt -` on generated files, through stdin/stdout of the real binary.

Why the binary and not our own formatter: fmt's layout is the canonical one users see in
every other Terraform repository, and golden files are compared after it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from cloud_engine.errors import TerraformError
from cloud_engine.iac.binary import find_terraform

__all__ = ["FMT_TIMEOUT_S", "terraform_fmt"]

FMT_TIMEOUT_S = 30.0


async def terraform_fmt(files: Mapping[str, str], *, terraform_bin: str | None = None) -> dict[str, str]:
    """Format every file with `terraform fmt -`; raise TerraformError(phase="fmt") with stderr on failure."""
    binary = find_terraform(terraform_bin)
    names = list(files)
    texts = await asyncio.gather(*(_fmt_one(binary.path, name, files[name]) for name in names))
    return dict(zip(names, texts, strict=True))


async def _fmt_one(binary: str, name: str, text: str) -> str:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    proc = await asyncio.create_subprocess_exec(
        binary, "fmt", "-no-color", "-",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(text.encode("utf-8")), FMT_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TerraformError(phase="fmt", detail=f"{name}: timed out after {FMT_TIMEOUT_S:.0f}s") from None
    if proc.returncode != 0:
        detail = stderr.decode("utf-8", errors="replace").strip() or f"exit status {proc.returncode}"
        raise TerraformError(phase="fmt", detail=f"{name}: {detail}")
    return stdout.decode("utf-8")
