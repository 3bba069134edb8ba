"""Plan/apply runs stream into the lobby thread; restarts are announced; background jobs survive errors."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.background import periodic
from bot.bot import create_bot
from bot.lobby import LobbyButton, post_lobby
from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.core.deployer import ApplyArtifact, PlanArtifact
from cloud_engine.core.models import State
from cloud_engine.iac.plan import PlanResult, ResourceChange
from cloud_engine.services import Services
from tests.conftest import ADMIN, GUILD, USER
from tests.fakes.bot_fixtures import wire_fake_channels
from tests.fakes.discord import FakeChannel, FakeHTTPResponse, make_interaction, make_member


class ScriptedDeployer:
    """Prints Terraform-like lines to the sinks and returns a plan that replaces web-1."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()

    async def plan(self, project, desired, *, session_id, sinks=(), allow_world_admin=frozenset()):
        for i in range(300):
            for sink in sinks:
                await sink.write(f"null_resource.web_1: Refreshing state... [{i}]")
        change = ResourceChange(address="null_resource.vm_web_1", type="null_resource", name="vm_web_1",
                                action="replace", actions=["delete", "create"], replace_paths=["triggers"])
        return PlanArtifact(result=PlanResult(changes=[change]), fingerprint="f" * 64,
                            logical=[{"kind": "vm", "name": "web-1", "action": "replace", "forced_by": ["machine_type"]}])

    async def apply(self, project, *, session_id, fingerprint, commit_message, sinks=()):
        await self.gate.wait()
        for sink in sinks:
            await sink.write("Apply complete! Resources: 1 added, 0 changed, 1 destroyed.")
        return ApplyArtifact(commit_sha="a" * 40, state_json="{}")

    async def cancel(self, session_id):
        return False


async def _scripted_bot(settings, db, clock, channels):
    engine = CloudOrchestrator(db, settings, deployer=ScriptedDeployer(), clock=clock)
    for user, role in ((ADMIN, "CloudAdmin"), (USER, "CloudUser")):
        await engine.grant(GUILD, ADMIN, user, role)
    bot = create_bot(Services(settings=settings, db=db, engine=engine))
    await bot.load_cogs()
    wire_fake_channels(bot, channels)
    return bot, engine


async def test_plan_then_apply_stream_into_a_thread_and_dm_the_author(settings, db, clock, channels, channel) -> None:
    bot, engine = await _scripted_bot(settings, db, clock, channels)
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="web-1", machine_type="e2-small"))
    await post_lobby(engine, channel, session)
    author = make_member(USER)
    bot.get_user = lambda uid: author if uid == USER else None

    for action in ("plan", "approve", "apply"):
        press = make_interaction(bot, author, channel=channel)
        item = LobbyButton(action, session.id)
        assert await item.interaction_check(press), press.response.text
        await item.callback(press)
        assert press.followup.sent, f"{action} answered"
        await asyncio.gather(*bot._background)

    [thread] = channel.threads
    assert (await engine.get_session(session.id)).thread_id == thread.id
    assert (await engine.get_session(session.id)).state == State.APPLIED
    summaries = [m.embed for m in thread.sent if m.embed is not None]
    assert "REPLACE" in summaries[0].fields[0].value and "machine_type" in summaries[0].fields[0].value
    logs = [m.file for m in thread.sent if m.file is not None]
    assert len(logs) == 2 and logs[0].filename == f"deployment-{session.id}-plan.log"
    author.send.assert_awaited_once()
    assert "Apply finished" in author.send.await_args.kwargs["embed"].title


async def _plan_from(bot, engine, lobby_channel):
    """A session with one VM whose lobby is posted in `lobby_channel`."""
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="web-1", machine_type="e2-small"))
    lobby = await post_lobby(engine, lobby_channel, await engine.get_session(session.id))
    return session, lobby


async def _press_plan(bot, session, channel):
    press = make_interaction(bot, make_member(USER), channel=channel)
    item = LobbyButton("plan", session.id)
    assert await item.interaction_check(press), press.response.text
    await item.callback(press)
    await asyncio.gather(*bot._background)
    return press


async def test_a_lobby_in_a_thread_streams_in_that_thread(settings, db, clock, channels) -> None:
    bot, engine = await _scripted_bot(settings, db, clock, channels)
    post = FakeChannel(name="forum post", registry=channels)
    post.type = discord.ChannelType.public_thread  # what a thread, a forum post or a news thread reports
    session, _ = await _plan_from(bot, engine, post)

    press = await _press_plan(bot, session, post)
    assert f"<#{post.id}>" in press.followup.text and "went wrong" not in press.followup.text
    assert post.threads == [], "no thread is attempted inside a thread"
    after = await engine.get_session(session.id)
    assert after.state == State.PLAN_READY and after.thread_id == post.id
    assert any(m.file is not None and m.file.filename == f"deployment-{session.id}-plan.log" for m in post.sent)
    assert not any("Could not open a thread" in (m.content or "") for m in post.sent)


@pytest.mark.parametrize(("status", "code", "message"), [
    (400, 50024, "Cannot execute action on this channel type"),  # a voice channel's chat, an uncached thread
    (403, 50013, "Missing Permissions"),  # no Create Public Threads
])
async def test_plan_streams_in_the_lobby_channel_when_discord_refuses_a_thread(
        settings, db, clock, channels, channel, status, code, message) -> None:
    bot, engine = await _scripted_bot(settings, db, clock, channels)
    session, lobby = await _plan_from(bot, engine, channel)
    error_type = discord.Forbidden if status == 403 else discord.HTTPException

    async def refuse(**_):
        raise error_type(FakeHTTPResponse(status=status, reason=message), {"message": message, "code": code})

    lobby.create_thread = refuse  # the lobby message Discord will not open a thread on
    press = await _press_plan(bot, session, channel)
    assert f"Terraform plan started; live output in <#{channel.id}>" in press.followup.text
    after = await engine.get_session(session.id)
    assert after.state == State.PLAN_READY, "the run started and finished instead of leaving a DRAFT"
    assert after.thread_id is None, "a later run tries a thread again"
    notes = [m.content for m in channel.sent if "Could not open a thread" in (m.content or "")]
    assert len(notes) == 1 and "**Create Public Threads**" in notes[0], "said once, in the stream"
    assert channel.sent.index(next(m for m in channel.sent if m.content == notes[0])) == 1, "right under the lobby"
    assert any(m.file is not None and m.file.filename == f"deployment-{session.id}-plan.log" for m in channel.sent)
    assert any(m.embed is not None and "REPLACE" in str(m.embed.to_dict()) for m in channel.sent), "summary posted"


async def test_plan_is_rate_limited_per_user_with_a_clear_message(settings, db, clock, channels, channel) -> None:
    bot, engine = await _scripted_bot(settings, db, clock, channels)
    for _ in range(settings.user_actions_per_minute):
        engine.rate_limiter.check(GUILD, USER, "plan")
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1")
    session = await engine.start_session(project.id, USER)
    press = make_interaction(bot, make_member(USER), channel=channel)
    await LobbyButton("plan", session.id).callback(press)
    assert "Slow down" in press.response.text and "Try again in" in press.response.text
    assert channel.threads == []


async def test_restart_tells_interrupted_sessions_in_their_thread(settings, db, clock, channels, channel) -> None:
    bot, engine = await _scripted_bot(settings, db, clock, channels)
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="web-1", machine_type="e2-small"))
    await engine.plan(session.id, USER)
    await engine.approve(session.id, USER)
    thread = await channel.create_thread(name="t")
    await engine.set_lobby_message(session.id, channel_id=channel.id, thread_id=thread.id)
    await db.execute("UPDATE deployment_sessions SET state = 'APPLYING' WHERE id = ?", (session.id,))  # killed mid-apply

    told = await bot.announce_interrupted(await engine.recover_interrupted())
    assert told == 1 and "interrupted by restart" in thread.sent[0].content
    assert (await engine.get_session(session.id)).state == State.FAILED


async def test_background_job_survives_failures() -> None:
    calls = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("boom")

    async def tick(_: float) -> None:
        if len(calls) >= 4:
            raise asyncio.CancelledError
        await asyncio.sleep(0)

    task = asyncio.create_task(periodic(60, flaky, name="test", sleep=tick))
    await asyncio.gather(task, return_exceptions=True)
    assert len(calls) == 4
