"""The reason an admin or approver gives (unlock, reject): one rule for free text that is audited and shown."""

from __future__ import annotations

from dataclasses import dataclass

from cloud_engine.core import validation
from cloud_engine.errors import InvalidInput

__all__ = ["Rejection", "checked_reason"]


@dataclass(frozen=True)
class Rejection:
    """A plan turned down: by whom, and why (shown in the lobby of the session sent back to DRAFT)."""

    by: int
    reason: str


def checked_reason(value: str, *, field: str = "reason") -> str:
    """`value` stripped, non-empty and safe to show and store (validation.description's rule); InvalidInput otherwise."""
    text = value.strip()
    if not text:
        raise InvalidInput(field=field, rule="say why (it is shown to the author and kept in the audit log)")
    try:
        return validation.description(text)
    except ValueError as exc:
        raise InvalidInput(field=field, rule=str(exc)) from None
