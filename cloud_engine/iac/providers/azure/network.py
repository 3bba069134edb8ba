"""network → azurerm_virtual_network + azurerm_subnet per subnet."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.azure._common import RESOURCE_GROUP, placement

TYPE = "azurerm_virtual_network"
# A VNet's address space and a subnet's prefixes can be changed in place.
FORCE_NEW = frozenset({"name", "region"})
SUBNET_FORCE_NEW = frozenset({"name", "network"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    vnet = Block("resource", (TYPE, name), {
        **placement(spec, ctx), "address_space": [spec.cidr], "tags": ctx.labels(spec),
    })
    subnets = [
        Block("resource", ("azurerm_subnet", tf_name(spec.name, sub.name)), {
            "name": sub.name,
            "resource_group_name": RESOURCE_GROUP,
            "virtual_network_name": ref(TYPE, name, "name"),
            "address_prefixes": [sub.cidr],
        })
        for sub in spec.subnets or ()
    ]
    return Rendered(resources=[vnet, *subnets], outputs=[output(spec, ref(TYPE, name), "VNet id")])


KIND = KindRenderer(kind="network", resource_type=TYPE, render=render, force_new=FORCE_NEW)
