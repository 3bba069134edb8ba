"""Who sees what outside the lobby: autocomplete, "Deploy this", /cloud-health, and a lobby Discord refuses."""

from __future__ import annotations

import json

import discord

from bot import autocomplete
from bot.advice_views import AdviceView, ProjectPicker
from cloud_engine.ai.schemas import AdviceAnswer, AdviceRequest
from cloud_engine.core.models import Role, State
from tests.cogs.test_cog_commands import invoke
from tests.conftest import ADMIN, GUILD, USER, VIEWER
from tests.fakes.discord import http_error, make_interaction, make_member

NOBODY = 9999  # a member with no Cloud role
NEEDED = ("View Channel", "Send Messages", "Embed Links", "Create Public Threads", "Send Messages in Threads")


async def _project_with_a_resource(engine, db):
    project = await engine.create_project(GUILD, USER, name="secret-proj", provider="sandbox", region="us-central1")
    spec = {"kind": "vm", "name": "web-1", "machine_type": "e2-small", "region": "us-central1", "disk_gb": 30}
    await db.execute("INSERT INTO project_resources (project_id, kind, name, spec, cost_monthly, session_id, updated_at)"
                     " VALUES (?, 'vm', 'web-1', ?, 14.0, NULL, '2026-11-01T00:00:00+00:00')", (project.id, json.dumps(spec)))
    await engine.start_session(project.id, USER)
    return project


async def _rules_answer(bot) -> AdviceAnswer:
    """What /cloud-advise shows under a "Deploy this" button, from the rules engine (no keys, no network)."""
    advisor = await bot.services.advisor()
    request = AdviceRequest(use_case="web app with postgres for a small shop", provider="gcp", budget="low",
                            model="rules")
    return await advisor.advise(request, guild_id=GUILD)


async def _all_choices(bot, member, *, guild_id: int | None = GUILD) -> dict[str, list[str]]:
    typing = make_interaction(bot, member, guild_id=guild_id, namespace={"project": "secret-proj", "provider": "gcp"})
    return {name: [c.name for c in await getattr(autocomplete, name)(typing, "")]
            for name in ("projects", "regions", "resources", "commits", "sessions")}


async def test_autocomplete_offers_nothing_without_a_cloud_role(bot, engine, db) -> None:
    await _project_with_a_resource(engine, db)
    assert await _all_choices(bot, make_member(NOBODY)) == dict.fromkeys(
        ("projects", "regions", "resources", "commits", "sessions"), [])
    assert all(v == [] for v in (await _all_choices(bot, make_member(USER), guild_id=None)).values()), "not in DMs"
    viewer = await _all_choices(bot, make_member(VIEWER))
    assert viewer["projects"] == ["secret-proj (sandbox us-central1)"] and viewer["regions"]
    assert viewer["resources"] == ["vm/web-1 ($14.00/mo)"]
    assert (await _all_choices(bot, make_member(USER)))["sessions"], "the author sees their own sessions"


async def test_autocomplete_syncs_discord_admins_and_never_raises(bot, engine, db) -> None:
    await _project_with_a_resource(engine, db)
    assert (await _all_choices(bot, make_member(555, administrator=True)))["projects"] == [
        "secret-proj (sandbox us-central1)"]
    assert await engine.role(GUILD, 555) == Role.ADMIN

    async def broken(*_, **__):
        raise RuntimeError("database is locked")

    engine.list_projects = broken
    assert await autocomplete.projects(make_interaction(bot, make_member(USER)), "") == []
    engine.role = broken
    assert await autocomplete.regions(make_interaction(bot, make_member(USER)), "") == []


async def test_deploy_this_is_refused_without_cloud_user_and_audited(bot, engine, channel) -> None:
    await engine.create_project(GUILD, USER, name="secret-proj", provider="sandbox", region="us-central1")
    view = AdviceView([await _rules_answer(bot)])
    for user_id, role in ((NOBODY, "None"), (VIEWER, "CloudViewer")):
        press = make_interaction(bot, make_member(user_id), channel=channel)
        assert await view.interaction_check(press) is False
        [(name, kwargs)] = press.response.calls
        assert name == "send_message" and kwargs["ephemeral"] and "view" not in kwargs, "no project picker"
        assert f"**Deploy this** needs **CloudUser**; you have **{role}**" in kwargs["content"]
        assert "secret-proj" not in kwargs["content"]
    refused = await engine.audit(GUILD, ADMIN, action="refused")
    assert {r.actor_id for r in refused} >= {NOBODY, VIEWER}
    press = make_interaction(bot, make_member(USER), channel=channel)
    assert await view.interaction_check(press) and press.response.calls == []


async def test_cloud_health_is_for_cloud_admins_only(bot) -> None:
    user = make_interaction(bot, make_member(USER))
    await invoke(bot, "cloud-health", user)
    assert "needs **CloudAdmin**; you have **CloudUser**" in user.response.text
    assert user.followup.sent == [], "no host stats or Terraform path"
    in_dm = make_interaction(bot, make_member(ADMIN), guild_id=None)
    await invoke(bot, "cloud-health", in_dm)
    assert "inside a server" in in_dm.response.text
    admin = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-health", admin)
    [sent] = admin.followup.sent
    assert sent["ephemeral"] and sent["embed"].title == "Cloud Engine health"


async def test_deploy_where_the_bot_may_not_post_names_the_permissions_and_cancels(bot, engine, channel) -> None:
    await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    channel.fail_with = http_error(403, "Missing Permissions")  # Discord refuses the lobby message
    deploy = make_interaction(bot, make_member(USER), channel=channel)
    deploy.app_permissions = discord.Permissions(view_channel=True, send_messages=True)
    await invoke(bot, "cloud-deploy", deploy, project="shop")
    [sent] = deploy.followup.sent
    assert sent["ephemeral"] and "went wrong" not in sent["content"]
    assert all(f"**{name}**" in sent["content"] for name in NEEDED)
    assert "Missing here: **Embed Links**, **Create Public Threads**, **Send Messages in Threads**." in sent["content"]
    [session] = await engine.list_sessions(GUILD, user_id=USER)
    assert session.state == State.CANCELLED and f"#{session.id} was cancelled" in sent["content"]
    assert session.message_id is None


async def test_rollback_where_the_bot_may_not_post_cancels_too(bot, engine, db, channel) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    channel.fail_with = http_error(403, "Missing Access")
    attempt = make_interaction(bot, make_member(USER), channel=channel)
    cog = bot.get_cog("DeployCog")
    session = await engine.start_session(project.id, USER)

    async def rollback(project_id, user_id, commit):  # the engine's rollback needs an applied history
        return session

    engine.rollback = rollback
    await cog.rollback.callback(cog, attempt, project="shop", commit="a" * 40)
    assert all(f"**{name}**" in attempt.followup.text for name in NEEDED)
    assert (await engine.get_session(session.id)).state == State.CANCELLED


async def test_deploy_this_where_the_bot_may_not_post_cancels_the_session(bot, engine, channel) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    press = make_interaction(bot, make_member(USER), channel=channel)
    await AdviceView([await _rules_answer(bot)]).children[0].callback(press)
    picker: ProjectPicker = press.response.calls[0][1]["view"]
    channel.fail_with = http_error(403, "Missing Permissions")
    choose = make_interaction(bot, make_member(USER), channel=channel)
    picker.select._values = [str(project.id)]  # noqa: SLF001 - what Discord fills in from the interaction
    await picker.select.callback(choose)
    assert all(f"**{name}**" in choose.followup.text for name in NEEDED) and "went wrong" not in choose.followup.text
    [session] = await engine.list_sessions(GUILD, user_id=USER)
    assert session.state == State.CANCELLED
