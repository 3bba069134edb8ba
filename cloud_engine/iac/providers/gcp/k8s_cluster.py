"""k8s_cluster → google_container_cluster (VPC-native, shielded nodes) + a managed node pool."""

from __future__ import annotations

from cloud_engine.core.catalog_checks import gke_cluster_name
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers.gcp._labels import gcp_labels
from cloud_engine.iac.providers.gcp.vm import network_interface

TYPE = "google_container_cluster"
DEFAULT_MACHINE_TYPE = "e2-standard-2"
MASTER_CIDR = "172.16.0.0/28"
# Node machine type replaces only the node pool, which the user sees as an in-place update.
FORCE_NEW = frozenset({"name", "region", "network", "private_nodes", "description"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    region = ctx.region_of(spec)
    labels = gcp_labels(spec, ctx)
    cluster = Block("resource", (TYPE, name), {
        "name": gke_cluster_name(spec.name),
        "location": region,
        "description": spec.description or None,
        "min_master_version": spec.kubernetes_version,
        **network_interface(spec, ctx),
        "remove_default_node_pool": True,
        "initial_node_count": 1,
        "enable_shielded_nodes": True,
        "resource_labels": labels,
    }, [Block("release_channel", (), {"channel": "REGULAR"}), Block("ip_allocation_policy")])
    if spec.private_nodes:
        cluster.add(Block("private_cluster_config", (), {
            "enable_private_nodes": True, "enable_private_endpoint": False, "master_ipv4_cidr_block": MASTER_CIDR,
        }))
    pool = Block("resource", ("google_container_node_pool", tf_name(spec.name, "nodes")), {
        "name": suffixed(spec.name, "nodes", 40),
        "cluster": ref(TYPE, name),
        "location": region,
        "node_count": spec.node_count,
    }, [
        Block("node_config", (), {
            "machine_type": spec.machine_type or DEFAULT_MACHINE_TYPE,
            "labels": labels,
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "metadata": {"disable-legacy-endpoints": "true"},
        }, [Block("shielded_instance_config", (), {"enable_secure_boot": True, "enable_integrity_monitoring": True})]),
        Block("management", (), {"auto_repair": True, "auto_upgrade": True}),
    ])
    return Rendered(resources=[cluster, pool], outputs=[output(spec, ref(TYPE, name, "endpoint"), "API endpoint")])


KIND = KindRenderer(kind="k8s_cluster", resource_type=TYPE, render=render, force_new=FORCE_NEW)
