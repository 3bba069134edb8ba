"""/cloud-locks, /cloud-unlock and /cloud-audit export: driven like Discord would, against a real engine."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import discord
import pytest

from bot import embeds
from bot.limits import ATTACHMENT, attachment_limit, safe
from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.core.models import State
from cloud_engine.core.records import AuditEntry
from cloud_engine.store.audit_chain import verify_chain
from tests.cogs.test_cog_commands import invoke
from tests.conftest import ADMIN, GUILD, USER, VIEWER
from tests.fakes.deployers import InstantDeployer
from tests.fakes.discord import make_interaction, make_member


@pytest.fixture
async def planned(bot, engine: CloudOrchestrator) -> int:
    engine._deployer = InstantDeployer()
    project = await engine.create_project(GUILD, USER, name="shop", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="vm-1", machine_type="e2-small"))
    assert (await engine.plan(session.id, USER)).state == State.PLAN_READY
    return session.id


async def test_locks_are_listed_for_viewers(bot, planned) -> None:
    ask = make_interaction(bot, make_member(VIEWER))
    await invoke(bot, "cloud-locks", ask)
    [(kind, reply)] = ask.response.calls
    assert kind == "send_message" and reply["ephemeral"]
    text = reply["embed"].description
    assert "**shop**" in text and f"deployment #{planned}" in text and f"<@{USER}>" in text and "PLAN_READY" in text


async def test_unlock_is_for_admins_and_ends_the_holder_with_the_reason(bot, engine, planned) -> None:
    attempt = make_interaction(bot, make_member(USER))
    await invoke(bot, "cloud-unlock", attempt, project="shop", reason="mine")
    assert "CloudAdmin" in attempt.response.text
    assert (await engine.get_session(planned)).state == State.PLAN_READY
    admin = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-unlock", admin, project="shop", reason="stale since Friday")
    assert "Released the lock on **shop**" in admin.followup.text and "**CANCELLED**" in admin.followup.text
    assert admin.followup.sent[0]["ephemeral"]
    assert (await engine.get_session(planned)).state == State.CANCELLED
    empty = make_interaction(bot, make_member(VIEWER))
    await invoke(bot, "cloud-locks", empty)
    assert "No project is locked." in empty.response.calls[0][1]["embed"].description
    again = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-unlock", again, project="shop", reason="twice")
    assert "Not found" in again.followup.text


async def test_audit_export_is_an_attachment_with_the_chain(bot, engine, planned) -> None:
    ask = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-audit", ask, export="jsonl")
    [sent] = ask.followup.sent
    assert sent["ephemeral"] and isinstance(sent["file"], discord.File)
    assert sent["file"].filename.endswith(".jsonl") and "row_hash" in sent["content"]
    rows = [json.loads(line) for line in sent["file"].fp.read().decode().splitlines()]
    assert rows and {r["guild_id"] for r in rows} == {GUILD}
    assert all(later["prev_hash"] == earlier["row_hash"] for earlier, later in zip(rows, rows[1:], strict=False))
    assert "session.plan_succeeded" in {r["action"] for r in rows}
    [exported] = await engine.audit(GUILD, ADMIN, action="audit_export")
    assert exported.actor_id == ADMIN and exported.detail["rows"] == len(rows)
    [report] = await verify_chain(engine.db, GUILD)
    assert report.ok


async def test_audit_export_says_where_to_go_on_when_the_file_limit_cuts_it(bot, engine, planned, monkeypatch) -> None:
    assert attachment_limit(None) == ATTACHMENT == 10 * 1024 * 1024
    cog_module = sys.modules[type(bot.get_cog("AdminCog")).__module__]
    monkeypatch.setattr(cog_module, "attachment_limit", lambda guild: 1500)  # a tiny server limit, same code path
    ask = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-audit", ask, export="csv")
    [sent] = ask.followup.sent
    data = sent["file"].fp.read()
    assert len(data) <= 1500 and data.startswith(b"id,ts,guild_id")
    assert "run again with `since:" in sent["content"] and "of" in sent["content"]


async def test_audit_export_refuses_viewers_and_bad_dates(bot, engine, planned) -> None:
    viewer = make_interaction(bot, make_member(VIEWER))
    await invoke(bot, "cloud-audit", viewer, export="csv")
    assert "CloudAdmin" in viewer.response.text and not viewer.followup.sent
    bad = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-audit", bad, export="csv", since="last tuesday")
    assert "Invalid **since**" in bad.followup.text
    recent = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-audit", recent, limit=5)
    assert recent.response.calls[0][1]["embed"].title == "Audit log", "without export it is the same command"


async def test_audit_lines_say_when_each_row_happened(bot, engine, planned) -> None:
    ask = make_interaction(bot, make_member(ADMIN))
    await invoke(bot, "cloud-audit", ask, limit=50)
    text = ask.response.calls[0][1]["embed"].description
    rows = await engine.audit(GUILD, ADMIN, limit=50)
    assert rows and len(text.splitlines()) == len(rows)
    for line, row in zip(text.splitlines(), rows, strict=True):
        unix = int(datetime.fromisoformat(row.ts).timestamp())
        assert line.startswith(f"<t:{unix}:f> <@{row.actor_id}> **{safe(row.action)}**"), line


def test_an_audit_time_without_an_offset_is_utc_and_one_that_is_no_time_is_shown_as_written() -> None:
    rows = [AuditEntry(id=1, ts="2026-11-02 09:00:00", guild_id=GUILD, actor_id=ADMIN, action="grant"),
            AuditEntry(id=2, ts="yesterday_ish", guild_id=GUILD, actor_id=ADMIN, action="grant")]
    first, second = embeds.audit(rows).description.splitlines()
    assert first.startswith("<t:1793610000:f> ")  # 2026-11-02 09:00 UTC
    assert second.startswith("yesterday\\_ish ")


def test_an_audit_row_the_engine_wrote_itself_names_cloud_engine_not_a_broken_mention() -> None:
    rows = [AuditEntry(id=1, ts="2026-11-02 09:00:00", guild_id=GUILD, actor_id=None, action="session.expire")]
    line = embeds.audit(rows).description
    assert "<@None>" not in line and "Cloud Engine **session.expire**" in line
