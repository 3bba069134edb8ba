"""A bot process that kills itself (SIGKILL) at one chosen moment of a plan or apply.

Run by test_state_truth.py as a separate process on the test's database and runs
directory: `python crash_child.py DB RUNS FINOPS SESSION USER PHASE POINT`. Nothing in the
engine knows about it: the moment is chosen by wrapping the engine's own functions, so
what recovery then meets is exactly what a real crash leaves behind.

Points:
- during_plan / during_apply: shortly after Terraform's plan or apply process started;
  that process lives on as an orphan (it runs in its own session).
- after_terraform_apply: `terraform apply` returned, before the project root's commit.
- before_db_write: committed, before the success is written to the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_once_spawned(method: Any) -> Any:
    async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        task = asyncio.ensure_future(method(self, *args, **kwargs))
        while self.current_pid is None and not task.done():  # noqa: ASYNC110 - polls another object's state
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.05)
        _die()
        return await task

    return wrapped


async def main(db_path: str, runs: str, finops: str, session_id: int, user_id: int, phase: str, point: str) -> None:
    from cloud_engine.core import CloudOrchestrator
    from cloud_engine.core.state_machine import Event
    from cloud_engine.iac.runner import TerraformRunner
    from cloud_engine.iac.workspace import ProjectWorkspace
    from cloud_engine.settings import Settings
    from cloud_engine.store import Database

    if point == "during_plan":
        TerraformRunner.plan = _kill_once_spawned(TerraformRunner.plan)  # type: ignore[method-assign]
    elif point == "during_apply":
        TerraformRunner.apply = _kill_once_spawned(TerraformRunner.apply)  # type: ignore[method-assign]
    elif point == "after_terraform_apply":
        async def commit(self: Any, message: str) -> str:
            _die()
            return ""

        ProjectWorkspace.commit = commit  # type: ignore[method-assign]
    elif point == "before_db_write":
        real_finish = CloudOrchestrator._finish

        async def finish(self: Any, session: int, event: Any, *args: Any, **kwargs: Any) -> None:
            if event == Event.APPLY_SUCCEEDED:
                _die()
            await real_finish(self, session, event, *args, **kwargs)

        CloudOrchestrator._finish = finish  # type: ignore[method-assign]
    settings = Settings(_env_file=None, database_path=db_path, terraform_runs_dir=Path(runs), finops_db_path=finops,
                        groq_api_key=None, gemini_api_key=None)
    db = await Database.open(db_path)
    engine = CloudOrchestrator(db, settings)
    if phase == "plan":
        await engine.plan(session_id, user_id)
    else:
        await engine.apply(session_id, user_id)
    await db.close()
    sys.exit(3)  # reaching here means the crash point was never hit


if __name__ == "__main__":
    db_arg, runs_arg, finops_arg, session_arg, user_arg, phase_arg, point_arg = sys.argv[1:8]
    asyncio.run(main(db_arg, runs_arg, finops_arg, int(session_arg), int(user_arg), phase_arg, point_arg))
