"""Lobby buttons: which show in each state, who may press them, and routing after a restart."""

from __future__ import annotations

import pytest

from bot.bot import create_bot
from bot.lobby import HANDLERS, LobbyButton, lobby_actions, lobby_view, post_lobby
from cloud_engine.core import ResourceSpec
from cloud_engine.core.models import Role, State
from cloud_engine.services import Services
from cloud_engine.store import Database
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER
from tests.fakes.bot_fixtures import wire_fake_channels
from tests.fakes.discord import make_interaction, make_member

EXPECTED = {
    State.DRAFT: ["add", "remove", "validate", "plan", "cancel"],
    State.VALIDATING: ["cancel"],
    State.PLANNING: ["plan", "cancel"],
    State.PLAN_READY: ["add", "remove", "review", "approve", "reject", "cancel"],
    State.APPROVED: ["review", "apply", "cancel"],
    State.APPLYING: ["cancel"],
    State.APPLIED: [], State.FAILED: [], State.CANCELLED: [], State.EXPIRED: [],
}


async def _session(engine, *, with_vm: bool = True):
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1",
                                          budget_monthly=500)
    session = await engine.start_session(project.id, USER)
    if with_vm:
        await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="web-1", machine_type="e2-small"))
    return await engine.get_session(session.id)


def _actions(view) -> list[str]:
    return [item.action for item in view.children]


@pytest.mark.parametrize("state", list(State))
async def test_buttons_match_each_state(engine, state: State) -> None:
    session = (await _session(engine)).model_copy(update={"state": state})
    view = lobby_view(session)
    assert _actions(view) == EXPECTED[state]
    assert view.timeout is None, "lobby views are persistent"
    for item in view.children:
        assert item.custom_id == f"ce:lobby:{item.action}:{session.id}"
    if state == State.APPLYING:
        assert view.children[0].item.label == "Stop apply"


def test_a_running_plan_hides_the_plan_button() -> None:
    assert "plan" not in lobby_actions(State.PLANNING, running=True)
    assert set(HANDLERS) >= {a for actions in EXPECTED.values() for a in actions}


async def test_viewer_pressing_apply_is_refused_and_audited(bot, engine) -> None:
    session = await _session(engine)
    press = make_interaction(bot, make_member(VIEWER))
    allowed = await LobbyButton("apply", session.id).interaction_check(press)
    assert allowed is False
    name, kwargs = press.response.calls[0]
    assert name == "send_message" and kwargs["ephemeral"] is True and "CloudUser" in kwargs["content"]
    rows = await engine.audit(GUILD, ADMIN, action="refused")
    assert rows and rows[0].actor_id == VIEWER and str(rows[0].target_id) == str(session.id)


async def test_someone_elses_lobby_is_refused_but_approve_is_open_to_users(bot, engine) -> None:
    session = await _session(engine)
    other = make_interaction(bot, make_member(OTHER))
    assert await LobbyButton("cancel", session.id).interaction_check(other) is False
    assert "only they or a CloudAdmin" in other.response.text
    assert await LobbyButton("approve", session.id).interaction_check(make_interaction(bot, make_member(OTHER)))
    assert await LobbyButton("cancel", session.id).interaction_check(make_interaction(bot, make_member(ADMIN)))
    assert (await engine.get_session(session.id)).state == State.DRAFT, "a check changes nothing"


async def test_a_discord_admins_first_lobby_press_works(bot, engine, channel) -> None:
    session = await _session(engine)
    owner = make_member(555, administrator=True)  # Discord Administrator who never ran a slash command
    press = make_interaction(bot, owner, channel=channel)
    item = LobbyButton("cancel", session.id)
    assert await item.interaction_check(press), press.response.text
    assert await engine.role(GUILD, 555) == Role.ADMIN, "synced as slash-command checks do"
    await item.callback(press)
    assert (await engine.get_session(session.id)).state == State.CANCELLED
    plain = make_interaction(bot, make_member(556), channel=channel)  # no role, not a Discord admin
    assert await LobbyButton("cancel", session.id).interaction_check(plain) is False
    assert "you have **None**" in plain.response.text


async def test_buttons_route_after_a_restart(bot, engine, settings, channel, channels) -> None:
    session = await _session(engine)
    await post_lobby(engine, channel, session)
    custom_id = lobby_view(await engine.get_session(session.id)).children[-1].custom_id  # cancel

    db2 = await Database.open(settings.database_path)  # a new process: new bot, same database
    services2 = await Services.open(settings)
    try:
        bot2 = create_bot(services2)
        await bot2.load_cogs()
        wire_fake_channels(bot2, channels)
        store = bot2._connection._view_store._dynamic_items
        pattern = next(p for p, cls in store.items() if cls is LobbyButton)
        match = pattern.fullmatch(custom_id)
        assert match is not None
        press = make_interaction(bot2, make_member(USER))
        item = await LobbyButton.from_custom_id(press, LobbyButton("cancel", 0).item, match)
        assert (item.action, item.session_id) == ("cancel", session.id)
        assert await item.interaction_check(press)
        await item.callback(press)
        assert (await services2.engine.get_session(session.id)).state == State.CANCELLED
        assert "CANCELLED" in press.followup.text
    finally:
        await services2.close()
        await db2.close()


async def test_lobby_is_re_rendered_on_engine_events(bot, engine, channel) -> None:
    session = await _session(engine)
    message = (await post_lobby(engine, channel, session))
    bot.start_background()
    await engine.validate(session.id, USER)
    await engine.events.drain()
    await bot.lobbies.drain()
    assert message.edits, "the stored lobby message was edited"
    assert "PLANNING" in message.embed.description
    assert _actions(message.view) == ["plan", "cancel"]


async def test_sandbox_is_said_plainly(engine) -> None:
    from bot import embeds

    session = await _session(engine)
    embed = embeds.lobby(session, await engine.get_project(session.project_id))
    assert "SANDBOX" in embed.description and "nothing is created in a real cloud" in embed.description
    assert "web-1" in embed.fields[0].value
