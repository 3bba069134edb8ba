"""Read `terraform plan -json` as it streams: readable lines for people, actions for the engine.

Why: the plan's machine-readable UI stream (documented since Terraform 0.15.3 and in
OpenTofu) already says, per resource address, whether it is created, updated, replaced or
deleted. Reading it while the plan runs means a plan of new or removed resources needs no
second Terraform process (`show -json` costs about half a plan). What the stream lacks is
attribute detail (before/after values, which attribute forces a replacement), so a plan
that updates or replaces anything is still read back with `show -json`; `needs_detail`
says when.

People never see the JSON: each message becomes its own `@message` line, and diagnostics
get their detail and source position too, the way the human UI prints them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cloud_engine.iac.plan import ChangeAction, PlanResult, ResourceChange

__all__ = ["PlanStreamReader"]

# JSON UI action → (PlanResult action, Terraform's action list as in `show -json`).
_ACTIONS: dict[str, tuple[ChangeAction, list[str]]] = {
    "create": ("create", ["create"]),
    "delete": ("delete", ["delete"]),
    "read": ("read", ["read"]),
    "noop": ("no-op", ["no-op"]),
}
# Actions whose meaning depends on attributes the stream does not carry.
_DETAIL_ACTIONS = frozenset({"update", "replace"})


class PlanStreamReader:
    """A `LineStream` transform: records planned changes, returns the lines to show.

    `result()` is the PlanResult the stream alone supports; call it only when
    `needs_detail` is False (otherwise the caller reads the saved plan with `show -json`).
    """

    def __init__(self) -> None:
        self.terraform_version = ""
        self.changes: dict[str, ResourceChange] = {}
        self.summary: dict[str, int] | None = None
        self._unreadable = False
        self.diagnostics: list[dict[str, Any]] = []

    def __call__(self, raw: str) -> Sequence[str]:
        if not raw.startswith("{"):
            return (raw,)  # not a UI message (e.g. a crash trace on stderr): show as printed
        try:
            message = json.loads(raw)
        except ValueError:
            return (raw,)
        if not isinstance(message, dict):
            return (raw,)
        return self._read(message)

    def _read(self, message: dict[str, Any]) -> Sequence[str]:
        kind = message.get("type")
        text = str(message.get("@message", ""))
        if kind == "version":
            self.terraform_version = str(message.get("terraform") or message.get("tofu") or "")
        elif kind == "planned_change":
            self._record(message.get("change") or {})
        elif kind == "change_summary":
            changes = message.get("changes") or {}
            self.summary = {k: int(v) for k, v in changes.items() if isinstance(v, int)}
        elif kind == "diagnostic":
            return self._diagnostic(message.get("diagnostic") or {}, text)
        return (text,) if text else ()

    def _record(self, change: dict[str, Any]) -> None:
        resource = change.get("resource") or {}
        address = str(resource.get("addr", ""))
        action = str(change.get("action", ""))
        if not address or action in _DETAIL_ACTIONS or action not in _ACTIONS:
            self._unreadable = True  # unknown or attribute-level actions: read the plan file
            return
        mapped, actions = _ACTIONS[action]
        self.changes[address] = ResourceChange(
            address=address, type=str(resource.get("resource_type", "")),
            name=str(resource.get("resource_name", "")), action=mapped, actions=actions,
        )

    def _diagnostic(self, diag: dict[str, Any], text: str) -> Sequence[str]:
        self.diagnostics.append(diag)
        lines = [text or f"{str(diag.get('severity', 'error')).title()}: {diag.get('summary', '')}"]
        where = diag.get("range") or {}
        if where.get("filename"):
            lines.append(f"  on {where['filename']} line {(where.get('start') or {}).get('line', '?')}")
        detail = str(diag.get("detail") or "")
        lines.extend(detail.splitlines())
        return lines

    @property
    def needs_detail(self) -> bool:
        """True when only `show -json` can describe this plan faithfully.

        That is: something is updated or replaced, an action was not understood, or the
        change summary disagrees with the changes seen (a message format we do not know).
        """
        if self._unreadable or self.summary is None:
            return True
        counted = {"add": 0, "change": 0, "remove": 0}
        for change in self.changes.values():
            if change.action == "create":
                counted["add"] += 1
            elif change.action == "delete":
                counted["remove"] += 1
        return any(self.summary.get(key, 0) != value for key, value in counted.items())

    def result(self) -> PlanResult:
        """The plan as the stream describes it (actions per address, no attribute values)."""
        if self.needs_detail:
            raise ValueError("this plan updates or replaces resources; read it with show -json")
        return PlanResult(terraform_version=self.terraform_version, changes=list(self.changes.values()))
