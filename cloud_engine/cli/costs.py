"""`main.py costs [--by ...] [--json]`: cost summary, month-end forecast and anomalies."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from cloud_engine.cli.failures import BAD_INPUT, CliFailure
from cloud_engine.finops.analysis import GROUP_EXPRESSIONS
from cloud_engine.finops.cli_support import add_guild_option, dump, finops_service, guild_of
from cloud_engine.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("costs", help="cost summary, forecast and anomalies from the FinOps ledger")
    parser.add_argument("--by", choices=list(GROUP_EXPRESSIONS), default="service")
    parser.add_argument("--tag-key", default="env", help="tag key used with --by tag")
    parser.add_argument("--start", type=date.fromisoformat, default=None)
    parser.add_argument("--end", type=date.fromisoformat, default=None)
    parser.add_argument("--chart", type=Path, default=None, help="also write a daily-cost PNG here")
    parser.add_argument("--json", action="store_true")
    add_guild_option(parser)
    parser.set_defaults(handler=handle)


EMPTY_LEDGER = ("No cost data for guild {guild} yet: import some first, e.g. `python main.py ingest focus "
                "EXPORT.csv --guild {guild}` or `python main.py ingest synthetic --guild {guild}`.")


def check_chart_path(path: Path | None) -> None:
    """Refuse a --chart path whose folder is missing before any work, naming the folder."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CliFailure(f"--chart {path}: the folder {folder} does not exist; create it or choose another path",
                         BAD_INPUT)
    if path.is_dir():
        raise CliFailure(f"--chart {path} is a folder; give a file name such as {path / 'costs.png'}", BAD_INPUT)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    guild = guild_of(args, settings)
    check_chart_path(args.chart)
    if args.start and args.end and args.end < args.start:
        raise CliFailure(f"--end {args.end} is before --start {args.start}", BAD_INPUT)
    async with finops_service(settings) as service:
        summary = await service.cost_summary(by=args.by, start=args.start, end=args.end, tag_key=args.tag_key,
                                             guild_id=guild)
        forecast = await service.forecast(guild_id=guild)
        anomalies = await service.anomalies(args.start, args.end, guild_id=guild)
        if args.chart and summary.start is not None:
            args.chart.write_bytes(await service.daily_cost_chart(args.start, args.end, guild_id=guild))
    if args.json:
        print(dump({"summary": summary.model_dump(mode="json"),
                    "forecast": forecast.model_dump(mode="json") if forecast else None,
                    "anomalies": anomalies.model_dump(mode="json")}))
        return 0
    if summary.start is None:
        print(EMPTY_LEDGER.format(guild=guild))
        return 0
    cur = summary.currency or ""
    print(f"Cost by {summary.by} for guild {guild} ({summary.start} to {summary.end}): "
          f"{summary.total_effective_cost:,.2f} {cur} effective, {summary.total_billed_cost:,.2f} billed")
    for group in summary.groups:
        print(f"  {group.key:<48} {group.effective_cost:>12,.2f}  {group.share:6.1%}")
    for note in summary.notes:
        print(f"  note: {note}")
    if forecast:
        fcur = forecast.currency or ""
        print(f"Forecast {forecast.month}: month-to-date {forecast.month_to_date:,.2f} {fcur}, month end "
              f"{forecast.forecast_month_end:,.2f} {fcur} ({forecast.method})")
        for note in forecast.notes:
            print(f"  note: {note}")
    print(f"Anomalies ({anomalies.method}): {len(anomalies.items) or 'none'}")
    for a in anomalies.items:
        print(f"  {a.day} {a.provider} {a.service}: {a.amount:,.2f} vs expected {a.expected:,.2f} {a.currency or ''} "
              f"(z={a.robust_z})")
    if args.chart:
        print(f"chart written to {args.chart}")
    return 0
