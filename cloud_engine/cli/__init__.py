"""Command-line interface: one module per command group, all calling the same engine services.

Each module in `COMMAND_MODULES` exposes `register(subparsers)`, which adds its parser and
sets `handler=<async fn(args, settings) -> int>` on it. `main.py` only dispatches.

Output contract: answers go to stdout; JSON logs go to stderr, at WARNING for every command
but `run` (whose INFO log is its output) unless `--verbose`; every failure is one line on
stderr (see `failures.py`), exit status 2 for bad input and 1 for a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys

from cloud_engine.cli.failures import INTERRUPTED, describe
from cloud_engine.logging_setup import configure_logging, request_context
from cloud_engine.secret_text import register_known_secrets
from cloud_engine.settings import LOG_LEVELS, Settings, load_settings

COMMAND_MODULES = ("run", "demo", "db", "kb", "advise", "ingest", "costs", "recommend", "backup", "audit", "synthetic",
                   "finops")
# Commands whose INFO log is what the user is waiting for; the rest stay quiet unless --verbose.
TALKATIVE_COMMANDS = frozenset({"run"})

log = logging.getLogger("cloud_engine.cli")


def log_level(value: str) -> str:
    """argparse type for `--log-level`: a known level name, upper-cased."""
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(LOG_LEVELS)} (got {value!r})")
    return level


def positive_int(value: str) -> int:
    """argparse type for counts and limits: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {value!r})") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {number})")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Cloud Engine: Discord ChatOps for cloud infrastructure and FinOps.",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also print INFO logs (JSON, on stderr) and tracebacks of failures")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"cloud_engine.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cloud_engine.cli.{name}":
                raise
            continue
        module.register(sub)
    _accept_verbose_anywhere(parser)
    return parser


def _accept_verbose_anywhere(parser: argparse.ArgumentParser) -> None:
    """Let `--verbose` also follow the subcommand (`main.py costs --verbose`), as users type it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if not any("--verbose" in a.option_strings for a in child._actions):
                    child.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                       help="also print INFO logs and tracebacks of failures")
                _accept_verbose_anywhere(child)


def subcommands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> list[str]:
    """Every command path `--help` offers, e.g. `costs`, `kb search`, `db migrate` (a positional's choices)."""
    out: list[str] = []
    for action in (parser or build_parser())._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                path = f"{prefix}{name}"
                out.append(path)
                out += subcommands(child, f"{path} ")
        elif not action.option_strings and action.choices and prefix:
            out += [f"{prefix}{choice}" for choice in action.choices]
    return out


def _chosen_level(args: argparse.Namespace, settings: Settings) -> str:
    """The log level: --log-level, else LOG_LEVEL for `run` or with --verbose, else WARNING."""
    explicit = getattr(args, "log_level", None)
    if explicit:
        return str(explicit)
    if getattr(args, "verbose", False):
        return min(settings.log_level, "INFO", key=logging.getLevelName)
    return settings.log_level if args.command in TALKATIVE_COMMANDS else max(
        settings.log_level, "WARNING", key=logging.getLevelName)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, configure logging, run the chosen handler; every failure is one line."""
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: argparse prints one line and exits 2
    verbose = bool(getattr(args, "verbose", False))
    try:
        settings = load_settings()
        configure_logging(_chosen_level(args, settings))
        # Known from the first step: refused in user text, masked in logs, audit and commits
        register_known_secrets(settings.secret_values())
        with request_context():
            return asyncio.run(args.handler(args, settings)) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:
        message, status = describe(exc)
        if verbose:
            log.error("command failed", exc_info=exc)
        print(f"error: {message}", file=sys.stderr)
        return status
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
