"""/cloud-advise, its "Deploy this" flow and /cloud-review, driven like Discord would against a real engine."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.advice_views import AdviceView, ProjectPicker
from bot.bot import CloudBot
from bot.limits import EMBED_FIELDS, EMBED_TOTAL
from cloud_engine.core.models import State
from tests.cogs.test_cog_commands import invoke
from tests.conftest import GUILD, USER
from tests.fakes.discord import make_interaction, make_member

EXTRA = ("cogs.advise", "cogs.finops")


@pytest.fixture
async def ai_bot(bot: CloudBot) -> AsyncIterator[CloudBot]:
    """The real bot with the advisor and FinOps cogs loaded too (bot.EXTENSIONS may not list them yet)."""
    for name in EXTRA:
        if name not in bot.extensions:
            await bot.load_extension(name)
    yield bot
    finops = bot.services._extras.get("finops")  # noqa: SLF001 - close the DuckDB ledger the test opened
    if finops is not None:
        await finops.close()


def _param(command, name):
    return next(p for p in command.parameters if p.name == name)


async def test_advise_and_review_parameters_and_unique_names(ai_bot) -> None:
    found = {c.name: c for c in ai_bot.tree.get_commands()}
    advise = found["cloud-advise"]
    assert [p.name for p in advise.parameters] == ["use_case", "provider", "budget", "security", "compliance",
                                                   "model", "compare"]
    assert [c.value for c in _param(advise, "provider").choices] == ["any", "gcp", "aws", "azure"]
    assert [c.value for c in _param(advise, "budget").choices] == ["low", "medium", "high"]
    assert [c.value for c in _param(advise, "security").choices] == ["standard", "enhanced", "compliance"]
    assert [c.value for c in _param(advise, "compliance").choices] == ["none", "HIPAA", "GDPR", "PCI-DSS", "SOX"]
    assert _param(advise, "model").autocomplete and not _param(advise, "compare").required
    assert [p.name for p in found["cloud-review"].parameters] == ["session"]
    names = [c.qualified_name for c in ai_bot.tree.walk_commands()]
    assert len(names) == len(set(names)) and "cloud-costs" in names and "cloud-finops-costs" in names


async def test_model_choices_include_auto_rules_and_say_why_models_are_unavailable(ai_bot) -> None:
    cog = ai_bot.get_cog("AdviseCog")
    choices = await cog.model_choices(make_interaction(ai_bot, make_member(USER)), "")
    values = [c.value for c in choices]
    assert values[0] == "auto" and "rules" in values
    groq = next(c for c in choices if c.value.startswith("groq:"))
    assert "unavailable: set GROQ_API_KEY" in groq.name


async def advise_with_rules(ai_bot, channel, **options):
    asking = make_interaction(ai_bot, make_member(USER), channel=channel)
    await invoke(ai_bot, "cloud-advise", asking, use_case="web app with postgres for a small shop",
                 **{"provider": "gcp", "budget": "low", "model": "rules", **options})
    return asking


async def test_rules_answer_renders_within_discord_limits_with_a_deploy_button(ai_bot, channel) -> None:
    asking = await advise_with_rules(ai_bot, channel)
    assert asking.response.calls[0] == ("defer", {"ephemeral": True, "thinking": True}), "errors stay private"
    asking.edit_original_response.assert_awaited_once()  # the private "thinking" message is finished first...
    [sent] = asking.followup.sent
    assert not sent.get("ephemeral"), "...so the advice itself is a public followup"
    embed: discord.Embed = sent["embed"]
    assert len(embed) <= EMBED_TOTAL and len(embed.fields) <= EMBED_FIELDS
    names = [f.name for f in embed.fields]
    assert names[:4] == ["Requirements", "Architecture", "Cost", "Security"]
    assert any(n.startswith("Resources (") for n in names) and "Guardrails" in names and "Sources" in names
    assert "/mo" in embed.fields[4].value and embed.footer.text.startswith("written by rules engine")
    assert [b.label for b in sent["view"].children] == ["Deploy this"]


async def test_a_failure_after_the_defer_is_private_and_posts_nothing(ai_bot, channel) -> None:
    from tests.fakes.discord import http_error

    asking = make_interaction(ai_bot, make_member(USER), channel=channel)
    asking.edit_original_response.side_effect = http_error(500, "Internal Server Error")  # fails after the advisor
    await invoke(ai_bot, "cloud-advise", asking, use_case="web app with postgres for a small shop", model="rules")
    assert asking.response.calls == [("defer", {"ephemeral": True, "thinking": True})]
    [error] = asking.followup.sent  # the first followup takes the deferred message's visibility: ephemeral
    assert error["ephemeral"] and "Incident id" in error["content"] and "embed" not in error
    assert channel.sent == []


async def test_invalid_use_case_is_a_short_refusal(ai_bot, channel) -> None:
    asking = make_interaction(ai_bot, make_member(USER), channel=channel)
    await invoke(ai_bot, "cloud-advise", asking, use_case="??")
    assert "must describe the use case in words" in asking.response.text and asking.followup.sent == []


async def test_deploy_this_creates_a_session_with_the_recommended_resources(ai_bot, engine, channel) -> None:
    await engine.create_project(GUILD, USER, name="legacy", provider="aws", region="us-east-1")
    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    asking = await advise_with_rules(ai_bot, channel)
    view: AdviceView = asking.followup.sent[0]["view"]

    press = make_interaction(ai_bot, make_member(USER), channel=channel)
    await view.children[0].callback(press)
    name, kwargs = press.response.calls[0]
    picker: ProjectPicker = kwargs["view"]
    assert kwargs["ephemeral"] and [o.label for o in picker.select.options] == ["shop"]  # the aws project is not offered

    choose = make_interaction(ai_bot, make_member(USER), channel=channel)
    picker.select._values = [str(project.id)]  # noqa: SLF001 - what Discord fills in from the interaction
    await picker.select.callback(choose)
    [session] = await engine.list_sessions(GUILD, user_id=USER)
    session = await engine.get_session(session.id)
    answer_specs = {(r.spec.kind, r.spec.name) for r in view.answers[0].resources}
    assert session.state == State.DRAFT and {(r.kind, r.name) for r in session.resources} == answer_specs
    lobby = channel.sent[-1]
    assert lobby.embed.title.startswith(f"Deployment #{session.id}") and lobby.jump_url in choose.followup.text


async def test_deploy_this_without_a_compatible_project_says_how_to_make_one(ai_bot, channel) -> None:
    asking = await advise_with_rules(ai_bot, channel)
    press = make_interaction(ai_bot, make_member(USER), channel=channel)
    await asking.followup.sent[0]["view"].children[0].callback(press)
    assert "/cloud-init" in press.response.text and channel.sent == []


async def test_compare_sends_one_answer_per_message(ai_bot, channel) -> None:
    asking = await advise_with_rules(ai_bot, channel, compare=True)
    assert len(asking.followup.sent) >= 1
    assert all(len(s["embed"]) <= EMBED_TOTAL and s["view"].children for s in asking.followup.sent)


async def test_review_before_planning_is_refused_clearly(ai_bot, engine, channel) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    session = await engine.start_session(project.id, USER)
    asking = make_interaction(ai_bot, make_member(USER), channel=channel)
    await invoke(ai_bot, "cloud-review", asking, session=session.id)
    assert "plan it first" in asking.followup.text


async def test_review_of_another_servers_session_is_not_found(ai_bot, engine, channel) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    session = await engine.start_session(project.id, USER)
    asking = make_interaction(ai_bot, make_member(USER), channel=channel, guild_id=2)
    await engine.grant(2, USER, USER, "CloudViewer")
    await invoke(ai_bot, "cloud-review", asking, session=session.id)
    assert "Not found" in (asking.followup.text + asking.response.text)


async def test_lobby_review_button_shows_the_plan_review_to_an_approver(ai_bot, engine, channel) -> None:
    from bot.lobby import LobbyButton, lobby_view
    from cloud_engine.core import ResourceSpec
    from tests.conftest import OTHER

    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1",
                                          budget_monthly=500)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="bucket", name="assets"))
    session = await engine.plan(session.id, USER)
    assert session.state == State.PLAN_READY, session.error
    assert "review" in [item.action for item in lobby_view(session).children]

    press = make_interaction(ai_bot, make_member(OTHER), channel=channel)  # someone else, e.g. the approver
    button = LobbyButton("review", session.id)
    assert await button.interaction_check(press)
    await button.callback(press)
    [sent] = press.followup.sent
    assert sent["ephemeral"] and sent["embed"].title == f"Plan review · deployment #{session.id}"
    fields = {f.name: f.value for f in sent["embed"].fields}
    assert fields["Monthly cost"].endswith("of $500.00"), "the review prices the plan against the budget"
    assert any("MISSING_TAGS" in name and "google_storage_bucket.assets" in name for name in fields), \
        "an untagged bucket is flagged at its address in the provider HCL, not the sandbox mirror's"
    assert "gcp.main.hcl:" in str(fields), "evidence points into the HCL users are shown"
    assert "Plan: 1 to add, 0 to change" in sent["embed"].description, "counted in user resources"
    assert (await engine.get_session(session.id)).state == State.PLAN_READY, "a review changes nothing"


async def test_expired_deploy_buttons_are_greyed_out_and_say_so(ai_bot, channel) -> None:
    from bot.expiring import EXPIRED_NOTE
    from bot.limits import FOLLOWUP_SECONDS

    asking = await advise_with_rules(ai_bot, channel)
    view: AdviceView = asking.followup.sent[0]["view"]
    assert view.timeout is not None and view.timeout < FOLLOWUP_SECONDS, "expires while the token can still edit"
    await view.on_timeout()  # what discord.py calls when the timeout passes
    [message] = asking.followup.messages
    assert message.edits and message.edits[-1]["view"] is view
    assert all(item.disabled for item in view.children)
    assert message.content.endswith(EXPIRED_NOTE)
