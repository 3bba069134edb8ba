"""The contract between the renderer and one resource kind of one provider (STYLE.md pattern 8).

Why a contract: adding a kind costs one module and one registry line; `render.py` never
branches on kinds. Each kind module exposes `KIND = KindRenderer(...)` with its HCL
function and FORCE_NEW, the spec fields whose change replaces the real resource (the
sandbox mirror uses them to show replace-versus-update semantics in a real plan).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput, UnsupportedResource
from cloud_engine.iac.hcl import Block

MANAGED_BY = "cloud-engine"
# Blocks and plan rows come in this order of kinds (then in the project's order), so a network
# prints before its subnets' users, a load balancer after its backend, and neither the files nor
# the rows change when specs are reordered.
KIND_ORDER = ("network", "firewall", "bucket", "database", "vm", "k8s_cluster", "load_balancer")


def ordered(resources: Sequence[ResourceSpec]) -> tuple[ResourceSpec, ...]:
    """The specs sorted by KIND_ORDER, keeping the project's order within a kind."""
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    return tuple(sorted(resources, key=lambda spec: rank.get(spec.kind, len(rank))))


@dataclass(frozen=True)
class RenderContext:
    """Everything a kind renderer may look at besides its own spec."""

    provider: str
    project_name: str
    region: str
    resources: tuple[ResourceSpec, ...]
    # Public CIDRs that may reach Kubernetes control planes (EKS public endpoint, GKE authorized
    # networks); empty keeps them reachable only from inside the project's network.
    api_access_cidrs: tuple[str, ...] = ()

    def region_of(self, spec: ResourceSpec) -> str:
        return spec.region or self.region

    def labels(self, spec: ResourceSpec) -> dict[str, str]:
        """User tags plus ownership labels; ours win so ownership cannot be spoofed."""
        return {**spec.tags, "managed_by": MANAGED_BY, "project": self.project_name}

    def network(self, spec: ResourceSpec) -> ResourceSpec | None:
        """The network spec this resource attaches to, if it is part of this configuration."""
        if spec.network is None:
            return None
        for other in self.resources:
            if other.kind == "network" and other.name == spec.network:
                return other
        return None

    def required_network(self, spec: ResourceSpec) -> ResourceSpec | None:
        """Like `network`, but a named network must be part of this configuration.

        AWS and Azure attach by the network's resource id, so unlike GCP they cannot fall back
        to an existing network referenced by name.
        """
        net = self.network(spec)
        require(spec.network is None or net is not None, f"{spec.name}.network",
                f"network {spec.network} is not part of this project")
        return net


@dataclass
class Rendered:
    """HCL produced for one spec: resources for main.tf plus shared blocks, deduplicated by key.

    `plumbing` holds the blocks the network needs to work on a real cloud that the user did
    not ask for by name (gateways, NAT, route tables, flow logs, private DNS zones). They
    are written after the user resources, in the order first rendered, and like shared
    blocks they belong to no user resource (`render.plumbing` lists them for the lobby).
    """

    resources: list[Block] = field(default_factory=list)
    shared: dict[str, Block] = field(default_factory=dict)
    plumbing: dict[str, Block] = field(default_factory=dict)
    variables: dict[str, Block] = field(default_factory=dict)
    outputs: list[Block] = field(default_factory=list)
    required_providers: dict[str, dict[str, str]] = field(default_factory=dict)

    def merge(self, other: Rendered) -> None:
        self.resources.extend(other.resources)
        for key, block in other.shared.items():
            self.shared.setdefault(key, block)
        for key, block in other.plumbing.items():
            self.plumbing.setdefault(key, block)
        for key, block in other.variables.items():
            self.variables.setdefault(key, block)
        self.outputs.extend(other.outputs)
        self.required_providers.update(other.required_providers)

    def add_plumbing(self, *blocks: Block) -> None:
        """Add plumbing blocks keyed by their address (the first one rendered wins)."""
        for block in blocks:
            self.plumbing.setdefault(".".join((block.type, *block.labels)), block)


RenderFn = Callable[[ResourceSpec, RenderContext], Rendered]


@dataclass(frozen=True)
class KindRenderer:
    kind: str
    resource_type: str
    render: RenderFn
    force_new: frozenset[str]


@dataclass(frozen=True)
class ProviderDef:
    """One provider: its kinds, defaults, and the non-resource files (versions, providers, variables)."""

    name: str
    kinds: Mapping[str, KindRenderer]
    default_region: str
    subnet_force_new: frozenset[str]
    base: Callable[[RenderContext, Rendered], dict[str, list[Block]]]

    def kind(self, kind: str) -> KindRenderer:
        try:
            return self.kinds[kind]
        except KeyError:
            raise UnsupportedResource(kind=kind, provider=self.name) from None


def registry(kinds: Sequence[KindRenderer]) -> dict[str, KindRenderer]:
    """Index kind renderers by kind name, refusing duplicates (a wiring bug)."""
    out: dict[str, KindRenderer] = {}
    for item in kinds:
        if item.kind in out:
            raise RuntimeError(f"kind {item.kind} registered twice")
        out[item.kind] = item
    return out


def require(condition: bool, field_name: str, rule: str) -> None:
    if not condition:
        raise InvalidInput(field=field_name, rule=rule)
