"""load_balancer → an Application Gateway Standard_v2 (HTTPS on `domain`) in front of a VM.

The gateway gets the network's dedicated gateway subnet (a /26 the network's plumbing carves
from the top of its range), a static Standard public IP, an HTTPS listener for `domain` with a
TLS 1.2+ policy of forward-secret suites, an 80 → 443 redirect, and a backend pool holding the VM's private
address on its `port`, probed on `/`. Application Gateway has no managed certificate: the
certificate lives in the user's Key Vault (an App Service certificate, or one the vault
issues), named by the variable `<name>_certificate_secret_id`, and read through a
user-assigned identity that needs the vault's *Key Vault Secrets User* role. A cluster backend
gets the same gateway driven by the AGIC add-on (azure/cluster_ingress.py). A bucket backend
is a static website, served by Front Door Standard instead (azure/front_door.py).
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import backend_of, vm_network
from cloud_engine.iac.providers.azure._common import placement
from cloud_engine.iac.providers.azure.front_door import render_front_door

TYPE = "azurerm_application_gateway"
FORCE_NEW = frozenset({"name", "region", "backend"})
# TLS 1.2+ with forward-secret AEAD suites only (TLS 1.3 suites are always on with CustomV2).
CIPHER_SUITES = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                 "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]


def gateway_subnet(net: ResourceSpec) -> str:
    """Terraform name of the network's Application Gateway subnet (`_` never meets a user name)."""
    return tf_name(net.name, "appgw")


def certificate_variable(spec: ResourceSpec) -> str:
    return f"{spec.name.replace('-', '_')}_certificate_secret_id"


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    backend = backend_of(spec, ctx)
    if backend.kind == "k8s_cluster":
        # imported here: cluster_ingress builds on this module's gateway subnet, certificate and TLS policy
        from cloud_engine.iac.providers.azure.cluster_ingress import render_cluster

        return render_cluster(spec, backend, ctx)
    if backend.kind == "bucket":
        return render_front_door(spec, backend, ctx)
    net = vm_network(spec, backend, ctx)
    name = tf_name(spec.name)
    port = spec.port or 80
    variable = certificate_variable(spec)
    tags = ctx.labels(spec)
    identity = tf_name(spec.name, "gateway")
    blocks = [
        Block("resource", ("azurerm_public_ip", name), {
            **placement(spec, ctx), "name": suffixed(spec.name, "ip", 80), "allocation_method": "Static",
            "sku": "Standard", "zones": ["1", "2", "3"], "tags": tags,
        }),
        Block("resource", ("azurerm_user_assigned_identity", identity), {
            **placement(spec, ctx), "name": suffixed(spec.name, "gateway", 128), "tags": tags,
        }),
        Block("resource", (TYPE, name), {
            **placement(spec, ctx), "zones": ["1", "2", "3"], "tags": tags,
        }, [
            Block("sku", (), {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 1}),
            Block("identity", (), {"type": "UserAssigned",
                                   "identity_ids": [ref("azurerm_user_assigned_identity", identity)]}),
            Block("gateway_ip_configuration", (), {"name": "gateway",
                                                   "subnet_id": ref("azurerm_subnet", gateway_subnet(net))}),
            Block("frontend_ip_configuration", (), {"name": "public",
                                                    "public_ip_address_id": ref("azurerm_public_ip", name)}),
            Block("frontend_port", (), {"name": "https", "port": 443}),
            Block("frontend_port", (), {"name": "http", "port": 80}),
            Block("ssl_certificate", (), {"name": "domain", "key_vault_secret_id": Raw(f"var.{variable}")}),
            Block("ssl_policy", (), {"policy_type": "CustomV2", "min_protocol_version": "TLSv1_2",
                                     "cipher_suites": CIPHER_SUITES}),
            Block("backend_address_pool", (), {
                "name": "backend", "ip_addresses": [ref("azurerm_network_interface", tf_name(backend.name),
                                                        "private_ip_address")],
            }),
            Block("probe", (), {
                "name": "backend", "protocol": "Http", "path": "/", "host": spec.domain, "interval": 30,
                "timeout": 30, "unhealthy_threshold": 3,
            }),
            Block("backend_http_settings", (), {
                "name": "backend", "cookie_based_affinity": "Disabled", "port": port, "protocol": "Http",
                "request_timeout": 30, "probe_name": "backend", "host_name": spec.domain,
            }),
            Block("http_listener", (), {
                "name": "https", "frontend_ip_configuration_name": "public", "frontend_port_name": "https",
                "protocol": "Https", "host_name": spec.domain, "ssl_certificate_name": "domain",
                "require_sni": True,
            }),
            Block("http_listener", (), {
                "name": "http", "frontend_ip_configuration_name": "public", "frontend_port_name": "http",
                "protocol": "Http", "host_name": spec.domain,
            }),
            Block("redirect_configuration", (), {
                "name": "to-https", "redirect_type": "Permanent", "target_listener_name": "https",
                "include_path": True, "include_query_string": True,
            }),
            Block("request_routing_rule", (), {
                "name": "https", "rule_type": "Basic", "priority": 100, "http_listener_name": "https",
                "backend_address_pool_name": "backend", "backend_http_settings_name": "backend",
            }),
            Block("request_routing_rule", (), {
                "name": "http", "rule_type": "Basic", "priority": 200, "http_listener_name": "http",
                "redirect_configuration_name": "to-https",
            }),
        ]),
    ]
    certificate = Block("variable", (variable,), {
        "description": f"Key Vault secret id of the certificate for {spec.domain} (load balancer {spec.name})",
        "type": Raw("string"),
    })
    return Rendered(resources=blocks, variables={variable: certificate},
                    outputs=[output(spec, ref("azurerm_public_ip", name, "ip_address"),
                                    "Point the domain's A record here")])


KIND = KindRenderer(kind="load_balancer", resource_type=TYPE, render=render, force_new=FORCE_NEW)
