"""load_balancer → a global external Application Load Balancer (HTTPS, Google-managed certificate).

A VM backend: an unmanaged instance group holding the VM (named port `http`), a backend service
with an HTTP health check and request logging, and a firewall rule admitting only Google's
health-check and proxy ranges (130.211.0.0/22, 35.191.0.0/16) on the VM's port. A bucket
backend: a backend bucket, with Cloud CDN when `cdn`; the bucket must allow public access (a
backend bucket serves its objects to everyone) and its objects get a public reader. In front
of either: a global address, a managed certificate for `domain`, a URL map, an HTTPS proxy with
a TLS 1.2+ (MODERN) SSL policy and a forwarding rule on 443, plus a redirect from 80 to 443. A
cluster backend: GKE Ingress makes the load balancer (gcp/cluster_ingress.py).
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Value
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered, require
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import backend_of
from cloud_engine.iac.providers.gcp.cluster_ingress import render_cluster
from cloud_engine.iac.providers.gcp.vm import network_interface

TYPE = "google_compute_global_forwarding_rule"
FORCE_NEW = frozenset({"name", "backend"})
HEALTH_CHECK_RANGES = ["130.211.0.0/22", "35.191.0.0/16"]
SCHEME = "EXTERNAL_MANAGED"


def _vm_backend(spec: ResourceSpec, backend: ResourceSpec, ctx: RenderContext) -> tuple[list[Block], Value]:
    name = tf_name(spec.name)
    port = spec.port or 80
    network = network_interface(backend, ctx)["network"]
    blocks = [
        Block("resource", ("google_compute_instance_group", name), {
            "name": suffixed(spec.name, "ig"), "zone": ref("google_compute_instance", tf_name(backend.name), "zone"),
            "instances": [ref("google_compute_instance", tf_name(backend.name), "self_link")], "network": network,
        }, [Block("named_port", (), {"name": "http", "port": port})]),
        Block("resource", ("google_compute_health_check", name), {
            "name": suffixed(spec.name, "hc"), "check_interval_sec": 10, "timeout_sec": 5,
        }, [Block("http_health_check", (), {"port": port, "request_path": "/"}),
            Block("log_config", (), {"enable": True})]),
        Block("resource", ("google_compute_firewall", tf_name(spec.name, "health")), {
            "name": suffixed(spec.name, "lb-health"), "network": network, "direction": "INGRESS", "priority": 1000,
            "description": f"Google's load balancer and health checks reach {backend.name} on {port}",
            "source_ranges": HEALTH_CHECK_RANGES,
        }, [Block("allow", (), {"protocol": "tcp", "ports": [str(port)]})]),
        Block("resource", ("google_compute_backend_service", name), {
            "name": suffixed(spec.name, "backend"), "load_balancing_scheme": SCHEME, "protocol": "HTTP",
            "port_name": "http", "timeout_sec": 30, "health_checks": [ref("google_compute_health_check", name)],
        }, [Block("backend", (), {"group": ref("google_compute_instance_group", name, "self_link"),
                                  "balancing_mode": "UTILIZATION", "capacity_scaler": 1.0}),
            Block("log_config", (), {"enable": True, "sample_rate": 1.0})]),
    ]
    return blocks, ref("google_compute_backend_service", name)


def _bucket_backend(spec: ResourceSpec, backend: ResourceSpec) -> tuple[list[Block], Value]:
    require(bool(backend.public_access), f"{spec.name}.backend",
            f"a GCP backend bucket serves its objects to everyone: set public_access on bucket {backend.name}")
    name = tf_name(spec.name)
    bucket = tf_name(backend.name)
    blocks = [
        Block("resource", ("google_storage_bucket_iam_member", name), {
            "bucket": ref("google_storage_bucket", bucket, "name"), "role": "roles/storage.objectViewer",
            "member": "allUsers",
        }),
        Block("resource", ("google_compute_backend_bucket", name), {
            "name": suffixed(spec.name, "backend"), "bucket_name": ref("google_storage_bucket", bucket, "name"),
            "enable_cdn": bool(spec.cdn),
        }),
    ]
    return blocks, ref("google_compute_backend_bucket", name)


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    backend = backend_of(spec, ctx)
    if backend.kind == "k8s_cluster":
        return render_cluster(spec, backend, ctx)
    name = tf_name(spec.name)
    blocks, service = (_bucket_backend(spec, backend) if backend.kind == "bucket"
                       else _vm_backend(spec, backend, ctx))
    address = ref("google_compute_global_address", name, "address")
    blocks += [
        Block("resource", ("google_compute_global_address", name), {"name": suffixed(spec.name, "ip")}),
        Block("resource", ("google_compute_managed_ssl_certificate", name), {"name": suffixed(spec.name, "cert")},
              [Block("managed", (), {"domains": [spec.domain]})]),
        Block("resource", ("google_compute_ssl_policy", name), {
            "name": suffixed(spec.name, "tls"), "profile": "MODERN", "min_tls_version": "TLS_1_2",
        }),
        Block("resource", ("google_compute_url_map", name), {"name": suffixed(spec.name, "urls"), "default_service": service}),
        Block("resource", ("google_compute_target_https_proxy", name), {
            "name": suffixed(spec.name, "https"), "url_map": ref("google_compute_url_map", name),
            "ssl_certificates": [ref("google_compute_managed_ssl_certificate", name)],
            "ssl_policy": ref("google_compute_ssl_policy", name),
        }),
        Block("resource", (TYPE, name), {
            "name": suffixed(spec.name, "https"), "load_balancing_scheme": SCHEME, "port_range": "443",
            "ip_address": address, "target": ref("google_compute_target_https_proxy", name),
        }),
        Block("resource", ("google_compute_url_map", tf_name(spec.name, "redirect")), {
            "name": suffixed(spec.name, "redirect"),
        }, [Block("default_url_redirect", (), {"https_redirect": True, "strip_query": False,
                                                "redirect_response_code": "MOVED_PERMANENTLY_DEFAULT"})]),
        Block("resource", ("google_compute_target_http_proxy", name), {
            "name": suffixed(spec.name, "http"), "url_map": ref("google_compute_url_map", tf_name(spec.name, "redirect")),
        }),
        Block("resource", (TYPE, tf_name(spec.name, "http")), {
            "name": suffixed(spec.name, "http"), "load_balancing_scheme": SCHEME, "port_range": "80",
            "ip_address": address, "target": ref("google_compute_target_http_proxy", name),
        }),
    ]
    return Rendered(resources=blocks, outputs=[output(spec, address, "Point the domain's A record here")])


KIND = KindRenderer(kind="load_balancer", resource_type=TYPE, render=render, force_new=FORCE_NEW)
