"""ExpiringView: expiry counted from the interaction's creation, and a grey-out that survives a dead token."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import discord
import pytest

from bot import expiring
from bot.expiring import EXPIRED_NOTE, ExpiringView
from bot.limits import FOLLOWUP_SECONDS, VIEW_SECONDS
from tests.conftest import USER
from tests.fakes.discord import FakeChannel, FakeMessage, http_error, make_interaction, make_member


def view() -> ExpiringView:
    made = ExpiringView()
    made.add_item(discord.ui.Button(label="Deploy this", custom_id="ce:test:deploy"))
    return made


def created(seconds_ago: float) -> discord.Interaction:
    interaction = make_interaction(None, make_member(USER), channel=FakeChannel())
    interaction.created_at = discord.utils.utcnow() - timedelta(seconds=seconds_ago)
    return interaction


def bot_side(channel: FakeChannel, message: FakeMessage) -> FakeMessage:
    """The same message as the bot's own token reaches it (channel.get_partial_message), recording its edits."""
    same = FakeMessage(channel, message.content)
    same.id = message.id
    channel.sent.append(same)
    return same


def test_a_view_shown_a_minute_late_expires_a_minute_earlier() -> None:
    on_time, late = view(), view()
    on_time.shown_in(created(0), content="Deploy into which project?")
    late.shown_in(created(60), content="Deploy into which project?")
    assert on_time.timeout == pytest.approx(VIEW_SECONDS, abs=2)
    assert late.timeout == pytest.approx(VIEW_SECONDS - 60, abs=2), "the token's clock started at the interaction"


async def test_a_followup_takes_the_interaction_time_from_its_metadata() -> None:
    asking = created(60)
    message = await asking.followup.send("advice", wait=True)
    message.interaction_metadata = SimpleNamespace(id=asking.id, created_at=asking.created_at)  # as Discord sends
    shown = view()
    shown.shown_in(message)
    assert shown.timeout == pytest.approx(VIEW_SECONDS - 60, abs=2)


def test_presses_never_push_the_expiry_past_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = view()
    shown.shown_in(created(60))
    later = expiring.time.monotonic() + 600
    monkeypatch.setattr(expiring.time, "monotonic", lambda: later)
    # discord.py sets the expiry to now + timeout after each press: ten minutes on, that is the token's deadline
    assert shown.timeout == pytest.approx(VIEW_SECONDS - 60 - 600, abs=2)


def test_a_view_shown_after_the_token_died_expires_at_once() -> None:
    shown = view()
    shown.shown_in(created(FOLLOWUP_SECONDS + 5))
    assert shown.timeout == expiring.MIN_TIMEOUT


async def test_when_the_webhook_edit_fails_the_bot_edits_the_message() -> None:
    asking = created(0)
    message = await asking.followup.send("Advice", wait=True)
    seen_by_bot = bot_side(asking.channel, message)
    message.edit = mock.AsyncMock(side_effect=http_error(401, "Invalid Webhook Token"))
    shown = view()
    shown.shown_in(message)
    await shown.on_timeout()
    message.edit.assert_awaited_once()
    assert seen_by_bot.edits == [{"view": shown, "content": f"Advice\n{EXPIRED_NOTE}"}]
    assert all(item.disabled for item in shown.children)


async def test_an_expired_token_is_not_even_tried() -> None:
    asking = created(FOLLOWUP_SECONDS + 5)
    message = await asking.followup.send(None, wait=True)
    message.interaction_metadata = SimpleNamespace(id=asking.id, created_at=asking.created_at)
    message.edit = mock.AsyncMock()
    seen_by_bot = bot_side(asking.channel, message)
    shown = view()
    shown.shown_in(message)
    await shown.on_timeout()
    message.edit.assert_not_awaited()
    assert seen_by_bot.edits[-1]["view"] is shown and seen_by_bot.content == EXPIRED_NOTE


async def test_a_view_updated_in_place_falls_back_to_the_components_message() -> None:
    press = created(0)
    on_screen = await press.channel.send("Which resource?")
    press.message = on_screen
    press.response.type = discord.InteractionResponseType.message_update  # what response.edit_message records
    press.edit_original_response.side_effect = http_error(500, "Internal Server Error")
    shown = view()
    shown.shown_in(press, content="Which resource?")
    await shown.on_timeout()
    assert on_screen.edits[-1]["view"] is shown and on_screen.content.endswith(EXPIRED_NOTE)


async def test_an_ephemeral_response_that_cannot_be_edited_is_left_quietly() -> None:
    press = created(0)
    press.edit_original_response.side_effect = http_error(401, "Invalid Webhook Token")
    shown = view()
    shown.shown_in(press, content="Deploy into which project?")  # a send_message response: no message id to reach
    await shown.on_timeout()
    assert all(item.disabled for item in shown.children) and press.channel.calls == []
