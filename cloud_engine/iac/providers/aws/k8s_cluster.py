"""k8s_cluster → aws_eks_cluster + aws_eks_node_group with the IAM roles and policies they need.

EKS needs subnets in at least two zones, so the cluster must name a network of this
project with two or more subnets. Nodes run in those (non-public) subnets either way, so
`private_nodes` changes nothing on AWS.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for

TYPE = "aws_eks_cluster"
DEFAULT_MACHINE_TYPE = "t3.medium"
POLICY_ARN = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
# Subnets of an EKS control plane cannot change; versions upgrade and node groups roll in place.
FORCE_NEW = frozenset({"name", "region", "network"})


def _role(spec: ResourceSpec, ctx: RenderContext, role: str, service: str, policies: tuple[str, ...]) -> list[Block]:
    """An IAM role `service` may assume, with AWS-managed policies attached."""
    base = tf_name(spec.name, role)
    blocks = [
        Block("data", ("aws_iam_policy_document", base), {}, [
            Block("statement", (), {"actions": ["sts:AssumeRole"]}, [
                Block("principals", (), {"type": "Service", "identifiers": [service]}),
            ]),
        ]),
        Block("resource", ("aws_iam_role", base), {
            "name": suffixed(spec.name, role, 64),
            "assume_role_policy": Raw(f"data.aws_iam_policy_document.{base}.json"),
            "tags": aws_tags(spec, ctx),
        }),
    ]
    blocks += [
        Block("resource", ("aws_iam_role_policy_attachment", tf_name(spec.name, role, policy)), {
            "role": ref("aws_iam_role", base, "name"),
            "policy_arn": POLICY_ARN + policy,
        })
        for policy in policies
    ]
    return blocks


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    net = ctx.network(spec)
    if net is None or len(net.subnets or ()) < 2:
        raise InvalidInput(
            field=f"{spec.name}.network", rule="an EKS cluster needs a network of this project with at least two subnets"
        )
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    subnet_ids = [ref("aws_subnet", tf_name(net.name, s.name)) for s in net.subnets or ()]
    blocks = _role(spec, ctx, "eks-cluster", "eks.amazonaws.com", CLUSTER_POLICIES)
    blocks += _role(spec, ctx, "eks-nodes", "ec2.amazonaws.com", NODE_POLICIES)
    blocks.append(Block("resource", (TYPE, name), {
        "provider": provider,
        "name": spec.name,
        "role_arn": ref("aws_iam_role", tf_name(spec.name, "eks-cluster"), "arn"),
        "version": spec.kubernetes_version,
        "tags": aws_tags(spec, ctx),
        "depends_on": [Raw(f"aws_iam_role_policy_attachment.{tf_name(spec.name, 'eks-cluster', p)}")
                       for p in CLUSTER_POLICIES],
    }, [Block("vpc_config", (), {
        "subnet_ids": subnet_ids, "endpoint_private_access": True, "endpoint_public_access": True,
    })]))
    blocks.append(Block("resource", ("aws_eks_node_group", tf_name(spec.name, "nodes")), {
        "provider": provider,
        "cluster_name": ref(TYPE, name, "name"),
        "node_group_name": suffixed(spec.name, "nodes"),
        "node_role_arn": ref("aws_iam_role", tf_name(spec.name, "eks-nodes"), "arn"),
        "subnet_ids": subnet_ids,
        "instance_types": [spec.machine_type or DEFAULT_MACHINE_TYPE],
        "tags": aws_tags(spec, ctx),
        "depends_on": [Raw(f"aws_iam_role_policy_attachment.{tf_name(spec.name, 'eks-nodes', p)}")
                       for p in NODE_POLICIES],
    }, [
        Block("scaling_config", (), {
            "desired_size": spec.node_count, "min_size": spec.node_count, "max_size": spec.node_count,
        }),
        Block("update_config", (), {"max_unavailable": 1}),
    ]))
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name, "endpoint"), "API endpoint")])


KIND = KindRenderer(kind="k8s_cluster", resource_type=TYPE, render=render, force_new=FORCE_NEW)
