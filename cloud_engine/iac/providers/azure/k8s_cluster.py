"""k8s_cluster → azurerm_kubernetes_cluster with a system-assigned identity and RBAC."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.azure._common import first_subnet, placement

TYPE = "azurerm_kubernetes_cluster"
DEFAULT_MACHINE_TYPE = "Standard_D2s_v5"
# Subnet and private API server are fixed at creation; node size rotates via a temporary pool.
FORCE_NEW = frozenset({"name", "region", "network", "private_nodes"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    subnet = first_subnet(spec, ctx, required=False)
    cluster = Block("resource", (TYPE, name), {
        **placement(spec, ctx),
        "dns_prefix": spec.name[:54].rstrip("-"),
        "kubernetes_version": spec.kubernetes_version,
        "private_cluster_enabled": bool(spec.private_nodes),
        "role_based_access_control_enabled": True,
        "sku_tier": "Free",
        "tags": ctx.labels(spec),
    }, [
        Block("default_node_pool", (), {
            "name": "system",
            "vm_size": spec.machine_type or DEFAULT_MACHINE_TYPE,
            "node_count": spec.node_count,
            "vnet_subnet_id": subnet,
            "temporary_name_for_rotation": "systemtmp",
        }),
        Block("identity", (), {"type": "SystemAssigned"}),
    ])
    if subnet is not None:
        cluster.add(Block("network_profile", (), {"network_plugin": "azure"}))
    return Rendered(resources=[cluster], outputs=[output(spec, ref(TYPE, name), "Cluster id")])


KIND = KindRenderer(kind="k8s_cluster", resource_type=TYPE, render=render, force_new=FORCE_NEW)
