"""Commands driven like Discord would: checks first, then the callback, against a real engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.converters import parse_duration
from bot.errors import CloudCheckFailure, handle_app_command_error
from cloud_engine.core.models import Role, State
from cloud_engine.errors import InvalidInput
from tests.conftest import ADMIN, GUILD, USER, VIEWER
from tests.fakes.commands import invoke
from tests.fakes.discord import make_interaction, make_member


async def test_init_then_deploy_posts_a_lobby_in_the_channel(bot, engine, channel) -> None:
    init = make_interaction(bot, make_member(USER), channel=channel)
    await invoke(bot, "cloud-init", init, name="shop", provider="sandbox", region="us-central1", budget=100.0)
    [(kind, card)] = init.response.calls
    assert kind == "send_message" and card["embed"].title == "Project shop" and not card.get("ephemeral")
    deploy = make_interaction(bot, make_member(USER), channel=channel)
    await invoke(bot, "cloud-deploy", deploy, project="shop")
    lobby = channel.sent[-1]
    assert lobby.embed.title.endswith("shop") and [i.action for i in lobby.view.children][0] == "add"
    [session] = await engine.list_sessions(GUILD, user_id=USER)
    assert (session.channel_id, session.message_id, session.state) == (channel.id, lobby.id, State.DRAFT)
    assert lobby.jump_url in deploy.followup.text


async def test_viewer_cannot_deploy_and_the_refusal_is_audited(bot, engine, channel) -> None:
    await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    attempt = make_interaction(bot, make_member(VIEWER), channel=channel)
    await invoke(bot, "cloud-deploy", attempt, project="shop")
    assert "CloudUser" in attempt.response.text and attempt.response.calls[0][1]["ephemeral"]
    assert channel.sent == []
    assert (await engine.audit(GUILD, ADMIN, action="refused"))[0].actor_id == VIEWER


async def test_discord_administrators_become_cloud_admins(bot, engine) -> None:
    newcomer = make_interaction(bot, make_member(999, administrator=True))
    await invoke(bot, "cloud-stats", newcomer)
    assert await engine.role(GUILD, 999) == Role.ADMIN
    assert newcomer.response.calls[0][1]["embed"].title == "Cloud Engine stats"


async def test_grant_with_duration_is_just_in_time(bot, engine, clock) -> None:
    grant = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-grant", grant, user=make_member(555), role="CloudUser", duration=timedelta(hours=2))
    assert await engine.role(GUILD, 555) == Role.USER
    clock.advance(hours=3)
    assert await engine.role(GUILD, 555) == Role.NONE


async def test_engine_errors_become_short_replies_with_a_request_id(bot, engine) -> None:
    attempt = make_interaction(bot, make_member(USER))
    await invoke(bot, "cloud-init", attempt, name="shop", provider="aws", region="mars-1", budget=0.0)
    text = attempt.response.text
    assert "Invalid **region**" in text and "request `" in text and "Traceback" not in text


@pytest.mark.parametrize("name", ["Web_Shop", "shop"])  # an invalid name, and one already taken
async def test_init_refusals_are_ephemeral_and_nothing_is_public(bot, engine, channel, name) -> None:
    await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    attempt = make_interaction(bot, make_member(USER), channel=channel)
    await invoke(bot, "cloud-init", attempt, name=name, provider="sandbox", region="us-central1", budget=0.0)
    [(kind, reply)] = attempt.response.calls  # answered directly: no public "thinking" message to inherit
    assert kind == "send_message" and reply["ephemeral"] and "Invalid **name**" in reply["content"]
    assert "embed" not in reply and attempt.followup.sent == [] and channel.sent == []


async def test_unexpected_errors_get_an_incident_id_and_no_stack_trace(bot, caplog) -> None:
    attempt = make_interaction(bot, make_member(USER))
    await handle_app_command_error(attempt, RuntimeError("database exploded at line 3"))
    text = attempt.response.text
    assert "Incident id" in text and "exploded" not in text
    assert any(r.exc_info for r in caplog.records)


async def test_check_failures_are_refusals(bot) -> None:
    attempt = make_interaction(bot, make_member(USER))
    await handle_app_command_error(attempt, CloudCheckFailure("Not for you."))
    assert attempt.response.text.startswith("Not for you.")


def test_durations() -> None:
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    for bad in ("", "2x", "soon", "0m", "100d"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)


async def test_a_long_error_is_cut_before_its_request_id(bot) -> None:
    from bot.limits import MESSAGE

    attempt = make_interaction(bot, make_member(USER))
    await invoke(bot, "cloud-costs", attempt, project="p" * 3000)
    [sent] = attempt.followup.sent
    rid = attempt.extras["request_id"]
    assert sent["ephemeral"] and len(sent["content"]) <= MESSAGE
    assert sent["content"].startswith("Not found: project `") and sent["content"].endswith(f"…`.\n-# request `{rid}`")


async def test_policy_remove_echoes_a_long_or_hostile_name_safely(bot) -> None:
    from bot.limits import MESSAGE

    remove = bot.tree.get_command("cloud-policy").get_command("remove")
    for name in ("x" * 2500, "`@everyone` [a](https://evil.example)"):
        asking = make_interaction(bot, make_member(ADMIN))
        asking.command = remove
        for check in remove.checks:
            await check(asking)
        await remove.callback(remove.binding, asking, name=name)
        [(kind, sent)] = asking.response.calls
        assert kind == "send_message" and sent["ephemeral"] and len(sent["content"]) <= MESSAGE
        assert sent["content"].startswith("No policy named **") and "@everyone" not in sent["content"]
    assert len(sent["content"]) < 120 and "\\`@\u200beveryone\\` \\[a]" in sent["content"]


async def test_a_refusal_longer_than_a_message_keeps_its_request_id(bot) -> None:
    from bot.limits import MESSAGE
    from cloud_engine.errors import PolicyViolation

    attempt = make_interaction(bot, make_member(USER))
    await handle_app_command_error(attempt, PolicyViolation(policy="p" * 1500, detail="d" * 1500))
    text = attempt.response.text
    assert len(text) == MESSAGE and text.startswith("Blocked by policy **ppp")
    assert text.endswith(f"…\n-# request `{attempt.extras['request_id']}`"), "the body is cut, never the id"
