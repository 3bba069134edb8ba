"""`main.py db migrate|status`: create or upgrade the SQLite schema, or say where it stands.

`status` never changes the file: on a database that was never migrated it reports version 0
and the migrations waiting, instead of failing on the missing `schema_version` table.
"""

from __future__ import annotations

import argparse

from cloud_engine.settings import Settings
from cloud_engine.store import Database
from cloud_engine.store.database import MIGRATIONS_DIR


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("db", help="database maintenance: migrate (apply pending migrations) or status")
    parser.add_argument("action", choices=["migrate", "status"],
                        help="migrate: apply pending migrations; status: show the schema version")
    parser.set_defaults(handler=handle)


def available_versions() -> list[int]:
    """Version numbers of the migrations shipped with this checkout."""
    return sorted(int(f.name[:4]) for f in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


async def applied_versions(db: Database) -> set[int]:
    """Versions recorded in the database (none before the first migration)."""
    table = await db.fetchone("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    if table is None:
        return set()
    return {int(row["version"]) for row in await db.fetchall("SELECT version FROM schema_version")}


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    db = await Database.open(settings.database_file, migrate=False)
    try:
        if args.action == "migrate":
            applied = await db.migrate()
            print(f"applied migrations: {', '.join(map(str, applied)) if applied else 'none (up to date)'}")
        done = await applied_versions(db)
        pending = [v for v in available_versions() if v not in done]
        version = max(done, default=0)
        waiting = (f"; {len(pending)} pending ({', '.join(map(str, pending))}): run `python main.py db migrate`"
                   if pending else "; up to date")
        print(f"schema version: {version} ({settings.database_file}){waiting}")
    finally:
        await db.close()
    return 0
