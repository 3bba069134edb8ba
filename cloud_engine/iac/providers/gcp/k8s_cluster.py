"""k8s_cluster → google_container_cluster (VPC-native, shielded nodes) + a managed node pool.

Secure by default: private nodes (egress through the network's Cloud NAT) unless
`private_nodes` is false, the control plane reachable only from the network's subnets
(master authorized networks, plus the engine's `api_access_cidrs`), workload identity with the GKE metadata server on nodes, a
dedicated node service account holding only the roles nodes need (logs, metrics, image
pulls), network policy enforcement, and `deletion_protection = false` since the spec has
no deletion protection for clusters (the provider's default, true, makes any replace fail).
VPC-native (`ip_allocation_policy`), so GKE Ingress reaches pods through NEGs; when a load
balancer fronts the cluster its HTTP load balancing add-on (the Ingress controller) is set
enabled explicitly rather than left to GKE's default (gcp/cluster_ingress.py).
"""

from __future__ import annotations

from cloud_engine.core.catalog_checks import gke_cluster_name
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import fronting
from cloud_engine.iac.providers._topology import first_free, ranges_of
from cloud_engine.iac.providers.gcp._labels import gcp_labels
from cloud_engine.iac.providers.gcp.vm import network_interface

TYPE = "google_container_cluster"
DEFAULT_MACHINE_TYPE = "e2-standard-2"
# The control plane's private range: the first /28 here that none of the network's ranges meets.
MASTER_CIDRS = tuple(f"172.16.0.{16 * i}/28" for i in range(16))
# Node machine type replaces only the node pool, which the user sees as an in-place update.
FORCE_NEW = frozenset({"name", "region", "network", "private_nodes", "description"})
# The least-privilege set Google documents for a node service account.
NODE_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
              "roles/stackdriver.resourceMetadata.writer", "roles/artifactregistry.reader")
CLIENT = "data.google_client_config.current"


def _node_account(spec: ResourceSpec) -> list[Block]:
    account = tf_name(spec.name, "nodes")
    email = ref("google_service_account", account, "email")
    blocks = [Block("resource", ("google_service_account", account), {
        "account_id": suffixed(spec.name[:23], "nodes", 30),
        "display_name": f"GKE nodes of {spec.name}",
    })]
    blocks += [
        Block("resource", ("google_project_iam_member", tf_name(spec.name, "nodes", role.split("/")[1].replace(".", "_"))), {
            "project": Raw(f"{CLIENT}.project"),
            "role": role,
            "member": Raw(f'"serviceAccount:${{{email.text}}}"'),
        })
        for role in NODE_ROLES
    ]
    return blocks


def _node_config(spec: ResourceSpec, labels: dict[str, str]) -> Block:
    """Nodes run as the dedicated service account, behind the GKE metadata server, as Shielded VMs."""
    return Block("node_config", (), {
        "machine_type": spec.machine_type or DEFAULT_MACHINE_TYPE,
        "labels": labels,
        "service_account": ref("google_service_account", tf_name(spec.name, "nodes"), "email"),
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "metadata": {"disable-legacy-endpoints": "true"},
    }, [
        Block("shielded_instance_config", (), {"enable_secure_boot": True, "enable_integrity_monitoring": True}),
        Block("workload_metadata_config", (), {"mode": "GKE_METADATA"}),
    ])


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    region = ctx.region_of(spec)
    labels = gcp_labels(spec, ctx)
    net = ctx.network(spec)
    cluster = Block("resource", (TYPE, name), {
        "name": gke_cluster_name(spec.name),
        "location": region,
        "description": spec.description or None,
        "min_master_version": spec.kubernetes_version,
        **network_interface(spec, ctx),
        "remove_default_node_pool": True,
        "initial_node_count": 1,
        "enable_shielded_nodes": True,
        "enable_intranode_visibility": True,
        "deletion_protection": False,
        "resource_labels": labels,
    }, [
        Block("release_channel", (), {"channel": "REGULAR"}),
        # the default pool lives only until the managed pool exists, but with the same identity
        _node_config(spec, labels),
        Block("master_auth", (), {}, [Block("client_certificate_config", (), {"issue_client_certificate": False})]),
        Block("binary_authorization", (), {"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"}),
        Block("ip_allocation_policy"),
        Block("workload_identity_config", (), {"workload_pool": Raw(f'"${{{CLIENT}.project}}.svc.id.goog"')}),
        Block("network_policy", (), {"enabled": True, "provider": "CALICO"}),
        Block("addons_config", (), {}, [
            Block("network_policy_config", (), {"disabled": False}),
            *([Block("http_load_balancing", (), {"disabled": False})] if fronting(ctx, spec) else []),
        ]),
        Block("master_authorized_networks_config", (), {"gcp_public_cidrs_access_enabled": False}, [
            *(Block("cidr_blocks", (), {"cidr_block": sub.cidr, "display_name": sub.name})
              for sub in (net.subnets or () if net is not None else ())),
            *(Block("cidr_blocks", (), {"cidr_block": cidr, "display_name": f"api-access-{i}"})
              for i, cidr in enumerate(ctx.api_access_cidrs)),
        ]),
    ])
    if spec.private_nodes:
        cluster.add(Block("private_cluster_config", (), {
            "enable_private_nodes": True, "enable_private_endpoint": False,
            "master_ipv4_cidr_block": first_free(MASTER_CIDRS, ranges_of(net, own=False), f"{spec.name}.network",
                                                 "cluster's control-plane range"),
        }))
    pool = Block("resource", ("google_container_node_pool", tf_name(spec.name, "nodes")), {
        "name": suffixed(spec.name, "nodes", 40),
        "cluster": ref(TYPE, name),
        "location": region,
        "node_count": spec.node_count,
    }, [
        _node_config(spec, labels),
        Block("management", (), {"auto_repair": True, "auto_upgrade": True}),
    ])
    return Rendered(
        resources=[cluster, pool, *_node_account(spec)],
        shared={CLIENT: Block("data", ("google_client_config", "current"))},
        outputs=[output(spec, ref(TYPE, name, "endpoint"), "API endpoint")],
    )


KIND = KindRenderer(kind="k8s_cluster", resource_type=TYPE, render=render, force_new=FORCE_NEW)
