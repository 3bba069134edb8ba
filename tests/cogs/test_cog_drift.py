"""/cloud-drift and its buttons through the real cogs, with the real Terraform binary."""

from __future__ import annotations

from pathlib import Path

from bot.custom_ids import DriftAction
from bot.drift_views import DismissModal, DriftButton
from cloud_engine.core import ResourceSpec
from cloud_engine.core.models import State
from tests.cloud_engine.core.test_drift import _forget_out_of_band
from tests.conftest import ADMIN, GUILD, USER
from tests.fakes.commands import invoke as invoke_command
from tests.fakes.discord import make_interaction, make_member


async def invoke(bot, interaction, **kwargs) -> None:
    await invoke_command(bot, "cloud-drift", interaction, **kwargs)


async def _drifted(engine, settings) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="api-1", machine_type="e2-small"))
    await engine.plan(session.id, ADMIN)
    await engine.approve(session.id, ADMIN)
    assert (await engine.apply(session.id, ADMIN)).state == State.APPLIED
    _forget_out_of_band(Path(settings.terraform_runs_dir) / str(project.id), "vm__api-1")


async def test_a_drift_is_posted_with_buttons_and_reconcile_opens_a_lobby(bot, engine, settings, channel) -> None:
    await _drifted(engine, settings)
    asking = make_interaction(bot, make_member(USER), channel=channel)
    await invoke(bot, asking, project="web")
    [finding] = channel.sent
    assert finding.content.startswith("⚠️ Drift in project **web** (report #1): 1 resource(s) no longer match")
    assert [item.custom_id for item in finding.view.children] == ["ce:drift:reconcile:1", "ce:drift:dismiss:1"]
    assert asking.followup.text.startswith("Drift found: ")

    pressing = make_interaction(bot, make_member(USER), channel=channel)
    await DriftButton(DriftAction.RECONCILE, 1).callback(pressing)
    lobby = channel.sent[-1]
    [session] = [s for s in await engine.list_sessions(GUILD, user_id=USER)]
    assert session.purpose == "reconcile drift #1" and session.message_id == lobby.id
    assert [r.name for r in (await engine.get_session(session.id)).resources] == ["api-1"]
    assert "re-applies the project's desired configuration" in pressing.followup.text


async def test_dismiss_is_for_admins_and_asks_why(bot, engine, settings, channel) -> None:
    await _drifted(engine, settings)
    await engine.drift.check(GUILD, ADMIN, "web")
    user = make_interaction(bot, make_member(USER), channel=channel)
    await DriftButton(DriftAction.DISMISS, 1).callback(user)
    assert "needs **CloudAdmin**" in (user.response.text + user.followup.text)
    admin = make_interaction(bot, make_member(ADMIN), channel=channel)
    await DriftButton(DriftAction.DISMISS, 1).callback(admin)
    [(kind, sent)] = admin.response.calls
    assert kind == "send_modal" and isinstance(sent["modal"], DismissModal)
    modal = sent["modal"]
    modal.reason._value = "removed on purpose"
    submitted = make_interaction(bot, make_member(ADMIN), channel=channel)
    await modal.on_submit(submitted)
    assert submitted.response.text == "Dismissed drift report #1: removed on purpose"
    assert (await engine.drift.get(GUILD, 1)).status == "dismissed"


async def test_a_clean_project_says_so(bot, engine, channel) -> None:
    await engine.create_project(GUILD, ADMIN, name="empty", provider="gcp", region="us-central1")
    asking = make_interaction(bot, make_member(USER), channel=channel)
    await invoke(bot, asking, project="empty")
    assert asking.followup.text == "Project **empty** has applied nothing yet: there is nothing to drift from."
    assert channel.sent == []
