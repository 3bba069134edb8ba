"""Everything the engine keeps on disk is the bot user's only, whatever the process umask.

The database (and its -wal/-shm), the FinOps ledger, and a Terraform root after a real
sandbox plan and apply (configuration, state and its backup, saved plan, logs, the git
repository's objects) must come out with no group or other permission bits under umask 022.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec, State
from cloud_engine.finops.ledger import Ledger
from cloud_engine.iac.binary import find_terraform
from cloud_engine.private_files import private_dir, secure_tree, write_private_text
from cloud_engine.store import Database
from tests.conftest import ADMIN, GUILD, USER


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default umask, which would leave new files world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _exposed(root: Path) -> list[str]:
    """Every path under `root` (itself included) that group or others may access, with its mode."""
    found = []
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077 or (stat.S_ISDIR(info.st_mode) and mode != 0o700):
            found.append(f"{path.relative_to(root)} {oct(mode)}")
    return found


def _has_terraform() -> bool:
    try:
        find_terraform()
    except Exception:
        return False
    return True


@pytest.mark.skipif(not _has_terraform(), reason="needs the terraform binary")
async def test_a_sandbox_plan_and_apply_leave_nothing_readable_by_others(open_umask, engine: CloudOrchestrator,
                                                                         settings, tmp_path: Path) -> None:
    project = await engine.create_project(GUILD, USER, name="private", provider="gcp", region="us-central1",
                                          budget_monthly=500)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="web-1", machine_type="e2-small"))
    session = await engine.plan(session.id, USER)
    assert session.state == State.PLAN_READY, session.error
    await engine.approve(session.id, ADMIN)
    session = await engine.apply(session.id, USER)
    assert session.state == State.APPLIED, session.error

    root = Path(settings.terraform_runs_dir) / str(project.id)
    assert (root / "terraform.tfstate").is_file() and any((root / ".git" / "objects").iterdir())
    assert any(root.glob(".runs/*/*.log")), "the run logs were written"
    assert _exposed(Path(settings.terraform_runs_dir)) == []
    assert _exposed(Path(settings.database_path).parent) == []


async def test_the_database_and_its_wal_and_shm_are_private(open_umask, tmp_path: Path) -> None:
    path = tmp_path / "data" / "nested" / "cloud.db"
    db = await Database.open(path)
    try:
        await db.execute("INSERT INTO schema_version(version, name) VALUES (9999, 'probe')")
        names = {p.name for p in path.parent.iterdir()}
        assert {"cloud.db", "cloud.db-wal", "cloud.db-shm"} <= names
        assert _exposed(tmp_path / "data") == []
    finally:
        await db.close()


async def test_an_existing_world_readable_database_is_tightened_on_open(open_umask, tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    db = await Database.open(path)
    await db.close()
    path.chmod(0o644)
    db = await Database.open(path)
    try:
        await db.execute("INSERT INTO schema_version(version, name) VALUES (9999, 'probe')")
        assert _exposed(tmp_path) == []
    finally:
        await db.close()


async def test_the_finops_ledger_file_and_its_wal_are_private(open_umask, tmp_path: Path) -> None:
    ledger = await Ledger.open(tmp_path / "finops" / "ledger.duckdb")
    try:
        await ledger.run(lambda conn: conn.execute("CREATE TABLE probe (x INTEGER); INSERT INTO probe VALUES (1)"))
        assert (tmp_path / "finops" / "ledger.duckdb").is_file()
        assert _exposed(tmp_path / "finops") == []
    finally:
        await ledger.close()


def test_private_dir_makes_every_missing_level_private_and_leaves_existing_parents(open_umask,
                                                                                  tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    private_dir(tmp_path / "a" / "b" / "c")
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755, "a parent the engine did not create is not changed"
    assert _exposed(tmp_path / "a") == []


def test_write_private_text_replaces_a_readable_file_with_a_private_one(open_umask, tmp_path: Path) -> None:
    target = tmp_path / "main.tf"
    target.write_text("old")
    target.chmod(0o644)
    write_private_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["main.tf"], "no temp file is left behind"


def test_secure_tree_tightens_an_older_tree_and_keeps_executables_runnable(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    (root / "1" / ".terraform").mkdir(parents=True, mode=0o755)
    (root / "1" / "main.tf").write_text("")
    (root / "1" / "main.tf").chmod(0o644)
    plugin = root / "1" / ".terraform" / "provider"
    plugin.write_text("")
    plugin.chmod(0o755)
    secure_tree(root)
    assert _exposed(root) == []
    assert stat.S_IMODE(plugin.stat().st_mode) == 0o700
