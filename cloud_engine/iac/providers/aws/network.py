"""network → aws_vpc + aws_subnet per subnet (spread over the region's a/b/c zones) and its plumbing.

Plumbing, generated from what uses the network (`_topology.py`): the default security group
locked down (no rules), VPC flow logs to a CloudWatch log group with a year's retention, an
internet gateway and a public route table for public subnets (and the two edge subnets a load
balancer in front of a VM or a cluster of the network needs), and a NAT gateway (in the
public subnet, or in a /28 the engine carves out of the network when none is public) with a
private route table for the subnets whose compute needs egress.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import AWS_EDGE_PREFIX, edge_ranges, fronted_backends
from cloud_engine.iac.providers._topology import NetworkUse, network_use
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for

TYPE = "aws_vpc"
ZONE_SUFFIXES = "abc"
FORCE_NEW = frozenset({"name", "region", "cidr"})
SUBNET_FORCE_NEW = frozenset({"name", "region", "cidr", "network"})
FLOW_LOG_RETENTION_DAYS = 365
EDGE = "nat_edge"  # has `_`, so it never meets a user subnet name
WORLD = "0.0.0.0/0"


def subnet_ref(net: ResourceSpec, subnet_name: str) -> Raw:
    return ref("aws_subnet", tf_name(net.name, subnet_name))


def node_subnets(use: NetworkUse) -> list[str]:
    """Where EKS nodes run: the network's private subnets."""
    return [s.name for s in use.private_subnets]


def egress_subnets(use: NetworkUse) -> list[str]:
    """Private subnets whose compute needs the internet (through the NAT)."""
    names: list[str] = []
    app = use.app_subnet
    if app is not None and not use.public_app and use.of_kind("vm"):
        names.append(app.name)
    if use.of_kind("k8s_cluster"):
        names += [n for n in node_subnets(use) if n not in names]
    return names


def _flow_logs(spec: ResourceSpec, ctx: RenderContext, provider: Raw | None) -> list[Block]:
    base = tf_name(spec.name, "flow_logs")
    group = ref("aws_cloudwatch_log_group", base, "arn")
    return [
        Block("resource", ("aws_cloudwatch_log_group", base), {
            "provider": provider,
            "name": f"/cloud-engine/{ctx.project_name}/{spec.name}/flow-logs",
            "retention_in_days": FLOW_LOG_RETENTION_DAYS,
            "tags": aws_tags(spec, ctx),
        }),
        Block("data", ("aws_iam_policy_document", tf_name(spec.name, "flow_logs_assume")), {}, [
            Block("statement", (), {"actions": ["sts:AssumeRole"]}, [
                Block("principals", (), {"type": "Service", "identifiers": ["vpc-flow-logs.amazonaws.com"]}),
            ]),
        ]),
        Block("data", ("aws_iam_policy_document", base), {}, [
            Block("statement", (), {
                "actions": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "resources": [Raw(f'"${{{group.text}}}:*"')],
            }),
        ]),
        Block("resource", ("aws_iam_role", base), {
            "name": suffixed(f"{ctx.project_name}-{spec.name}", "flow-logs", 64),
            "assume_role_policy": Raw(f"data.aws_iam_policy_document.{tf_name(spec.name, 'flow_logs_assume')}.json"),
            "tags": aws_tags(spec, ctx),
        }),
        Block("resource", ("aws_iam_role_policy", base), {
            "name": "flow-logs",
            "role": ref("aws_iam_role", base),
            "policy": Raw(f"data.aws_iam_policy_document.{base}.json"),
        }),
        Block("resource", ("aws_flow_log", tf_name(spec.name)), {
            "provider": provider,
            "vpc_id": ref(TYPE, tf_name(spec.name)),
            "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs",
            "log_destination": group,
            "iam_role_arn": ref("aws_iam_role", base, "arn"),
            "tags": aws_tags(spec, ctx),
        }),
    ]


def edge_names(net: ResourceSpec) -> list[str]:
    """The `Name` tags of the network's two load balancer subnets; a cluster's Ingress names its ALB's subnets by them."""
    return [suffixed(net.name, f"lb-edge-{zone}") for zone in ZONE_SUFFIXES[:2]]


def _lb_edges(use: NetworkUse, ctx: RenderContext, provider: Raw | None) -> list[Block]:
    """Two public /27 subnets in two zones for the network's load balancers (an ALB needs two zones),
    whether they front a VM (Terraform's ALB) or a cluster (the AWS Load Balancer Controller's)."""
    spec = use.network
    if not fronted_backends(ctx, spec):
        return []
    cidrs = edge_ranges(spec, AWS_EDGE_PREFIX, 2)
    return [
        Block("resource", ("aws_subnet", tf_name(spec.name, f"lb_edge_{zone}")), {
            "provider": provider,
            "vpc_id": ref(TYPE, tf_name(spec.name)),
            "cidr_block": cidr,
            "availability_zone": ctx.region_of(spec) + zone,
            "map_public_ip_on_launch": False,
            "tags": aws_tags(spec, ctx, name),
        })
        for zone, cidr, name in zip(ZONE_SUFFIXES, cidrs, edge_names(spec), strict=False)
    ]


def _routes(use: NetworkUse, ctx: RenderContext, provider: Raw | None) -> list[Block]:
    spec = use.network
    name = tf_name(spec.name)
    vpc_id = ref(TYPE, name)
    egress = egress_subnets(use)
    blocks: list[Block] = _lb_edges(use, ctx, provider)
    lb_edges = [b.labels[1].split("__", 1)[1] for b in blocks]
    public = [s.name for s in use.public_subnets]
    if not public and not egress and not lb_edges:
        return []
    nat_home: Raw | None = None
    if egress:
        if public:
            nat_home = subnet_ref(spec, public[0])
        else:
            blocks.append(Block("resource", ("aws_subnet", tf_name(spec.name, EDGE)), {
                "provider": provider,
                "vpc_id": vpc_id,
                "cidr_block": use.edge_cidr(),
                "availability_zone": ctx.region_of(spec) + ZONE_SUFFIXES[0],
                "map_public_ip_on_launch": False,
                "tags": aws_tags(spec, ctx, suffixed(spec.name, "nat-edge")),
            }))
            nat_home = ref("aws_subnet", tf_name(spec.name, EDGE))
            public = [EDGE]
    public += lb_edges
    blocks.append(Block("resource", ("aws_internet_gateway", name), {
        "provider": provider, "vpc_id": vpc_id, "tags": aws_tags(spec, ctx),
    }))
    blocks.append(Block("resource", ("aws_route_table", tf_name(spec.name, "public")), {
        "provider": provider, "vpc_id": vpc_id, "tags": aws_tags(spec, ctx, suffixed(spec.name, "public")),
    }, [Block("route", (), {"cidr_block": WORLD, "gateway_id": ref("aws_internet_gateway", name)})]))
    blocks += [
        Block("resource", ("aws_route_table_association", tf_name(spec.name, sub)), {
            "provider": provider,
            "subnet_id": ref("aws_subnet", tf_name(spec.name, sub)),
            "route_table_id": ref("aws_route_table", tf_name(spec.name, "public")),
        })
        for sub in public
    ]
    if nat_home is not None:
        blocks.append(Block("resource", ("aws_eip", tf_name(spec.name, "nat")), {
            "provider": provider, "domain": "vpc", "tags": aws_tags(spec, ctx, suffixed(spec.name, "nat")),
        }))
        blocks.append(Block("resource", ("aws_nat_gateway", name), {
            "provider": provider,
            "allocation_id": ref("aws_eip", tf_name(spec.name, "nat")),
            "subnet_id": nat_home,
            "tags": aws_tags(spec, ctx),
            "depends_on": [Raw(f"aws_internet_gateway.{name}")],
        }))
        blocks.append(Block("resource", ("aws_route_table", tf_name(spec.name, "private")), {
            "provider": provider, "vpc_id": vpc_id, "tags": aws_tags(spec, ctx, suffixed(spec.name, "private")),
        }, [Block("route", (), {"cidr_block": WORLD, "nat_gateway_id": ref("aws_nat_gateway", name)})]))
        blocks += [
            Block("resource", ("aws_route_table_association", tf_name(spec.name, sub)), {
                "provider": provider,
                "subnet_id": subnet_ref(spec, sub),
                "route_table_id": ref("aws_route_table", tf_name(spec.name, "private")),
            })
            for sub in egress
        ]
    return blocks


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
    rendered = Rendered(resources=[vpc, *subnets], outputs=[output(spec, ref(TYPE, name), "VPC id")])
    rendered.add_plumbing(
        Block("resource", ("aws_default_security_group", name), {
            "provider": provider, "vpc_id": ref(TYPE, name), "tags": aws_tags(spec, ctx, suffixed(spec.name, "default")),
        }),
        *_flow_logs(spec, ctx, provider),
        *_routes(network_use(ctx, spec), ctx, provider),
    )
    return rendered


KIND = KindRenderer(kind="network", resource_type=TYPE, render=render, force_new=FORCE_NEW)
