"""`main.py ingest focus FILE | metrics FILE | synthetic`: load cost and utilisation data."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cloud_engine.cli import positive_int
from cloud_engine.finops.cli_support import add_guild_option, dump, finops_service, guild_of
from cloud_engine.finops.models import IngestReport
from cloud_engine.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help="import FOCUS cost exports and utilisation metrics")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    focus = kinds.add_parser("focus", help="a FOCUS 1.0-1.2 export (.csv, .csv.gz or .parquet)")
    focus.add_argument("file", type=Path)
    focus.add_argument("--replace-window", action="store_true",
                       help="the file is the complete, re-issued export for its period: DELETE the scope's "
                            "(--guild) stored charges whose ChargePeriodStart lies between the file's first and "
                            "last, of a provider and billing account the file lists, that the file no longer lists "
                            "(kept in cost_restatements as removed)")
    metrics = kinds.add_parser("metrics", help="metrics CSV: resource_id,metric,timestamp,value,unit")
    metrics.add_argument("file", type=Path)
    synthetic = kinds.add_parser("synthetic", help="generate and import the synthetic demo data set")
    synthetic.add_argument("--days", type=positive_int, default=45, help="days of data to generate (default 45)")
    synthetic.add_argument("--out", type=Path, default=Path("data/synthetic"))
    synthetic.add_argument("--end", type=date.fromisoformat, default=None,
                           help="last day of data (default: yesterday, UTC)")
    for p in (focus, metrics, synthetic):
        p.add_argument("--json", action="store_true", help="print the import report as JSON")
        add_guild_option(p)
        p.set_defaults(handler=handle)


def _line(report: IngestReport) -> str:
    period = ""
    if report.period_start and report.period_end:
        period = f", {report.period_start:%Y-%m-%d} to {report.period_end:%Y-%m-%d}"
    restated = f"restated {report.rows_restated}, " if report.target == "costs" else ""
    merged = f", merged {report.rows_merged} lines of a charge already in the file" if report.rows_merged else ""
    removed = (f", removed {report.rows_removed} stored charges the file no longer lists" if report.rows_removed
               else "")
    return (f"{report.target}: {report.source_name} ({report.source_kind}) into guild {report.guild_id}: "
            f"read {report.rows_read}, added {report.rows_added}, {restated}unchanged {report.rows_unchanged}"
            f"{merged}{removed}{period}")


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    guild = guild_of(args, settings)
    async with finops_service(settings) as service:
        if args.kind == "focus":
            reports = [await service.ingest_focus_file(args.file, guild_id=guild, replace_window=args.replace_window)]
        elif args.kind == "metrics":
            reports = [await service.ingest_metrics_file(args.file, guild_id=guild)]
        else:
            end = args.end or (datetime.now(UTC).date() - timedelta(days=1))
            reports = list(await service.ingest_synthetic(args.out, guild_id=guild, days=args.days, end=end))
    if args.json:
        print(dump(reports if len(reports) > 1 else reports[0]))
    else:
        for report in reports:
            print(_line(report))
    return 0
