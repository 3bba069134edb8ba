"""firewall → aws_security_group + one ingress/egress rule resource per (rule, source, port range).

Security groups only allow; a deny rule is refused (network ACLs are a different model).
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Value
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered, require
from cloud_engine.iac.providers._common import output, port_ranges, ref, tf_name
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for, sg_description

TYPE = "aws_security_group"
# Name, VPC and description of a security group cannot change in place.
FORCE_NEW = frozenset({"name", "region", "network", "description"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    net = ctx.required_network(spec)
    blocks = [Block("resource", (TYPE, name), {
        "provider": provider,
        "name": spec.name,
        "description": sg_description(spec),
        "vpc_id": ref("aws_vpc", tf_name(net.name)) if net else None,
        "tags": aws_tags(spec, ctx),
    })]
    for i, rule in enumerate(spec.rules or ()):
        require(rule.action == "allow", f"{spec.name}.rules[{i}]", "AWS security groups cannot deny traffic")
        rule_type = f"aws_vpc_security_group_{rule.direction}_rule"
        ranges: list[tuple[int, int] | None]
        ranges = list(port_ranges(rule.ports)) if rule.ports and rule.protocol in ("tcp", "udp") else [None]
        for j, source in enumerate(rule.sources):
            for k, ports in enumerate(ranges):
                attrs: dict[str, Value] = {
                    "provider": provider,
                    "security_group_id": ref(TYPE, name),
                    "description": f"{spec.name} rule {i}",
                    "ip_protocol": "-1" if rule.protocol == "all" else rule.protocol,
                    "cidr_ipv6" if ":" in source else "cidr_ipv4": source,
                }
                if ports:
                    attrs.update(from_port=ports[0], to_port=ports[1])
                elif rule.protocol == "icmp":
                    attrs.update(from_port=-1, to_port=-1)
                attrs["tags"] = aws_tags(spec, ctx)
                blocks.append(Block("resource", (rule_type, tf_name(spec.name, f"r{i}_{j}_{k}")), attrs))
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name), "Security group id")])


KIND = KindRenderer(kind="firewall", resource_type=TYPE, render=render, force_new=FORCE_NEW)
