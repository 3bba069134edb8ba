"""`main.py finops status [--guild ID] [--json]`: how fresh each provider's connector data is.

Per provider (aws, azure, gcp): configured or not (the variables it lacks), the last successful
import, the lag since it, the last error, and whether the ingestion-freshness SLO (lag within one
`FINOPS_SYNC_INTERVAL_HOURS`) is breached in the server the schedule syncs. Read from the
ingestion log only: it opens neither the ledger nor any provider. Exit status 0 either way; a
breach is printed, not an error, so scripts read `--json`'s `breached`.
"""

from __future__ import annotations

import argparse
import json

from cloud_engine.finops.cli_support import add_guild_option, guild_of
from cloud_engine.finops.sync import schedule_line, source_line, sync_status
from cloud_engine.settings import Settings
from cloud_engine.store import Database


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("finops", help="FinOps connector syncs: freshness per provider")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="last success, lag and last error of each provider's syncs")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    add_guild_option(status)
    status.set_defaults(handler=handle)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    guild = guild_of(args, settings)
    db = await Database.open(settings.database_file)
    try:
        status = await sync_status(db, settings, guild_id=guild)
    finally:
        await db.close()
    if args.json:
        data = status.model_dump(mode="json")
        data["breached"] = [s.provider for s in status.breached]
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"FinOps sync for guild {guild}: {schedule_line(status)}")
    for source in status.sources:
        print(f"  {source_line(source, status.interval_hours)}")
        if source.last_success_at:
            print(f"    last success {source.last_success_at:%Y-%m-%d %H:%M} UTC")
        if source.last_error and source.last_error_at:
            print(f"    last error {source.last_error_at:%Y-%m-%d %H:%M} UTC: {source.last_error[:300]}")
    return 0
