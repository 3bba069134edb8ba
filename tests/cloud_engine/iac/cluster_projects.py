"""A project whose load balancer fronts a Kubernetes cluster, shared by the cluster-ingress, Checkov and schema runs.

A network with two subnets (EKS needs two zones), a firewall admitting HTTPS, a cluster on the
network and a load balancer for shop.example.com in front of it, routing to the Service `web-lb`
on port 8080.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec


def cluster_ingress_project(*, port: int = 8080) -> list[ResourceSpec]:
    return [ResourceSpec.model_validate(r) for r in (
        {"kind": "network", "name": "core", "cidr": "10.20.0.0/16",
         "subnets": [{"name": "app", "cidr": "10.20.1.0/24"}, {"name": "data", "cidr": "10.20.2.0/24"}]},
        {"kind": "firewall", "name": "web-fw", "network": "core", "rules": [{"ports": [443], "sources": ["0.0.0.0/0"]}]},
        {"kind": "k8s_cluster", "name": "apps", "network": "core", "kubernetes_version": "1.30"},
        {"kind": "load_balancer", "name": "web-lb", "backend": "apps", "domain": "shop.example.com", "port": port},
    )]
