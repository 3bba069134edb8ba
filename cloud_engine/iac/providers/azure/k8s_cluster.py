"""k8s_cluster → azurerm_kubernetes_cluster with a system-assigned identity, Entra ID + Azure RBAC and
no local accounts, Azure network policy, and host encryption on nodes when the spec is `encrypted`
(like VMs; the subscription needs the EncryptionAtHost feature, see docs/real-clouds.md).

When a load balancer fronts the cluster, the Application Gateway Ingress Controller add-on is
enabled on its gateway (`ingress_application_gateway`, azure/cluster_ingress.py)."""

from __future__ import annotations

import ipaddress

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers._topology import first_free, ranges_of
from cloud_engine.iac.providers.azure._common import first_subnet, placement
from cloud_engine.iac.providers.azure.cluster_ingress import gateway_of

TYPE = "azurerm_kubernetes_cluster"
DEFAULT_MACHINE_TYPE = "Standard_D2s_v5"
# Subnet and private API server are fixed at creation; node size rotates via a temporary pool.
FORCE_NEW = frozenset({"name", "region", "network", "private_nodes", "encrypted"})
# Kubernetes service ranges, AKS's default first; the first one the VNet does not overlap is used.
SERVICE_CIDRS = ("10.0.0.0/16", "172.20.0.0/16", "192.168.0.0/16")


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    subnet = first_subnet(spec, ctx, required=False)
    service = first_free(SERVICE_CIDRS, ranges_of(ctx.network(spec)), f"{spec.name}.network", "cluster's service range")
    cluster = Block("resource", (TYPE, name), {
        **placement(spec, ctx),
        "dns_prefix": spec.name[:54].rstrip("-"),
        "kubernetes_version": spec.kubernetes_version,
        "private_cluster_enabled": bool(spec.private_nodes),
        "role_based_access_control_enabled": True,
        "local_account_disabled": True,
        "sku_tier": "Free",
        "tags": ctx.labels(spec),
    }, [
        Block("default_node_pool", (), {
            "name": "system",
            "vm_size": spec.machine_type or DEFAULT_MACHINE_TYPE,
            "node_count": spec.node_count,
            "vnet_subnet_id": subnet,
            "temporary_name_for_rotation": "systemtmp",
            "host_encryption_enabled": spec.encrypted,
        }),
        Block("identity", (), {"type": "SystemAssigned"}),
        Block("azure_active_directory_role_based_access_control", (), {
            "azure_rbac_enabled": True, "tenant_id": Raw("data.azurerm_client_config.current.tenant_id"),
        }),
        Block("network_profile", (), {
            "network_plugin": "azure", "network_policy": "azure",
            "service_cidr": service, "dns_service_ip": str(ipaddress.ip_network(service)[10]),
        }),
    ])
    gateway = gateway_of(spec, ctx)
    if gateway is not None:
        cluster.add(Block("ingress_application_gateway", (), {"gateway_id": gateway}))
    client = Block("data", ("azurerm_client_config", "current"))
    return Rendered(resources=[cluster], shared={"data.azurerm_client_config.current": client},
                    outputs=[output(spec, ref(TYPE, name), "Cluster id")])


KIND = KindRenderer(kind="k8s_cluster", resource_type=TYPE, render=render, force_new=FORCE_NEW)
