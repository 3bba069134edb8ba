"""`terraform fmt` on generated files, run by the real binary over a private temp dir.

Why the binary and not our own formatter: fmt's layout is the canonical one users see in
every other Terraform repository, and golden files are compared after it.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cloud_engine.errors import TerraformError
from cloud_engine.iac.background import background_argv
from cloud_engine.iac.binary import find_terraform, terraform_env
from cloud_engine.private_files import CHILD_UMASK, write_private_text

__all__ = ["FMT_TIMEOUT_S", "terraform_fmt"]

FMT_TIMEOUT_S = 30.0


async def terraform_fmt(files: Mapping[str, str], *, terraform_bin: str | None = None,
                        background: bool = False) -> dict[str, str]:
    """Format every file with one `terraform fmt` over a private temp dir.

    One process for all files rather than one per file: on a 2-core machine a process per
    file cost more than the plan itself. `background` runs it at a low CPU priority, for
    when it runs beside a plan (see background.py), on one core and without Go's garbage
    collector: the process lives ~40 ms and allocates a few MB, and on 2 cores its parallel
    start-up competed with the plan (50 ms of CPU instead of 34). Raises
    TerraformError(phase="fmt") with stderr.
    """
    if not files:
        return {}
    binary = find_terraform(terraform_bin)
    names = list(files)
    with tempfile.TemporaryDirectory(prefix="ce-fmt-") as tmp:
        folder = Path(tmp)
        await asyncio.to_thread(_write_all, folder, files)
        env = terraform_env()
        if background:
            env.update(GOMAXPROCS="1", GOGC="off")
        argv = [binary.path, "fmt", "-no-color", "-list=false", str(folder)]
        proc = await asyncio.create_subprocess_exec(
            *(background_argv(argv) if background else argv),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            umask=CHILD_UMASK,
        )
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), FMT_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise TerraformError(phase="fmt", detail=f"timed out after {FMT_TIMEOUT_S:.0f}s") from None
        except asyncio.CancelledError:  # e.g. the plan it ran beside failed: no fmt left behind
            if proc.returncode is None:
                proc.kill()
                await asyncio.shield(proc.wait())
            raise
        if proc.returncode != 0:
            detail = stderr.decode("utf-8", errors="replace").replace(tmp + "/", "").strip()
            raise TerraformError(phase="fmt", detail=detail or f"exit status {proc.returncode}")
        return await asyncio.to_thread(_read_all, folder, names)


def _fmt_name(name: str) -> str:
    """terraform fmt only formats *.tf / *.tfvars; other managed names are formatted under a .tf alias."""
    return name if name.endswith((".tf", ".tfvars")) else f"{name}.tf"


def _write_all(folder: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        write_private_text(folder / _fmt_name(name), text)  # generated files can hold secrets in variables


def _read_all(folder: Path, names: list[str]) -> dict[str, str]:
    return {name: (folder / _fmt_name(name)).read_text(encoding="utf-8") for name in names}
