"""Helpers every provider's kind modules share: names, references and security checks."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from cloud_engine.core import validation
from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.hcl import Block, Raw, Value, is_identifier

ADMIN_PORTS = {22: "SSH", 3389: "RDP"}


def tf_name(*parts: str) -> str:
    """A Terraform block name from spec names, joined by `__` (spec names never contain `_`)."""
    name = "__".join(parts)
    if not is_identifier(name):
        raise InvalidInput(field="name", rule=f"{name!r} is not a valid Terraform identifier")
    return name


def suffixed(name: str, suffix: str, limit: int = 63) -> str:
    """A cloud name `name-suffix` cut to the provider's length limit without a trailing hyphen."""
    head = name[: max(1, limit - len(suffix) - 1)].rstrip("-")
    return f"{head}-{suffix}"


def ref(resource_type: str, name: str, attribute: str = "id") -> Raw:
    return Raw(f"{resource_type}.{name}.{attribute}")


def output(spec: ResourceSpec, value: Value, description: str, *part: str) -> Block:
    """`output "<kind>__<name>[__<part>]"`: a resource's main output, or another one named by `part`."""
    return Block("output", (tf_name(spec.kind, spec.name, *part),), {"description": description, "value": value})


WorldAdminAllowance = bool | Collection[str]


def check_world_admin(resources: Sequence[ResourceSpec], *, allow: WorldAdminAllowance) -> None:
    """Refuse ingress from the whole internet to SSH or RDP unless a security policy allowed it.

    "The whole internet" is `FirewallRule.opens_world` (`validation.world_open`): public sources
    admitting at least a /8 (IPv4) or /32 (IPv6), so 0.0.0.0/1 + 128.0.0.0/1 counts as 0.0.0.0/0.

    `allow` is True (every firewall), False (none), or the names of the firewalls a policy
    exempted, so one exemption never opens another resource.
    """
    if allow is True:
        return
    allowed_names = frozenset() if allow is False else frozenset(allow)
    for spec in resources:
        if spec.name in allowed_names:
            continue
        for index, rule in enumerate(spec.rules or ()):
            if not rule.opens_world():
                continue
            for port, label in ADMIN_PORTS.items():
                if rule.covers_port(port):
                    raise InvalidInput(
                        field=f"{spec.name}.rules[{index}]",
                        rule=f"firewall {spec.name} rule {index} opens {label} ({port}) to the whole internet",
                    )


def check_unique(resources: Sequence[ResourceSpec]) -> None:
    seen: set[tuple[str, str]] = set()
    for spec in resources:
        if spec.key in seen:
            raise InvalidInput(field="name", rule=f"two {spec.kind} resources are named {spec.name}")
        seen.add(spec.key)


def port_ranges(ports: Sequence[int | str]) -> list[tuple[int, int]]:
    """Ports as (from, to) pairs; the model has already validated their form."""
    return [validation.port_range(port) for port in ports]


def engine_version(spec: ResourceSpec) -> str:
    """The database engine version, or the current major default for the engine."""
    return spec.engine_version or ("16" if spec.engine == "postgres" else "8.0")


def check_project_name(project_name: str) -> None:
    """Project names become labels and resource-group names, so they follow cloud-name rules."""
    try:
        validation.cloud_name(project_name)
    except ValueError as exc:
        raise InvalidInput(field="project_name", rule=str(exc)) from None


def check_api_access_cidrs(cidrs: Sequence[str]) -> tuple[str, ...]:
    """Control-plane access ranges: valid CIDRs, and never the whole internet (CKV_AWS_38, CKV_GCP_20)."""
    out: list[str] = []
    for index, value in enumerate(cidrs):
        try:
            out.append(validation.cidr(value))
        except ValueError as exc:
            raise InvalidInput(field=f"api_access_cidrs[{index}]", rule=str(exc)) from None
    if out and validation.world_open(out):
        raise InvalidInput(field="api_access_cidrs", rule="a cluster API open to the whole internet is refused")
    return tuple(out)
