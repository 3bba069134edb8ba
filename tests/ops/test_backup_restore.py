"""`backup create` then `backup restore` into a fresh folder: the engine continues where it was.

Data is made by the real orchestrator (a sandbox apply through Terraform, a session left
open with its lobby) and the real FinOps service; the backup and restore run as the CLI a
user types, in subprocesses, while the source database is still open.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from cloud_engine.core import CloudOrchestrator, ResourceSpec, State
from cloud_engine.finops import FinOpsService
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cli.conftest import MAIN, clean_env
from tests.conftest import ADMIN, GUILD, USER

VM = ResourceSpec(kind="vm", name="web-1", machine_type="e2-small", tags={"env": "dev"})
BUCKET = ResourceSpec(kind="bucket", name="assets")


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DATABASE_PATH=settings.database_path, FINOPS_DB_PATH=settings.finops_db_path,
                    TERRAFORM_RUNS_DIR=str(settings.terraform_runs_dir))
    return subprocess.run([sys.executable, str(MAIN), *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=Path(settings.database_path).parent.parent)


async def snapshot(engine: CloudOrchestrator, settings: Settings, db: Database) -> dict[str, object]:
    """Everything a restarted bot relies on, in comparable form."""
    projects = await engine.list_projects(GUILD)
    sessions = await engine.list_sessions(GUILD)
    service = await FinOpsService.open(settings, db)
    try:
        summary = await service.cost_summary(by="provider", guild_id=GUILD)
        totals = (summary.total_effective_cost, summary.total_billed_cost, [(g.key, g.effective_cost)
                                                                            for g in summary.groups])
    finally:
        await service.close()
    roots = {}
    for project in projects:
        root = Path(settings.terraform_runs_dir) / str(project.id)
        log = await asyncio.to_thread(subprocess.run, ["git", "log", "--format=%H %s"], cwd=root,
                                      capture_output=True, text=True, check=True)
        roots[project.id] = ((root / "terraform.tfstate").read_bytes(), log.stdout)
    return {
        "projects": [p.model_dump() for p in projects],
        "sessions": [s.model_dump() for s in sessions],
        "resources": {p.id: [r.model_dump() for r in await engine.project_resources(p.id)] for p in projects},
        "quotas": await engine.quota_usage(GUILD),
        "ledger": totals,
        "roots": roots,
    }


async def test_backup_then_restore_into_a_fresh_folder_continues(engine: CloudOrchestrator, db: Database,
                                                                 settings: Settings, tmp_path: Path) -> None:
    project = await engine.create_project(GUILD, USER, name="keep", provider="gcp", region="us-central1",
                                          budget_monthly=500)
    session = await engine.start_session(project.id, USER)
    for spec in (VM, BUCKET):
        await engine.add_resource(session.id, USER, spec)
    session = await engine.plan(session.id, USER)
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, USER)).state == State.APPLIED
    lobby = await engine.start_session(project.id, USER, purpose="next change")
    await engine.set_lobby_message(lobby.id, channel_id=555, message_id=666, thread_id=777)
    service = await FinOpsService.open(settings, db)
    try:
        await service.ingest_synthetic(tmp_path / "synthetic", guild_id=GUILD, days=4)
    finally:
        await service.close()
    before = await snapshot(engine, settings, db)

    backup = tmp_path / "backup"
    created = cli(settings, "backup", "create", str(backup))
    assert created.returncode == 0, created.stderr
    assert "backed up database" in created.stdout and "FinOps ledger" in created.stdout
    assert oct((backup / "cloud.db").stat().st_mode & 0o777) == "0o600"

    fresh = tmp_path / "fresh"
    restored_settings = settings.model_copy(update={
        "database_path": str(fresh / "cloud.db"), "finops_db_path": str(fresh / "finops.duckdb"),
        "terraform_runs_dir": fresh / "runs"})
    restored = cli(restored_settings, "backup", "restore", str(backup))
    assert restored.returncode == 0, restored.stderr

    new_db = await Database.open(restored_settings.database_path)
    try:
        new_engine = CloudOrchestrator(new_db, restored_settings)
        after = await snapshot(new_engine, restored_settings, new_db)
        assert after == before
        # a restarted bot: nothing was running, the open lobby is still there, and Terraform's state
        # holds what was applied, so planning the same resources again changes nothing
        assert await new_engine.recover_interrupted() == []
        again = await new_engine.start_session(project.id, USER)
        for spec in (VM, BUCKET):
            await new_engine.add_resource(again.id, USER, spec)
        planned = await new_engine.plan(again.id, USER)
        assert planned.state == State.PLAN_READY, planned.error
        summary = planned.plan_summary or {}
        assert (summary["add"], summary["change"], summary["destroy"], summary["changes"]) == (0, 0, 0, [])
    finally:
        await new_db.close()

    refused = cli(restored_settings, "backup", "restore", str(backup))
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: refusing to restore over existing data")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_restore_of_a_folder_that_is_no_backup(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_path=str(tmp_path / "cloud.db"),
                        finops_db_path=str(tmp_path / "finops.duckdb"), terraform_runs_dir=tmp_path / "runs")
    result = cli(settings, "backup", "restore", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path} is not a Cloud Engine backup (no manifest.json)"
