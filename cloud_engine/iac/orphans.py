"""Terraform processes left running in project roots by a bot that died without stopping them.

Why: the runner starts each Terraform child in its own session, so a crash or SIGKILL of
the bot does not take the child with it. An orphaned apply keeps changing the cloud, then
dies on its first write to the dead pipe, possibly mid-way through writing the state.
Restart recovery must not free the project's lock while such a process still runs, so it
first stops them the way a cancel does: SIGINT (Terraform stops cleanly and saves state),
then SIGTERM, then SIGKILL.

Found through /proc (Linux): a process whose working directory is under the runs
directory and whose executable is terraform, tofu or a provider plugin. Anything else
there (an operator's shell, an editor) is left alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Orphan", "find_orphans", "stop_orphans"]

log = logging.getLogger(__name__)
_PROC = Path("/proc")
_EXECUTABLES = ("terraform", "tofu")  # terraform-provider-*, tofu and terraform themselves


@dataclass(frozen=True)
class Orphan:
    pid: int
    root: Path  # the directory it runs in
    project_dir: str  # its first component under the runs directory (a project root's name), or ""
    executable: str


def find_orphans(runs_dir: Path) -> list[Orphan]:
    """Terraform-family processes (other than this one) working under `runs_dir` (blocking)."""
    runs = runs_dir.resolve()
    found: list[Orphan] = []
    if not _PROC.is_dir():
        return found
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            exe = Path(os.readlink(entry / "exe")).name.removesuffix(" (deleted)")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if exe.startswith(_EXECUTABLES) and (cwd == runs or runs in cwd.parents):
            parts = cwd.relative_to(runs).parts
            found.append(Orphan(pid=int(entry.name), root=cwd, project_dir=parts[0] if parts else "", executable=exe))
    return found


async def stop_orphans(runs_dir: Path, *, grace_s: float = 10.0, only: set[str] | None = None,
                       rounds: int = 5) -> list[Orphan]:
    """Stop every orphan under `runs_dir` (or under the project dirs in `only`); returns what was found.

    Scans again after each round and returns only once a scan finds none (or after
    `rounds`): a Terraform process can start another (1.0's panicwrap child, a provider
    plugin) between the scan and the signal, and a survivor would hold the state lock
    that the next plan then fails to acquire.
    """
    found: list[Orphan] = []
    for _ in range(rounds):
        orphans = [o for o in await asyncio.to_thread(find_orphans, runs_dir) if only is None or o.project_dir in only]
        if not orphans:
            break
        found += orphans
        await _stop(orphans, grace_s)
    return found


async def _stop(orphans: list[Orphan], grace_s: float) -> None:
    log.warning("stopping Terraform processes left by a previous run",
                extra={"pids": [o.pid for o in orphans], "roots": sorted({str(o.root) for o in orphans})})
    # Terraform itself first: on SIGINT it stops its providers and writes what it applied.
    steps = ((signal.SIGINT, [o for o in orphans if not o.executable.startswith("terraform-provider")]),
             (signal.SIGTERM, orphans), (signal.SIGKILL, orphans))
    for sig, targets in steps:
        for orphan in targets:
            _signal(orphan.pid, sig)
        if await _all_gone(orphans, grace_s if sig != signal.SIGKILL else 5.0):
            break


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def _all_gone(orphans: list[Orphan], within_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        if not any(_alive(o.pid) for o in orphans):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper counts as gone: it can do nothing more)."""
    try:
        with open(_PROC / str(pid) / "stat", encoding="utf-8") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
