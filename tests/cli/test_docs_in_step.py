"""The documented CLI and `--help` agree: every command is documented, every documented command exists."""

from __future__ import annotations

import re

from cloud_engine.cli import subcommands
from tests.cli.conftest import REPO

MENTION = re.compile(r"main\.py((?: [a-z][a-z-]*)+)")
# What users read; docs/architecture.md is kept by the engine's owners and checked there.
DOCS = [REPO / "README.md", *sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "architecture.md")]


def leaves(paths: list[str]) -> list[str]:
    return [p for p in paths if not any(other.startswith(p + " ") for other in paths)]


def test_every_command_in_help_is_in_the_readme_or_cli_doc() -> None:
    text = (REPO / "README.md").read_text() + (REPO / "docs" / "cli.md").read_text()
    missing = [path for path in leaves(subcommands()) if f"main.py {path}" not in text]
    assert missing == []


def test_every_documented_command_exists() -> None:
    known = set(subcommands())
    wrong = []
    for doc in DOCS:
        for match in MENTION.finditer(doc.read_text()):
            words = match.group(1).split()
            path = words[0]
            if path not in known:
                wrong.append(f"{doc.name}: main.py {match.group(1).strip()}")
                continue
            for word in words[1:]:
                has_children = any(k.startswith(path + " ") for k in known)
                if not has_children:
                    break
                if f"{path} {word}" not in known:
                    wrong.append(f"{doc.name}: main.py {match.group(1).strip()}")
                    break
                path = f"{path} {word}"
    assert wrong == []


def test_cli_doc_lists_each_command_option_that_help_shows() -> None:
    """Each option of each command's --help appears in its row of docs/cli.md."""
    import argparse

    from cloud_engine.cli import build_parser

    doc = (REPO / "docs" / "cli.md").read_text()
    rows = {line.split("`")[1].removeprefix("python main.py "): line for line in doc.splitlines()
            if line.startswith("| `python main.py ")}

    def walk(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, str]]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found += walk(child, f"{path} {name}".strip())
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            found += [(path, opt) for a in parser._actions for opt in a.option_strings
                      if opt.startswith("--") and opt not in ("--help", "--verbose")]
        return found

    missing = []
    for path, option in walk(build_parser(), ""):
        row = next((line for command, line in rows.items() if command.split(" [")[0].startswith(path)), "")
        if option not in row:
            missing.append(f"{path} {option}")
    assert missing == []
