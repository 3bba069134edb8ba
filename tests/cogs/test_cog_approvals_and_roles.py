"""Approval rules and Discord role mapping as members meet them: /cloud-policy add, the lobby, /cloud-role-map."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.lobby import LobbyButton, post_lobby
from cloud_engine.core import CloudOrchestrator, PolicySpec, ResourceSpec
from cloud_engine.core.models import Role, State
from tests.cloud_engine.core.test_approvals import ADMIN2, InstantDeployer
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER
from tests.fakes.bot_fixtures import bot_over
from tests.fakes.commands import invoke
from tests.fakes.discord import make_interaction, make_member

DEVOPS = 7_700
NEWCOMER = 600


def discord_role(role_id: int, name: str = "devops") -> discord.Role:
    """A real discord.py Role, as a role option or a member's role arrives."""
    return discord.Role(guild=discord.Object(id=GUILD), state=None,  # type: ignore[arg-type]
                        data={"id": str(role_id), "name": name, "permissions": "0", "position": 1, "color": 0,
                              "hoist": False, "managed": False, "mentionable": True})


def member_with_roles(user_id: int, *role_ids: int) -> Any:
    member = make_member(user_id)
    member.roles = [discord_role(GUILD, "@everyone"), *(discord_role(r) for r in role_ids)]
    return member


@pytest.fixture
async def quick_bot(settings, db, clock, channels):
    engine = CloudOrchestrator(db, settings, deployer=InstantDeployer(), clock=clock)
    for user, role in ((ADMIN, "CloudAdmin"), (ADMIN2, "CloudAdmin"), (USER, "CloudUser"), (OTHER, "CloudUser"),
                       (VIEWER, "CloudViewer")):
        await engine.grant(GUILD, ADMIN, user, role)
    async with bot_over(engine, settings, db, channels) as bot:
        yield bot, engine


async def _add_policy(bot, **options: Any) -> Any:
    interaction = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-policy add", interaction, **options)
    return interaction


async def _planned(engine: CloudOrchestrator, author: int = USER) -> int:
    project = await engine.create_project(GUILD, author, name="web", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, author)
    await engine.add_resource(session.id, author, ResourceSpec(kind="vm", name="vm-1", machine_type="e2-small"))
    assert (await engine.plan(session.id, author)).state == State.PLAN_READY
    return session.id


async def _press(bot, member: Any, action: str, session_id: int, channel) -> Any:
    press = make_interaction(bot, member, channel=channel)
    button = LobbyButton(action, session_id)
    if await button.interaction_check(press):
        await button.callback(press)
    return press


async def _lobby_field(bot, engine, message, name: str) -> str | None:
    await engine.events.drain()
    await bot.lobbies.drain()
    return next((f.value for f in message.embed.fields if f.name == name), None)


async def test_policy_add_takes_approvals_and_refuses_bad_ones_in_one_line(quick_bot) -> None:
    bot, engine = quick_bot
    wrong = await _add_policy(bot, name="two", type="cost", action="deny", max_monthly=500.0, approvals=2)
    text, _, request = wrong.response.text.partition("\n")  # one line, then the request id
    assert text.startswith("Invalid **approvals**: only a require\\_approval policy says who approves")
    assert request.startswith("-# request `")
    assert await engine.list_policies(GUILD) == []
    added = await _add_policy(bot, name="two", type="cost", action="require_approval", max_monthly=500.0, approvals=2,
                              approver_role="CloudAdmin")
    [(_, reply)] = added.response.calls
    assert "approvals" in reply["embed"].description and reply["ephemeral"]
    [policy] = await engine.list_policies(GUILD)
    assert policy.params == {"max_monthly_usd": 500.0, "approvals": 2, "approver_role": "CloudAdmin"}
    [row] = await engine.audit(GUILD, ADMIN, action="add_policy")
    assert row.actor_id == ADMIN


async def test_the_lobby_counts_two_approvals_and_says_who_may_still_approve(quick_bot, channel) -> None:
    bot, engine = quick_bot
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="two-admins", type="cost", action="require_approval",
                                                     params={"max_monthly_usd": 0, "approvals": 2}))
    session_id = await _planned(engine)
    message = await post_lobby(engine, channel, await engine.get_session(session_id))
    bot.start_background()
    assert "0 of 2 approvals" in await _lobby_field(bot, engine, message, "Approvals")
    first = await _press(bot, make_member(ADMIN), "approve", session_id, channel)
    assert "needs more before **Apply**" in first.followup.text and f"<@{ADMIN}>" in first.followup.text
    field = await _lobby_field(bot, engine, message, "Approvals")
    assert f"1 of 2 approvals: <@{ADMIN}>" in field and "(policy **two-admins**)" in field
    assert "still needs 1 more: a **CloudAdmin** other than the author may approve" in field
    assert "approve" in [i.action for i in message.view.children], "still PLAN_READY: Approve stays"
    again = await _press(bot, make_member(ADMIN), "approve", session_id, channel)
    assert "already approved this plan" in again.followup.text
    user = await _press(bot, make_member(OTHER), "approve", session_id, channel)
    assert "needs **CloudAdmin**" in user.followup.text
    second = await _press(bot, make_member(ADMIN2), "approve", session_id, channel)
    assert "its author can now **Apply**" in second.followup.text
    assert f"<@{ADMIN}>, <@{ADMIN2}>" in await _lobby_field(bot, engine, message, "Approved by")
    assert "apply" in [i.action for i in message.view.children]
    assert (await engine.get_session(session_id)).state == State.APPROVED


async def test_a_single_approval_lobby_looks_as_before(quick_bot, channel) -> None:
    bot, engine = quick_bot
    session_id = await _planned(engine)
    message = await post_lobby(engine, channel, await engine.get_session(session_id))
    bot.start_background()
    assert await _lobby_field(bot, engine, message, "Approvals") is None
    press = await _press(bot, make_member(OTHER), "approve", session_id, channel)
    assert press.followup.text == f"Approved deployment #{session_id}; its author can now **Apply**."
    assert await _lobby_field(bot, engine, message, "Approved by") == f"<@{OTHER}>"


async def test_role_map_commands_give_and_take_a_cloud_role(quick_bot) -> None:
    bot, engine = quick_bot
    mapped = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-role-map", mapped, discord_role=discord_role(DEVOPS), cloud_role="CloudUser")
    assert f"<@&{DEVOPS}> now hold at least **CloudUser**" in mapped.response.text
    listing = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-role-maps", listing)
    assert f"<@&{DEVOPS}> → **CloudUser**" in listing.response.calls[0][1]["embed"].description
    # A member without any grant, holding the Discord role, may now use a CloudUser command.
    holder = make_interaction(bot, member_with_roles(NEWCOMER, DEVOPS))
    await invoke(bot, "cloud-init", holder, name="shop", provider="sandbox", region="us-central1", budget=0.0)
    assert holder.response.calls[0][1]["embed"].title == "Project shop"
    # The member lost the role in Discord: their next interaction is refused.
    lost = make_interaction(bot, member_with_roles(NEWCOMER))
    await invoke(bot, "cloud-init", lost, name="shop2", provider="sandbox", region="us-central1", budget=0.0)
    assert "needs **CloudUser**; you have **None**" in lost.response.text
    # Given back, then unmapped: the unmap alone is enough.
    assert await engine.record_member_roles(GUILD, NEWCOMER, [DEVOPS])
    unmap = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-role-unmap", unmap, discord_role=discord_role(DEVOPS))
    assert "no longer gives a Cloud role" in unmap.response.text
    assert await engine.role(GUILD, NEWCOMER) == Role.NONE
    actions = [r.action for r in await engine.audit(GUILD, ADMIN, limit=50)]
    assert {"role_map", "role_unmap", "discord_roles.sync"} <= set(actions)


async def test_only_cloud_admins_map_roles(quick_bot) -> None:
    bot, engine = quick_bot
    attempt = make_interaction(bot, make_member(USER))
    await invoke(bot, "cloud-role-map", attempt, discord_role=discord_role(DEVOPS), cloud_role="CloudAdmin")
    assert "needs **CloudAdmin**" in attempt.response.text
    assert await engine.list_role_maps(GUILD, ADMIN) == []


async def test_a_mapped_cloud_admin_approves_from_the_lobby(quick_bot, channel) -> None:
    bot, engine = quick_bot
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="review", type="cost", action="require_approval",
                                                     params={"max_monthly_usd": 0}))
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudAdmin")
    session_id = await _planned(engine)
    await post_lobby(engine, channel, await engine.get_session(session_id))
    press = await _press(bot, member_with_roles(NEWCOMER, DEVOPS), "approve", session_id, channel)
    assert "its author can now **Apply**" in press.followup.text
    assert (await engine.get_session(session_id)).approved_by == NEWCOMER


async def test_a_deleted_discord_role_loses_its_mapping(quick_bot) -> None:
    bot, engine = quick_bot
    await engine.map_discord_role(GUILD, ADMIN, DEVOPS, "CloudAdmin")
    await engine.record_member_roles(GUILD, NEWCOMER, [DEVOPS])
    listeners = dict(bot.get_cog("AdminCog").get_listeners())
    await listeners["on_guild_role_delete"](discord_role(DEVOPS))  # what Discord's role-delete event runs
    assert await engine.role(GUILD, NEWCOMER) == Role.NONE and await engine.list_role_maps(GUILD, ADMIN) == []


FINOPS = 8_800


async def test_someone_from_a_discord_role_approves_and_the_lobby_names_the_role(quick_bot, channel) -> None:
    bot, engine = quick_bot
    added = await _add_policy(bot, name="finops-signs", type="cost", action="require_approval", max_monthly=0.0,
                              approver_discord_role=discord_role(FINOPS, "finops"))
    assert added.response.calls and (await engine.list_policies(GUILD))[0].params["approver_discord_role"] == FINOPS
    session_id = await _planned(engine)
    message = await post_lobby(engine, channel, await engine.get_session(session_id))
    bot.start_background()
    field = await _lobby_field(bot, engine, message, "Approvals")
    assert f"a **CloudUser** with the role <@&{FINOPS}> may approve" in field
    outsider = await _press(bot, member_with_roles(ADMIN2), "approve", session_id, channel)
    assert f"the Discord role <@&{FINOPS}>" in outsider.followup.text
    member = await _press(bot, member_with_roles(OTHER, FINOPS), "approve", session_id, channel)
    assert "its author can now **Apply**" in member.followup.text
    assert (await engine.get_session(session_id)).approved_by == OTHER
