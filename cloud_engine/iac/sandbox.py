"""The sandbox mirror: each resource as two null_resources, so a real plan shows real semantics.

Why two: on a cloud provider some attributes force a new resource (a VM's image) and others
update in place (its machine type). `null_resource.<kind>__<name>` carries the identity
attributes (the provider kind's FORCE_NEW) and `<kind>__<name>__settings` the rest, so a
plan that replaces only the settings twin means "update in place" and one that replaces
the identity means "replace". Subnets get their own pair (`network__<net>__subnet__<sub>`)
because a subnet's range can force its replacement without touching the network.
`logical_changes` maps a plan of the mirror back onto user resources.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from cloud_engine.core.models import COMMON_FIELDS, KIND_FIELDS, ResourceSpec
from cloud_engine.iac.hcl import Block, Raw, write_files
from cloud_engine.iac.plan import PlanResult, ResourceChange
from cloud_engine.iac.providers import get_provider
from cloud_engine.iac.providers._base import KIND_ORDER
from cloud_engine.iac.providers._common import (
    WorldAdminAllowance,
    check_project_name,
    check_unique,
    check_world_admin,
    tf_name,
)

__all__ = ["NULL_SOURCE", "LogicalChange", "logical_changes", "mirror_instances", "render_sandbox", "trigger_values"]

NULL_SOURCE = "hashicorp/null"
NULL_VERSION = "2.1.2"
SETTINGS_SUFFIX = "settings"
SUBNET_PART = "subnet"

LogicalAction = Literal["create", "update", "replace", "delete", "no-op"]


class LogicalChange(BaseModel):
    """What a plan of the mirror means for one user resource (or one subnet of a network)."""

    kind: str
    name: str
    part: str | None = Field(default=None, description='e.g. "subnet:app" for a network\'s subnet')
    action: LogicalAction
    forced_by: list[str] = Field(default_factory=list, description="identity keys whose change forces replace")
    changed: list[str] = Field(default_factory=list, description="every trigger key that differs")


def render_sandbox(
    resources: Sequence[ResourceSpec],
    *,
    project_name: str,
    region: str | None,
    shape: str = "gcp",
    allow_world_admin: WorldAdminAllowance = False,
) -> dict[str, str]:
    """`{"main.tf": ...}` mirroring `resources` as null_resources, with `shape`'s replace rules."""
    check_project_name(project_name)
    specs = tuple(resources)
    check_unique(specs)
    check_world_admin(specs, allow=allow_world_admin)
    default_region = region or get_provider(shape).default_region
    blocks = [Block("terraform", (), {"required_version": ">= 1.0.0"}, [
        Block("required_providers", (), {"null": {"source": NULL_SOURCE, "version": NULL_VERSION}}),
    ])]
    for address, triggers, force_new in _mirrored(specs, default_region, shape):
        blocks += _pair(address, triggers, force_new)
    return write_files({"main.tf": blocks})


def _mirrored(specs: Sequence[ResourceSpec], default_region: str,
              shape: str) -> list[tuple[str, dict[str, str], frozenset[str]]]:
    """(pair address, triggers, force-new keys) for each resource and subnet, in render order."""
    prov = get_provider(shape)
    out: list[tuple[str, dict[str, str], frozenset[str]]] = []
    for spec in specs:
        triggers = trigger_values(spec, spec.region or default_region)
        out.append((tf_name(spec.kind, spec.name), triggers, prov.kind(spec.kind).force_new))
        for sub in spec.subnets or ():
            sub_triggers = {"name": sub.name, "cidr": sub.cidr, "region": triggers["region"], "network": spec.name}
            out.append((tf_name(spec.kind, spec.name, SUBNET_PART, sub.name), sub_triggers, prov.subnet_force_new))
    return out


def mirror_instances(specs: Sequence[ResourceSpec], *, region: str | None,
                     shape: str = "gcp") -> dict[str, tuple[tuple[str, str], dict[str, str]]]:
    """Address → ((kind, name) of the user resource, triggers) of every null_resource the mirror has.

    Why: reconciling after an interrupted apply compares Terraform's state with what the
    mirror of a configuration would hold, instance by instance (render and this share `_mirrored`).
    """
    default_region = region or get_provider(shape).default_region
    out: dict[str, tuple[tuple[str, str], dict[str, str]]] = {}
    for spec in specs:
        for address, triggers, force_new in _mirrored([spec], default_region, shape):
            out[f"null_resource.{address}"] = (spec.key, {k: v for k, v in triggers.items() if k in force_new})
            out[f"null_resource.{address}__{SETTINGS_SUFFIX}"] = (
                spec.key, {k: v for k, v in triggers.items() if k not in force_new})
    return out


def trigger_values(spec: ResourceSpec, region: str) -> dict[str, str]:
    """Every field of the spec's kind as a string (JSON for structured values), region resolved."""
    data = spec.model_dump(mode="json")
    data["region"] = region
    fields = sorted((KIND_FIELDS[spec.kind] | COMMON_FIELDS) - {"kind", "subnets"})
    out: dict[str, str] = {}
    for name in fields:
        value = data.get(name)
        if value is None:
            continue
        out[name] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return out


def _pair(address: str, triggers: dict[str, str], force_new: frozenset[str]) -> list[Block]:
    identity = {k: v for k, v in triggers.items() if k in force_new}
    settings = {k: v for k, v in triggers.items() if k not in force_new}
    return [
        Block("resource", ("null_resource", address), {"triggers": identity}),
        Block("resource", ("null_resource", f"{address}__{SETTINGS_SUFFIX}"), {
            "triggers": settings,
            "depends_on": [Raw(f"null_resource.{address}")],
        }),
    ]


def logical_changes(plan: PlanResult) -> list[LogicalChange]:
    """Fold the mirror's null_resource changes into one LogicalChange per user resource/subnet.

    Rows come in KIND_ORDER (Terraform lists addresses alphabetically, which would put a load
    balancer before the network and the VM it needs), in Terraform's order within a kind.
    """
    groups: dict[tuple[str, str, str | None], dict[str, ResourceChange]] = {}
    for change in plan.changes:
        parsed = _parse_address(change)
        if parsed is None:
            continue
        key, role = parsed
        groups.setdefault(key, {})[role] = change
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    keys = sorted(groups, key=lambda key: rank.get(key[0], len(rank)))
    return [_fold(key, groups[key]) for key in keys]


def _parse_address(change: ResourceChange) -> tuple[tuple[str, str, str | None], str] | None:
    if change.type != "null_resource":
        return None
    parts = change.name.split("__")
    role = "identity"
    if len(parts) > 2 and parts[-1] == SETTINGS_SUFFIX:
        role = "settings"
        parts = parts[:-1]
    if len(parts) == 2:
        return (parts[0], parts[1], None), role
    if len(parts) == 4 and parts[2] == SUBNET_PART:
        return (parts[0], parts[1], f"{SUBNET_PART}:{parts[3]}"), role
    return None


def _fold(key: tuple[str, str, str | None], pair: dict[str, ResourceChange]) -> LogicalChange:
    identity, settings = pair.get("identity"), pair.get("settings")
    id_action = identity.action if identity else None
    set_action = settings.action if settings else None
    id_diff, set_diff = _differing(identity), _differing(settings)
    kind, name, part = key
    action: LogicalAction
    forced_by: list[str] = []
    if id_action == "create" or (id_action is None and set_action == "create"):
        action, id_diff, set_diff = "create", [], []
    elif id_action == "delete" or (id_action is None and set_action == "delete"):
        action, id_diff, set_diff = "delete", [], []
    elif id_action == "replace":
        action, forced_by = "replace", id_diff
    elif set_action in ("replace", "update", "create", "delete"):
        action = "update"
    else:
        action = "no-op"
    return LogicalChange(kind=kind, name=name, part=part, action=action, forced_by=forced_by,
                         changed=sorted(set(id_diff) | set(set_diff)))


def _differing(change: ResourceChange | None) -> list[str]:
    """Trigger keys whose values differ between before and after (both must exist)."""
    if change is None or change.before is None or change.after is None:
        return []
    before: dict[str, Any] = change.before.get("triggers") or {}
    after: dict[str, Any] = change.after.get("triggers") or {}
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
