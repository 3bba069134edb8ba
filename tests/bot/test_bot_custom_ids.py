"""Lobby custom ids: the wire format is fixed (old lobby messages keep working) and round-trips through LobbyAction."""

from __future__ import annotations

import pytest

from bot.checks import LOBBY_ENGINE_ACTIONS
from bot.custom_ids import LobbyAction, lobby_custom_id, parse_lobby_custom_id
from bot.lobby import ACTIONS, HANDLERS, LobbyButton, check_wiring

# What lobby messages posted before LobbyAction existed carry; these must keep routing.
OLD_IDS = {
    "ce:lobby:add:7": (LobbyAction.ADD, 7), "ce:lobby:remove:7": (LobbyAction.REMOVE, 7),
    "ce:lobby:validate:7": (LobbyAction.VALIDATE, 7), "ce:lobby:plan:7": (LobbyAction.PLAN, 7),
    "ce:lobby:review:7": (LobbyAction.REVIEW, 7), "ce:lobby:approve:7": (LobbyAction.APPROVE, 7),
    "ce:lobby:apply:7": (LobbyAction.APPLY, 7), "ce:lobby:cancel:123456789": (LobbyAction.CANCEL, 123456789),
}


# Actions added after those ids were fixed (new words; the old ones never change).
NEWER = {LobbyAction.REJECT}


def test_every_action_has_its_old_wire_word() -> None:
    assert [a.value for a in LobbyAction] == ["add", "remove", "validate", "plan", "review", "approve", "reject",
                                             "apply", "cancel"]
    assert {action for action, _ in OLD_IDS.values()} == set(LobbyAction) - NEWER


@pytest.mark.parametrize("custom_id", sorted(OLD_IDS))
def test_old_custom_ids_round_trip(custom_id: str) -> None:
    action, session_id = OLD_IDS[custom_id]
    assert parse_lobby_custom_id(custom_id) == (action, session_id)
    assert lobby_custom_id(action, session_id) == custom_id
    assert LobbyButton(action, session_id).custom_id == custom_id
    assert LobbyButton(action.value, session_id).custom_id == custom_id, "plain strings still accepted"


@pytest.mark.parametrize("custom_id", sorted(OLD_IDS))
async def test_a_restarted_bot_routes_old_custom_ids(bot, custom_id: str) -> None:
    """The persistent-button store of a freshly loaded bot matches each old id and rebuilds the same button."""
    store = bot._connection._view_store._dynamic_items
    pattern = next(p for p, cls in store.items() if cls is LobbyButton)
    match = pattern.fullmatch(custom_id)
    assert match is not None
    item = await LobbyButton.from_custom_id(None, LobbyButton(LobbyAction.CANCEL, 0).item, match)
    assert (item.action, item.session_id) == OLD_IDS[custom_id]
    assert isinstance(item.action, LobbyAction) and item.custom_id == custom_id


@pytest.mark.parametrize("custom_id", ["ce:lobby:deploy:1", "ce:lobby:add:", "ce:lobby:add:x", "ce:recs:next",
                                       "ce:lobby:ADD:1", "xce:lobby:add:1"])
def test_anything_else_is_not_a_lobby_id(custom_id: str) -> None:
    assert parse_lobby_custom_id(custom_id) is None


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown lobby action 'deploy'"):
        LobbyButton("deploy", 1)


def test_one_vocabulary_for_buttons_handlers_and_permissions() -> None:
    check_wiring()
    assert list(ACTIONS) == list(LobbyAction), "display order is the enum's order"
    assert set(HANDLERS) == set(LobbyAction) == set(LOBBY_ENGINE_ACTIONS)
