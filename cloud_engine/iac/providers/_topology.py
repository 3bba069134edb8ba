"""Who uses which network: the facts every provider's network plumbing is generated from.

Why one place: an internet gateway, a NAT, a route table or a delegated subnet exists
because of the resources that sit in a network, not because of the network alone. The
conventions are the same on every cloud and are written down in docs/real-clouds.md:

- the first subnet is the *app* subnet: VMs and (on Azure) cluster nodes go there;
- the other subnets are *data* subnets: databases go there (all subnets when there is
  only one, or where the cloud needs two zones);
- a subnet is *public* when a VM with a public IP sits in it; compute in any other subnet
  reaches the internet through the network's NAT.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cloud_engine.core.models import ResourceSpec, Subnet
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.providers._base import RenderContext, require

COMPUTE_KINDS = frozenset({"vm", "k8s_cluster"})
# The engine's port per database engine: the only one a database security rule opens.
DB_PORTS = {"postgres": 5432, "mysql": 3306}
# A small range the engine carves out of the network for a NAT when no subnet is public.
EDGE_PREFIX = 28


@dataclass(frozen=True)
class NetworkUse:
    """One network of the project and the resources attached to it, in the project's order."""

    network: ResourceSpec
    users: tuple[ResourceSpec, ...]

    def of_kind(self, kind: str) -> tuple[ResourceSpec, ...]:
        return tuple(spec for spec in self.users if spec.kind == kind)

    @property
    def subnets(self) -> tuple[Subnet, ...]:
        return tuple(self.network.subnets or ())

    @property
    def app_subnet(self) -> Subnet | None:
        return self.subnets[0] if self.subnets else None

    @property
    def data_subnets(self) -> tuple[Subnet, ...]:
        return self.subnets[1:] or self.subnets[:1]

    @property
    def public_app(self) -> bool:
        """The app subnet is public: a VM in it asked for a public IP."""
        return any(vm.public_ip for vm in self.of_kind("vm"))

    @property
    def public_subnets(self) -> tuple[Subnet, ...]:
        app = self.app_subnet
        return (app,) if app is not None and self.public_app else ()

    @property
    def private_subnets(self) -> tuple[Subnet, ...]:
        public = {s.name for s in self.public_subnets}
        return tuple(s for s in self.subnets if s.name not in public)

    @property
    def has_compute(self) -> bool:
        return any(spec.kind in COMPUTE_KINDS for spec in self.users)

    @property
    def private_vms(self) -> bool:
        return any(not vm.public_ip for vm in self.of_kind("vm"))

    @property
    def private_nodes(self) -> bool:
        return any(bool(k8s.private_nodes) for k8s in self.of_kind("k8s_cluster"))

    def edge_cidr(self) -> str:
        """The highest /28 of the network that no subnet overlaps (home of the NAT when no subnet is public)."""
        require(":" not in str(self.network.cidr), f"{self.network.name}.cidr",
                "an IPv6 range cannot hold the engine's IPv4 NAT subnet")
        parent = ipaddress.IPv4Network(str(self.network.cidr))
        require(parent.prefixlen <= EDGE_PREFIX, f"{self.network.name}.cidr",
                f"is too small to hold the engine's /{EDGE_PREFIX} NAT subnet")
        taken = [ipaddress.IPv4Network(s.cidr) for s in self.subnets]
        for candidate in reversed(list(parent.subnets(new_prefix=EDGE_PREFIX))):
            if not any(candidate.overlaps(t) for t in taken):
                return str(candidate)
        raise InvalidInput(field=f"{self.network.name}.subnets",
                           rule=f"leave a free /{EDGE_PREFIX} in {self.network.cidr} for the NAT")


def network_use(ctx: RenderContext, network: ResourceSpec) -> NetworkUse:
    """The network and the project's resources naming it."""
    users = tuple(spec for spec in ctx.resources if spec.kind != "network" and spec.network == network.name)
    return NetworkUse(network=network, users=users)


def use_of(spec: ResourceSpec, ctx: RenderContext) -> NetworkUse | None:
    """The NetworkUse of the network `spec` attaches to, when that network is part of this project."""
    net = ctx.network(spec)
    return None if net is None else network_use(ctx, net)


def require_network(spec: ResourceSpec, ctx: RenderContext) -> NetworkUse:
    """A database's network: part of this project and with at least one subnet (its private address lives there)."""
    require(spec.network is not None, f"{spec.name}.network",
            f"a {spec.kind} needs a network of this project (it is reachable only from inside it)")
    use = use_of(spec, ctx)
    if use is None:
        raise InvalidInput(field=f"{spec.name}.network", rule=f"network {spec.network} is not part of this project")
    require(bool(use.subnets), f"{spec.name}.network", f"network {spec.network} has no subnet for the {spec.kind}")
    return use


def firewalls_of(use: NetworkUse) -> tuple[ResourceSpec, ...]:
    return use.of_kind("firewall")


def db_port(spec: ResourceSpec) -> int:
    return DB_PORTS[spec.engine or "postgres"]


def first_free(candidates: tuple[str, ...], taken: tuple[str, ...], field_name: str, what: str) -> str:
    """The first candidate range overlapping none of `taken` (a cluster's own ranges must not meet the network's)."""
    used = [ipaddress.ip_network(t) for t in taken]
    for candidate in candidates:
        net = ipaddress.ip_network(candidate)
        if not any(net.version == u.version and net.overlaps(u) for u in used):
            return candidate
    raise InvalidInput(field=field_name, rule=f"the network's ranges leave no room for the {what} "
                                              f"({candidates[0]} to {candidates[-1]})")


def ranges_of(net: ResourceSpec | None, *, own: bool = True) -> tuple[str, ...]:
    """The network's subnets' ranges, and its own unless `own` is False (a GCP VPC has none of its own)."""
    if net is None:
        return ()
    return tuple(r for r in ((net.cidr if own else None), *(s.cidr for s in net.subnets or ())) if r)
