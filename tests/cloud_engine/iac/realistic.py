"""The realistic project of issue #15, shared by the Checkov and schema tests.

A network with two subnets, a firewall allowing 443 from anywhere and 22 from a private
range, a VM with a public IP, a Postgres database, a bucket, a Kubernetes cluster
and a load balancer for the VM on shop.example.com.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec

PROVIDERS = ("aws", "gcp", "azure")


def realistic_project(*, engine: str = "postgres", public_vm: bool = True) -> list[ResourceSpec]:
    return [ResourceSpec.model_validate(r) for r in (
        {"kind": "network", "name": "core", "cidr": "10.20.0.0/16",
         "subnets": [{"name": "app", "cidr": "10.20.1.0/24"}, {"name": "data", "cidr": "10.20.2.0/24"}]},
        {"kind": "firewall", "name": "web-fw", "network": "core",
         "rules": [{"ports": [443], "sources": ["0.0.0.0/0"]}, {"ports": [22], "sources": ["10.0.0.0/8"]}]},
        {"kind": "vm", "name": "web-1", "network": "core", "public_ip": public_vm},
        {"kind": "database", "name": "orders-db", "network": "core", "engine": engine},
        {"kind": "bucket", "name": "assets-ce1"},
        {"kind": "k8s_cluster", "name": "apps", "network": "core", "kubernetes_version": "1.30"},
        {"kind": "load_balancer", "name": "web-lb", "backend": "web-1", "domain": "shop.example.com", "port": 8080},
    )]


def static_site_project() -> list[ResourceSpec]:
    """A public bucket behind a load balancer with CDN (GCP backend bucket, AWS CloudFront, Azure Front Door)."""
    return [ResourceSpec.model_validate(r) for r in (
        {"kind": "bucket", "name": "site-ce1", "public_access": True},
        {"kind": "load_balancer", "name": "site-lb", "backend": "site-ce1", "domain": "www.example.com", "cdn": True},
    )]
