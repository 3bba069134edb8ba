"""`main.py synthetic --out DIR`: write the synthetic FOCUS export and metrics CSV, without importing.

The files are what `ingest synthetic` imports, named for anyone to use: `DIR/focus.csv`
(FOCUS 1.2 by default, every mandatory column, ids in each cloud's own shape; the FinOps
Foundation's validator passes it) and `DIR/metrics.csv` (`resource_id,metric,timestamp,value,unit`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.csv as pacsv

from cloud_engine.cli import positive_int
from cloud_engine.cli.failures import BAD_INPUT, CliFailure
from cloud_engine.finops.synthetic import DEFAULT_FOCUS_VERSION, DEFAULT_SEED, FOCUS_VERSIONS, write_synthetic
from cloud_engine.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("synthetic", help="write a synthetic FOCUS export and metrics CSV (nothing is imported)")
    parser.add_argument("--out", type=_folder, required=True, metavar="DIR",
                        help="folder to write focus.csv and metrics.csv into (created if missing)")
    parser.add_argument("--days", type=positive_int, default=45, help="days of data to generate (default 45)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--end", type=date.fromisoformat, default=None,
                        help="last day of data (default: yesterday, UTC)")
    parser.add_argument("--focus-version", choices=FOCUS_VERSIONS, default=DEFAULT_FOCUS_VERSION,
                        help=f"FOCUS version of focus.csv (default {DEFAULT_FOCUS_VERSION})")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    parser.set_defaults(handler=handle)


def _folder(value: str) -> Path:
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a file, not a folder")
    return path


def _rows(path: Path) -> int:
    return int(pacsv.read_csv(path).num_rows)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    end = args.end or (datetime.now(UTC).date() - timedelta(days=1))
    try:
        focus, metrics = await asyncio.to_thread(write_synthetic, args.out, days=args.days, end=end, seed=args.seed,
                                                 focus_version=args.focus_version, prefix="")
    except OSError as exc:
        raise CliFailure(f"--out {args.out}: cannot write there ({exc.strerror or exc})", BAD_INPUT) from exc
    focus_rows, metric_rows = await asyncio.gather(asyncio.to_thread(_rows, focus), asyncio.to_thread(_rows, metrics))
    start = end - timedelta(days=args.days - 1)
    if args.json:
        print(json.dumps({"focus": str(focus), "focus_rows": focus_rows, "focus_version": args.focus_version,
                          "metrics": str(metrics), "metric_points": metric_rows, "start": start.isoformat(),
                          "end": end.isoformat(), "seed": args.seed}, indent=2))
        return 0
    print(f"wrote {focus} (FOCUS {args.focus_version}, {focus_rows} rows, {start} to {end}, seed {args.seed}) "
          f"and {metrics} ({metric_rows} points)")
    print(f"import them with `python main.py ingest focus {focus}` and `python main.py ingest metrics {metrics}`")
    return 0
