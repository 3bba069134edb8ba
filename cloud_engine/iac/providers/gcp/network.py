"""network → google_compute_network (custom mode) + one google_compute_subnetwork per subnet, and its plumbing.

Every subnet logs its flows. Plumbing, generated from what uses the network (`_topology.py`):
a Cloud Router and Cloud NAT when VMs without a public IP or private cluster nodes need
egress, and private services access (a reserved internal range peered with
servicenetworking) when a Cloud SQL instance takes its private IP from the network.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._topology import NetworkUse, network_use

TYPE = "google_compute_network"
# A GCP VPC has no address range of its own (subnets do) and its description is immutable.
FORCE_NEW = frozenset({"name", "description"})
SUBNET_FORCE_NEW = frozenset({"name", "region", "network"})
PRIVATE_SERVICES_PREFIX = 16
# Key parts with `_` never meet a user name (spec names never contain `_`).
PSA = "private_services"


def psa_connection(net: ResourceSpec) -> str:
    """The address of the network's private services access connection (databases depend on it)."""
    return f"google_service_networking_connection.{tf_name(net.name, PSA)}"


def _nat(use: NetworkUse, ctx: RenderContext) -> list[Block]:
    if not (use.private_vms or use.private_nodes):
        return []
    spec = use.network
    router = tf_name(spec.name, "router")
    return [
        Block("resource", ("google_compute_router", router), {
            "name": suffixed(spec.name, "router"),
            "region": ctx.region_of(spec),
            "network": ref(TYPE, tf_name(spec.name)),
        }),
        Block("resource", ("google_compute_router_nat", tf_name(spec.name, "nat")), {
            "name": suffixed(spec.name, "nat"),
            "router": ref("google_compute_router", router, "name"),
            "region": ctx.region_of(spec),
            "nat_ip_allocate_option": "AUTO_ONLY",
            "source_subnetwork_ip_ranges_to_nat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
        }, [Block("log_config", (), {"enable": True, "filter": "ERRORS_ONLY"})]),
    ]


def _private_services(use: NetworkUse) -> list[Block]:
    if not use.of_kind("database"):
        return []
    spec = use.network
    key = tf_name(spec.name, PSA)
    return [
        Block("resource", ("google_compute_global_address", key), {
            "name": suffixed(spec.name, "private-services"),
            "purpose": "VPC_PEERING",
            "address_type": "INTERNAL",
            "prefix_length": PRIVATE_SERVICES_PREFIX,
            "network": ref(TYPE, tf_name(spec.name)),
        }),
        Block("resource", ("google_service_networking_connection", key), {
            "network": ref(TYPE, tf_name(spec.name)),
            "service": "servicenetworking.googleapis.com",
            "reserved_peering_ranges": [ref("google_compute_global_address", key, "name")],
        }),
    ]


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    network = Block("resource", (TYPE, name), {
        "name": spec.name,
        "description": spec.description or None,
        "auto_create_subnetworks": False,
        "routing_mode": "REGIONAL",
    })
    subnets = [
        Block("resource", ("google_compute_subnetwork", tf_name(spec.name, sub.name)), {
            "name": sub.name,
            "ip_cidr_range": sub.cidr,
            "region": ctx.region_of(spec),
            "network": ref(TYPE, name),
            "private_ip_google_access": True,
        }, [Block("log_config", (), {
            "aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5, "metadata": "INCLUDE_ALL_METADATA",
        })])
        for sub in spec.subnets or ()
    ]
    rendered = Rendered(resources=[network, *subnets], outputs=[output(spec, ref(TYPE, name), "Network id")])
    use = network_use(ctx, spec)
    rendered.add_plumbing(*_nat(use, ctx), *_private_services(use))
    return rendered


KIND = KindRenderer(kind="network", resource_type=TYPE, render=render, force_new=FORCE_NEW)
