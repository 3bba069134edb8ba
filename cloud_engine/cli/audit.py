"""`main.py audit export|verify`: the hash-chained audit log, exported or checked.

`export` writes one guild's rows (or every guild's) as JSON Lines or CSV, each row with its
`prev_hash` and `row_hash`, to stdout or `--out FILE` (created 0600). `verify` walks each
chain and names the first row that does not hold (edited, deleted or inserted), with exit
status 1; an intact chain prints its head (last row id and hash) to record elsewhere.
Both chain rows from before the chain existed first (store/audit_chain.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from cloud_engine.cli.failures import FAILED, CliFailure
from cloud_engine.core.audit_export import export_audit, parse_since
from cloud_engine.errors import InvalidInput
from cloud_engine.private_files import create_private_file
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from cloud_engine.store.audit_chain import ChainReport, verify_chain


def since_value(value: str) -> datetime:
    """argparse type for `--since`: YYYY-MM-DD (midnight UTC) or an ISO date and time (UTC if no zone)."""
    try:
        return parse_since(value)
    except InvalidInput:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD or an ISO date and time (got {value!r})") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("audit", help="export the hash-chained audit log, or verify its chain")
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write audit rows with their hashes as JSON Lines or CSV")
    export.add_argument("--guild", type=int, default=None, help="one Discord server's rows (default: every server's)")
    export.add_argument("--since", type=since_value, default=None, help="rows from this date on (YYYY-MM-DD, UTC)")
    export.add_argument("--format", choices=["jsonl", "csv"], required=True, help="jsonl (one JSON object a line) or csv")
    export.add_argument("--out", type=Path, default=None, help="file to write (created private); default stdout")
    export.set_defaults(handler=handle_export)
    verify = actions.add_parser("verify", help="check each server's chain; exit 1 at the first row that breaks it")
    verify.add_argument("--guild", type=int, default=None, help="one Discord server's chain (default: every server's)")
    verify.set_defaults(handler=handle_verify)


async def handle_export(args: argparse.Namespace, settings: Settings) -> int:
    db = await Database.open(settings.database_file)
    try:
        export = await export_audit(db, args.format, guild_id=args.guild, all_guilds=args.guild is None,
                                    since=args.since)
    finally:
        await db.close()
    if args.out is None:
        sys.stdout.buffer.write(export.data)
        sys.stdout.flush()
        return 0
    create_private_file(args.out)
    args.out.write_bytes(export.data)
    print(f"exported {export.rows} audit row(s) to {args.out}")
    return 0


def describe_report(report: ChainReport) -> str:
    """One line per chain: intact with its head, or the first row that breaks it and why."""
    who = "rows without a server" if report.guild_id is None else f"server {report.guild_id}"
    if report.first_break is not None:
        return f"{who}: chain broken at row {report.first_break.row_id}: {report.first_break.reason}"
    if report.rows == 0:
        return f"{who}: no audit rows"
    return f"{who}: {report.rows} row(s), chain intact; head row {report.head_id} {report.head_hash}"


async def handle_verify(args: argparse.Namespace, settings: Settings) -> int:
    db = await Database.open(settings.database_file)
    try:
        reports = await verify_chain(db, args.guild, all_guilds=args.guild is None)
    finally:
        await db.close()
    for report in reports:
        print(describe_report(report))
    broken = [r for r in reports if not r.ok]
    if broken:
        first = broken[0].first_break
        assert first is not None
        raise CliFailure(f"the audit chain is broken ({len(broken)} chain(s)); first at row {first.row_id}", FAILED)
    if not reports or all(r.rows == 0 for r in reports):
        print("nothing to verify: the audit log is empty")
    return 0
