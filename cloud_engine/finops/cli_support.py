"""Shared plumbing for the FinOps CLI commands (cloud_engine/cli/ingest|costs|recommend): open/close the
service, the `--guild` scope, JSON output."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel

from cloud_engine.finops import FinOpsService
from cloud_engine.settings import Settings
from cloud_engine.store import Database


@asynccontextmanager
async def finops_service(settings: Settings) -> AsyncIterator[FinOpsService]:
    db = await Database.open(settings.database_file)
    try:
        service = await FinOpsService.open(settings, db)
        try:
            yield service
        finally:
            await service.close()
    finally:
        await db.close()


def add_guild_option(parser: argparse.ArgumentParser) -> None:
    """`--guild ID`: which Discord server's part of the ledger to use (see `guild_of`)."""
    parser.add_argument("--guild", type=int, default=None, metavar="ID",
                        help="Discord server (guild) id whose FinOps data to use; default DEV_GUILD_ID, else 0")


def guild_of(args: argparse.Namespace, settings: Settings) -> int:
    """The scope a CLI command works on: --guild, else DEV_GUILD_ID (the bot's development server), else 0.

    Why a default at all: the CLI is mostly used next to a development bot, whose server is
    DEV_GUILD_ID, so imports show up in that server's /cloud-finops-costs; 0 is the scope of
    data imported before scoping existed.
    """
    if args.guild is not None:
        return int(args.guild)
    return int(settings.dev_guild_id or 0)


def dump(value: BaseModel | Sequence[BaseModel] | dict[str, Any] | None) -> str:
    """JSON for --json output (dates as ISO strings)."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, (list, tuple)):
        data = [v.model_dump(mode="json") for v in value]
    else:
        data = value
    return json.dumps(data, indent=2, ensure_ascii=False)
