"""Validated engine models: resource specs, projects, sessions and results.

`ResourceSpec` is one model for every kind so the UI and API can build it uniformly
(`ResourceSpec(kind="vm", name=..., machine_type=...)`); per-kind rules run in one model
validator. Checks that need a provider's catalogue (machine types, regions) run in
`cloud_engine.core.catalog_checks`, because the same spec can be priced for any provider.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cloud_engine.core import validation
from cloud_engine.errors import InvalidInput

ResourceKind = Literal["vm", "database", "network", "bucket", "firewall", "k8s_cluster", "load_balancer"]
RESOURCE_KINDS: tuple[str, ...] = ("vm", "database", "network", "bucket", "firewall", "k8s_cluster", "load_balancer")
# What a load balancer may front: the kind of the resource its `backend` names.
LB_BACKEND_KINDS = ("vm", "k8s_cluster", "bucket")
# A hostname for a managed certificate: labels of letters, digits and inner hyphens, a dot-separated
# name of at least two labels ending in a letter label, at most 253 characters (RFC 1035 / 5890 A-labels).
_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DNS_NAME_RE = re.compile(rf"^(?=.{{4,253}}$)(?:{_DNS_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})$")
ProviderName = Literal["gcp", "aws", "azure", "sandbox"]


class State(StrEnum):
    DRAFT = "DRAFT"
    VALIDATING = "VALIDATING"
    PLANNING = "PLANNING"
    PLAN_READY = "PLAN_READY"
    APPROVED = "APPROVED"
    APPLYING = "APPLYING"
    APPLIED = "APPLIED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({State.APPLIED, State.FAILED, State.CANCELLED, State.EXPIRED})


class Role(StrEnum):
    """Ordered permission levels: each includes everything the lower ones may do."""

    NONE = "None"
    VIEWER = "CloudViewer"
    USER = "CloudUser"
    ADMIN = "CloudAdmin"

    @property
    def level(self) -> int:
        return _ROLE_LEVEL[self]

    def __ge__(self, other: object) -> bool:
        return isinstance(other, Role) and self.level >= other.level

    def __lt__(self, other: object) -> bool:
        return isinstance(other, Role) and self.level < other.level


_ROLE_LEVEL = {Role.NONE: 0, Role.VIEWER: 1, Role.USER: 2, Role.ADMIN: 3}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


M = TypeVar("M", bound=BaseModel)


def from_user(model: type[M], data: Mapping[str, Any]) -> M:
    """Build `model` from what a user typed; a bad field raises InvalidInput naming it and its rule.

    Why not pydantic's ValidationError: it is not an EngineError, so the CLI and the bot
    would each have to know it, and its text repeats the input (which may be a pasted
    secret). Engine code building models from its own values keeps the plain constructor.
    """
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise invalid_input(exc) from None


def invalid_input(error: ValidationError) -> InvalidInput:
    """The first problem of a ValidationError as InvalidInput: the field's dotted path and the rule, not the input."""
    first = error.errors(include_input=False, include_url=False)[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or "resource"
    rule = str(first.get("msg", "is not valid")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return InvalidInput(field=field, rule=rule)


class Subnet(_Strict):
    name: str
    cidr: str

    _name = field_validator("name")(validation.cloud_name)
    _cidr = field_validator("cidr")(lambda v: validation.cidr(v, private_only=True))


class FirewallRule(_Strict):
    """One ingress/egress rule. 0.0.0.0/0 on SSH/RDP is refused unless a security policy allows it."""

    direction: Literal["ingress", "egress"] = "ingress"
    protocol: Literal["tcp", "udp", "icmp", "all"] = "tcp"
    ports: list[int | str] = Field(default_factory=list, max_length=20)
    sources: list[str] = Field(default_factory=lambda: ["10.0.0.0/8"], min_length=1, max_length=20)
    action: Literal["allow", "deny"] = "allow"

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: list[int | str]) -> list[int | str]:
        return [validation.port(p) for p in value]

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        return [validation.cidr(v) for v in value]

    def opens_world(self) -> bool:
        """An allowed ingress whose sources admit at least a /8 (IPv4) or /32 (IPv6) of public space.

        Not just prefix length 0: `0.0.0.0/1 + 128.0.0.0/1` is the world too (see
        `validation.world_open`). The render-time guard in iac/providers/_common.py uses this.
        """
        return self.direction == "ingress" and self.action == "allow" and validation.world_open(self.sources)

    def covers_port(self, port: int) -> bool:
        return self.covers_range(port, port)

    def covers_range(self, lo: int, hi: int) -> bool:
        """True when this rule admits any port in lo..hi (inclusive)."""
        if self.protocol in ("all",) or not self.ports:
            return self.protocol in ("all", "tcp")
        return any(p_lo <= hi and lo <= p_hi for p_lo, p_hi in map(validation.port_range, self.ports))


# Which optional fields each kind accepts; anything else set on a spec is an error.
KIND_FIELDS: dict[str, frozenset[str]] = {
    "vm": frozenset({"machine_type", "disk_gb", "image", "network", "public_ip", "zone"}),
    "database": frozenset({"engine", "engine_version", "tier", "storage_gb", "network", "high_availability",
                           "deletion_protection", "backup_retention_days"}),
    "network": frozenset({"cidr", "subnets"}),
    "bucket": frozenset({"storage_class", "storage_gb", "versioning", "public_access", "retention_days"}),
    "firewall": frozenset({"network", "rules"}),
    "k8s_cluster": frozenset({"machine_type", "node_count", "kubernetes_version", "network", "private_nodes"}),
    "load_balancer": frozenset({"backend", "domain", "port", "cdn"}),
}
COMMON_FIELDS = frozenset({"kind", "name", "region", "tags", "description", "encrypted"})


class ResourceSpec(_Strict):
    """What a user asks for: one resource of one kind, provider-neutral until rendered."""

    kind: ResourceKind
    name: str
    region: str | None = Field(default=None, description="defaults to the project's region")
    tags: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    encrypted: bool = True
    # vm / k8s
    machine_type: str | None = None
    disk_gb: int | None = Field(default=None, ge=10, le=65536)
    image: str | None = None
    zone: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,40}$")
    public_ip: bool | None = None
    node_count: int | None = Field(default=None, ge=1, le=100)
    kubernetes_version: str | None = Field(default=None, pattern=r"^1\.\d{2}(\.\d+)?$")
    private_nodes: bool | None = None
    # database
    engine: Literal["postgres", "mysql"] | None = None
    engine_version: str | None = Field(default=None, pattern=r"^\d{1,2}(\.\d{1,2})?$")
    tier: str | None = None
    storage_gb: int | None = Field(default=None, ge=1, le=65536)
    high_availability: bool | None = None
    deletion_protection: bool | None = None
    backup_retention_days: int | None = Field(default=None, ge=1, le=35)
    # network / firewall
    cidr: str | None = None
    subnets: list[Subnet] | None = Field(default=None, max_length=16)
    network: str | None = None
    rules: list[FirewallRule] | None = Field(default=None, max_length=25)
    # bucket
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] | None = None
    versioning: bool | None = None
    public_access: bool | None = None
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    # load_balancer: HTTPS on `domain` (managed certificate) in front of `backend`, a vm,
    # k8s_cluster or bucket of the same project; `port` is where a VM backend serves HTTP,
    # `cdn` caches a bucket backend at the edge.
    backend: str | None = Field(default=None, validate_default=True)
    domain: str | None = Field(default=None, validate_default=True)
    port: int | None = Field(default=None, ge=1, le=65535)
    cdn: bool | None = None

    _name = field_validator("name")(validation.cloud_name)
    _network = field_validator("network")(lambda v: v if v is None else validation.cloud_name(v))
    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Required on a load balancer (an error on `backend` itself, so forms and the CLI name the field)."""
        if value is None:
            if info.data.get("kind") == "load_balancer":
                raise ValueError("a load balancer needs a backend: the name of a vm, k8s_cluster or bucket "
                                 "of this project")
            return None
        return validation.cloud_name(value)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A managed certificate is issued for one DNS name; wildcards and IP addresses are not validated by DNS."""
        if value is None:
            if info.data.get("kind") == "load_balancer":
                raise ValueError("a load balancer needs a domain for its managed certificate, e.g. shop.example.com")
            return None
        lowered = value.lower().rstrip(".")
        if not DNS_NAME_RE.fullmatch(lowered):
            raise ValueError("must be a DNS name such as shop.example.com (letters, digits, hyphens and dots; "
                             "no wildcard, no IP address, at most 253 characters)")
        return lowered
    _tags = field_validator("tags")(validation.tags)
    _description = field_validator("description")(validation.description)

    @field_validator("region", "machine_type", "tier", "image")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None and not value.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError("may only contain letters, digits, '-', '_' and '.'")
        return value

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        return None if value is None else validation.cidr(value, private_only=True)

    @model_validator(mode="after")
    def _per_kind(self) -> ResourceSpec:
        allowed = KIND_FIELDS[self.kind] | COMMON_FIELDS
        stray = sorted(k for k in self.model_fields_set - allowed if getattr(self, k) is not None)
        if stray:
            raise ValueError(f"fields {stray} do not apply to a {self.kind}")
        defaults = KIND_DEFAULTS[self.kind]
        for key, value in defaults.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value() if callable(value) else value)
        if self.kind == "network" and self.subnets:
            parent = ipaddress.ip_network(str(self.cidr))  # a network always has one: KIND_DEFAULTS sets it
            seen: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
            names: set[str] = set()
            for sub in self.subnets:
                if sub.name in names:
                    raise ValueError(f"two subnets are named {sub.name}; subnet names must be unique")
                names.add(sub.name)
                net = ipaddress.ip_network(sub.cidr)
                if net.version != parent.version or not net.subnet_of(parent):  # type: ignore[arg-type]
                    raise ValueError(f"subnet {sub.name} {sub.cidr} is not inside {self.cidr}")
                if any(net.overlaps(other) for other in seen):
                    raise ValueError(f"subnet {sub.name} {sub.cidr} overlaps another subnet")
                seen.append(net)
        return self

    @classmethod
    def from_user(cls, data: Mapping[str, Any]) -> ResourceSpec:
        """A spec from user input (a form, the CLI, an API call); see `from_user`."""
        return from_user(cls, data)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "vm": {"disk_gb": 20, "public_ip": False},
    "database": {"engine": "postgres", "storage_gb": 20, "high_availability": False, "deletion_protection": True,
                 "backup_retention_days": 7},
    "network": {"cidr": "10.10.0.0/16", "subnets": list},
    "bucket": {"storage_class": "STANDARD", "storage_gb": 50, "versioning": True, "public_access": False},
    "firewall": {"rules": list},
    "k8s_cluster": {"node_count": 3, "private_nodes": True},
    "load_balancer": {"port": 80, "cdn": False},
}



class Project(BaseModel):
    id: int
    guild_id: int
    name: str
    provider: ProviderName
    region: str
    target: Literal["sandbox", "cloud"]
    budget_monthly: float
    alert_thresholds: list[int]
    approver_must_differ: bool
    backend: dict[str, Any]
    created_by: int
    created_at: datetime
    archived_at: datetime | None = None

    @property
    def catalog_provider(self) -> str:
        return "gcp" if self.provider == "sandbox" else self.provider


class SessionResource(BaseModel):
    kind: str
    name: str
    action: Literal["upsert", "delete"]
    spec: ResourceSpec
    cost_monthly: float


class Session(BaseModel):
    id: int
    project_id: int
    guild_id: int
    user_id: int
    purpose: str
    state: State
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    reservations: dict[str, int]
    cost_monthly: float
    violations: list[dict[str, Any]]
    needs_approval: bool
    plan_summary: dict[str, Any] | None
    plan_fingerprint: str | None
    plan_created_at: datetime | None
    approved_by: int | None
    error: str | None
    target_commit: str | None
    channel_id: int | None
    message_id: int | None
    thread_id: int | None
    resources: list[SessionResource] = Field(default_factory=list)


class Violation(BaseModel):
    """One reason a session cannot (or should not) proceed, with the rule that fired."""

    policy: str
    type: str
    action: Literal["deny", "warn", "require_approval"]
    resource: str | None
    message: str
    priority: int = 100


class CostLine(BaseModel):
    resource: str
    kind: str
    hourly: float
    monthly: float
    detail: str


class ValidationResult(BaseModel):
    ok: bool
    violations: list[Violation]
    warnings: list[Violation]
    needs_approval: bool
    cost_monthly: float
    cost_lines: list[CostLine]
    project_monthly_after: float
    budget_monthly: float
    reservations: dict[str, int]
    state: State
