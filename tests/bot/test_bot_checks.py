"""admin_command spells the admin gating once; the interaction seam hands back the typed bot."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from bot.checks import admin_command, admin_only
from bot.client import cloud_bot, guild_id_of
from bot.errors import CloudCheckFailure
from tests.conftest import ADMIN, USER
from tests.fakes.discord import make_interaction, make_member


@admin_command(name="cloud-test", description="only for this test")
@app_commands.describe(what="described under the decorator")
async def _sample(interaction: discord.Interaction, what: str) -> None:
    await interaction.response.send_message(what)


async def test_admin_command_is_guild_only_hidden_and_checked(bot) -> None:
    assert isinstance(_sample, app_commands.Command) and _sample.name == "cloud-test"
    payload = _sample.to_dict(bot.tree)
    assert payload["dm_permission"] is False and payload["contexts"] == [0]
    assert payload["default_member_permissions"] == discord.Permissions(manage_guild=True).value
    assert _sample.parameters[0].description == "described under the decorator"
    [check] = _sample.checks
    assert await check(make_interaction(bot, make_member(ADMIN)))
    with pytest.raises(CloudCheckFailure, match="needs \\*\\*CloudAdmin\\*\\*"):
        await check(make_interaction(bot, make_member(USER)))
    with pytest.raises(app_commands.NoPrivateMessage):
        await check(make_interaction(bot, make_member(ADMIN), guild_id=None))


def test_admin_only_marks_a_group_class() -> None:
    @admin_only()
    class Sample:
        pass

    assert Sample.__discord_app_commands_guild_only__ is True
    assert Sample.__discord_app_commands_default_permissions__.manage_guild


async def test_the_seam_returns_the_bot_and_refuses_dms(bot) -> None:
    assert cloud_bot(make_interaction(bot, make_member(USER))) is bot
    with pytest.raises(TypeError, match="not a CloudBot"):
        cloud_bot(make_interaction(object(), make_member(USER)))
    assert guild_id_of(make_interaction(bot, make_member(USER))) == 1
    with pytest.raises(app_commands.NoPrivateMessage):
        guild_id_of(make_interaction(bot, make_member(USER), guild_id=None))
