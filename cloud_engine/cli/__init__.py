"""Command-line interface: one module per command group, all calling the same engine services.

Each module in `COMMAND_MODULES` exposes `register(subparsers)`, which adds its parser and
sets `handler=<async fn(args, settings) -> int>` on it. `main.py` only dispatches.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

from cloud_engine.errors import EngineError
from cloud_engine.logging_setup import configure_logging, register_secrets, request_context
from cloud_engine.settings import Settings

COMMAND_MODULES = ("run", "demo", "db", "kb", "advise", "ingest", "costs", "recommend")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Cloud Engine: Discord ChatOps for cloud infrastructure and FinOps.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"cloud_engine.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cloud_engine.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, configure logging, run the chosen handler; engine errors exit 2 with their text."""
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(getattr(args, "log_level", None) or settings.log_level)
    register_secrets(settings.secret_values())
    try:
        with request_context():
            return asyncio.run(args.handler(args, settings)) or 0
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
