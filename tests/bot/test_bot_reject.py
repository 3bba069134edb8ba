"""The lobby's Reject button: a reason in a modal sends a ready plan back to DRAFT, shown in the lobby and audited."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.lobby import LobbyButton, post_lobby
from bot.lobby_actions import RejectModal
from cloud_engine.core import CloudOrchestrator, IllegalTransition, PermissionDenied, ResourceSpec
from cloud_engine.core.models import State
from cloud_engine.errors import InvalidInput
from cloud_engine.store import Database
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER
from tests.fakes.bot_fixtures import bot_over
from tests.fakes.deployers import InstantDeployer
from tests.fakes.discord import make_interaction, make_member


async def _engine(db: Database, settings: Any, clock: Any) -> CloudOrchestrator:
    engine = CloudOrchestrator(db, settings, deployer=InstantDeployer(same=True), clock=clock)
    for user, role in ((ADMIN, "CloudAdmin"), (USER, "CloudUser"), (OTHER, "CloudUser"), (VIEWER, "CloudViewer")):
        await engine.grant(GUILD, ADMIN, user, role)
    return engine


@pytest.fixture
async def lobby_bot(settings, db, clock, channels):
    engine = await _engine(db, settings, clock)
    async with bot_over(engine, settings, db, channels) as bot:
        yield bot, engine


async def _planned(engine: CloudOrchestrator, *, must_differ: bool = False) -> int:
    project = await engine.create_project(GUILD, USER, name="web", provider="gcp", region="us-central1",
                                          approver_must_differ=must_differ)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="vm-1", machine_type="e2-small"))
    assert (await engine.plan(session.id, USER)).state == State.PLAN_READY
    return session.id


async def test_reject_asks_a_reason_then_the_lobby_shows_it_in_draft(lobby_bot, channel) -> None:
    bot, engine = lobby_bot
    session_id = await _planned(engine)
    message = await post_lobby(engine, channel, await engine.get_session(session_id))
    bot.start_background()
    press = make_interaction(bot, make_member(OTHER), channel=channel)
    button = LobbyButton("reject", session_id)
    assert await button.interaction_check(press), press.response.text
    await button.callback(press)
    [(kind, call)] = press.response.calls
    assert kind == "send_modal" and isinstance(call["modal"], RejectModal)
    modal = call["modal"]
    assert modal.reason.required and len(modal.title) <= 45
    modal.reason._value = "the VM needs a backup policy first"
    submit = make_interaction(bot, make_member(OTHER), channel=channel)
    await modal.on_submit(submit)
    assert "back in **DRAFT**" in submit.followup.text
    session = await engine.get_session(session_id)
    assert session.state == State.DRAFT and session.reservations == {}
    assert await engine.db.fetchone("SELECT 1 FROM project_locks WHERE session_id = ?", (session_id,)) is None
    await engine.events.drain()
    await bot.lobbies.drain()
    field = next(f for f in message.embed.fields if f.name == "Plan rejected")
    assert f"<@{OTHER}>" in field.value and "the VM needs a backup policy first" in field.value
    assert [i.action for i in message.view.children] == ["add", "remove", "validate", "plan", "cancel"]
    [row] = await engine.audit(GUILD, ADMIN, action="session.reject")
    assert (row.actor_id, row.from_state, row.to_state) == (OTHER, "PLAN_READY", "DRAFT")
    assert row.detail["reason"] == "the VM needs a backup policy first"
    # Planned again, the old rejection is no longer shown.
    assert (await engine.plan(session_id, USER)).state == State.PLAN_READY
    assert await engine.rejection(session_id) is None


async def test_who_may_reject_is_who_may_approve(lobby_bot) -> None:
    bot, engine = lobby_bot
    session_id = await _planned(engine, must_differ=True)
    viewer = make_interaction(bot, make_member(VIEWER))
    assert await LobbyButton("reject", session_id).interaction_check(viewer) is False
    assert "**Reject** needs **CloudUser**" in viewer.response.text
    with pytest.raises(PermissionDenied):  # the project says approvers must differ from the author
        await engine.reject(session_id, USER, "changed my mind")
    submit = make_interaction(bot, make_member(USER))
    modal = RejectModal(bot, session_id)
    modal.reason._value = "changed my mind"
    await modal.on_submit(submit)
    assert "your own plan" in submit.followup.text
    assert (await engine.get_session(session_id)).state == State.PLAN_READY
    assert (await engine.audit(GUILD, ADMIN, action="refused"))[0].actor_id in (VIEWER, USER)
    with pytest.raises(InvalidInput, match="reason"):
        await engine.reject(session_id, OTHER, "  ")


@pytest.mark.parametrize("order", ["approve first", "reject first"])
async def test_approve_and_reject_at_once_leave_one_outcome(lobby_bot, settings, clock, order) -> None:
    _, engine = lobby_bot
    session_id = await _planned(engine)
    other_db = await Database.open(settings.database_path)  # the rejecter in another process
    try:
        elsewhere = await _engine(other_db, settings, clock)
        approve = engine.approve(session_id, ADMIN)
        reject = elsewhere.reject(session_id, OTHER, "not this week")
        runs = [approve, reject] if order == "approve first" else [reject, approve]
        results = await asyncio.gather(*runs, return_exceptions=True)
    finally:
        await other_db.close()
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], IllegalTransition), results
    session = await engine.get_session(session_id)
    moves = [r.action for r in await engine.audit(GUILD, ADMIN, limit=50)
             if r.action in ("session.approve", "session.reject")]
    if session.state == State.APPROVED:
        assert session.approved_by == ADMIN and await engine.rejection(session_id) is None
        assert moves == ["session.approve"]
    else:
        assert session.state == State.DRAFT and session.approved_by is None
        assert (await engine.rejection(session_id)).reason == "not this week"
        assert moves == ["session.reject"]
