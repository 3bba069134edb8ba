"""The deployment state machine as one table.

Why a table: every allowed move is visible in one place, tests can enumerate it, and
the orchestrator's single `transition()` refuses anything not listed with
`IllegalTransition`, changing nothing.
"""

from __future__ import annotations

from enum import StrEnum

from cloud_engine.core.models import FINAL_STATES, State
from cloud_engine.errors import IllegalTransition


class Event(StrEnum):
    VALIDATE = "validate"
    VALIDATION_PASSED = "validation_passed"
    VALIDATION_FAILED = "validation_failed"
    PLAN_SUCCEEDED = "plan_succeeded"
    PLAN_FAILED = "plan_failed"
    PLAN_REFUSED = "plan_refused"
    EDIT = "edit"
    APPROVE = "approve"
    REJECT = "reject"
    APPLY = "apply"
    APPLY_SUCCEEDED = "apply_succeeded"
    APPLY_FAILED = "apply_failed"
    CANCEL = "cancel"
    EXPIRE = "expire"


# APPLYING is left out of cancel/expire on purpose: a running apply is stopped through the
# runner (SIGINT, then SIGTERM, then SIGKILL) and ends FAILED with the reason, never silently.
_CANCELLABLE = (State.DRAFT, State.VALIDATING, State.PLANNING, State.PLAN_READY, State.APPROVED)

TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.DRAFT, Event.VALIDATE): State.VALIDATING,
    (State.VALIDATING, Event.VALIDATION_PASSED): State.PLANNING,
    (State.VALIDATING, Event.VALIDATION_FAILED): State.DRAFT,
    (State.PLANNING, Event.PLAN_SUCCEEDED): State.PLAN_READY,
    (State.PLANNING, Event.PLAN_FAILED): State.FAILED,
    # The plan could not start (another session holds the project, or an edit's quota no
    # longer fits): nothing ran, so the session goes back to DRAFT to be edited or retried.
    (State.PLANNING, Event.PLAN_REFUSED): State.DRAFT,
    (State.PLAN_READY, Event.EDIT): State.DRAFT,
    (State.PLAN_READY, Event.APPROVE): State.APPROVED,
    # Someone who may approve the plan turns it down, with a reason: the plan is void, as after an edit.
    (State.PLAN_READY, Event.REJECT): State.DRAFT,
    (State.APPROVED, Event.APPLY): State.APPLYING,
    (State.APPLYING, Event.APPLY_SUCCEEDED): State.APPLIED,
    (State.APPLYING, Event.APPLY_FAILED): State.FAILED,
    **{(s, Event.CANCEL): State.CANCELLED for s in _CANCELLABLE},
    **{(s, Event.EXPIRE): State.EXPIRED for s in _CANCELLABLE},
}


def next_state(state: State, event: Event) -> State:
    """The state `event` leads to from `state`, or IllegalTransition."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state=state.value, event=event.value) from None


def allowed_events(state: State) -> list[Event]:
    """Events a UI may offer in `state` (drives which lobby buttons are shown)."""
    return [event for (src, event) in TRANSITIONS if src == state]


__all__ = ["FINAL_STATES", "TRANSITIONS", "Event", "allowed_events", "next_state"]
