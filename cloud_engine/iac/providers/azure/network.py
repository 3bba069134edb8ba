"""network → azurerm_virtual_network + azurerm_subnet per subnet, and its plumbing.

Plumbing (`_topology.py`): a NAT gateway with a static public IP on the app subnet when VMs
without a public IP sit there (new virtual networks have no default outbound access).
AKS nodes reach the internet through their cluster's own load balancer. A dedicated Application
Gateway subnet (with its NSG) when a load balancer fronts a VM or a cluster of the network.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import AZURE_EDGE_PREFIX, edge_ranges, fronted_backends
from cloud_engine.iac.providers._topology import NetworkUse, network_use
from cloud_engine.iac.providers.azure._common import RESOURCE_GROUP, placement

TYPE = "azurerm_virtual_network"
# A VNet's address space and a subnet's prefixes can be changed in place.
FORCE_NEW = frozenset({"name", "region"})
SUBNET_FORCE_NEW = frozenset({"name", "network"})


def _nat(use: NetworkUse, ctx: RenderContext) -> list[Block]:
    app = use.app_subnet
    if app is None or not use.private_vms:
        return []
    spec = use.network
    key = tf_name(spec.name, "nat")
    tags = ctx.labels(spec)
    return [
        Block("resource", ("azurerm_public_ip", key), {
            "name": suffixed(spec.name, "nat-ip", 80), "resource_group_name": RESOURCE_GROUP,
            "location": ctx.region_of(spec), "allocation_method": "Static", "sku": "Standard", "tags": tags,
        }),
        Block("resource", ("azurerm_nat_gateway", key), {
            "name": suffixed(spec.name, "nat", 80), "resource_group_name": RESOURCE_GROUP,
            "location": ctx.region_of(spec), "sku_name": "Standard", "tags": tags,
        }),
        Block("resource", ("azurerm_nat_gateway_public_ip_association", key), {
            "nat_gateway_id": ref("azurerm_nat_gateway", key), "public_ip_address_id": ref("azurerm_public_ip", key),
        }),
        Block("resource", ("azurerm_subnet_nat_gateway_association", tf_name(spec.name, app.name)), {
            "subnet_id": ref("azurerm_subnet", tf_name(spec.name, app.name)), "nat_gateway_id": ref("azurerm_nat_gateway", key),
        }),
    ]


def _gateway_subnet(use: NetworkUse, ctx: RenderContext) -> list[Block]:
    """The dedicated subnet Application Gateways need, when a load balancer fronts a VM or a cluster of the network."""
    spec = use.network
    if not fronted_backends(ctx, spec):
        return []
    key = tf_name(spec.name, "appgw")
    rules = [  # (name, source, ports): what Application Gateway v2 needs, and the public listeners
        ("gateway-manager", "GatewayManager", ["65200-65535"]),
        ("azure-load-balancer", "AzureLoadBalancer", ["*"]),
        ("https-and-http", "Internet", ["443", "80"]),
    ]
    return [
        Block("resource", ("azurerm_subnet", key), {
            "name": suffixed(spec.name, "appgw", 80),
            "resource_group_name": RESOURCE_GROUP,
            "virtual_network_name": ref(TYPE, tf_name(spec.name), "name"),
            "address_prefixes": edge_ranges(spec, AZURE_EDGE_PREFIX, 1),
        }),
        Block("resource", ("azurerm_network_security_group", key), {
            **placement(spec, ctx), "name": suffixed(spec.name, "appgw", 80), "tags": ctx.labels(spec),
        }),
        *(Block("resource", ("azurerm_network_security_rule", tf_name(spec.name, "appgw", rule)), {
            "name": rule, "resource_group_name": RESOURCE_GROUP,
            "network_security_group_name": ref("azurerm_network_security_group", key, "name"),
            "priority": 100 + 10 * i, "direction": "Inbound", "access": "Allow", "protocol": "Tcp" if i != 1 else "*",
            "source_port_range": "*", "source_address_prefix": source, "destination_address_prefix": "*",
            "destination_port_ranges": ports,
        }) for i, (rule, source, ports) in enumerate(rules)),
        Block("resource", ("azurerm_subnet_network_security_group_association", key), {
            "subnet_id": ref("azurerm_subnet", key), "network_security_group_id": ref("azurerm_network_security_group", key),
        }),
    ]


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
    rendered = Rendered(resources=[vnet, *subnets], outputs=[output(spec, ref(TYPE, name), "VNet id")])
    rendered.add_plumbing(*_nat(network_use(ctx, spec), ctx), *_gateway_subnet(network_use(ctx, spec), ctx))
    return rendered


KIND = KindRenderer(kind="network", resource_type=TYPE, render=render, force_new=FORCE_NEW)
