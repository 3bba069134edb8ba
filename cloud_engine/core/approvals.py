"""Approval rules: how many distinct approvers a plan needs, of which Cloud role, and who has approved.

Why apart: planning.py decides *when* a plan may be approved; this module says *what* counts.
A `require_approval` policy may ask for `approvals: N` (1-5) distinct approvers of at least
`approver_role` (CloudAdmin unless it says CloudUser), holding the Discord role
`approver_discord_role` if it names one (then CloudUser is enough unless it says otherwise:
"someone from @finops"), and whether they must differ from the author (`approvers_must_differ`;
by default they must when N >= 2). The Discord roles an approver holds are the ones Discord
sent with their button press, recorded with the approval, so a role taken away later does
not undo an approval given while it was held. Validation turns each
require_approval finding into an `ApprovalRule` and keeps the rules on the session; the
engine's own finding (a plan destroying what nobody asked to change) is one CloudAdmin, as
every policy without these params is, so single-approval behaviour is what it always was.
With no rule at all a plan needs one CloudUser (the project may say not its author).

Each approval is a row keyed by session, plan fingerprint and approver: a person counts once
per plan, and starting a new plan (or rejecting one) deletes the session's approvals. A
session moves to APPROVED when every rule has its count of qualifying approvers (one approver
may count for several rules); the count is taken in the transaction that records the
approval, so two approvers at once leave one consistent outcome.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import aiosqlite

from cloud_engine.core import permissions
from cloud_engine.core.models import Role, Violation
from cloud_engine.core.policies import Policy
from cloud_engine.errors import PermissionDenied
from cloud_engine.store import approvals as approval_store
from cloud_engine.store.database import Source
from cloud_engine.store.rows import dumps, loads, parse_dt

__all__ = ["DEFAULT_SOURCE", "LEGACY_SOURCE", "Approval", "ApprovalRule", "ApprovalStatus", "RuleProgress", "approval_refusal", "approvals_of", "held_rule_roles",
           "plan_approvals", "record_approval", "rule_of_policy", "rules_dump", "rules_for", "session_rules",
           "void_approvals"]

DEFAULT_SOURCE = "default"  # no require_approval finding: any CloudUser may approve
LEGACY_SOURCE = "require_approval"  # a session validated before rules were stored: one CloudAdmin, as then


@dataclass(frozen=True)
class ApprovalRule:
    """One requirement a plan must meet before it is APPROVED."""

    source: str  # the policy that asked ("builtin:..." for the engine's own finding, DEFAULT_SOURCE for none)
    approvals: int = 1
    role: Role = Role.ADMIN
    must_differ: bool = False  # the author never counts
    discord_role: int | None = None  # approvers must also hold this Discord role

    def qualifies(self, approver_id: int, role: Role, author_id: int,
                  discord_roles: Collection[int] = ()) -> bool:
        """Whether this approver, holding `role` and the Discord roles `discord_roles`, counts towards this rule."""
        return (role >= self.role and (self.discord_role is None or self.discord_role in discord_roles)
                and not (self.must_differ and approver_id == author_id))

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "approvals": self.approvals, "role": self.role.value,
                "must_differ": self.must_differ, "discord_role": self.discord_role}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApprovalRule:
        discord_role = data.get("discord_role")  # rules stored before Discord roles could be named have none
        return cls(source=str(data["source"]), approvals=int(data["approvals"]), role=Role(data["role"]),
                   must_differ=bool(data["must_differ"]),
                   discord_role=int(discord_role) if discord_role is not None else None)


@dataclass(frozen=True)
class Approval:
    """One approver's approval of the current plan, with the role they held when they gave it."""

    approver_id: int
    role: Role
    at: datetime
    discord_roles: frozenset[int] = frozenset()  # those of the rules' Discord roles the approver held


@dataclass(frozen=True)
class RuleProgress:
    rule: ApprovalRule
    counted: tuple[int, ...]  # the qualifying approvers, in the order they approved

    @property
    def met(self) -> bool:
        return len(self.counted) >= self.rule.approvals

    @property
    def missing(self) -> int:
        return max(0, self.rule.approvals - len(self.counted))


@dataclass(frozen=True)
class ApprovalStatus:
    """Where a plan's approval stands: each rule's progress and everyone who approved it."""

    author_id: int
    approvals: tuple[Approval, ...]
    progress: tuple[RuleProgress, ...]

    @classmethod
    def of(cls, rules: Sequence[ApprovalRule], approvals: Sequence[Approval], author_id: int) -> ApprovalStatus:
        progress = tuple(RuleProgress(rule, tuple(a.approver_id for a in approvals
                                                  if rule.qualifies(a.approver_id, a.role, author_id,
                                                                    a.discord_roles)))
                         for rule in rules)
        return cls(author_id=author_id, approvals=tuple(approvals), progress=progress)

    @property
    def complete(self) -> bool:
        return all(p.met for p in self.progress)

    @property
    def approver_ids(self) -> tuple[int, ...]:
        return tuple(a.approver_id for a in self.approvals)

    @property
    def plain(self) -> bool:
        """Today's single approval by anyone who may approve: nothing worth showing beyond 'Approved by'."""
        return [p.rule.source for p in self.progress] == [DEFAULT_SOURCE]


def rule_of_policy(policy: Policy | None, source: str) -> ApprovalRule:
    """The rule a require_approval finding sets: the policy's params, or one CloudAdmin (builtin or removed policy)."""
    params = policy.params if policy is not None else {}
    count = int(params.get("approvals") or 1)
    differ = params.get("approvers_must_differ")
    discord_role = params.get("approver_discord_role")
    default_role = Role.USER if discord_role is not None else Role.ADMIN  # the Discord role is the gate then
    return ApprovalRule(source=source, approvals=count, role=Role(params.get("approver_role") or default_role.value),
                        must_differ=count >= 2 if differ is None else bool(differ),
                        discord_role=int(discord_role) if discord_role is not None else None)


def rules_for(violations: Iterable[Violation | Mapping[str, Any]], policies: Sequence[Policy]) -> list[ApprovalRule]:
    """One rule per policy whose require_approval finding fired (a policy matching three resources asks once)."""
    by_name = {p.name: p for p in policies}
    rules: dict[str, ApprovalRule] = {}
    for found in violations:
        action, name = (found.action, found.policy) if isinstance(found, Violation) else (found.get("action"),
                                                                                        str(found.get("policy")))
        if action == "require_approval" and name not in rules:
            rules[name] = rule_of_policy(by_name.get(name), name)
    return list(rules.values())


def held_rule_roles(rules: Iterable[ApprovalRule], discord_roles: Iterable[int]) -> frozenset[int]:
    """Of the member's Discord roles, those the rules name: what an approval records."""
    named = {rule.discord_role for rule in rules if rule.discord_role is not None}
    return frozenset(r for r in discord_roles if r in named)


def rules_dump(rules: Iterable[ApprovalRule]) -> str:
    return dumps([rule.to_json() for rule in rules])


def session_rules(stored: str | None, *, needs_approval: bool, project_must_differ: bool) -> list[ApprovalRule]:
    """The rules a session's plan must meet, with the project's `approver_must_differ` applied to each."""
    rules = [ApprovalRule.from_json(item) for item in loads(stored, []) or []]
    if not rules:
        rules = [ApprovalRule(source=LEGACY_SOURCE) if needs_approval else
                 ApprovalRule(source=DEFAULT_SOURCE, role=permissions.ACTION_ROLES["approve"])]
    return [replace(rule, must_differ=rule.must_differ or project_must_differ) for rule in rules]


def approval_refusal(rules: Sequence[ApprovalRule], *, role: Role, approver_id: int, author_id: int,
                     needs_approval: bool, project_name: str, verb: str,
                     discord_roles: Collection[int] = ()) -> PermissionDenied | None:
    """Why this member may not approve (nor reject) the plan, or None when they count for at least one rule.

    The wording for one CloudAdmin and for the author is the one the lobby has always given.
    """
    by_role = [rule for rule in rules if role >= rule.role]
    if not by_role:
        needed = min((rule.role for rule in rules), key=lambda r: r.level)
        what = f"{verb} a plan that a policy marked require_approval" if needs_approval else f"{verb} this plan"
        return PermissionDenied(action=what, required=needed.value, role=role.value)
    in_role = [rule for rule in by_role if rule.discord_role is None or rule.discord_role in discord_roles]
    if not in_role:
        named = ", ".join(f"<@&{rule.discord_role}>" for rule in by_role)
        return PermissionDenied(action=f"{verb} this plan", required=f"the Discord role {named}", role=role.value)
    if not any(rule.qualifies(approver_id, role, author_id, discord_roles) for rule in in_role):
        return PermissionDenied(action=f"{verb} your own plan in project {project_name}",
                                required="an approver other than the author", role=role.value)
    return None


def approvals_of(rows: Iterable[Mapping[str, Any]]) -> list[Approval]:
    """Approval rows (store/approvals.py) as Approvals."""
    return [Approval(int(r["approver_id"]), Role(r["approver_role"]), parse_dt(r["approved_at"]) or datetime.min,
                     frozenset(int(x) for x in loads(r.get("discord_roles"), []) or []))
            for r in rows]


async def plan_approvals(src: Source, session_id: int, fingerprint: str) -> list[Approval]:
    """The approvals of this plan of the session, oldest first (on the Database, or inside the caller's transaction)."""
    return approvals_of(await approval_store.plan_approval_rows(src, session_id, fingerprint))


async def record_approval(conn: aiosqlite.Connection, session_id: int, fingerprint: str, approver_id: int,
                          role: Role, now: datetime, discord_roles: Collection[int] = ()) -> bool:
    """Store one approval; False when this approver had already approved this plan (they count once).

    `discord_roles` are those of the rules' Discord roles the approver holds (no other role of theirs is kept).
    """
    return await approval_store.insert_approval(conn, session_id, fingerprint, approver_id, role.value, now,
                                                discord_roles)


async def void_approvals(conn: aiosqlite.Connection, session_id: int) -> int:
    """Forget every approval of the session's plans (a new plan, or a rejected one); how many there were."""
    return await approval_store.delete_approvals(conn, session_id)
