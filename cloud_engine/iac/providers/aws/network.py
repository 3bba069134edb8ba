"""network → aws_vpc + aws_subnet per subnet, spread over the region's a/b/c zones."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for

TYPE = "aws_vpc"
ZONE_SUFFIXES = "abc"
FORCE_NEW = frozenset({"name", "region", "cidr"})
SUBNET_FORCE_NEW = frozenset({"name", "region", "cidr", "network"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    region = ctx.region_of(spec)
    vpc = Block("resource", (TYPE, name), {
        "provider": provider,
        "cidr_block": spec.cidr,
        "enable_dns_support": True,
        "enable_dns_hostnames": True,
        "tags": aws_tags(spec, ctx),
    })
    subnets = [
        Block("resource", ("aws_subnet", tf_name(spec.name, sub.name)), {
            "provider": provider,
            "vpc_id": ref(TYPE, name),
            "cidr_block": sub.cidr,
            "availability_zone": region + ZONE_SUFFIXES[index % len(ZONE_SUFFIXES)],
            "map_public_ip_on_launch": False,
            "tags": aws_tags(spec, ctx, sub.name),
        })
        for index, sub in enumerate(spec.subnets or ())
    ]
    return Rendered(resources=[vpc, *subnets], outputs=[output(spec, ref(TYPE, name), "VPC id")])


KIND = KindRenderer(kind="network", resource_type=TYPE, render=render, force_new=FORCE_NEW)
