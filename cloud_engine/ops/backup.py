"""Back up and restore everything Cloud Engine keeps: the SQLite database, the FinOps ledger,
and every project's Terraform root (its git history and its state).

Why each part is taken the way it is:
- SQLite through its online backup API, so a bot running meanwhile (WAL mode) is copied
  as one consistent snapshot, never a half-written page;
- the DuckDB ledger with `EXPORT DATABASE` (Parquet) from a read-only connection: DuckDB
  lets no other process write while it is open, so the export is consistent, and a ledger
  held open by a running bot is refused with one line instead of being copied torn;
- each project root (a git repository under TERRAFORM_RUNS_DIR) as a `git bundle` of all its refs (the applied history rollbacks use)
  plus a tar of its working tree without `.git/` and `.terraform/` (terraform.tfstate, its
  backup, saved plans and logs under `.runs/`): the state is what Terraform believes exists.

The backup folder holds state with secrets in clear text (as `terraform.tfstate` does), so
it is created 0700 with 0600 files. Restore only fills an empty target and refuses
anything else, so it can never overwrite a live installation.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cloud_engine.private_files import CHILD_UMASK, private_dir

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "cloud.db"
LEDGER_DIR = "finops"
PROJECTS_DIR = "projects"
_TREE_SKIP = {".git", ".terraform"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the text says why and what to do."""


@dataclass
class BackupReport:
    """What was backed up or restored, for the one-paragraph summary the CLI prints."""

    path: Path
    database: bool = False
    schema_version: int = 0
    ledger: bool = False
    projects: list[str] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        parts = [f"database (schema {self.schema_version})" if self.database else "no database",
                 "FinOps ledger" if self.ledger else "no FinOps ledger",
                 f"{len(self.projects)} project root(s)" + (f" ({', '.join(self.projects)})" if self.projects else "")]
        return f"{verb} {', '.join(parts)}: {self.path}"


@dataclass(frozen=True)
class DataPaths:
    """Where the installation keeps its data (from the settings)."""

    database: Path
    ledger: Path
    runs: Path

    @classmethod
    def of(cls, settings: Any) -> DataPaths:
        return cls(Path(settings.database_path), Path(settings.finops_db_path), Path(settings.terraform_runs_dir))


# ---------------------------------------------------------------------------------------- create
def create_backup(paths: DataPaths, dest: Path) -> BackupReport:
    """Write a backup of `paths` into `dest`, a new or empty folder (blocking)."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not an empty folder; choose a new path")
    private_dir(dest)
    report = BackupReport(dest)
    if paths.database.is_file():
        _backup_sqlite(paths.database, dest / SQLITE_FILE)
        report.database = True
        report.schema_version = _schema_version(dest / SQLITE_FILE)
    if paths.ledger.is_file():
        _export_ledger(paths.ledger, dest / LEDGER_DIR)
        report.ledger = True
    if paths.runs.is_dir():
        # Project roots are the git repositories; anything else there (the sandbox's `plugins/`
        # provider cache) is re-created on the next plan.
        for root in sorted(p for p in paths.runs.iterdir() if (p / ".git").is_dir()):
            _backup_root(root, dest / PROJECTS_DIR)
            report.projects.append(root.name)
    manifest = {"format": FORMAT_VERSION, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "schema_version": report.schema_version, "database": report.database, "ledger": report.ledger,
                "projects": report.projects}
    _write_private(dest / MANIFEST, json.dumps(manifest, indent=2).encode())
    return report


def _backup_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(_private_new(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _schema_version(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()
    return int(row[0] or 0)


def _export_ledger(source: Path, target: Path) -> None:
    try:
        conn = duckdb.connect(str(source), read_only=True)
    except duckdb.IOException as exc:
        raise BackupError(f"the FinOps ledger {source} is open in another process (a running bot?): DuckDB lets "
                          f"only one process use it, so stop the bot, back up, and start it again ({exc})") from None
    try:
        private_dir(target)
        conn.execute(f"EXPORT DATABASE {_sql_text(target)} (FORMAT PARQUET)")
    finally:
        conn.close()
    _tighten_tree(target)


def _backup_root(root: Path, dest: Path) -> None:
    private_dir(dest)
    _git(["bundle", "create", str((dest / f"{root.name}.bundle").resolve()), "--all"], cwd=root)
    with tarfile.open(_private_new(dest / f"{root.name}.tree.tar"), "w") as tar:
        for item in sorted(root.iterdir()):
            if item.name not in _TREE_SKIP:
                tar.add(item, arcname=item.name)
    _tighten_tree(dest)


# ---------------------------------------------------------------------------------------- restore
def restore_backup(source: Path, paths: DataPaths) -> BackupReport:
    """Restore the backup at `source` into an installation with no data yet (blocking)."""
    manifest = _read_manifest(source)
    _refuse_existing(paths)
    report = BackupReport(source, schema_version=int(manifest.get("schema_version", 0)))
    if manifest.get("database"):
        private_dir(paths.database.parent)
        _backup_sqlite(source / SQLITE_FILE, paths.database)
        report.database = True
    if manifest.get("ledger"):
        private_dir(paths.ledger.parent)
        conn = duckdb.connect(str(paths.ledger))
        try:
            conn.execute(f"IMPORT DATABASE {_sql_text(source / LEDGER_DIR)}")
        finally:
            conn.close()
        _tighten_tree(paths.ledger.parent)
        report.ledger = True
    for name in manifest.get("projects", []):
        _restore_root(source / PROJECTS_DIR, str(name), paths.runs)
        report.projects.append(str(name))
    return report


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} is not a Cloud Engine backup (no {MANIFEST})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BackupError(f"{source / MANIFEST} is damaged (not JSON)") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{source} has backup format {manifest.get('format')!r}; this version reads "
                          f"{FORMAT_VERSION}")
    return dict(manifest)


def _refuse_existing(paths: DataPaths) -> None:
    """Refuse to restore over any existing data, naming the first thing found."""
    for path in (paths.database, paths.ledger):
        if path.exists():
            raise BackupError(f"refusing to restore over existing data: {path} exists; restore into an empty data "
                              "folder (move it away, or point DATABASE_PATH, FINOPS_DB_PATH and TERRAFORM_RUNS_DIR "
                              "elsewhere)")
    if paths.runs.exists() and any(paths.runs.iterdir()):
        raise BackupError(f"refusing to restore over existing data: {paths.runs} is not empty; restore into an "
                          "empty data folder (move it away, or point TERRAFORM_RUNS_DIR elsewhere)")


def _restore_root(source: Path, name: str, runs: Path) -> None:
    if Path(name).name != name or name in ("", ".", ".."):
        raise BackupError(f"the backup names an unsafe project folder {name!r}")
    root = runs / name
    bundle = source / f"{name}.bundle"
    private_dir(runs)
    _git(["clone", "-q", "--no-checkout", str(bundle.resolve()), str(root.resolve())], cwd=runs)
    _git(["remote", "remove", "origin"], cwd=root)
    _git(["read-tree", "HEAD"], cwd=root)  # index = the last commit; the tar below is the work tree
    with tarfile.open(source / f"{name}.tree.tar") as tar:
        tar.extractall(root, filter="data")
    _tighten_tree(root)


# ---------------------------------------------------------------------------------------- helpers
def _git(args: list[str], *, cwd: Path) -> None:
    """Run git with no user or system configuration (as the workspaces do); raise BackupError on failure."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/nonexistent"),
           "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    command = ["git", "-c", "core.hooksPath=/dev/null", *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False,  # noqa: S603
                            umask=CHILD_UMASK)
    if result.returncode != 0:
        raise BackupError(f"git {args[0]} in {cwd} failed: {result.stderr.strip() or result.returncode}")


def _sql_text(path: Path) -> str:
    """A path as a DuckDB string literal (EXPORT/IMPORT take no parameters)."""
    return "'" + str(path.resolve()).replace("'", "''") + "'"


def _private_new(path: Path) -> str:
    """Create `path` empty with mode 0600 and return it (sqlite3 and tarfile then write into it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    return str(path)


def _write_private(path: Path, data: bytes) -> None:
    with open(_private_new(path), "wb") as handle:
        handle.write(data)


def _tighten_tree(root: Path) -> None:
    """Nothing below `root` readable by group or others: everything here may hold state or plans."""
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o700)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, path.stat().st_mode & 0o700)
