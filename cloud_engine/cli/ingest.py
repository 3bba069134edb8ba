"""`main.py ingest focus FILE | metrics FILE | synthetic | aws | azure | gcp`: load cost and utilisation data.

`aws`, `azure` and `gcp` run that provider's connector (cloud_engine/finops/connectors/) over the
last `--days` days through the same idempotent import as a file: re-running a sync adds nothing,
a provider's corrected numbers restate. Credentials come from the settings (.env); a missing
one is one line naming every variable, exit status 2.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cloud_engine.cli import positive_int
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.cli_support import add_guild_option, dump, finops_service, guild_of
from cloud_engine.finops.connectors.exports import sync_connector
from cloud_engine.finops.connectors.registry import ConnectorOptions, build_connector
from cloud_engine.finops.models import IngestReport
from cloud_engine.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("ingest", help="import FOCUS cost exports and utilisation metrics")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    focus = kinds.add_parser("focus", help="a FOCUS 1.0-1.3 export (.csv, .csv.gz or .parquet)")
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
    providers = []
    for provider, what in (("aws", "AWS Cost Explorer, or the Data Export in AWS_DATA_EXPORT_S3_URI, and CloudWatch "
                                   "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"),
                           ("azure", "Azure Cost Management, or the export in AZURE_EXPORT_BLOB_URI, and Monitor "
                                     "(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID)"),
                           ("gcp", "a GCP BigQuery billing export file, Compute and Cloud Monitoring (GCP_PROJECT_ID, "
                                   "GOOGLE_APPLICATION_CREDENTIALS)")):
        p = kinds.add_parser(provider, help=f"sync costs and utilisation from {what}")
        p.add_argument("--days", type=positive_int, default=30, help="days to fetch, ending today (default 30)")
        providers.append(p)
    providers[-1].add_argument("--billing-export", type=Path, required=True, metavar="FILE",
                               help="the BigQuery billing export table exported as JSONL or CSV")
    for p in (focus, metrics, synthetic, *providers):
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
    version = f", FOCUS {report.focus_version_hint}" if report.focus_version_hint else ""
    return (f"{report.target}: {report.source_name} ({report.source_kind}{version}) into guild {report.guild_id}: "
            f"read {report.rows_read}, added {report.rows_added}, {restated}unchanged {report.rows_unchanged}"
            f"{merged}{removed}{period}")


async def _sync(service: FinOpsService, args: argparse.Namespace, settings: Settings, guild: int) -> list[IngestReport]:
    """Run one provider's connector over the last --days days (today included, so the window ends tomorrow)."""
    connector = build_connector(args.kind, settings,
                                ConnectorOptions(billing_export=getattr(args, "billing_export", None)))
    end = datetime.now(UTC).date() + timedelta(days=1)
    return await sync_connector(service, args.kind, connector, end - timedelta(days=args.days), end, guild_id=guild)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    guild = guild_of(args, settings)
    async with finops_service(settings) as service:
        if args.kind == "focus":
            reports = [await service.ingest_focus_file(args.file, guild_id=guild, replace_window=args.replace_window)]
        elif args.kind == "metrics":
            reports = [await service.ingest_metrics_file(args.file, guild_id=guild)]
        elif args.kind == "synthetic":
            end = args.end or (datetime.now(UTC).date() - timedelta(days=1))
            reports = list(await service.ingest_synthetic(args.out, guild_id=guild, days=args.days, end=end))
        else:
            reports = await _sync(service, args, settings, guild)
    if args.json:
        print(dump(reports if len(reports) > 1 else reports[0]))
    else:
        for report in reports:
            print(_line(report))
    return 0
