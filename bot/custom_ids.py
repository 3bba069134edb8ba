"""The lobby's action vocabulary and the custom ids its persistent buttons carry.

Why one home: a lobby button's custom id (`ce:lobby:apply:42`) is stored by Discord on
messages posted long ago, and a press after a restart is routed by parsing it back. The
verbs, the wire format and its parser live here once, so the buttons that are built, the
handlers that are registered and the permission table that is checked cannot drift apart.
The wire format never changes: old lobby messages must keep working.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["DRIFT_TEMPLATE", "LOBBY_TEMPLATE", "DriftAction", "LobbyAction", "drift_custom_id", "lobby_custom_id",
           "parse_lobby_custom_id"]


class LobbyAction(StrEnum):
    """One lobby button's verb; its value is the word in the custom id (display order)."""

    ADD = "add"
    REMOVE = "remove"
    VALIDATE = "validate"
    PLAN = "plan"
    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"
    APPLY = "apply"
    CANCEL = "cancel"


LOBBY_TEMPLATE = r"ce:lobby:(?P<action>[a-z]+):(?P<session>[0-9]+)"
_LOBBY_ID = re.compile(LOBBY_TEMPLATE)
_VERBS = frozenset(action.value for action in LobbyAction)


def lobby_custom_id(action: LobbyAction, session_id: int) -> str:
    """`ce:lobby:<action>:<session>`, the custom id a lobby button is sent with."""
    return f"ce:lobby:{LobbyAction(action).value}:{session_id}"


def parse_lobby_custom_id(custom_id: str) -> tuple[LobbyAction, int] | None:
    """(action, session id) from a lobby button's custom id; None if it is not one (or names no known action)."""
    match = _LOBBY_ID.fullmatch(custom_id)
    if match is None or match["action"] not in _VERBS:
        return None
    return LobbyAction(match["action"]), int(match["session"])


class DriftAction(StrEnum):
    """A drift report's buttons (`ce:drift:reconcile:7`), posted with the finding; persistent like the lobby's."""

    RECONCILE = "reconcile"
    DISMISS = "dismiss"


DRIFT_TEMPLATE = r"ce:drift:(?P<action>reconcile|dismiss):(?P<report>[0-9]+)"


def drift_custom_id(action: DriftAction, report_id: int) -> str:
    return f"ce:drift:{DriftAction(action).value}:{report_id}"
