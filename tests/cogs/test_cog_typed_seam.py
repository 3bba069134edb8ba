"""The bot-engine seam is typed: every cog takes the CloudBot, nothing in bot/ or cogs/ takes `bot: Any`."""

from __future__ import annotations

import ast
import importlib
import inspect
import typing
from pathlib import Path

import pytest
from discord.ext import commands

from bot.bot import EXTENSIONS, CloudBot, CloudEngineBot
from cloud_engine.core import CloudOrchestrator
from cloud_engine.services import Services

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "bot").glob("*.py"), *(ROOT / "cogs").glob("*.py")])
MAX_TYPE_IGNORES = 3  # each one carries its reason on the line or the line above


def _cog_classes(module: object) -> list[type[commands.Cog]]:
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, commands.Cog) and obj.__module__ == getattr(module, "__name__", None)]


@pytest.mark.parametrize("extension", EXTENSIONS)
async def test_every_cog_takes_the_typed_bot(bot: CloudBot, extension: str) -> None:
    module = importlib.import_module(extension)
    cogs = _cog_classes(module)
    assert cogs, f"{extension} defines no cog"
    assert typing.get_type_hints(module.setup)["bot"] is CloudBot
    for cls in cogs:
        assert typing.get_type_hints(cls.__init__)["bot"] is CloudBot, cls.__name__
        cog = cls(bot)
        assert cog.bot is bot
        for name in ("engine", "services"):
            assert name not in vars(cls), f"{cls.__name__} copies `{name}`; use self.bot.{name}"


def test_the_bot_names_its_engine_and_services_types() -> None:
    hints = {name: typing.get_type_hints(prop.fget)["return"]
             for name, prop in (("engine", CloudBot.engine), ("services", CloudBot.services))}
    assert hints == {"engine": CloudOrchestrator, "services": Services}
    assert CloudEngineBot is CloudBot, "the earlier name stays importable"


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_no_function_takes_an_untyped_bot_and_type_ignores_stay_few() -> None:
    untyped, ignores = [], []
    for path in SOURCES:
        text = path.read_text("utf-8")
        for fn in _functions(ast.parse(text, str(path))):
            for arg in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
                if arg.arg in ("bot", "engine", "services") and (
                        arg.annotation is None or ast.unparse(arg.annotation) in ("Any", "typing.Any")):
                    untyped.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}({arg.arg})")
        ignores += [f"{path.relative_to(ROOT)}:{i}" for i, line in enumerate(text.splitlines(), 1)
                    if "type: ignore" in line]
    assert untyped == []
    assert len(ignores) <= MAX_TYPE_IGNORES, ignores
