"""/cloud-history and /cloud-set-budget-alert through the real cogs, real git and the real Terraform binary."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.limits import EMBED_DESCRIPTION, EMBED_TOTAL
from cloud_engine.core import ResourceSpec
from cloud_engine.core.history import HistoryEntry, ProjectLog
from cloud_engine.core.models import State
from cogs.history import history_embed
from tests.conftest import ADMIN, GUILD, USER, VIEWER
from tests.fakes.commands import invoke
from tests.fakes.discord import make_interaction, make_member


async def test_history_shows_each_apply_newest_first(bot, engine, channel) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    applied = []
    for vm in ("api-1", "api-2"):
        session = await engine.start_session(project.id, USER, purpose=f"add {vm}")
        await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name=vm, machine_type="e2-small"))
        await engine.plan(session.id, USER)
        await engine.approve(session.id, ADMIN)
        applied.append(await engine.apply(session.id, USER))
    assert [s.state for s in applied] == [State.APPLIED, State.APPLIED]
    shas = [r["commit_sha"] for r in await engine.db.fetchall("SELECT commit_sha FROM deployment_history ORDER BY id")]

    asking = make_interaction(bot, make_member(VIEWER), channel=channel)
    await invoke(bot, "cloud-history", asking, project="web")
    [sent] = asking.followup.sent
    embed = sent["embed"]
    assert sent["ephemeral"] and embed.title == "History of project web"
    blocks = embed.description.split("\n\n")
    assert len(blocks) == 3  # two applies and the root's first commit
    newest, older, initial = blocks
    assert newest.startswith(f"`{shas[1][:7]}` · session #{applied[1].id} by <@{USER}> · <t:")
    assert f"🏷 apply-{applied[1].id}" in newest and newest.endswith("(add api-2)")
    assert older.startswith(f"`{shas[0][:7]}` · session #{applied[0].id} by <@{USER}>")
    assert "no session" in initial and "Initialise project workspace" in initial
    assert embed.footer.text == "3 commit(s), newest first · no remote (PROJECT_GIT_REMOTE unset)"

    one = make_interaction(bot, make_member(VIEWER), channel=channel)
    await invoke(bot, "cloud-history", one, project="web", limit=1)
    assert len(one.followup.sent[0]["embed"].description.split("\n\n")) == 1


async def test_history_needs_a_viewer_and_names_a_missing_project(bot, engine, channel) -> None:
    stranger = make_interaction(bot, make_member(999_999), channel=channel)
    await invoke(bot, "cloud-history", stranger, project="web")
    assert "needs **CloudViewer**" in stranger.response.text + stranger.followup.text
    viewer = make_interaction(bot, make_member(VIEWER), channel=channel)
    await invoke(bot, "cloud-history", viewer, project="nope")
    assert "nope" in viewer.response.text + viewer.followup.text


def test_a_long_history_stays_inside_discords_limits() -> None:
    entries = [HistoryEntry(sha=f"{i:040x}", date=datetime(2026, 1, 1, tzinfo=UTC), summary="x" * 3000,
                            session_id=i, author_id=10**17 + i, tags=(f"apply-{i}",)) for i in range(25)]
    found = ProjectLog(project="p" * 63, project_id=1, entries=entries, remote="git@example.com:acme/" + "r" * 300)
    embed = history_embed(found)
    assert len(embed.description or "") <= EMBED_DESCRIPTION and len(embed) <= EMBED_TOTAL
    shown = len((embed.description or "").split("\n\n"))
    assert 0 < shown < 25 and f"({25 - shown} more not shown)" in (embed.footer.text or "")


async def test_set_budget_alert_is_for_admins_and_audited(bot, engine, channel) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1",
                                          budget_monthly=100)
    user = make_interaction(bot, make_member(USER), channel=channel)
    await invoke(bot, "cloud-set-budget-alert", user, project="web", percent=90)
    assert "needs **CloudAdmin**" in user.response.text + user.followup.text
    admin = make_interaction(bot, make_member(ADMIN), channel=channel)
    await invoke(bot, "cloud-set-budget-alert", admin, project="web", percent=90)
    assert admin.response.text == ("Project **web** now alerts at 90 % of its budget "
                                   "(thresholds: 50 %, 80 %, 90 %, 100 %).")
    again = make_interaction(bot, make_member(ADMIN), channel=channel)
    await invoke(bot, "cloud-set-budget-alert", again, project="web", percent=90)
    assert again.response.text.startswith("Project **web** already alerts at 90 %")
    assert (await engine.get_project(project.id)).alert_thresholds == [50, 80, 90, 100]
    rows = await engine.db.fetchall("SELECT actor_id FROM audit_log WHERE action = 'budget_alert.set'")
    assert [r["actor_id"] for r in rows] == [ADMIN, ADMIN]
