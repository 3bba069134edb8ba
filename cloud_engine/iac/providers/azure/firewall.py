"""firewall → azurerm_network_security_group + one azurerm_network_security_rule per rule,
associated with every subnet of the network it names."""

from __future__ import annotations

from cloud_engine.core.catalog_checks import azure_rule_description
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Value
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.azure._common import RESOURCE_GROUP, placement

TYPE = "azurerm_network_security_group"
PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "all": "*"}
FIRST_PRIORITY, PRIORITY_STEP = 100, 10
FORCE_NEW = frozenset({"name", "region"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    azure_rule_description(spec.name, spec.description)
    blocks = [Block("resource", (TYPE, name), {**placement(spec, ctx), "tags": ctx.labels(spec)})]
    for i, rule in enumerate(spec.rules or ()):
        ingress = rule.direction == "ingress"
        remote = "source" if ingress else "destination"
        local = "destination" if ingress else "source"
        attrs: dict[str, Value] = {
            "name": f"{spec.name}-r{i}",
            "resource_group_name": RESOURCE_GROUP,
            "network_security_group_name": ref(TYPE, name, "name"),
            "description": spec.description or None,
            "priority": FIRST_PRIORITY + PRIORITY_STEP * i,
            "direction": "Inbound" if ingress else "Outbound",
            "access": "Allow" if rule.action == "allow" else "Deny",
            "protocol": PROTOCOLS[rule.protocol],
            "source_port_range": "*",
        }
        if rule.ports and rule.protocol in ("tcp", "udp"):
            attrs["destination_port_ranges"] = [str(p) for p in rule.ports]
        else:
            attrs["destination_port_range"] = "*"
        attrs[f"{remote}_address_prefixes"] = list(rule.sources)
        attrs[f"{local}_address_prefix"] = "*"
        blocks.append(Block("resource", ("azurerm_network_security_rule", tf_name(spec.name, f"r{i}")), attrs))
    net = ctx.required_network(spec)
    if net is not None:
        for sub in net.subnets or ():
            association = tf_name(spec.name, sub.name)
            blocks.append(Block("resource", ("azurerm_subnet_network_security_group_association", association), {
                "subnet_id": ref("azurerm_subnet", tf_name(net.name, sub.name)),
                "network_security_group_id": ref(TYPE, name),
            }))
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name), "NSG id")])


KIND = KindRenderer(kind="firewall", resource_type=TYPE, render=render, force_new=FORCE_NEW)
