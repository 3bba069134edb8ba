"""The events a channel or webhook may subscribe to, and the audit actions that raise them.

Why from the audit log: every state change writes its audit row in its own transaction, so
the event exists exactly when the change does. Only events the engine really produces are
offered; a subscription to anything else is refused with the list.
"""

from __future__ import annotations

from enum import StrEnum

from cloud_engine.errors import InvalidInput


class NotifyEvent(StrEnum):
    PLAN_READY = "plan_ready"
    APPROVAL_NEEDED = "approval_needed"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLY_SUCCEEDED = "apply_succeeded"
    APPLY_FAILED = "apply_failed"
    BUDGET_THRESHOLD = "budget_threshold"
    DRIFT_FOUND = "drift_found"
    FINOPS_SYNC_FAILED = "finops_sync_failed"
    ANOMALY_FOUND = "anomaly_found"


# audit action -> the events it raises
AUDIT_EVENTS: dict[str, tuple[NotifyEvent, ...]] = {
    "session.plan_succeeded": (NotifyEvent.PLAN_READY, NotifyEvent.APPROVAL_NEEDED),
    "session.approve": (NotifyEvent.APPROVED,),
    "session.reject": (NotifyEvent.REJECTED,),
    "session.apply_succeeded": (NotifyEvent.APPLY_SUCCEEDED,),
    "session.apply_failed": (NotifyEvent.APPLY_FAILED,),
    "budget_alert": (NotifyEvent.BUDGET_THRESHOLD,),
    "drift.found": (NotifyEvent.DRIFT_FOUND,),
    "finops.sync_failed": (NotifyEvent.FINOPS_SYNC_FAILED,),  # cloud_engine/finops/sync.py
    "finops.anomaly_found": (NotifyEvent.ANOMALY_FOUND,),
}


def parse_events(text: str | None) -> tuple[NotifyEvent, ...]:
    """`all` (or nothing) for every event, else a comma list of event names, in the enum's order."""
    words = [w.strip().lower().replace("-", "_") for w in (text or "").split(",") if w.strip()]
    if not words or words == ["all"]:
        return tuple(NotifyEvent)
    known = {e.value for e in NotifyEvent}
    unknown = [w for w in words if w not in known]
    if unknown:
        raise InvalidInput(field="events", rule=f"unknown event {unknown[0]!r}; choose all or a comma list of "
                                                f"{', '.join(e.value for e in NotifyEvent)}")
    return tuple(e for e in NotifyEvent if e.value in words)
