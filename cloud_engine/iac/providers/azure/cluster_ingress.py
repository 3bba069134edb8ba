"""load_balancer in front of an AKS cluster: an Application Gateway driven by the AGIC add-on.

The Application Gateway Ingress Controller (the AKS add-on) rewrites the gateway from the
cluster's Ingresses, sending traffic straight to pod addresses (Azure CNI), so it follows pods
as they move. Terraform creates the gateway as the VM case does (the network's dedicated
gateway subnet, a static Standard public IP, the Key Vault certificate `<name>_certificate_secret_id`
read through the user-assigned identity `<name>-gateway`, the CustomV2 TLS 1.2+ policy) with a
placeholder HTTPS listener, pool and rule, and `lifecycle.ignore_changes` on everything AGIC rewrites
(`AGIC_OWNED`), so neither undoes the other. The cluster gets `ingress_application_gateway`
pointing at the gateway (azure/k8s_cluster.py), and the add-on's identity the roles Microsoft's
AGIC documentation asks for (`ROLES`): Contributor on the gateway, Reader on the resource group,
Network Contributor on the gateway subnet, and Managed Identity Operator on the gateway's own
identity, which AGIC must re-assign on every update because the Key Vault certificate needs it.

The add-on drives one gateway, so a second load balancer on the same cluster is refused. The
Ingress is not applied by Terraform: the `<lb>__ingress` output holds it for `kubectl apply`.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import RenderContext, Rendered, require
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers._lb import (
    cluster_network,
    fronting,
    ingress,
    ingress_description,
    manifest_output,
)
from cloud_engine.iac.providers.azure._common import placement
from cloud_engine.iac.providers.azure.load_balancer import (
    CIPHER_SUITES,
    TYPE,
    certificate_variable,
    gateway_subnet,
)

# The parts of the gateway AGIC writes from Ingresses (and the tags it stamps on it).
AGIC_OWNED = ("backend_address_pool", "backend_http_settings", "frontend_port", "http_listener", "probe",
              "redirect_configuration", "request_routing_rule", "ssl_certificate", "url_path_map", "tags")
CERTIFICATE = "domain"  # the gateway's name for the Key Vault certificate; the Ingress names it
PLACEHOLDER = "placeholder"


def add_on_identity(cluster: ResourceSpec) -> Raw:
    """The object id of the identity AKS creates for the AGIC add-on (`ingressapplicationgateway-<cluster>`)."""
    return Raw(f"azurerm_kubernetes_cluster.{tf_name(cluster.name)}"
               ".ingress_application_gateway[0].ingress_application_gateway_identity[0].object_id")


def gateway_of(cluster: ResourceSpec, ctx: RenderContext) -> Raw | None:
    """The gateway the cluster's add-on drives: the one of the load balancer fronting it, if any."""
    lbs = fronting(ctx, cluster)
    return ref(TYPE, tf_name(lbs[0].name)) if lbs else None


def _roles(spec: ResourceSpec, cluster: ResourceSpec, net: ResourceSpec) -> list[Block]:
    scopes = {
        "gateway": ("Contributor", ref(TYPE, tf_name(spec.name))),
        "resource_group": ("Reader", Raw("azurerm_resource_group.main.id")),
        "subnet": ("Network Contributor", ref("azurerm_subnet", gateway_subnet(net))),
        "identity": ("Managed Identity Operator", ref("azurerm_user_assigned_identity", tf_name(spec.name, "gateway"))),
    }
    return [Block("resource", ("azurerm_role_assignment", tf_name(spec.name, "agic", key)), {
        "scope": scope, "role_definition_name": role, "principal_id": add_on_identity(cluster),
        "principal_type": "ServicePrincipal",
    }) for key, (role, scope) in scopes.items()]


def _gateway(spec: ResourceSpec, net: ResourceSpec, ctx: RenderContext) -> Block:
    name = tf_name(spec.name)
    return Block("resource", (TYPE, name), {
        **placement(spec, ctx), "zones": ["1", "2", "3"], "tags": ctx.labels(spec),
    }, [
        Block("sku", (), {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 1}),
        Block("identity", (), {"type": "UserAssigned",
                               "identity_ids": [ref("azurerm_user_assigned_identity", tf_name(spec.name, "gateway"))]}),
        Block("gateway_ip_configuration", (), {"name": "gateway", "subnet_id": ref("azurerm_subnet", gateway_subnet(net))}),
        Block("frontend_ip_configuration", (), {"name": "public", "public_ip_address_id": ref("azurerm_public_ip", name)}),
        Block("frontend_port", (), {"name": "https", "port": 443}),
        Block("ssl_certificate", (), {"name": CERTIFICATE, "key_vault_secret_id": Raw(f"var.{certificate_variable(spec)}")}),
        Block("ssl_policy", (), {"policy_type": "CustomV2", "min_protocol_version": "TLSv1_2",
                                 "cipher_suites": CIPHER_SUITES}),
        # Placeholders the schema requires until AGIC writes the real ones from the Ingress (HTTPS
        # only: the redirect from 80 is AGIC's, from the Ingress's ssl-redirect).
        Block("backend_address_pool", (), {"name": PLACEHOLDER}),
        Block("backend_http_settings", (), {"name": PLACEHOLDER, "cookie_based_affinity": "Disabled", "port": 80,
                                            "protocol": "Http", "request_timeout": 30}),
        Block("http_listener", (), {"name": PLACEHOLDER, "frontend_ip_configuration_name": "public",
                                    "frontend_port_name": "https", "protocol": "Https", "host_name": spec.domain,
                                    "ssl_certificate_name": CERTIFICATE, "require_sni": True}),
        Block("request_routing_rule", (), {"name": PLACEHOLDER, "rule_type": "Basic", "priority": 100,
                                           "http_listener_name": PLACEHOLDER, "backend_address_pool_name": PLACEHOLDER,
                                           "backend_http_settings_name": PLACEHOLDER}),
        Block("lifecycle", (), {"ignore_changes": [Raw(part) for part in AGIC_OWNED]}),
    ])


def render_cluster(spec: ResourceSpec, backend: ResourceSpec, ctx: RenderContext) -> Rendered:
    net = cluster_network(spec, backend, ctx)
    first = fronting(ctx, backend)[0]
    require(first.name == spec.name, f"{spec.name}.backend",
            f"cluster {backend.name} already has load balancer {first.name}: the AGIC add-on drives one "
            "Application Gateway per cluster")
    name = tf_name(spec.name)
    variable = certificate_variable(spec)
    blocks = [
        Block("resource", ("azurerm_public_ip", name), {
            **placement(spec, ctx), "name": suffixed(spec.name, "ip", 80), "allocation_method": "Static",
            "sku": "Standard", "zones": ["1", "2", "3"], "tags": ctx.labels(spec),
        }),
        Block("resource", ("azurerm_user_assigned_identity", tf_name(spec.name, "gateway")), {
            **placement(spec, ctx), "name": suffixed(spec.name, "gateway", 128), "tags": ctx.labels(spec),
        }),
        _gateway(spec, net, ctx),
        *_roles(spec, backend, net),
    ]
    manifest = ingress(spec, {
        "appgw.ingress.kubernetes.io/appgw-ssl-certificate": CERTIFICATE,
        "appgw.ingress.kubernetes.io/ssl-redirect": "true",
    }, class_name="azure-application-gateway")
    extra, manifest_out = manifest_output(spec, manifest, ingress_description(
        spec, f"the AGIC add-on of cluster {backend.name}"))
    certificate = Block("variable", (variable,), {
        "description": f"Key Vault secret id of the certificate for {spec.domain} (load balancer {spec.name})",
        "type": Raw("string"),
    })
    return Rendered(resources=[*blocks, *extra], variables={variable: certificate}, outputs=[
        output(spec, ref("azurerm_public_ip", name, "ip_address"), "Point the domain's A record here"), manifest_out])

