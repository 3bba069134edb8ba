"""Guild policies and their evaluation against a session's resources.

A policy has a type (permission, quota, region, cost, security, scanner), a glob pattern matched
against `kind/type/name` of each resource (type = machine type, tier, storage class or
engine, '-' when none; a `scanner` pattern matches the Terraform address of a scan finding,
judged after the plan by core/scanner_policy.py), a priority (lower number = evaluated first) and an action
(deny, warn, require_approval). For one resource and one policy type, the first matching
policy decides: a priority-10 "warn for vm/*/dev-*" is an exception to a priority-100
"deny for *". Evaluation returns every violation, not just the first.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from cloud_engine.core import validation
from cloud_engine.core.models import ResourceSpec, Role, Violation
from cloud_engine.errors import InvalidInput

PolicyType = Literal["permission", "quota", "region", "cost", "security", "scanner"]
PolicyAction = Literal["deny", "warn", "require_approval"]
SECURITY_CHECKS = ("world_ingress", "unencrypted", "public_bucket", "public_ip", "allow_world_admin")
ADMIN_PORTS = (22, 3389)
# What a require_approval policy may say about who approves (see cloud_engine/core/approvals.py).
APPROVAL_KEYS = ("approvals", "approver_role", "approver_discord_role", "approvers_must_differ")
MAX_APPROVALS = 5
APPROVER_ROLES = (Role.USER.value, Role.ADMIN.value)  # a CloudViewer may not approve anything
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")  # Checkov's, lowest first
UNRATED = ("match", "warn")  # how a severity rule judges a finding Checkov gave no severity (scanner_policy.py)
CHECK_GLOB_RE = re.compile(r"^[A-Z][A-Z0-9_*?]{0,63}$")
MAX_CHECKS = 20


class PolicySpec(BaseModel):
    """A policy as an admin writes it; params depend on the type (see docs/policies.md)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")
    type: PolicyType
    pattern: str = Field(default="*", pattern=r"^[A-Za-z0-9*?/_.\-\[\]]{1,100}$")
    priority: int = Field(default=100, ge=0, le=10000)
    action: PolicyAction = "deny"
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _params_small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(str(value)) > 2000:
            raise ValueError("params too large")
        return value

    @model_validator(mode="after")
    def _check_params(self) -> PolicySpec:
        p = self.params
        if self.type == "region":
            if not (isinstance(p.get("allowed"), list) or isinstance(p.get("denied"), list)):
                raise ValueError("a region policy needs params.allowed or params.denied (list of regions)")
            for key in ("allowed", "denied"):
                if key in p:
                    p[key] = _regions(key, p[key])
        if self.type == "cost" and not validation.non_negative_number(p.get("max_monthly_usd")):
            raise ValueError("a cost policy needs params.max_monthly_usd (a finite number >= 0)")
        if self.type == "quota" and not (isinstance(p.get("max_count"), int) and not isinstance(p["max_count"], bool)
                                         and p["max_count"] >= 0):
            raise ValueError("a quota policy needs params.max_count (integer >= 0)")
        if self.type == "permission" and p.get("min_role") not in {r.value for r in Role if r is not Role.NONE}:
            raise ValueError("a permission policy needs params.min_role (CloudViewer, CloudUser or CloudAdmin)")
        if self.type == "security" and p.get("check") not in SECURITY_CHECKS:
            raise ValueError(f"a security policy needs params.check, one of {', '.join(SECURITY_CHECKS)}")
        if self.type == "security" and p.get("check") == "world_ingress" and p.get("ports") is not None:
            ports = p["ports"]
            if not isinstance(ports, list) or not ports:
                raise ValueError("params.ports of a world_ingress policy must be a non-empty list of ports or "
                                 "ranges like [22, \"8000-8080\"]")
            try:
                p["ports"] = [validation.port(x) for x in ports]
            except ValueError as exc:
                raise ValueError(f"params.ports: {exc}") from None
        if self.type == "scanner":
            _check_scanner(p)
        if problem := approval_problem(self.action, p):
            raise ValueError(f"params.{problem[0]}: {problem[1]}")
        return self


def _check_scanner(p: dict[str, Any]) -> None:
    """A scanner policy names checks (ids or globs), a minimum severity, or both; normalised in place."""
    checks, severity = p.get("checks"), p.get("min_severity")
    if checks is None and severity is None:
        raise ValueError("a scanner policy needs params.checks (check ids or globs like CKV_AWS_*) or "
                         f"params.min_severity ({', '.join(SEVERITIES)})")
    if checks is not None:
        if (not isinstance(checks, list) or not checks or len(checks) > MAX_CHECKS
                or not all(isinstance(c, str) for c in checks)):
            raise ValueError(f"params.checks must be a list of 1 to {MAX_CHECKS} check ids or globs")
        p["checks"] = [c.strip().upper() for c in checks]
        if bad := [c for c in p["checks"] if not CHECK_GLOB_RE.fullmatch(c)]:
            raise ValueError(f"params.checks: {bad[0]!r} is not a check id like CKV_AWS_144 or a glob like CKV_AWS_*")
    if severity is not None:
        if not isinstance(severity, str) or severity.strip().upper() not in SEVERITIES:
            raise ValueError(f"params.min_severity must be one of {', '.join(SEVERITIES)}")
        p["min_severity"] = severity.strip().upper()
    if p.get("unrated") is not None:
        if severity is None:
            raise ValueError("params.unrated only applies with params.min_severity")
        if p["unrated"] not in UNRATED:
            raise ValueError(f"params.unrated must be one of {', '.join(UNRATED)}")


def approval_problem(action: str, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """What is wrong with a policy's approval params, as (param, rule), or None when they are fine (or absent).

    `approvals` (1 to MAX_APPROVALS distinct approvers), `approver_role` (CloudUser or
    CloudAdmin), `approver_discord_role` (a Discord role id: approvers must hold that role) and
    `approvers_must_differ` (true/false) belong to require_approval policies only.
    """
    given = [key for key in APPROVAL_KEYS if params.get(key) is not None]
    if not given:
        return None
    if action != "require_approval":
        return (given[0], "only a require_approval policy says who approves; set action to require_approval")
    count = params.get("approvals")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or not 1 <= count <= MAX_APPROVALS):
        return ("approvals", f"a whole number of distinct approvers from 1 to {MAX_APPROVALS}")
    if params.get("approver_role") is not None and params["approver_role"] not in APPROVER_ROLES:
        return ("approver_role", f"one of {', '.join(APPROVER_ROLES)}")
    role_id = params.get("approver_discord_role")
    if role_id is not None and (not isinstance(role_id, int) or isinstance(role_id, bool) or not 0 < role_id < 2**63):
        return ("approver_discord_role", "a Discord role id (pick the role in /cloud-policy add)")
    if params.get("approvers_must_differ") is not None and not isinstance(params["approvers_must_differ"], bool):
        return ("approvers_must_differ", "true or false")
    return None


def check_approval_params(action: str, params: Mapping[str, Any]) -> None:
    """InvalidInput naming the first bad approval param (for callers turning user input into a PolicySpec)."""
    if problem := approval_problem(action, params):
        raise InvalidInput(field=problem[0], rule=problem[1])


REGION_RE = re.compile(r"^[a-z][a-z0-9-]{1,40}$")


def _regions(key: str, value: object) -> list[str]:
    """A region list from params: strings, stripped and lower-cased (catalogue regions are lower case)."""
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ValueError(f"params.{key} must be a list of region names")
    out = [r.strip().lower() for r in value]
    bad = [r for r in out if not REGION_RE.fullmatch(r)]
    if bad:
        raise ValueError(f"params.{key}: {', '.join(map(repr, bad))} is not a region name like us-east1 or eu-west-1")
    return out


class Policy(PolicySpec):
    id: int
    enabled: bool = True


def subject(spec: ResourceSpec) -> str:
    type_ = spec.machine_type or spec.tier or spec.storage_class or spec.engine or "-"
    return f"{spec.kind}/{type_}/{spec.name}"


def matches(pattern: str, spec: ResourceSpec) -> bool:
    subj = subject(spec)
    return fnmatch.fnmatchcase(subj, pattern) or fnmatch.fnmatchcase(spec.name, pattern) or pattern == spec.kind


@dataclass
class PolicyContext:
    """What evaluation needs besides the policies: the resources and facts about them."""

    resources: Sequence[ResourceSpec]
    role: Role
    costs: dict[str, float]  # "kind/name" -> monthly
    project_counts: dict[str, int] = field(default_factory=dict)  # pattern-independent counts per kind after session


def _fires(policy: Policy, spec: ResourceSpec, ctx: PolicyContext) -> str | None:
    p = policy.params
    if policy.type == "region":
        region = (spec.region or "").lower()
        if "allowed" in p and region not in {r.lower() for r in p["allowed"]}:
            return f"region {region} is not in the allowed regions {', '.join(p['allowed'])}"
        if region in {r.lower() for r in p.get("denied", [])}:
            return f"region {region} is denied"
    elif policy.type == "permission":
        needed = Role(p["min_role"])
        if not ctx.role >= needed:
            return f"{subject(spec)} needs role {needed.value}; requester has {ctx.role.value}"
    elif policy.type == "security":
        return _security(p["check"], p, spec)
    return None


def _security(check: str, p: dict[str, Any], spec: ResourceSpec) -> str | None:
    if check == "world_ingress" and spec.kind == "firewall":
        ports = p.get("ports")
        ranges = [validation.port_range(x) for x in ports or ()]
        for rule in spec.rules or []:
            if rule.opens_world() and (not ranges or any(rule.covers_range(lo, hi) for lo, hi in ranges)):
                on = f" on {', '.join(map(str, ports))}" if ports else ""
                return f"firewall {spec.name} allows ingress from the whole internet{on}"
    if check == "unencrypted" and not spec.encrypted and spec.kind in ("vm", "database", "bucket"):
        return f"{spec.kind} {spec.name} has encryption turned off"
    if check == "public_bucket" and spec.kind == "bucket" and spec.public_access:
        return f"bucket {spec.name} allows public access"
    if check == "public_ip" and spec.kind == "vm" and spec.public_ip:
        return f"vm {spec.name} has a public IP"
    return None


def world_admin_allowed(policies: Sequence[Policy], spec: ResourceSpec) -> bool:
    """True when an enabled `allow_world_admin` security policy matches this firewall."""
    return any(
        p.enabled and p.type == "security" and p.params.get("check") == "allow_world_admin" and matches(p.pattern, spec)
        for p in policies
    )


def builtin_guards(policies: Sequence[Policy], spec: ResourceSpec) -> list[Violation]:
    """Guards that hold without any configured policy: no SSH/RDP open to the world unless allowed."""
    out = []
    if spec.kind == "firewall" and not world_admin_allowed(policies, spec):
        for rule in spec.rules or []:
            if rule.opens_world() and any(rule.covers_port(port) for port in ADMIN_PORTS):
                out.append(Violation(policy="builtin:no-world-admin-ingress", type="security", action="deny",
                                     resource=f"firewall/{spec.name}", priority=0,
                                     message=f"firewall {spec.name} opens SSH/RDP to the whole internet; use an IAP/bastion "
                                             "range or ask an admin for an allow_world_admin policy"))
                break
    return out


def evaluate(policies: Sequence[Policy], ctx: PolicyContext) -> list[Violation]:
    """Every violation (deny, warn, require_approval) the policies raise for these resources."""
    ordered = sorted((p for p in policies if p.enabled), key=lambda p: (p.priority, p.id))
    out: list[Violation] = []
    for spec in ctx.resources:
        out.extend(builtin_guards(policies, spec))
        decided: set[str] = set()
        for policy in ordered:
            if policy.type in ("cost", "quota", "scanner") or policy.type in decided or not matches(policy.pattern, spec):
                continue
            if policy.type == "security" and policy.params.get("check") == "allow_world_admin":
                continue
            if policy.type != "security":
                decided.add(policy.type)
            message = _fires(policy, spec, ctx)
            if message:
                out.append(Violation(policy=policy.name, type=policy.type, action=policy.action,
                                     resource=f"{spec.kind}/{spec.name}", message=message, priority=policy.priority))
    for policy in ordered:
        matched = [s for s in ctx.resources if matches(policy.pattern, s)]
        if policy.type == "cost" and matched:
            total = round(sum(ctx.costs.get(f"{s.kind}/{s.name}", 0.0) for s in matched), 2)
            if total > policy.params["max_monthly_usd"]:
                out.append(Violation(policy=policy.name, type="cost", action=policy.action, resource=None,
                                     priority=policy.priority,
                                     message=f"monthly cost ${total:,.2f} of {policy.pattern} exceeds "
                                             f"${policy.params['max_monthly_usd']:,.2f}"))
        if policy.type == "quota" and matched:
            count = ctx.project_counts.get(policy.pattern, len(matched))
            if count > policy.params["max_count"]:
                out.append(Violation(policy=policy.name, type="quota", action=policy.action, resource=None,
                                     priority=policy.priority,
                                     message=f"{count} resources match {policy.pattern}; the policy allows "
                                             f"{policy.params['max_count']}"))
    return out
