"""The command tree: every command, its parameters and choices, admin gating, unique names."""

from __future__ import annotations

import ast
from pathlib import Path

import discord
from discord import app_commands

from bot.bot import EXTENSIONS

USER_COMMANDS = {
    "cloud-advise": ["use_case", "provider", "budget", "security", "compliance", "model", "compare"],
    "cloud-review": ["session"], "cloud-ingest": ["file", "kind", "replace_window"], "cloud-finops-costs": [], "cloud-recommend": [],
    "cloud-init": ["name", "provider", "region", "budget"], "cloud-projects": [], "cloud-quota": [],
    "cloud-costs": ["project"], "cloud-deploy": ["project", "purpose"], "cloud-list": [], "cloud-cancel": ["session"],
    "cloud-validate": ["session"], "cloud-edit": ["project", "resource"], "cloud-rollback": ["project", "commit"],
    "cloud-locks": [], "cloud-drift": ["project"], "cloud-history": ["project", "limit"],
}
ADMIN_COMMANDS = {
    "cloud-grant": ["user", "role", "duration"], "cloud-revoke": ["user"], "cloud-set-quota": ["quota", "limit"],
    "cloud-admin-list": ["include_finished"], "cloud-admin-cancel": ["session", "reason"], "cloud-stats": [],
    "cloud-audit": ["limit", "user", "action", "export", "since"], "cloud-health": [],
    "cloud-unlock": ["project", "reason"], "cloud-finops-sync": ["provider"], "cloud-finops-alerts": ["channel"],
    "cloud-role-map": ["discord_role", "cloud_role"], "cloud-role-unmap": ["discord_role"], "cloud-role-maps": [],
    "cloud-set-budget-alert": ["project", "percent"],
}


def _commands(bot) -> dict[str, app_commands.Command | app_commands.Group]:
    return {c.name: c for c in bot.tree.get_commands()}


def _param(command, name) -> app_commands.Parameter:
    return next(p for p in command.parameters if p.name == name)


async def test_every_command_with_its_parameters(bot) -> None:
    found = _commands(bot)
    assert set(found) == set(USER_COMMANDS) | set(ADMIN_COMMANDS) | {"cloud-policy", "cloud-notify"}
    for name, params in {**USER_COMMANDS, **ADMIN_COMMANDS}.items():
        assert [p.name for p in found[name].parameters] == params, name


async def test_choices_types_and_autocomplete(bot) -> None:
    found = _commands(bot)
    init = found["cloud-init"]
    assert [c.value for c in _param(init, "provider").choices] == ["gcp", "aws", "azure", "sandbox"]
    assert _param(init, "region").autocomplete and _param(init, "budget").type is discord.AppCommandOptionType.number
    assert [c.value for c in _param(found["cloud-grant"], "role").choices] == ["CloudViewer", "CloudUser", "CloudAdmin"]
    assert _param(found["cloud-grant"], "user").type is discord.AppCommandOptionType.user
    assert not _param(found["cloud-grant"], "duration").required
    assert len(_param(found["cloud-set-quota"], "quota").choices) == 7
    limit = _param(found["cloud-set-quota"], "limit")
    assert (limit.min_value, limit.max_value) == (0, 100_000)
    for name in ("cloud-deploy", "cloud-edit", "cloud-rollback", "cloud-costs"):
        assert _param(found[name], "project").autocomplete, name
    assert _param(found["cloud-edit"], "resource").autocomplete and _param(found["cloud-rollback"], "commit").autocomplete
    assert _param(found["cloud-cancel"], "session").type is discord.AppCommandOptionType.integer


async def test_admin_commands_are_hidden_from_non_managers(bot) -> None:
    found = _commands(bot)
    for name in [*ADMIN_COMMANDS, "cloud-policy", "cloud-notify"]:
        perms = found[name].default_permissions
        assert perms is not None and perms.manage_guild, name
    for name in USER_COMMANDS:
        assert found[name].default_permissions is None, name


async def test_cloud_health_is_guild_only_in_the_synced_payload(bot) -> None:
    payload = _commands(bot)["cloud-health"].to_dict(bot.tree)
    assert payload["dm_permission"] is False and payload["contexts"] == [0], "0: Discord's GUILD context only"
    assert payload["default_member_permissions"] == discord.Permissions(manage_guild=True).value


async def test_admin_commands_are_offered_in_servers_only(bot) -> None:
    """What Discord receives: a plain Cog's class decorators reach no command, so each admin command has its own."""
    found = _commands(bot)
    for name in [*ADMIN_COMMANDS, "cloud-policy", "cloud-notify"]:
        payload = found[name].to_dict(bot.tree)
        assert payload["dm_permission"] is False and payload["contexts"] == [0], name  # 0: GUILD only
        assert payload["default_member_permissions"] == discord.Permissions(manage_guild=True).value, name


async def test_policy_group_subcommands(bot) -> None:
    group = _commands(bot)["cloud-policy"]
    assert isinstance(group, app_commands.Group)
    sub = {c.name: c for c in group.commands}
    assert set(sub) == {"add", "list", "remove", "suppress", "suppressions", "unsuppress"}
    add = sub["add"]
    assert [c.value for c in _param(add, "type").choices] == ["permission", "quota", "region", "cost", "security",
                                                               "scanner"]
    assert [c.value for c in _param(add, "min_severity").choices] == ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    assert [c.value for c in _param(add, "action").choices] == ["deny", "warn", "require_approval"]
    assert "world_ingress" in [c.value for c in _param(add, "check").choices]
    approvals = _param(add, "approvals")
    assert (approvals.min_value, approvals.max_value, approvals.required) == (1, 5, False)
    assert [c.value for c in _param(add, "approver_role").choices] == ["CloudUser", "CloudAdmin"]
    assert _param(add, "approvers_must_differ").type is discord.AppCommandOptionType.boolean
    assert _param(add, "approver_discord_role").type is discord.AppCommandOptionType.role
    assert len(add.parameters) <= 25  # Discord's limit of options per command


async def test_all_cogs_load_with_unique_command_names(bot) -> None:
    assert set(bot.extensions) == set(EXTENSIONS)
    names = [c.qualified_name for c in bot.tree.walk_commands()]
    assert len(names) == len(set(names))
    assert all(n.startswith("cloud-") for n in names)


def test_engine_never_imports_discord_or_bot() -> None:
    root = Path(__file__).resolve().parents[2] / "cloud_engine"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(root)}: {n}" for n in names
                          if n.split(".")[0] in ("discord", "bot", "cogs")]
    assert offenders == []
