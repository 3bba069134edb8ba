"""k8s_cluster → aws_eks_cluster + aws_eks_node_group with the IAM roles and policies they need.

EKS needs subnets in at least two zones, so the cluster must name a network of this
project with two or more subnets. Nodes always run in the network's private subnets (egress
through the network's NAT), so `private_nodes` changes nothing on AWS. The API endpoint is
private (public only for the engine's `api_access_cidrs`, never for 0.0.0.0/0), every control-plane log type goes to a log group with a year's retention, and
(when `encrypted`) Kubernetes secrets are encrypted with a KMS key of the cluster's own,
rotated yearly. The firewalls on the network are attached to the control plane. When a load
balancer fronts the cluster, the AWS Load Balancer Controller's identity comes with it
(aws/cluster_ingress.py `controller_identity`: one controller serves all of its Ingresses).
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import fronting
from cloud_engine.iac.providers._topology import network_use
from cloud_engine.iac.providers.aws._common import aws_tags, firewall_groups, provider_for
from cloud_engine.iac.providers.aws.cluster_ingress import controller_identity
from cloud_engine.iac.providers.aws.network import node_subnets

TYPE = "aws_eks_cluster"
DEFAULT_MACHINE_TYPE = "t3.medium"
POLICY_ARN = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
# Subnets and secrets encryption of an EKS control plane cannot change; versions upgrade and node groups roll in place.
FORCE_NEW = frozenset({"name", "region", "network", "encrypted"})
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
LOG_RETENTION_DAYS = 365


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


def _secrets_key(spec: ResourceSpec, ctx: RenderContext, provider: Raw | None) -> list[Block]:
    """A KMS key for the cluster's secrets, rotated yearly, under AWS's default key policy (the account administers it)."""
    return [Block("resource", ("aws_kms_key", tf_name(spec.name, "secrets")), {
        "provider": provider,
        "description": f"EKS secrets of {spec.name} ({ctx.project_name})",
        "enable_key_rotation": True,
        "deletion_window_in_days": 30,
        "tags": aws_tags(spec, ctx),
    })]


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    net = ctx.network(spec)
    if net is None or len(net.subnets or ()) < 2:
        raise InvalidInput(
            field=f"{spec.name}.network", rule="an EKS cluster needs a network of this project with at least two subnets"
        )
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    use = network_use(ctx, net)
    subnet_ids = [ref("aws_subnet", tf_name(net.name, s.name)) for s in net.subnets or ()]
    nodes_in = [ref("aws_subnet", tf_name(net.name, s)) for s in node_subnets(use)]
    blocks = _role(spec, ctx, "eks-cluster", "eks.amazonaws.com", CLUSTER_POLICIES)
    blocks += _role(spec, ctx, "eks-nodes", "ec2.amazonaws.com", NODE_POLICIES)
    logs = tf_name(spec.name, "logs")
    blocks.append(Block("resource", ("aws_cloudwatch_log_group", logs), {
        "provider": provider,
        "name": f"/aws/eks/{spec.name}/cluster",
        "retention_in_days": LOG_RETENTION_DAYS,
        "tags": aws_tags(spec, ctx),
    }))
    cluster_blocks = [Block("vpc_config", (), {
        "subnet_ids": subnet_ids,
        "security_group_ids": firewall_groups(spec, ctx) or None,
        "endpoint_private_access": True,
        "endpoint_public_access": bool(ctx.api_access_cidrs),
        "public_access_cidrs": list(ctx.api_access_cidrs) or None,
    })]
    if spec.encrypted:
        blocks += _secrets_key(spec, ctx, provider)
        cluster_blocks.append(Block("encryption_config", (), {"resources": ["secrets"]}, [
            Block("provider", (), {"key_arn": ref("aws_kms_key", tf_name(spec.name, "secrets"), "arn")}),
        ]))
    blocks.append(Block("resource", (TYPE, name), {
        "provider": provider,
        "name": spec.name,
        "role_arn": ref("aws_iam_role", tf_name(spec.name, "eks-cluster"), "arn"),
        "version": spec.kubernetes_version,
        "enabled_cluster_log_types": LOG_TYPES,
        "tags": aws_tags(spec, ctx),
        "depends_on": [*(Raw(f"aws_iam_role_policy_attachment.{tf_name(spec.name, 'eks-cluster', p)}")
                         for p in CLUSTER_POLICIES), Raw(f"aws_cloudwatch_log_group.{logs}")],
    }, cluster_blocks))
    blocks.append(Block("resource", ("aws_eks_node_group", tf_name(spec.name, "nodes")), {
        "provider": provider,
        "cluster_name": ref(TYPE, name, "name"),
        "node_group_name": suffixed(spec.name, "nodes"),
        "node_role_arn": ref("aws_iam_role", tf_name(spec.name, "eks-nodes"), "arn"),
        "subnet_ids": nodes_in,
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
    if fronting(ctx, spec):
        blocks += controller_identity(spec, ctx)
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name, "endpoint"), "API endpoint")])


KIND = KindRenderer(kind="k8s_cluster", resource_type=TYPE, render=render, force_new=FORCE_NEW)
