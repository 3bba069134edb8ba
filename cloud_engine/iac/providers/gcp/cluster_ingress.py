"""load_balancer in front of a GKE cluster: the cloud side of a GKE Ingress.

GKE's built-in Ingress controller (the HTTP load balancing add-on, enabled on the cluster by
gcp/k8s_cluster.py; the cluster is VPC-native, so it can send traffic straight to pods through
NEGs) makes the external Application Load Balancer from an Ingress, so it follows pods as they
move. Terraform renders what the Ingress names, so that each outlives the Ingress and its address
can go in DNS before the first `kubectl apply`:

- a global static address (`kubernetes.io/ingress.global-static-ip-name`);
- a Google-managed certificate for `domain` (`ingress.gcp.kubernetes.io/pre-shared-cert`);
- a MODERN, TLS 1.2+ SSL policy, named by a `FrontendConfig` (networking.gke.io/v1beta1) that also
  redirects HTTP to HTTPS.

No firewall rule: the Ingress controller keeps its own (`k8s-fw-l7-*`) admitting Google's
health-check ranges (130.211.0.0/22, 35.191.0.0/16) to the nodes on the NEG ports
(kubernetes/ingress-gce pkg/firewalls), except in a Shared VPC, which Cloud Engine does not render.
The Ingress and FrontendConfig are not applied by Terraform: the `<lb>__ingress` output holds them.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Value
from cloud_engine.iac.providers._base import RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import (
    NAMESPACE,
    ingress,
    ingress_description,
    manifest_list,
    manifest_output,
)

# Without this annotation on the Service, a cluster with network policy (all Cloud Engine renders)
# gets no NEG for it, and GKE Ingress would need a NodePort Service instead.
NEG_ANNOTATION = "cloud.google.com/neg: '{\"ingress\": true}'"


def render_cluster(spec: ResourceSpec, backend: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    address, certificate, policy = suffixed(spec.name, "ip"), suffixed(spec.name, "cert"), suffixed(spec.name, "tls")
    blocks = [
        Block("resource", ("google_compute_global_address", name), {"name": address}),
        Block("resource", ("google_compute_managed_ssl_certificate", name), {"name": certificate},
              [Block("managed", (), {"domains": [spec.domain]})]),
        Block("resource", ("google_compute_ssl_policy", name), {
            "name": policy, "profile": "MODERN", "min_tls_version": "TLS_1_2",
        }),
    ]
    frontend: dict[str, Value] = {
        "apiVersion": "networking.gke.io/v1beta1", "kind": "FrontendConfig",
        "metadata": {"name": spec.name, "namespace": NAMESPACE},
        "spec": {"redirectToHttps": {"enabled": True, "responseCodeName": "MOVED_PERMANENTLY_DEFAULT"},
                 "sslPolicy": policy},
    }
    route = ingress(spec, {
        "kubernetes.io/ingress.class": "gce",
        "kubernetes.io/ingress.global-static-ip-name": address,
        "ingress.gcp.kubernetes.io/pre-shared-cert": certificate,
        "networking.gke.io/v1beta1.FrontendConfig": spec.name,
    })
    extra, manifest_out = manifest_output(spec, manifest_list(frontend, route), ingress_description(
        spec, f"GKE Ingress of cluster {backend.name}; annotate the Service with {NEG_ANNOTATION}"))
    return Rendered(resources=[*blocks, *extra], outputs=[
        output(spec, ref("google_compute_global_address", name, "address"), "Point the domain's A record here"),
        manifest_out])
