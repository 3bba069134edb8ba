"""What an ended apply really did: Terraform's state compared with both ends of the change.

Why: an apply may end any way at all (cancelled, timed out, failed half-way, the bot killed
right after Terraform returned). Terraform's state is the truth about what exists; the
engine's records must follow it, or the next ordinary plan destroys what it does not know.
For every Terraform address a session's change touches we know what it held before and
what it should hold after; the state says which of the two it holds now (or neither: a
replace cut between its delete and its create). Folding the addresses of one user resource
gives its status: made, not made, or partial.

Pure functions over decoded JSON: the deployer reads the state and the expectations (the
sandbox mirror's triggers, or the saved plan of a real provider), this module decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cloud_engine.iac.plan import PlanResult
from cloud_engine.iac.plan_parser import REDACTED, UNKNOWN

__all__ = ["Expectation", "Status", "expectations_from_plan", "fold_statuses", "state_instances"]

Status = Literal["made", "not_made", "partial"]
Key = tuple[str, str]


@dataclass(frozen=True)
class Expectation:
    """One Terraform address of a user resource: its attributes before and after (None: absent).

    Only the attributes listed are compared, so a real provider's computed values (ids,
    timestamps) known only after apply never make a finished change look unfinished.
    """

    key: Key
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


def state_instances(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Address → attributes of every managed resource instance in a state document (v4)."""
    out: dict[str, dict[str, Any]] = {}
    for res in state.get("resources") or []:
        if not isinstance(res, dict) or res.get("mode") != "managed" or res.get("module"):
            continue
        base = f"{res.get('type')}.{res.get('name')}"
        for inst in res.get("instances") or []:
            if not isinstance(inst, dict):
                continue
            index = inst.get("index_key")
            address = base if index is None else f"{base}[{index!r}]" if isinstance(index, str) else f"{base}[{index}]"
            attrs = inst.get("attributes")
            out[address] = attrs if isinstance(attrs, dict) else {}
    return out


def expectations_from_plan(plan: PlanResult, keys: Mapping[str, Key]) -> dict[str, Expectation]:
    """Expectations for a real provider's saved plan; `keys` maps addresses to user resources.

    Addresses the map does not know (shared plumbing) are left out: they belong to no user
    resource, and the next plan puts them right.
    """
    out: dict[str, Expectation] = {}
    for change in plan.changes:
        key = keys.get(change.address)
        if key is None or change.action in ("no-op", "read"):
            continue
        before = None if change.action == "create" else (change.before or {})
        after = None if change.action == "delete" else (change.after or {})
        out[change.address] = Expectation(key=key, before=before, after=after)
    return out


def fold_statuses(expected: Mapping[str, Expectation], instances: Mapping[str, Mapping[str, Any]],
                  keys: Iterable[Key]) -> dict[Key, Status]:
    """The status of each user resource in `keys` (one with nothing to change counts as made)."""
    seen: dict[Key, set[str]] = {key: set() for key in keys}
    for address, exp in expected.items():
        if exp.key not in seen or exp.before == exp.after:
            continue
        actual = instances.get(address)
        if _matches(actual, exp.after):
            seen[exp.key].add("made")
        elif _matches(actual, exp.before):
            seen[exp.key].add("not_made")
        else:
            seen[exp.key].add("partial")
    return {key: _fold(found) for key, found in seen.items()}


def _fold(found: set[str]) -> Status:
    if found <= {"made"}:
        return "made"
    if found == {"not_made"}:
        return "not_made"
    return "partial"


def _matches(actual: Mapping[str, Any] | None, wanted: Mapping[str, Any] | None) -> bool:
    if wanted is None:
        return actual is None
    if actual is None:
        return False
    return all(_known_equal(actual.get(k), v) for k, v in wanted.items())


def _known_equal(actual: Any, wanted: Any) -> bool:
    """Equal wherever `wanted` is known; a redacted or not-yet-known value matches anything."""
    if wanted in (UNKNOWN, REDACTED):
        return True
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(_known_equal(actual.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (isinstance(actual, list) and len(actual) == len(wanted)
                and all(_known_equal(a, w) for a, w in zip(actual, wanted, strict=True)))
    return bool(actual == wanted)
