"""`main.py db migrate|status`: create or upgrade the SQLite schema."""

from __future__ import annotations

import argparse

from cloud_engine.settings import Settings
from cloud_engine.store import Database


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database maintenance")
    parser.add_argument("action", choices=["migrate", "status"], help="migrate: apply pending migrations")
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    db = await Database.open(settings.database_file, migrate=False)
    try:
        if args.action == "migrate":
            applied = await db.migrate()
            print(f"applied migrations: {applied or 'none (up to date)'}")
        print(f"schema version: {await db.schema_version()} ({settings.database_file})")
    finally:
        await db.close()
    return 0
