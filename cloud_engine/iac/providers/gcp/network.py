"""network → google_compute_network (custom mode) + one google_compute_subnetwork per subnet."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name

TYPE = "google_compute_network"
# A GCP VPC has no address range of its own (subnets do) and its description is immutable.
FORCE_NEW = frozenset({"name", "description"})
SUBNET_FORCE_NEW = frozenset({"name", "region", "network"})


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
        })
        for sub in spec.subnets or ()
    ]
    return Rendered(resources=[network, *subnets], outputs=[output(spec, ref(TYPE, name), "Network id")])


KIND = KindRenderer(kind="network", resource_type=TYPE, render=render, force_new=FORCE_NEW)
