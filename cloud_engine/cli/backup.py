"""`main.py backup create PATH` and `main.py backup restore PATH`: the whole installation's data.

See `cloud_engine/ops/backup.py` for what is taken and how; this module only parses, runs it
in a worker thread and prints one line.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from cloud_engine.cli.failures import BAD_INPUT, CliFailure
from cloud_engine.ops.backup import BackupError, DataPaths, create_backup, restore_backup
from cloud_engine.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("backup", help="back up or restore the database, FinOps ledger and Terraform roots")
    actions = parser.add_subparsers(dest="backup_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="write a backup into PATH (a new or empty folder)")
    create.add_argument("path", type=Path, help="folder to create, e.g. /var/backups/cloud-engine/2026-12-03")
    create.set_defaults(handler=handle_create)
    restore = actions.add_parser("restore", help="restore the backup in PATH into an empty data folder")
    restore.add_argument("path", type=Path, help="a folder written by `backup create`")
    restore.set_defaults(handler=handle_restore)


async def handle_create(args: argparse.Namespace, settings: Settings) -> int:
    try:
        report = await asyncio.to_thread(create_backup, DataPaths.of(settings), args.path)
    except BackupError as exc:
        raise CliFailure(str(exc), BAD_INPUT) from None
    print(report.summary("backed up"))
    return 0


async def handle_restore(args: argparse.Namespace, settings: Settings) -> int:
    try:
        report = await asyncio.to_thread(restore_backup, args.path, DataPaths.of(settings))
    except BackupError as exc:
        raise CliFailure(str(exc), BAD_INPUT) from None
    print(report.summary("restored") + f" into {settings.database_path}, {settings.finops_db_path} and "
          f"{settings.terraform_runs_dir}; run `python main.py db migrate` if this version is newer")
    return 0
