"""load_balancer in front of an EKS cluster: the cloud side of an AWS Load Balancer Controller Ingress.

The ALB itself is made by the AWS Load Balancer Controller from an Ingress, so it follows pods
(target type `ip`) as they move; Terraform renders everything the controller needs from the
cloud and nothing it would fight over:

- the controller's IAM role through EKS Pod Identity: the `eks-pod-identity-agent` add-on, a role
  trusted by `pods.eks.amazonaws.com`, the controller's published IAM policy (kept verbatim in
  `lb_controller_iam_policy.json`, from kubernetes-sigs/aws-load-balancer-controller
  docs/install/iam_policy.json at `CONTROLLER_VERSION`) and the association with
  kube-system/aws-load-balancer-controller (rendered with the cluster: one controller serves
  every load balancer of the cluster, `controller_identity`);
- the ACM certificate for `domain`, validated by DNS (the VM case's `_certificate`);
- the two public edge subnets the network's plumbing carves (aws/network.py), which the Ingress
  names (`alb.ingress.kubernetes.io/subnets`, by their `Name` tags), so the ALB goes there and
  nowhere else (discovery by the `kubernetes.io/role/elb` tag could pick any public subnet
  of the VPC that carries it).

Not done by apply, and said so in the outputs: installing the controller (`helm install`, the
`<lb>__controller` output, chart `CHART_VERSION`) and applying the Ingress (`<lb>__ingress`): the
cluster's API endpoint is private, so only a machine inside the VPC (or in `api_access_cidrs`)
reaches it. The Ingress listens on 80 and 443, redirects 80 to 443 and uses the VM ALB's TLS policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import cluster_network, ingress, ingress_description, manifest_output
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for
from cloud_engine.iac.providers.aws.load_balancer import TLS_POLICY, _certificate
from cloud_engine.iac.providers.aws.network import edge_names

CONTROLLER_VERSION = "v3.5.0"  # the policy file's tag; the Helm chart carries the same version
CHART_VERSION = "3.5.0"  # eks-charts stable/aws-load-balancer-controller
POLICY_FILE = Path(__file__).with_name("lb_controller_iam_policy.json")
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
POD_IDENTITY_AGENT = "eks-pod-identity-agent"


def controller_policy() -> str:
    """The controller's published IAM policy, compact: the file is the source, never retyped."""
    document: Any = json.loads(POLICY_FILE.read_text("utf-8"))
    return json.dumps(document, separators=(",", ":"))


def controller_identity(cluster: ResourceSpec, ctx: RenderContext) -> list[Block]:
    """What the controller of `cluster` runs as: Pod Identity agent, role, published policy, association."""
    provider = provider_for(cluster, ctx)
    base = tf_name(cluster.name, "lb_controller")
    cluster_name = ref("aws_eks_cluster", tf_name(cluster.name), "name")
    return [
        Block("resource", ("aws_eks_addon", tf_name(cluster.name, "pod_identity")), {
            "provider": provider, "cluster_name": cluster_name, "addon_name": POD_IDENTITY_AGENT,
            "tags": aws_tags(cluster, ctx),
        }),
        Block("data", ("aws_iam_policy_document", base), {}, [
            Block("statement", (), {"actions": ["sts:AssumeRole", "sts:TagSession"]}, [
                Block("principals", (), {"type": "Service", "identifiers": ["pods.eks.amazonaws.com"]}),
            ]),
        ]),
        Block("resource", ("aws_iam_role", base), {
            "name": suffixed(f"{ctx.project_name}-{cluster.name}", "lb-controller", 64),
            "assume_role_policy": Raw(f"data.aws_iam_policy_document.{base}.json"),
            "tags": aws_tags(cluster, ctx),
        }),
        Block("resource", ("aws_iam_policy", base), {
            "name": suffixed(f"{ctx.project_name}-{cluster.name}", "lb-controller", 128),
            "description": f"AWS Load Balancer Controller {CONTROLLER_VERSION} (published policy) for {cluster.name}",
            "policy": controller_policy(), "tags": aws_tags(cluster, ctx),
        }),
        Block("resource", ("aws_iam_role_policy_attachment", base), {
            "role": ref("aws_iam_role", base, "name"), "policy_arn": ref("aws_iam_policy", base, "arn"),
        }),
        Block("resource", ("aws_eks_pod_identity_association", base), {
            "provider": provider, "cluster_name": cluster_name, "namespace": NAMESPACE,
            "service_account": SERVICE_ACCOUNT, "role_arn": ref("aws_iam_role", base, "arn"),
            "tags": aws_tags(cluster, ctx),
            "depends_on": [Raw(f"aws_eks_addon.{tf_name(cluster.name, 'pod_identity')}")],
        }),
    ]


def helm_install(cluster: ResourceSpec, net: ResourceSpec, ctx: RenderContext) -> str:
    """The exact install command: region and VPC are given (VPC by its Name and project tags), not read from IMDS."""
    return (f"helm repo add eks https://aws.github.io/eks-charts && helm install {SERVICE_ACCOUNT} "
            f"eks/aws-load-balancer-controller --version {CHART_VERSION} -n {NAMESPACE} "
            f"--set clusterName={cluster.name} --set serviceAccount.name={SERVICE_ACCOUNT} "
            f"--set region={ctx.region_of(cluster)} --set vpcTags.Name={net.name} "
            f"--set vpcTags.project={ctx.project_name}")


def render_cluster(spec: ResourceSpec, backend: ResourceSpec, ctx: RenderContext) -> Rendered:
    net = cluster_network(spec, backend, ctx)
    certificate = ref("aws_acm_certificate_validation", tf_name(spec.name), "certificate_arn")
    manifest = ingress(spec, {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/subnets": ", ".join(edge_names(net)),
        "alb.ingress.kubernetes.io/certificate-arn": certificate,
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
        "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
        "alb.ingress.kubernetes.io/load-balancer-attributes": "routing.http.drop_invalid_header_fields.enabled=true",
    }, class_name="alb")
    blocks, manifest_out = manifest_output(spec, manifest, ingress_description(
        spec, f"the AWS Load Balancer Controller (install it first: output {tf_name(spec.kind, spec.name)}__controller)"))
    controller = output(spec, helm_install(backend, net, ctx),
                        f"Not run by Terraform: installs the AWS Load Balancer Controller {CONTROLLER_VERSION} in "
                        f"cluster {backend.name}, from inside the VPC; its IAM role is already associated", "controller")
    return Rendered(resources=[*_certificate(spec, ctx, provider_for(backend, ctx)), *blocks],
                    outputs=[manifest_out, controller])
